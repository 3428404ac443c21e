# -*- test-case-name: tests.test_stores -*-
"""
One suite for every L{IPageStore}, run against each store: in memory, and
against real memcached and Redis servers started for the run (see
L{tests._servers}).
"""

from __future__ import absolute_import, division

import gc
import itertools
from collections import OrderedDict
import os
import pickle
import sys
import time

from twisted.internet import defer, error, task
from twisted.internet.task import Clock
from twisted.internet.defer import inlineCallbacks
from twisted.internet.testing import EventLoggingObserver
from twisted.logger import globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface.verify import verifyObject

from nevowcache import (
    CacheEntry, CacheKey, IPageStore, MemcachedStore, MemoryStore, PageCache, RedisStore)
from nevowcache._stores import redisclient as _redisclient
from nevowcache._stores.breaker import CircuitOpen
from nevowcache._stores.footprint import orderedDictBytes
from nevowcache._stores.interfaces import Generation, ILeaseStore
from nevowcache._http.scopes import (
    pathScopeFromString, prefixScopeFromString, tagScope, urlScopes)
from nevowcache._stores.coherence import generationSeed
from nevowcache._stores.generations import urlTag
from nevowcache._http.validators import bodyETag
from nevowcache._stores.wire import encodeEntry

from tests import _servers
from tests._harness import rss

try:
    import txredisapi  # noqa: F401
except ImportError:
    _noRedisClient = "txredisapi is not installed (pip install nevowcache[redis])"
else:
    _noRedisClient = None




def makeKey(path=b"p", page="tests.Page", host=b"example.com"):
    """
    A key for C{http://host:8080/path}.
    """
    return CacheKey((b"http", host, 8080, (path,), (), ()), (page, (), None))




def makeEntry(key, body=b"body", generation=None, created=0.0):
    """
    An entry as the engine stores it.
    """
    return CacheEntry(key, 200, b"OK",
                      ((b"content-type", (b"text/html",)), (b"x-a", (b"1", b"2"))),
                      body, created, generation, lastModified=12345, etag=b'"e"')



def floodEntry(i, bodyBytes=1001, queryBytes=0):
    """
    The key and entry the engine makes for a render of
    C{http://example.com:8080/p?r=<i>}, every object its own as after a
    request.

    @param queryBytes: More bytes in the query value (a long URL).
    """
    value = str(i).encode("ascii") + b"-" + b"q" * queryBytes
    key = CacheKey((b"HTTP".lower(), b"Example.COM".lower(), 8080, (b"P".lower(),),
                    ((b"R".lower(), (value,)),), ()),
                   (u"tests.Page", (), None))
    body = b"x" * bodyBytes
    entry = CacheEntry(
        key, 200, b"OK",
        ((b"Content-Type".lower(), (b"".join([b"text/html", b"; charset=utf-8"]),)),),
        body, 1000.5 + i, Generation().stamp(), 1500000000 + i, bodyETag(body))
    return key, entry



def heldBy(build):
    """
    Measure the memory that what C{build()} makes holds, after garbage
    collection: the bytes tracemalloc counts as still allocated on Python 3
    (the objects alone, without the allocators' rounding), or the growth of
    the resident set, with the heap trimmed, on Python 2.

    @return: C{(whatBuildReturned, bytes)}.
    """
    try:
        import tracemalloc
    except ImportError:
        tracemalloc = None
    gc.collect()
    if tracemalloc is None:
        before = rss(trim=True)
        result = build()
        return result, rss(trim=True) - before
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = build()
        gc.collect()
        return result, tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()



def makePathKey(*segments):
    """
    A key for C{http://example.com:8080/<segments>}.
    """
    return CacheKey((b"http", b"example.com", 8080, segments, (), ()),
                    ("tests.Page", (), None))



def scopesOf(key, *tags):
    """
    The scopes the engine looks C{key} up with, for a page tagged C{tags}.
    """
    return urlScopes(key.url) + tuple(tagScope(tag) for tag in tags)



