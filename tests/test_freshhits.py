# -*- test-case-name: tests.test_freshhits -*-
"""
Tests for L{nevowcache._engine.freshhits}: a fresh hit answered again from
memory is the answer the judge would give, whatever changed since.
"""

from __future__ import absolute_import, division

import gc
from weakref import ref

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from nevowcache import MemoryStore, PageCache
from nevowcache._engine.freshhits import FreshHits
from nevowcache._engine.freshness import FreshnessJudge
from nevowcache._engine.pagecache import CachePolicy

from tests.test_stores import makeEntry, makeKey



class _Forgetful(object):
    """
    A L{FreshHits} that knows nothing: every hit is judged.
    """

    def known(self, entry, generation, policy):
        return None


    def learn(self, entry, generation, policy, freshFor, age, answer):
        pass



class FreshHitsTests(SynchronousTestCase):
    """
    L{FreshHits}, through L{PageCache.answerAtOnce}.
    """

    def setUp(self):
        self.clock = Clock()
        self.clock.advance(1000)
        self.store = MemoryStore()
        self.cache = PageCache(self.store, reactor=self.clock)
        self.key = makeKey()
        self.policy = CachePolicy(10, 30)


    def put(self, policy=None):
        """
        Store an entry for C{self.key}, made now.
        """
        policy = policy or self.policy
        _, generation = self.successResultOf(
            self.store.lookup(self.key, policy.scopesFor(self.key)))
        entry = makeEntry(self.key, generation=generation.stamp(),
                          created=self.clock.seconds())
        self.successResultOf(self.store.store(self.key, entry))
        return entry


    def answer(self, policy=None):
        """
        Answer at once, then check it against the answer judged without
        memory: the same entry, C{Cache-Status}, whole-second C{Age} and
        C{Cache-Control}.

        @return: The answer.
        """
        policy = policy or self.policy
        refreshes = []
        answer = self.cache.answerAtOnce(self.key, policy, lambda: refreshes.append)
        known = self.cache._freshHits
        self.cache._freshHits = _Forgetful()
        try:
            judged = self.cache.answerAtOnce(self.key, policy, lambda: refreshes.append)
        finally:
            self.cache._freshHits = known
        if judged is None:
            self.assertIsNone(answer)
        else:
            self.assertEqual((answer.entry, answer.status, int(answer.age), answer.cacheControl),
                             (judged.entry, judged.status, int(judged.age),
                              judged.cacheControl))
        return answer


    def test_sameSecond(self):
        """
        A hit in the same second of an entry's age is answered from memory,
        as the last one was, with its own age; and counted.
        """
        self.put()
        self.clock.advance(0.2)
        first = self.answer()
        self.patch(FreshnessJudge, "judge", lambda *args: self.fail("judged again"))
        self.clock.advance(0.5)
        second = self.cache.answerAtOnce(self.key, self.policy)
        self.assertEqual((second.entry, second.status, second.cacheControl),
                         (first.entry, first.status, first.cacheControl))
        self.assertAlmostEqual(second.age, 0.7)
        self.assertEqual(self.cache.stats()["hits"], 3)


    def test_everySecond(self):
        """
        Each second of an entry's age has its own answer (its C{Age} and
        C{ttl}); past C{cacheTimeout} the entry is stale, up to the very
        end of its freshness.
        """
        created = self.put().created
        statuses = []
        for step in [0.3] * 32:
            self.clock.advance(step)
            statuses.append(self.answer().status)
        self.assertIn(b"nevowcache; hit; ttl=1", statuses)
        self.assertEqual(len(set(statuses)), 10)
        self.assertEqual(self.cache.stats()["staleHits"], 0)
        self.clock.rightNow = created + 10.0
        self.answer()
        self.assertEqual(self.cache.stats()["staleHits"], 2)


    def test_staleWithinASecond(self):
        """
        An entry whose C{cacheTimeout} ends within a second of its age is
        stale from then on, though its last fresh hit was in that second.
        """
        policy = CachePolicy(2.5, 30)
        self.put(policy)
        self.clock.advance(2.2)
        self.answer(policy)
        self.clock.advance(0.4)
        self.answer(policy)
        self.assertEqual(self.cache.stats()["staleHits"], 2)


    def test_anotherEntryAtItsId(self):
        """
        What is remembered for an entry is never another entry's, even under
        the same id (one made where a dead one was).
        """
        first = self.put()
        self.answer()
        second = self.put()
        hits = self.cache._freshHits._hits
        hits[id(second)] = (ref(first),) + hits[id(first)][1:]
        self.clock.advance(1)
        self.assertIs(self.answer().entry, second)


    def test_anotherEntryAtItsIdJudgedOtherwise(self):
        """
        What is remembered for a dead entry is not used for another entry
        made at its id, whose own stamp the same generation judges stale.
        """
        self.cache.clear(hard=False)
        first = self.put()
        self.answer()
        # Stamped before the clear: invalidated, within cacheGrace.
        second = makeEntry(self.key, generation=(0, 0), created=first.created)
        self.store._entries[self.key] = second
        hits = self.cache._freshHits._hits
        hits[id(second)] = (ref(first),) + hits[id(first)][1:]
        self.assertIn(b"detail=invalidated", self.answer().status)


    def test_invalidations(self):
        """
        An entry invalidated since its last fresh hit is judged again:
        stale after a soft invalidation, gone after a hard one, under
        another policy.
        """
        self.put()
        self.answer()
        self.cache.invalidate(b"http://example.com:8080/p", hard=False)
        self.assertIn(b"detail=invalidated", self.answer().status)
        self.put()
        self.answer()
        self.cache.invalidate(b"http://example.com:8080/p", hard=True)
        self.assertIsNone(self.answer())
        self.put()
        self.answer()
        self.cache.clear()
        self.assertIsNone(self.answer())


    def test_otherPolicy(self):
        """
        Another policy is judged anew: its timeout and C{Cache-Control}.
        """
        self.put()
        self.clock.advance(5)
        first = self.answer()
        shorter = self.answer(CachePolicy(3, 30))
        self.assertIn(b"ttl=-2", shorter.status)
        public = self.answer(CachePolicy(10, 30, cacheControl="public"))
        self.assertIsNot(public, first)
        self.assertIsNotNone(public.cacheControl)


    def test_otherEntry(self):
        """
        A new entry for the key (a refresh's) is judged anew; entries are
        held weakly, and the memory is bounded.
        """
        self.put()
        first = self.answer()
        self.put()
        second = self.answer()
        self.assertIsNot(second.entry, first.entry)
        self.assertEqual(int(second.age), 0)
        hits = FreshHits(self.clock, most=2)
        self.cache._freshHits = hits
        for n in range(5):
            self.key = makeKey(path=b"p%d" % (n,))
            self.put()
            self.answer()
            self.assertTrue(len(hits._hits) <= 2)
        self.store.clear(True)
        del first, second
        gc.collect()
        self.assertEqual([hit for hit in hits._hits.values() if hit[0]() is not None], [])
