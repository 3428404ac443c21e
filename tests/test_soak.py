"""
Memory under floods, and a reduced soak, on every adapter.

The full soak (a few million requests) runs apart: C{./dev soak}.
"""

from __future__ import absolute_import, division

import gc
import sys

from twisted.internet import defer
from twisted.internet.task import Clock

from nevowcache import MemoryStore, PageCache
from nevowcache._engine.refresh import _Refused

from tests._adapters import ADAPTERS, PageSpec, makeCases
from tests._harness import StoreDown, fetch, rss
from tests.soak import Soak, SoakFailure

# What the floods may add to the resident set once warmed up: 2% of it, but
# at least this much (allocator noise in a process that ran other tests).
_RSS_SLACK = 2 * 2 ** 20



class MemoryTestsMixin(object):
    """
    Floods of distinct and over-long URLs, by GET and by POST: the store's
    bounds hold at every step, the hot entry stays, and the process's
    memory stops growing once the store is full.
    """
    adapter = None
    maxBytes = 256 * 1024

    def setUp(self):
        self.clock = Clock()
        self.store = MemoryStore(maxBytes=self.maxBytes, maxEntries=1000)
        self.cache = PageCache(self.store, reactor=self.clock)
        self.spec = PageSpec(lambda request: b"<p>" + request.uri[:100] + b"</p>",
                             leaf=True)
        self.hot = PageSpec(lambda request: b"<p>hot</p>")
        self.site = self.adapter.makeSite(self.clock, self.cache,
                                          {b"p": self.spec, b"hot": self.hot})


    def tearDown(self):
        self.site = None
        del self.clock.calls[:]
        if hasattr(sys, "exc_clear"):
            sys.exc_clear()
        gc.collect()


    def flood(self, requests, method=b"GET", check=lambda n: None):
        """
        Send C{requests} requests for distinct URLs, every third near the
        longest URI Twisted takes; every tenth asks for the hot URL.

        @return: The resident set size after a quarter of them and at the
            end, as measured after each quarter.
        """
        samples = []
        for n in range(1, requests + 1):
            if n % 10 == 0:
                response = fetch(self.site, b"/hot?hot=1").answer
                if n > 10:
                    self.assertEqual(response.cacheStatus[:15], b"nevowcache; hit", n)
            elif method == b"POST":
                # Distinct paths: a POST invalidates its path, whatever the
                # query.
                path = b"/p/" + str(n).encode("ascii")
                if n % 3 == 0:
                    path += b"/" + b"x" * (8000 + n % 5000)
            else:
                path = b"/p?r=" + str(n).encode("ascii")
                if n % 3 == 0:
                    path += b"&pad=" + b"x" * (8000 + n % 5000)
            if n % 10:
                kwargs = {"body": b"x=1"} if method == b"POST" else {}
                response = fetch(self.site, path, method=method, **kwargs).answer
                self.assertEqual(response.code, 200)
            check(n)
            if n % (requests // 4) == 0:
                samples.append(rss(trim=True))
        return samples


    def assertPlateau(self, samples):
        """
        Memory after the first quarter of a flood grows no more than
        C{_RSS_SLACK} or 2%.
        """
        if samples[0] is None:
            return
        grown = max(samples[1:]) - samples[0]
        self.assertTrue(grown <= max(_RSS_SLACK, samples[0] * 0.02),
                        "grew %d KiB: %r" % (grown // 1024, [s // 1024 for s in samples]))


    def test_floodOfDistinctUrls(self):
        """
        A flood of distinct, partly over-long URLs keeps the store within
        its byte bound at every request, keeps the hot entry, and memory
        plateaus.
        """
        def check(n):
            stats = self.store.stats()
            self.assertTrue(stats["bytes"] <= self.maxBytes, stats)
        samples = self.flood(1200, check=check)
        self.assertGreater(self.store.stats()["evictions"], 500)
        self.assertPlateau(samples)


    def test_floodOfPosts(self):
        """
        A flood of successful POSTs to distinct long paths, each invalidating
        its path, keeps the store's invalidation records within their byte
        bound, and memory plateaus.
        """
        def check(n):
            self.assertTrue(self.store._urlBytes <= self.store.maxUrlBytes)
            self.assertTrue(self.store._scopeBytes <= self.store.maxUrlBytes)
        samples = self.flood(1200, method=b"POST", check=check)
        self.assertGreater(self.cache.stats()["unsafeInvalidations"], 1000)
        self.assertPlateau(samples)



class SoakTestsMixin(object):
    """
    The soak of L{tests.soak}, reduced to a few thousand requests.
    """
    adapter = None

    def test_reducedSoak(self):
        """
        Every kind of request at once, with invalidations and store faults:
        every answer is right, the counters add up, nothing is left in
        flight, and memory does not grow after warm-up.
        """
        soak = Soak(self.adapter, 3000, floodUrls=150, samples=8, warmUp=0.5,
                    memorySlack=_RSS_SLACK).run()
        self.flushLoggedErrors(SoakFailure, _Refused, StoreDown, defer.TimeoutError,
                               defer.CancelledError)
        self.assertEqual(soak.errors, [], soak.report())
        for kind in ("hits", "staleHits", "misses", "collapsed", "refreshes",
                     "bypasses", "refusals", "storeErrors", "unsafeInvalidations"):
            self.assertGreater(soak.cache.stats()[kind], 0, kind)



makeCases(globals(), MemoryTestsMixin, "MemoryTests")
makeCases(globals(), SoakTestsMixin, "SoakTests")