class StoreTestsMixin(object):
    """
    What every L{IPageStore} must do.  Mix into a trial L{TestCase} that
    defines C{makeStore()}.  Every test returns a L{Deferred}: stores that
    answer at once finish within the call, network stores on the reactor.
    """

    def setUp(self):
        self.store = self.makeStore()


    def lookup(self, key):
        return self.store.lookup(key)


    def storeEntry(self, key, entry):
        return self.store.store(key, entry)


    def test_interface(self):
        """
        The store provides L{IPageStore}.
        """
        self.assertTrue(verifyObject(IPageStore, self.store))


    @inlineCallbacks
    def test_missIsNone(self):
        """
        Looking up a key never stored gives no entry and a generation.
        """
        entry, generation = yield self.lookup(makeKey())
        self.assertIsNone(entry)
        self.assertEqual(generation.judge(generation.stamp()), "valid")


    @inlineCallbacks
    def test_roundTrip(self):
        """
        A stored entry comes back with every field intact.
        """
        key = makeKey()
        _, generation = yield self.lookup(key)
        entry = makeEntry(key, body=b"\x00\xff<html>" * 100, generation=generation.stamp(),
                          created=1234.5)
        self.assertTrue((yield self.storeEntry(key, entry)))
        got, _ = yield self.lookup(key)
        self.assertEqual(got.key, key)
        for name in ("code", "message", "headers", "body", "created",
                     "lastModified", "etag"):
            self.assertEqual(getattr(got, name), getattr(entry, name), name)
        self.assertEqual(tuple(got.generation), tuple(entry.generation))


    @inlineCallbacks
    def test_keysDoNotMix(self):
        """
        Entries of different keys, even keys whose parts only differ in where
        their bytes fall, stay apart.
        """
        keys = [makeKey(b"a:b", "x"), makeKey(b"a", ":bx"), makeKey(b"a", "b:x"),
                makeKey(b"p", host=b"a.example"), makeKey(b"p", host=b"b.example")]
        for i, key in enumerate(keys):
            yield self.storeEntry(key, makeEntry(key, body=b"body %d" % (i,)))
        for i, key in enumerate(keys):
            self.assertEqual((yield self.lookup(key))[0].body, b"body %d" % (i,))


    @inlineCallbacks
    def test_delete(self):
        """
        A deleted entry is gone; deleting a missing key is not an error.
        """
        key = makeKey()
        yield self.storeEntry(key, makeEntry(key))
        yield self.store.delete(key)
        self.assertIsNone((yield self.lookup(key))[0])
        yield self.store.delete(key)


    @inlineCallbacks
    def test_softInvalidate(self):
        """
        After a soft invalidation of its URL an entry is stale; other URLs'
        entries stay valid.
        """
        key, other = makeKey(b"p"), makeKey(b"q")
        for k in (key, other):
            _, generation = yield self.lookup(k)
            yield self.storeEntry(k, makeEntry(k, generation=generation.stamp()))
        yield self.store.invalidate(key.url, False)
        entry, generation = yield self.lookup(key)
        self.assertEqual(generation.judge(entry.generation), "stale")
        entry, generation = yield self.lookup(other)
        self.assertEqual(generation.judge(entry.generation), "valid")


    @inlineCallbacks
    def test_hardInvalidate(self):
        """
        After a hard invalidation an entry of that URL is gone.
        """
        key = makeKey()
        _, generation = yield self.lookup(key)
        yield self.storeEntry(key, makeEntry(key, generation=generation.stamp()))
        yield self.store.invalidate(key.url, True)
        entry, generation = yield self.lookup(key)
        self.assertTrue(entry is None or generation.judge(entry.generation) == "gone")


    @inlineCallbacks
    def test_fencedStore(self):
        """
        An entry whose render started before an invalidation is not stored.
        """
        key = makeKey()
        _, before = yield self.lookup(key)
        yield self.store.invalidate(key.url, False)
        self.assertFalse((yield self.storeEntry(
            key, makeEntry(key, generation=before.stamp()))))
        self.assertIsNone((yield self.lookup(key))[0])
        _, after = yield self.lookup(key)
        self.assertTrue((yield self.storeEntry(
            key, makeEntry(key, generation=after.stamp()))))


    @inlineCallbacks
    def test_clear(self):
        """
        C{clear(True)} makes every entry gone; C{clear(False)} stale.
        """
        keys = [makeKey(b"p"), makeKey(b"q")]
        for k in keys:
            _, generation = yield self.lookup(k)
            yield self.storeEntry(k, makeEntry(k, generation=generation.stamp()))
        yield self.store.clear(False)
        for k in keys:
            entry, generation = yield self.lookup(k)
            self.assertEqual(generation.judge(entry.generation), "stale")
        yield self.store.clear(True)
        for k in keys:
            entry, generation = yield self.lookup(k)
            self.assertTrue(entry is None or generation.judge(entry.generation) == "gone")


    @inlineCallbacks
    def storeScoped(self, key, *tags):
        """
        Look C{key} up with its scopes and store an entry stamped with what
        the lookup read.
        """
        _, generation = yield self.store.lookup(key, scopesOf(key, *tags))
        stored = yield self.storeEntry(key, makeEntry(key, generation=generation.stamp()))
        self.assertTrue(stored)


    @inlineCallbacks
    def judgeScoped(self, key, *tags):
        """
        @return: A L{Deferred} firing with the verdict on C{key}'s entry
            (C{"gone"} if there is none).
        """
        entry, generation = yield self.store.lookup(key, scopesOf(key, *tags))
        if entry is None:
            defer.returnValue("gone")
        defer.returnValue(generation.judge(entry.generation))


    @inlineCallbacks
    def test_prefixSoftInvalidate(self):
        """
        A soft invalidation of a path prefix makes the entries under it
        stale, on path-segment boundaries: C{/blog} reaches C{/blog},
        C{/blog/} and C{/blog/x}, not C{/blogs}.
        """
        under = [makePathKey(b"blog"), makePathKey(b"blog", b""),
                 makePathKey(b"blog", b"x")]
        beside = [makePathKey(b"blogs"), makePathKey(b"")]
        for key in under + beside:
            yield self.storeScoped(key)
        yield self.store.invalidateScope(
            prefixScopeFromString(u"http://example.com:8080/blog"), False)
        for key in under:
            self.assertEqual((yield self.judgeScoped(key)), "stale", key)
        for key in beside:
            self.assertEqual((yield self.judgeScoped(key)), "valid", key)


    @inlineCallbacks
    def test_prefixHardInvalidate(self):
        """
        A hard invalidation of a path prefix makes the entries under it gone;
        the host's root prefix reaches every path of the host.
        """
        key, deep = makePathKey(b"a"), makePathKey(b"b", b"c", b"d")
        yield self.storeScoped(key)
        yield self.storeScoped(deep)
        yield self.store.invalidateScope(
            prefixScopeFromString(b"http://example.com:8080/"), True)
        self.assertEqual((yield self.judgeScoped(key)), "gone")
        self.assertEqual((yield self.judgeScoped(deep)), "gone")


    @inlineCallbacks
    def test_everyHostInvalidate(self):
        """
        A path alone reaches that path on every scheme, host and port,
        whatever the query: softly, its entries are stale, hard, gone; a
        prefix alone reaches the paths under it on every host.  Other paths
        stay valid.
        """
        def key(scheme, host, port, segments, args=()):
            return CacheKey((scheme, host, port, segments, args, ()),
                            ("tests.Page", (), None))
        post = [key(b"http", b"example.com", 8080, (b"post", b"1")),
                key(b"http", b"localhost", 8080, (b"post", b"1")),
                key(b"https", b"127.0.0.1", 443, (b"post", b"1"),
                    ((b"page", (b"2",)),))]
        other = [key(b"http", b"localhost", 8080, (b"post", b"12")),
                 key(b"http", b"localhost", 8080, (b"post", b"1", b"x"))]
        for k in post + other:
            yield self.storeScoped(k)
        yield self.store.invalidateScope(pathScopeFromString(u"/post/1"), False)
        for k in post:
            self.assertEqual((yield self.judgeScoped(k)), "stale", k)
        for k in other:
            self.assertEqual((yield self.judgeScoped(k)), "valid", k)
        yield self.store.invalidateScope(pathScopeFromString(b"/post/1?any=1"), True)
        for k in post:
            self.assertEqual((yield self.judgeScoped(k)), "gone", k)
        yield self.store.invalidateScope(prefixScopeFromString(u"/post/1"), True)
        self.assertEqual((yield self.judgeScoped(other[1])), "gone")
        self.assertEqual((yield self.judgeScoped(other[0])), "valid")
        yield self.store.invalidateScope(prefixScopeFromString(u"/"), False)
        self.assertEqual((yield self.judgeScoped(other[0])), "stale")


    @inlineCallbacks
    def test_tagInvalidate(self):
        """
        A soft invalidation of a tag makes the entries looked up with it
        stale, and a hard one gone; entries without the tag stay valid.
        """
        news, sport, both = makePathKey(b"n"), makePathKey(b"s"), makePathKey(b"b")
        yield self.storeScoped(news, u"news")
        yield self.storeScoped(sport, u"sport")
        yield self.storeScoped(both, u"news", u"sport")
        yield self.store.invalidateScope(tagScope(u"news"), False)
        self.assertEqual((yield self.judgeScoped(news, u"news")), "stale")
        self.assertEqual((yield self.judgeScoped(both, u"news", u"sport")), "stale")
        self.assertEqual((yield self.judgeScoped(sport, u"sport")), "valid")
        yield self.store.invalidateScope(tagScope(u"sport"), True)
        self.assertEqual((yield self.judgeScoped(sport, u"sport")), "gone")
        self.assertEqual((yield self.judgeScoped(both, u"news", u"sport")), "gone")


    @inlineCallbacks
    def test_scopeFencedStore(self):
        """
        An entry whose render started before an invalidation of one of its
        scopes is not stored, whether or not any scope record existed when
        it was looked up; one looked up after is.
        """
        key = makePathKey(b"blog", b"x")
        for first in [None, tagScope(u"unrelated")]:
            if first is not None:
                yield self.store.invalidateScope(first, False)
            for scope in [tagScope(u"news"),
                          prefixScopeFromString(u"http://example.com:8080/blog")]:
                _, before = yield self.store.lookup(key, scopesOf(key, u"news"))
                yield self.store.invalidateScope(scope, False)
                self.assertFalse((yield self.storeEntry(
                    key, makeEntry(key, generation=before.stamp()))))
                self.assertIsNone((yield self.lookup(key))[0])
        _, after = yield self.store.lookup(key, scopesOf(key, u"news"))
        self.assertTrue((yield self.storeEntry(
            key, makeEntry(key, generation=after.stamp()))))
        self.assertEqual((yield self.judgeScoped(key, u"news")), "valid")


    @inlineCallbacks
    def test_plainStampJudgedByScopes(self):
        """
        An entry stamped without scopes (looked up without them, or before
        scopes existed) is still reached by an invalidation of its scopes.
        """
        key = makePathKey(b"old")
        _, generation = yield self.lookup(key)
        yield self.storeEntry(key, makeEntry(key, generation=generation.stamp()))
        self.assertEqual((yield self.judgeScoped(key, u"news")), "valid")
        yield self.store.invalidateScope(tagScope(u"news"), True)
        self.assertEqual((yield self.judgeScoped(key, u"news")), "gone")
        self.assertEqual((yield self.judgeScoped(key)), "valid")


    def test_stats(self):
        """
        C{stats()} has entries, bytes and evictions.
        """
        stats = self.store.stats()
        for name in ("entries", "bytes", "evictions"):
            self.assertIn(name, stats)



class MemoryStoreTests(StoreTestsMixin, TestCase):
    """
    L{MemoryStore} passes the store suite, and bounds bytes and entries.
    """

    def makeStore(self):
        return MemoryStore(maxBytes=100000, maxEntries=5)


    def resultOf(self, d):
        return self.successResultOf(d)


    def lookupNow(self, key):
        return self.successResultOf(self.store.lookup(key))


    def storeNow(self, key, entry):
        return self.successResultOf(self.store.store(key, entry))


    def test_anotherKeysEntryNotStored(self):
        """
        An entry is stored only under its own key (an equal key object is
        replaced by the entry's own): another key's entry is refused, and
        neither key finds anything.
        """
        key, other = makeKey(b"p"), makeKey(b"q")
        self.assertFalse(self.storeNow(key, makeEntry(other)))
        self.assertIsNone(self.lookupNow(key)[0])
        self.assertIsNone(self.lookupNow(other)[0])
        self.assertEqual(self.store.stats()["entries"], 0)
        entry = makeEntry(makeKey(b"p"))
        self.assertTrue(self.storeNow(key, entry))
        self.assertEqual([k for k in self.store._entries], [entry.key])
        self.assertIs(list(self.store._entries)[0], entry.key)
        found, _ = self.lookupNow(makeKey(b"p"))
        self.assertIs(found, entry)


    def test_judgedScopesForgottenWhenRecordsChange(self):
        """
        A hit's entry is judged once while no record changes (its verdict
        remembered), and again after any invalidation or clear: none is
        missed.
        """
        key = makePathKey(b"blog", b"x")
        self.resultOf(self.store.invalidateScope(tagScope(u"other"), False))
        _, generation = self.successResultOf(self.store.lookup(key, scopesOf(key)))
        self.storeNow(key, makeEntry(key, generation=generation.stamp()))
        for invalidate, verdict in [
                (lambda: None, "valid"),
                (lambda: self.store.invalidateScope(pathScopeFromString(u"/blog/x"), False),
                 "stale"),
                (lambda: self.store.invalidate(key.url, True), "gone"),
                (lambda: self.store.clear(False), "gone")]:
            invalidate()
            for _ in range(2):
                entry, generation = self.store.peek(key, scopesOf(key))
                self.assertEqual(generation.judge(entry.generation), verdict)
        _, generation = self.successResultOf(self.store.lookup(key, scopesOf(key)))
        self.storeNow(key, makeEntry(key, generation=generation.stamp()))
        entry, generation = self.store.peek(key, scopesOf(key))
        self.assertEqual(generation.judge(entry.generation), "valid")
        self.resultOf(self.store.clear(False))
        entry, generation = self.store.peek(key, scopesOf(key))
        self.assertEqual(generation.judge(entry.generation), "stale")


    def test_noScopeRecordsPlainStamps(self):
        """
        While no scope was ever invalidated, a lookup with scopes reads no
        scope record and its stamp is the plain one; after, it names every
        scope it was looked up with.
        """
        key = makePathKey(b"a", b"b")
        _, generation = self.lookupNow(key)
        self.assertEqual(self.successResultOf(
            self.store.lookup(key, scopesOf(key, u"news")))[1], generation)
        self.assertEqual(len(generation.stamp()), 2)
        self.store.invalidateScope(tagScope(u"other"), False)
        _, generation = self.successResultOf(
            self.store.lookup(key, scopesOf(key, u"news")))
        self.assertEqual([name for name, _ in generation.stamp()[2]],
                         list(scopesOf(key, u"news")))


    def test_leastRecentlyUsedEvictedFirst(self):
        """
        Past C{maxEntries} the least recently used entry goes first.
        """
        keys = [makeKey(b"%d" % (i,)) for i in range(6)]
        for key in keys[:5]:
            self.storeNow(key, makeEntry(key))
        self.lookupNow(keys[0])
        self.storeNow(keys[5], makeEntry(keys[5]))
        self.assertIsNotNone(self.lookupNow(keys[0])[0])
        self.assertIsNone(self.lookupNow(keys[1])[0])
        self.assertEqual(self.store.stats()["evictions"], 1)


    def test_byteBound(self):
        """
        The bytes of all entries never exceed C{maxBytes}; every byte is
        accounted for when entries go.
        """
        for i in range(20):
            key = makeKey(b"%d" % (i,))
            self.storeNow(key, makeEntry(key, body=b"x" * 30000))
            self.assertLessEqual(self.store.stats()["bytes"], 100000)
        self.assertGreater(self.store.stats()["evictions"], 15)
        self.resultOf(self.store.clear(True))
        self.assertEqual(self.store.stats()["entries"], 0)
        self.assertEqual(self.store._bytes, 0)


    def test_tooLargeNotStored(self):
        """
        An entry larger than C{maxEntryBytes} is not stored and evicts
        nothing.
        """
        small = makeKey(b"small")
        self.storeNow(small, makeEntry(small))
        big = makeKey(b"big")
        self.assertFalse(self.storeNow(big, makeEntry(big, body=b"x" * 200000)))
        self.assertIsNotNone(self.lookupNow(small)[0])
        self.assertEqual(self.store.stats()["tooLarge"], 1)


    def test_replaceAccountsBytes(self):
        """
        Replacing an entry frees the old one's bytes.
        """
        key = makeKey()
        self.storeNow(key, makeEntry(key, body=b"x" * 100))
        self.storeNow(key, makeEntry(key, body=b"x" * 50))
        self.assertEqual(self.store._bytes, makeEntry(key, body=b"x" * 50).size)


    def test_forgottenUrlGenerationLeavesStale(self):
        """
        When more URLs were invalidated than C{maxUrls}, the oldest records
        are forgotten: their entries become stale, never fresh again, even
        if the URL is invalidated anew.
        """
        store = self.store = MemoryStore(maxUrls=1)
        key = makeKey(b"p")
        self.resultOf(store.invalidate(key.url, False))
        _, generation = self.lookupNow(key)
        self.storeNow(key, makeEntry(key, generation=generation.stamp()))
        self.resultOf(store.invalidate(makeKey(b"q").url, False))
        entry, generation = self.lookupNow(key)
        self.assertEqual(generation.judge(entry.generation), "stale")
        self.resultOf(store.invalidate(key.url, False))
        entry, generation = self.lookupNow(key)
        self.assertEqual(generation.judge(entry.generation), "stale")


    def test_badBounds(self):
        """
        Bounds must be positive.
        """
        self.assertRaises(ValueError, MemoryStore, maxBytes=0)
        self.assertRaises(ValueError, MemoryStore, maxEntries=-1)


    def assertHeldWithin(self, held, bound):
        """
        What a store holds, measured, is within its byte bound and 10%;
        and, where that is measured exactly (tracemalloc, on Python 3), over
        half of it: entries are not charged twice what they hold.
        """
        self.assertLessEqual(held, bound * 1.1, "held %.2f times the bound"
                             % (held / bound,))
        if sys.version_info[0] > 2:
            self.assertGreater(held, bound * 0.5, "held %.2f times the bound"
                               % (held / bound,))


    def test_boundHoldsForWhatEntriesHold(self):
        """
        Filled past its byte bound with entries as the engine makes them
        (keys of their own, small pages), the store holds no more memory
        than the bound and 10%: an entry is charged every object it keeps,
        not only its body.
        """
        store = MemoryStore(maxBytes=4 * 2 ** 20, maxEntries=10 ** 6)

        def fill():
            for i in range(4000):
                key, entry = floodEntry(i)
                store.store(key, entry)
        _, held = heldBy(fill)
        self.assertGreater(store.stats()["evictions"], 1000)
        self.assertHeldWithin(held, store.maxBytes)


    def test_boundHoldsWithInvalidationRecords(self):
        """
        Invalidation records of long URLs count within the same byte bound
        as the entries: the store, full of entries, then invalidating
        thousands of URLs, holds no more than the bound and 10%.
        """
        store = MemoryStore(maxBytes=4 * 2 ** 20, maxEntries=10 ** 6)

        def fill():
            for i in range(2000):
                key, entry = floodEntry(i)
                store.store(key, entry)
            for i in range(2000):
                store.invalidate(floodEntry(10 ** 6 + i, queryBytes=1500)[0].url, False)
                stats = store.stats()
                self.assertLessEqual(stats["bytes"] + stats["recordBytes"], store.maxBytes)
        _, held = heldBy(fill)
        self.assertGreater(store.stats()["recordBytes"], store.maxBytes // 8)
        self.assertHeldWithin(held, store.maxBytes)


    def test_tableMeasured(self):
        """
        L{orderedDictBytes} tells what an L{OrderedDict}'s table and links
        take (on Python 2, more than C{sys.getsizeof} says).
        """
        keys = list(range(10 ** 6, 10 ** 6 + 200000))

        def build():
            table = OrderedDict()
            for key in keys:
                table[key] = None
            return table
        table, held = heldBy(build)
        self.assertLessEqual(held, orderedDictBytes(table) * 1.05)
        self.assertGreater(held, orderedDictBytes(table) * 0.8)


    def test_engineRecordsCharged(self):
        """
        A L{PageCache}'s per-URL records of variants are charged to its
        L{MemoryStore}, within a sixteenth of the bound, and hold no more
        than they are charged.
        """
        store = MemoryStore(maxBytes=8 * 2 ** 20, maxEntries=10 ** 6)
        cache = PageCache(store, reactor=Clock())
        keys = [floodEntry(i, queryBytes=200)[0] for i in range(8000)]

        def admit():
            for key in keys:
                self.assertIsNone(cache._variants.admit(key))
        _, held = heldBy(admit)
        charged = store.stats()["recordBytes"]
        self.assertLessEqual(charged, store.maxBytes // 16)
        self.assertGreater(len(cache._variants.records), 1000)
        self.assertLessEqual(held, charged * 1.1)
        self.assertEqual(store.stats()["entries"], 0)



_namespaces = itertools.count()



def uniqueNamespace():
    """
    A namespace no other test (nor an earlier run) uses: tests share one
    server and keep apart by namespace.
    """
    return b"t%d-%d-%d:" % (os.getpid(), int(time.time()), next(_namespaces))



def pause(seconds):
    """
    A L{Deferred} firing after C{seconds} of real time, for waiting on what
    a real server does in real time.
    """
    from twisted.internet import reactor
    return task.deferLater(reactor, seconds, lambda: None)



class LeaseStoreTestsMixin(object):
    """
    What every L{ILeaseStore} must do.
    """

    def test_leaseInterface(self):
        """
        The store provides L{ILeaseStore}.
        """
        self.assertTrue(verifyObject(ILeaseStore, self.store))


    @inlineCallbacks
    def test_oneHolderAtATime(self):
        """
        A lease has one holder: a second taker gets L{None} until the holder
        releases it.
        """
        key = makeKey()
        token = yield self.store.acquireLease(key, 10)
        self.assertIsInstance(token, bytes)
        self.assertIsNone((yield self.store.acquireLease(key, 10)))
        self.assertIsNotNone((yield self.store.acquireLease(makeKey(b"other"), 10)))
        self.assertTrue((yield self.store.releaseLease(key, token)))
        again = yield self.store.acquireLease(key, 10)
        self.assertIsNotNone(again)
        self.assertNotEqual(again, token)


    @inlineCallbacks
    def test_onlyTheHolderReleases(self):
        """
        Releasing with another token (a holder whose lease lapsed and was
        taken by someone else) leaves the lease alone.
        """
        key = makeKey()
        token = yield self.store.acquireLease(key, 10)
        self.assertFalse((yield self.store.releaseLease(key, b"0" * 32)))
        self.assertIsNone((yield self.store.acquireLease(key, 10)))
        self.assertTrue((yield self.store.releaseLease(key, token)))
        self.assertFalse((yield self.store.releaseLease(key, token)))


    @inlineCallbacks
    def test_leaseLapses(self):
        """
        A lease nobody releases lapses after its time to live.
        """
        key = makeKey()
        self.assertIsNotNone((yield self.store.acquireLease(key, self.shortLease)))
        yield pause(self.shortLease + self.expiryGranularity)
        self.assertIsNotNone((yield self.store.acquireLease(key, 10)))



class SharedStoreTestsMixin(object):
    """
    What the stores shared by processes must do beyond the store suite, on a
    real server.  Subclasses define C{server()} (the shared server),
    C{makeStore(**kwargs)}, C{makeStoreFor(server, **kwargs)},
    C{rawSet(name, value)} and C{rawDelete(name)}.
    """
    timeout = 30

    def observeLogs(self):
        return EventLoggingObserver.createWithCleanup(self, globalLogPublisher)


    @inlineCallbacks
    def test_sharedByTwoStores(self):
        """
        What one store (one process) writes, another with the same
        namespace reads; invalidations through either reach both.
        """
        other = self.makeStore(namespace=self.store.namespace)
        key = makeKey()
        _, generation = yield self.lookup(key)
        yield self.storeEntry(key, makeEntry(key, b"from A", generation.stamp()))
        entry, generation = yield other.lookup(key)
        self.assertEqual(entry.body, b"from A")
        self.assertEqual(generation.judge(entry.generation), "valid")
        yield other.invalidate(key.url, False)
        entry, generation = yield self.lookup(key)
        self.assertEqual(generation.judge(entry.generation), "stale")


    @inlineCallbacks
    def test_scopesSharedByTwoStores(self):
        """
        Prefix and tag invalidations through one store (one process) reach
        the entries another stored, and fence its renders.
        """
        other = self.makeStore(namespace=self.store.namespace)
        key = makePathKey(b"blog", b"x")
        _, generation = yield other.lookup(key, scopesOf(key, u"news"))
        yield other.store(key, makeEntry(key, b"from B", generation.stamp()))
        yield self.store.invalidateScope(tagScope(u"news"), False)
        entry, generation = yield other.lookup(key, scopesOf(key, u"news"))
        self.assertEqual(generation.judge(entry.generation), "stale")
        _, before = yield other.lookup(key, scopesOf(key, u"news"))
        yield self.store.invalidateScope(
            prefixScopeFromString(u"http://example.com:8080/blog"), True)
        self.assertFalse((yield other.store(
            key, makeEntry(key, b"late", before.stamp()))))
        entry, generation = yield other.lookup(key, scopesOf(key, u"news"))
        self.assertEqual(generation.judge(entry.generation), "gone")


    def counterValue(self):
        """
        @return: A L{Deferred} firing with the value of C{self.store}'s
            generation counter (L{None} if it has none).
        """
        store = self.store
        d = store._call(lambda protocol: store._fetch(protocol, [store._counterName]))
        return d.addCallback(lambda values: values[0])


    @inlineCallbacks
    def test_invalidationAfterCounterLost(self):
        """
        The generation counter lost on its own while the records and
        entries survive (evicted, deleted), and seeded again from a wall
        clock it had run ahead of (more than one invalidation a
        millisecond, or a writer whose clock is behind; here the clock
        stands still): a hard invalidation of a URL, a hard one of a
        scope, or a hard clear still makes the entries stored before it
        gone, and a soft one stale, also when the counter has climbed back
        to just below their stamps (the invalidation then draws the very
        generation they were stamped with).
        """
        wall = Clock()
        wall.advance(1000)
        key = makePathKey(b"post", b"1")
        scope = prefixScopeFromString(u"http://example.com:8080/post")
        other = makePathKey(b"other")
        kinds = [
            ("url", lambda store, hard: store.invalidate(key.url, hard),
             lambda generation: generation[2]),
            ("scope", lambda store, hard: store.invalidateScope(scope, hard),
             lambda generation: dict(
                 (name, number) for name, number, _ in generation.scopes)[
                     urlTag(scope)]),
            ("clear", lambda store, hard: store.clear(hard),
             lambda generation: generation[0])]
        for kind, invalidate, stamped in kinds:
            for climb in (False, True):
                for hard in (True, False):
                    case = (kind, climb, hard)
                    self.store = self.makeStore(wallClock=wall)
                    # Invalidations run the counter ahead of the clock.
                    for _ in range(5):
                        yield invalidate(self.store, False)
                    yield self.storeScoped(key)
                    self.assertEqual((yield self.judgeScoped(key)), "valid", case)
                    _, generation = yield self.store.lookup(key, scopesOf(key))
                    stamp = stamped(generation)
                    self.assertGreater(stamp, generationSeed(wall) + 1, case)
                    yield self.rawDelete(self.store._counterName)
                    if climb:
                        # Other URLs' invalidations seed the counter again
                        # and bring it up to just below the stamp.
                        yield self.store.invalidate(other.url, False)
                        while int((yield self.counterValue())) < stamp - 1:
                            yield self.store.invalidate(other.url, False)
                        self.assertEqual(int((yield self.counterValue())),
                                         stamp - 1, case)
                    yield invalidate(self.store, hard)
                    self.assertEqual((yield self.judgeScoped(key)),
                                     "gone" if hard else "stale", case)


    @inlineCallbacks
    def test_fencedAfterCounterLost(self):
        """
        A render that started before an invalidation is not stored after
        it, also when the generation counter was lost meanwhile, seeded
        again from a wall clock it had run ahead of, and climbed back to
        just below the generation the render read: the invalidation never
        draws that generation again.
        """
        wall = Clock()
        wall.advance(1000)
        key, other = makePathKey(b"post", b"1"), makePathKey(b"other")
        for hard in (True, False):
            self.store = self.makeStore(wallClock=wall)
            for _ in range(5):
                yield self.store.invalidate(key.url, False)
            _, before = yield self.lookup(key)
            yield self.rawDelete(self.store._counterName)
            yield self.store.invalidate(other.url, False)
            while int((yield self.counterValue())) < before[2] - 1:
                yield self.store.invalidate(other.url, False)
            yield self.store.invalidate(key.url, hard)
            self.assertFalse((yield self.storeEntry(
                key, makeEntry(key, generation=before.stamp()))), hard)
            self.assertIsNone((yield self.lookup(key))[0])


    @inlineCallbacks
    def test_racingWritersAfterCounterLost(self):
        """
        Two processes that find the generation counter lost invalidate the
        same URL at once: they agree on one counter, each invalidation
        gives the record a generation above the one before (the entry
        stored before them is gone), and the counter is left at or above
        the record's generation.
        """
        wall = Clock()
        wall.advance(1000)
        key = makePathKey(b"post", b"1")
        self.store = self.makeStore(wallClock=wall)
        other = self.makeStore(wallClock=wall, namespace=self.store.namespace)
        for _ in range(5):
            yield self.store.invalidate(key.url, False)
        yield self.storeScoped(key)
        _, before = yield self.lookup(key)
        # Both connected, so that their calls interleave.
        yield other.lookup(key)
        yield self.rawDelete(self.store._counterName)
        yield defer.gatherResults([self.store.invalidate(key.url, True),
                                   other.invalidate(key.url, True)])
        self.assertEqual((yield self.judgeScoped(key)), "gone")
        _, after = yield self.lookup(key)
        self.assertGreaterEqual(after[2], before[2] + 2)
        self.assertEqual(after[3], after[2])
        self.assertGreaterEqual(int((yield self.counterValue())), after[2])


    def openWindow(self):
        """
        Make the next invalidation take more than one round trip, if the
        store's does not already (C{RedisStore}: its script forgotten by the
        server).

        @return: A L{Deferred}.
        """
        return defer.succeed(None)


    @inlineCallbacks
    def test_readsAfterInvalidationStarted(self):
        """
        A lookup, or a store, sent while this store's invalidation is in
        flight (not yet answered: memcached's is several round trips),
        reads the records as the invalidation leaves them: a hard
        invalidation of a URL, a scope or everything is never followed by
        the entry from before it, nor does a render begun before it pass
        its fence; of a URL, scope or clear, hard or soft.
        """
        key = makePathKey(b"post", b"1")
        scope = prefixScopeFromString(u"http://example.com:8080/post")
        kinds = [("url", lambda hard: self.store.invalidate(key.url, hard)),
                 ("scope", lambda hard: self.store.invalidateScope(scope, hard)),
                 ("clear", lambda hard: self.store.clear(hard))]
        for kind, invalidate in kinds:
            for hard in (True, False):
                case = (kind, hard)
                self.store = self.makeStore()
                yield invalidate(False)
                yield self.storeScoped(key)
                _, before = yield self.store.lookup(key, scopesOf(key))
                yield self.openWindow()
                invalidated = invalidate(hard)
                looked = self.store.lookup(key, scopesOf(key))
                fenced = self.storeEntry(key, makeEntry(
                    key, b"late", generation=before.stamp()))
                again = self.store.lookup(key, scopesOf(key))
                entry, generation = yield looked
                self.assertEqual(generation.judge(entry.generation),
                                 "gone" if hard else "stale", case)
                self.assertFalse((yield fenced), case)
                entry, generation = yield again
                self.assertNotEqual(entry.body, b"late", case)
                self.assertIsNone((yield invalidated), case)


    @inlineCallbacks
    def test_awkwardKeysRoundTrip(self):
        """
        Keys holding what a memcached key may not (spaces, CR/LF, NUL,
        non-ASCII, 300 bytes) each get their own entry back.
        """
        parts = [b"a b", b"a\r\nb", b"a\x00b", u"\u00e9t\u00e9".encode("utf-8"),
                 b"x" * 300, b"a"]
        keys = [makeKey(part) for part in parts] + [makeKey(page=u"\u00e9 \r\n")]
        for i, key in enumerate(keys):
            yield self.storeEntry(key, makeEntry(key, b"body %d" % (i,)))
        for i, key in enumerate(keys):
            self.assertEqual((yield self.lookup(key))[0].body, b"body %d" % (i,))


    @inlineCallbacks
    def test_namespacesDoNotMix(self):
        """
        Stores with different namespaces share nothing, invalidations
        included.
        """
        other = self.makeStore()
        key = makeKey()
        yield self.storeEntry(key, makeEntry(key, b"mine"))
        self.assertIsNone((yield other.lookup(key))[0])
        yield other.clear(True)
        self.assertEqual((yield self.lookup(key))[0].body, b"mine")


    @inlineCallbacks
    def test_anotherKeysValueIsALoggedMiss(self):
        """
        A slot holding another key's entry (a desynced client, a digest
        collision, a tampered server) reads as a miss, logged.
        """
        key, other = makeKey(b"p"), makeKey(b"q")
        yield self.rawSet(self.store._entryName(key), encodeEntry(makeEntry(other)))
        events = self.observeLogs()
        entry, _ = yield self.lookup(key)
        self.assertIsNone(entry)
        self.assertEqual(self.store.stats()["badValues"], 1)
        self.assertTrue(any("another key" in e.get("reason", "") for e in events))


    @inlineCallbacks
    def test_pickleOrGarbageIsAMiss(self):
        """
        A pickle, or random bytes, under a valid name is a miss: nothing is
        unpickled, nothing raises.
        """
        key = makeKey()
        name = self.store._entryName(key)
        for value in (pickle.dumps(makeEntry(key).__class__, 2), os.urandom(64), b""):
            yield self.rawSet(name, value)
            entry, _ = yield self.lookup(key)
            self.assertIsNone(entry)


    @inlineCallbacks
    def test_signedEntries(self):
        """
        With a secret, entries are signed; an unsigned or wrongly signed one
        is a miss.
        """
        secret = b"deployment secret"
        signed = self.makeStore(namespace=self.store.namespace, secret=secret)
        key = makeKey()
        yield signed.store(key, makeEntry(key, b"signed"))
        self.assertEqual((yield signed.lookup(key))[0].body, b"signed")
        self.assertIsNone((yield self.lookup(key))[0])
        yield self.storeEntry(key, makeEntry(key, b"unsigned"))
        self.assertIsNone((yield signed.lookup(key))[0])
        forged = self.makeStore(namespace=self.store.namespace, secret=b"guess")
        yield forged.store(key, makeEntry(key, b"forged"))
        self.assertIsNone((yield signed.lookup(key))[0])


    @inlineCallbacks
    def test_tooLargeNotStored(self):
        """
        An entry larger than C{maxEntryBytes} is not stored, and not sent.
        """
        store = self.makeStore(maxEntryBytes=1000)
        key = makeKey()
        self.assertFalse((yield store.store(key, makeEntry(key, b"x" * 2000))))
        self.assertEqual(store.stats()["tooLarge"], 1)
        self.assertEqual(store.stats()["storeCalls"], 0)


    @inlineCallbacks
    def test_serverDownFailsFastThenCircuitOpens(self):
        """
        With nothing listening, calls fail (the engine then serves
        uncached); after C{maxFailures} of them the store is not even
        tried until the cool-down is over.
        """
        server = _servers.Server(self.binary)
        server.stop()
        self.addCleanup(server.cleanUp)
        store = self.makeStoreFor(server, maxFailures=2, coolDown=60)
        for _ in range(2):
            yield self.assertFailure(store.lookup(makeKey()), error.ConnectError)
        yield self.assertFailure(store.lookup(makeKey()), CircuitOpen)
        stats = store.stats()
        self.assertEqual((stats["circuit"], stats["storeFailures"], stats["shortCircuits"]),
                         ("open", 2, 1))


    @inlineCallbacks
    def test_recoversWhenServerReturns(self):
        """
        A server that dies fails calls; once it is back (on the same port)
        the next call after the cool-down reconnects and succeeds.
        """
        server = _servers.Server(self.binary)
        self.addCleanup(server.cleanUp)
        store = self.makeStoreFor(server, maxFailures=1, coolDown=0)
        key = makeKey()
        yield store.store(key, makeEntry(key))
        server.stop()
        # Connection lost, refused, or closed: whichever comes first.
        yield self.assertFailure(store.lookup(key), Exception)
        server.start()
        entry, _ = yield store.lookup(key)
        # A restarted server has lost its entries, not its manners.
        self.assertIsNone(entry)
        self.assertEqual(store.stats()["circuit"], "closed")
        self.assertEqual(store.stats()["connects"], 2)


    @inlineCallbacks
    def test_hungServerTimesOut(self):
        """
        A server that stops answering costs each call its timeout, then
        the circuit opens; its connection is dropped, and once it answers
        again a late answer never answers another call.
        """
        server = _servers.Server(self.binary)
        self.addCleanup(server.cleanUp)
        store = self.makeStoreFor(server, timeout=0.2, maxFailures=2, coolDown=0.2)
        first, second = makeKey(b"first"), makeKey(b"second")
        for key in (first, second):
            yield store.store(key, makeEntry(key, key.url[3][0]))
        server.pause()
        self.addCleanup(server.resume)
        started = time.time()
        yield self.assertFailure(store.lookup(first), defer.TimeoutError)
        self.assertLess(time.time() - started, 2)
        yield self.assertFailure(store.lookup(first), defer.TimeoutError)
        yield self.assertFailure(store.lookup(first), CircuitOpen)
        server.resume()
        yield pause(0.25)
        # Time enough for a loaded test machine: what is tested is that the
        # probe goes through, not how fast.
        store._breaker.timeout = 5.0
        entry, _ = yield store.lookup(second)
        self.assertEqual(entry.body, b"second")
        self.assertEqual(store.stats()["circuit"], "closed")


    @inlineCallbacks
    def test_invalidationKeptAcrossOutage(self):
        """
        An invalidation the server did not get is sent before this store's
        next call: the invalidated entry is never served as valid after the
        server comes back.
        """
        server = _servers.Server(self.binary)
        self.addCleanup(server.cleanUp)
        store = self.makeStoreFor(server, timeout=0.2, maxFailures=100)
        key = makeKey()
        _, generation = yield store.lookup(key)
        yield store.store(key, makeEntry(key, generation=generation.stamp()))
        server.pause()
        self.addCleanup(server.resume)
        yield self.assertFailure(store.invalidate(key.url, True), defer.TimeoutError)
        self.assertEqual(store.stats()["pendingInvalidations"], 1)
        server.resume()
        store._breaker.timeout = 5.0
        entry, generation = yield store.lookup(key)
        self.assertTrue(entry is None or generation.judge(entry.generation) == "gone")
        self.assertEqual(store.stats()["pendingInvalidations"], 0)
        other = self.makeStoreFor(server)
        entry, generation = yield other.lookup(key)
        self.assertTrue(entry is None or generation.judge(entry.generation) == "gone")


    @inlineCallbacks
    def test_scopeInvalidationKeptAcrossOutage(self):
        """
        A prefix or tag invalidation the server did not get is kept, apart
        from URL invalidations, and sent before this store's next call.
        """
        server = _servers.Server(self.binary)
        self.addCleanup(server.cleanUp)
        store = self.makeStoreFor(server, timeout=0.2, maxFailures=100)
        key = makePathKey(b"blog", b"x")
        _, generation = yield store.lookup(key, scopesOf(key, u"news"))
        yield store.store(key, makeEntry(key, generation=generation.stamp()))
        server.pause()
        self.addCleanup(server.resume)
        yield self.assertFailure(store.invalidateScope(tagScope(u"news"), True),
                                 defer.TimeoutError)
        yield self.assertFailure(store.invalidateScope(
            prefixScopeFromString(u"http://example.com:8080/blog"), False),
            defer.TimeoutError)
        self.assertEqual(store.stats()["pendingInvalidations"], 2)
        server.resume()
        store._breaker.timeout = 5.0
        entry, generation = yield store.lookup(key, scopesOf(key, u"news"))
        self.assertTrue(entry is None or generation.judge(entry.generation) == "gone")
        self.assertEqual(store.stats()["pendingInvalidations"], 0)
        other = self.makeStoreFor(server, namespace=store.namespace)
        entry, generation = yield other.lookup(key, scopesOf(key))
        self.assertEqual(generation.judge(entry.generation), "stale")


    def test_closedStoreFails(self):
        """
        After C{close()}, calls fail at once.
        """
        d = self.store.close()

        def closed(ignored):
            return self.assertFailure(self.store.lookup(makeKey()), Exception)
        return d.addCallback(closed)



class MemcachedStoreTests(StoreTestsMixin, LeaseStoreTestsMixin,
                          SharedStoreTestsMixin, TestCase):
    """
    L{MemcachedStore} passes the store suite against a real memcached.
    """
    binary = "memcached"
    skip = _servers.missing("memcached")
    # memcached counts expiry in whole seconds, on a clock that ticks once
    # a second.
    shortLease = 1
    expiryGranularity = 1.1

    def makeStoreFor(self, server, **kwargs):
        kwargs.setdefault("namespace", uniqueNamespace())
        kwargs.setdefault("timeout", 5.0)
        store = MemcachedStore("127.0.0.1", server.port, **kwargs)
        self.addCleanup(store.close)
        return store


    def makeStore(self, **kwargs):
        return self.makeStoreFor(_servers.shared("memcached"), **kwargs)


    def rawSet(self, name, value):
        return self.store._call(lambda protocol: protocol.set(name, value))


    def rawDelete(self, name):
        return self.store._call(lambda protocol: protocol.delete(name))


    @inlineCallbacks
    def test_lookupReadsThreeNames(self):
        """
        A lookup reads three names, the entry and both generation records,
        and writes nothing (one C{get}: see L{tests.test_sharedwire}).
        """
        key = makeKey()
        yield self.lookup(key)
        stats = yield self.store._call(lambda protocol: protocol.stats())
        yield self.lookup(key)
        after = yield self.store._call(lambda protocol: protocol.stats())
        self.assertEqual(int(after[b"cmd_get"]) - int(stats[b"cmd_get"]), 3)
        self.assertEqual(int(after[b"cmd_set"]), int(stats[b"cmd_set"]))


    def test_longEntryTimeoutRefused(self):
        """
        memcached reads expiry times over 30 days as dates: refused.
        """
        self.assertRaises(ValueError, MemcachedStore, entryTimeout=31 * 86400)



class RedisClientTests(SynchronousTestCase):
    """
    L{RedisStore} is importable without C{txredisapi}, and says what is
    missing when it is made.
    """

    def test_needsClient(self):
        """
        Without C{txredisapi}, making a L{RedisStore} raises an
        L{ImportError} naming the extra to install.
        """
        self.patch(_redisclient, "_clientClass", None)
        saved = sys.modules.get("txredisapi")
        sys.modules["txredisapi"] = None
        try:
            error = self.assertRaises(ImportError, RedisStore)
        finally:
            if saved is None:
                del sys.modules["txredisapi"]
            else:
                sys.modules["txredisapi"] = saved
        self.assertIn("nevowcache[redis]", str(error))



class RedisStoreTests(StoreTestsMixin, LeaseStoreTestsMixin,
                      SharedStoreTestsMixin, TestCase):
    """
    L{RedisStore} passes the store suite against a real Redis.
    """
    binary = "redis-server"
    skip = _servers.missing("redis-server") or _noRedisClient
    shortLease = 0.05
    expiryGranularity = 0.1

    def makeStoreFor(self, server, **kwargs):
        kwargs.setdefault("namespace", uniqueNamespace())
        kwargs.setdefault("timeout", 5.0)
        store = RedisStore("127.0.0.1", server.port, **kwargs)
        self.addCleanup(store.close)
        return store


    def makeStore(self, **kwargs):
        return self.makeStoreFor(_servers.shared("redis-server"), **kwargs)


    def rawSet(self, name, value):
        return self.store._call(
            lambda protocol: protocol.execute_command(b"SET", name, value))


    def rawDelete(self, name):
        return self.store._call(
            lambda protocol: protocol.execute_command(b"DEL", name))


    def openWindow(self):
        """
        Forget the server's scripts: the next invalidation's C{EVALSHA} is
        answered C{NOSCRIPT}, and sent again as an C{EVAL}, a round trip
        later.
        """
        return self.store._call(
            lambda protocol: protocol.execute_command(b"SCRIPT", b"FLUSH"))


    @inlineCallbacks
    def test_recordsExpireAfterEntries(self):
        """
        With C{entryTimeout}, invalidation records are kept a little longer
        than entries live, then forgotten (a flood of POSTs to distinct
        paths is bounded); without it, they are kept.
        """
        def ttl(store, name):
            return store._call(lambda protocol: protocol.execute_command(b"TTL", name))
        for entryTimeout, low, high in [(30, 60, 90), (0, -1, -1)]:
            store = self.makeStore(entryTimeout=entryTimeout)
            scope = pathScopeFromString(u"/post/1")
            yield store.invalidateScope(scope, True)
            yield store.invalidate(makeKey().url, False)
            for name in (store._scopeName(urlTag(scope)), store._urlName(urlTag(makeKey().url))):
                left = yield ttl(store, name)
                self.assertTrue(low <= left <= high, (entryTimeout, left))


    @inlineCallbacks
    def test_fencedInOneStep(self):
        """
        A store is one script: the generation check and the write cannot be
        separated by an invalidation.
        """
        key = makeKey()
        _, generation = yield self.lookup(key)
        stats = yield self.store._call(
            lambda protocol: protocol.execute_command(b"INFO", b"commandstats"))
        yield self.storeEntry(key, makeEntry(key, generation=generation.stamp()))
        after = yield self.store._call(
            lambda protocol: protocol.execute_command(b"INFO", b"commandstats"))

        def calls(info, command):
            for line in info.splitlines():
                if line.startswith(b"cmdstat_" + command + b":"):
                    return int(line.split(b"calls=")[1].split(b",")[0])
            return 0
        self.assertEqual(calls(after, b"eval") + calls(after, b"evalsha")
                         - calls(stats, b"eval") - calls(stats, b"evalsha"), 1)
