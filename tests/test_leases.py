# -*- test-case-name: tests.test_leases -*-
"""
The engine with a store shared by processes: single flight across processes
through leases, and failing open when the store fails.  Framework-neutral:
L{PageCache.serve} is driven directly, on a L{Clock}; "another process" is
the test acting on the same store.
"""

from __future__ import absolute_import, division

import time

from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.internet.testing import EventLoggingObserver
from twisted.logger import LogLevel, globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.http_headers import Headers
from zope.interface import alsoProvides, implementer

from nevowcache import ILeaseStore, IPageStore, ISharedStore, MemoryStore, PageCache
from nevowcache._http.capture import CaptureRequest
from nevowcache._engine.pagecache import CachePolicy
from nevowcache._stores.interfaces import StoreUnavailable

from tests.test_stores import makeEntry, makeKey



class FakeRequest(object):
    """
    The little of a request L{PageCache.serve} and L{CaptureRequest} read.
    """

    def __init__(self, method=b"GET"):
        self.method = method
        self.requestHeaders = Headers()



@implementer(IPageStore, ILeaseStore)
class LeasingStore(object):
    """
    A L{MemoryStore} with leases that lapse on a clock, and switches to
    make its calls fail: a stand-in for a store shared by processes.

    @ivar failing: Names of the methods that fail (with C{failWith}).
    """
    name = "leasing"

    def __init__(self, clock):
        self.memory = MemoryStore()
        self.clock = clock
        self.leases = {}
        self.failing = set()
        self.failWith = RuntimeError
        self.calls = []
        self._tokens = 0


    def _call(self, name, *args):
        self.calls.append(name)
        if name in self.failing:
            return defer.fail(self.failWith("store down"))
        return getattr(self.memory, name)(*args)


    def lookup(self, key, scopes=()):
        # Not an IScopedStore: PageCache never passes scopes.
        return self._call("lookup", key)


    def store(self, key, entry):
        return self._call("store", key, entry)


    def delete(self, key):
        return self._call("delete", key)


    def invalidate(self, url, hard):
        return self._call("invalidate", url, hard)


    def clear(self, hard):
        return self._call("clear", hard)


    def stats(self):
        return self.memory.stats()


    def acquireLease(self, key, ttl):
        self.calls.append("acquireLease")
        if "acquireLease" in self.failing:
            return defer.fail(self.failWith("store down"))
        holder = self.leases.get(key)
        if holder is not None and holder[1] > self.clock.seconds():
            return defer.succeed(None)
        self._tokens += 1
        token = b"token%d" % (self._tokens,)
        self.leases[key] = (token, self.clock.seconds() + ttl)
        return defer.succeed(token)


    def releaseLease(self, key, token):
        self.calls.append("releaseLease")
        holder = self.leases.get(key)
        if holder is None or holder[0] != token:
            return defer.succeed(False)
        del self.leases[key]
        return defer.succeed(True)



class SharedEngineTestsMixin(object):
    """
    Helpers: a cache on a L{LeasingStore} and a L{Clock}, and a page that
    renders on demand.
    """

    def setUp(self):
        self.clock = Clock()
        self.store = LeasingStore(self.clock)
        self.cache = PageCache(self.store, reactor=self.clock, waitTimeout=5,
                               renderTimeout=20, leasePoll=0.1)
        self.policy = CachePolicy(60)
        self.key = makeKey()
        self.renders = []


    def render(self):
        """
        A render that finishes when the test says so (see L{finish}).
        """
        d = defer.Deferred()
        self.renders.append(d)
        return d


    def finish(self, index=-1, body=b"rendered"):
        capture = CaptureRequest(FakeRequest())
        capture.write(body)
        capture.finish()
        self.renders[index].callback(capture)


    def serve(self):
        return self.cache.serve(FakeRequest(), self.key, self.policy, self.render,
                                lambda: self.render)


    def storeAsOtherProcess(self, body=b"from B"):
        """
        Store an entry as another process would, under the current
        generation.
        """
        _, generation = self.successResultOf(self.store.memory.lookup(self.key))
        entry = makeEntry(self.key, body, generation.stamp(), created=self.clock.seconds())
        self.successResultOf(self.store.memory.store(self.key, entry))


    def takeLeaseAsOtherProcess(self, ttl=30):
        token = self.successResultOf(self.store.acquireLease(self.key, ttl))
        self.assertIsNotNone(token)
        del self.store.calls[:]
        return token


    def tearDown(self):
        pending = [c for c in self.clock.getDelayedCalls() if c.active()]
        self.assertEqual(pending, [])



class LeaseTests(SharedEngineTestsMixin, SynchronousTestCase):
    """
    With an L{ILeaseStore}, one process renders a missing or stale key; the
    others wait for its entry or serve stale.
    """

    def test_missTakesLeaseRendersStoresReleases(self):
        """
        A miss takes the key's lease, looks once more, renders, stores, then
        releases the lease.
        """
        d = self.serve()
        self.assertEqual(len(self.renders), 1)
        self.finish()
        answer = self.successResultOf(d)
        self.assertEqual(answer.status, b"nevowcache; fwd=uri-miss; ttl=60; stored")
        self.assertEqual(self.store.calls, ["lookup", "acquireLease", "lookup",
                                            "store", "releaseLease"])
        self.assertEqual(self.store.leases, {})


    def test_waitForOtherProcessEntry(self):
        """
        While another process holds the lease of a missing key, the request
        waits and serves the entry that process stores: no render here.
        Other requests of this process wait on the same flight.
        """
        self.takeLeaseAsOtherProcess()
        first, second = self.serve(), self.serve()
        self.clock.advance(0.1)
        self.clock.advance(0.1)
        self.assertNoResult(first)
        self.storeAsOtherProcess()
        self.clock.advance(0.1)
        for d in (first, second):
            answer = self.successResultOf(d)
            self.assertEqual(answer.entry.body, b"from B")
            self.assertIn(b"collapsed", answer.status)
        self.assertEqual(self.renders, [])
        self.assertEqual(self.cache.stats()["leaseWaits"], 1)


    def test_otherProcessNeverStores(self):
        """
        If the holder stores nothing within C{waitTimeout}, the request
        renders on its own and stores nothing (the holder may still).
        """
        self.takeLeaseAsOtherProcess()
        d = self.serve()
        self.clock.pump([0.1] * 51)
        self.assertEqual(len(self.renders), 1)
        self.finish()
        answer = self.successResultOf(d)
        self.assertEqual(answer.status, b"nevowcache; fwd=uri-miss; detail=lease-timeout")
        self.assertNotIn("store", self.store.calls)
        self.assertEqual(self.cache.stats()["leaseTimeouts"], 1)


    def test_holderGivesUpThenThisProcessRenders(self):
        """
        If the holder releases the lease without storing (its render
        failed), a waiting process takes it and renders.
        """
        token = self.takeLeaseAsOtherProcess()
        d = self.serve()
        self.clock.advance(0.1)
        self.successResultOf(self.store.releaseLease(self.key, token))
        self.clock.advance(0.1)
        self.assertEqual(len(self.renders), 1)
        self.finish()
        self.assertEqual(self.successResultOf(d).status, b"nevowcache; fwd=uri-miss; ttl=60; stored")


    def test_lapsedLeaseIsTakenOver(self):
        """
        A holder that died leaves its lease to lapse; then a waiter takes
        it and renders.
        """
        self.takeLeaseAsOtherProcess(ttl=1)
        d = self.serve()
        self.clock.pump([0.1] * 11)
        self.assertEqual(len(self.renders), 1)
        self.finish()
        self.assertEqual(self.successResultOf(d).status, b"nevowcache; fwd=uri-miss; ttl=60; stored")


    def test_entryStoredJustBeforeLeaseTaken(self):
        """
        If the holder stored and released between this process's lookup and
        its taking the lease, the entry is served, not rendered again.
        """
        original = self.store.acquireLease

        def acquireAfterOtherStored(key, ttl):
            self.storeAsOtherProcess(b"just stored")
            return original(key, ttl)
        self.store.acquireLease = acquireAfterOtherStored
        answer = self.successResultOf(self.serve())
        self.assertEqual(answer.entry.body, b"just stored")
        self.assertEqual(self.renders, [])
        self.assertEqual(self.store.leases, {})


    def test_staleRefreshSkippedWhileAnotherRefreshes(self):
        """
        A stale hit refreshes only if it gets the lease: while another
        process refreshes, this one serves stale, and asks again only after
        C{refreshBackoff}.
        """
        self.storeAsOtherProcess(b"old")
        self.clock.advance(61)
        self.takeLeaseAsOtherProcess()
        answer = self.successResultOf(self.serve())
        self.assertEqual(answer.entry.body, b"old")
        self.clock.advance(0)
        self.assertEqual(self.renders, [])
        self.assertEqual(self.cache.stats()["leaseBusy"], 1)
        self.successResultOf(self.serve())
        self.clock.advance(0)
        self.assertEqual(self.store.calls.count("acquireLease"), 1)
        self.clock.advance(1)
        self.successResultOf(self.serve())
        self.clock.advance(0)
        self.assertEqual(self.store.calls.count("acquireLease"), 2)
        self.assertEqual(self.renders, [])


    def test_staleRefreshWithLease(self):
        """
        A refresh that gets the lease renders, stores and releases it.
        """
        self.storeAsOtherProcess(b"old")
        self.clock.advance(61)
        self.successResultOf(self.serve())
        self.clock.advance(0)
        self.assertEqual(len(self.renders), 1)
        self.finish(body=b"new")
        self.assertEqual(self.store.leases, {})
        self.assertEqual(self.successResultOf(self.serve()).entry.body, b"new")
        self.assertEqual(self.cache.stats()["refreshes"], 1)


    def test_leaseReleasedAfterFailedRender(self):
        """
        A render that fails releases its lease, so another process can
        render at once.
        """
        d = self.serve()
        self.renders[0].errback(RuntimeError("render failed"))
        self.failureResultOf(d, RuntimeError)
        self.assertEqual(self.store.leases, {})
        self.flushLoggedErrors(RuntimeError)


    def test_noLeasesWithMemoryStore(self):
        """
        A store without leases renders at once, as before.
        """
        self.cache = PageCache(MemoryStore(), reactor=self.clock)
        d = self.serve()
        self.finish()
        self.assertEqual(self.successResultOf(d).status, b"nevowcache; fwd=uri-miss; ttl=60; stored")



class StoreFaultTests(SharedEngineTestsMixin, SynchronousTestCase):
    """
    A store that fails never fails a request: the page is rendered and
    served, and nothing is stored that could outlive an invalidation.
    """

    def test_lookupFailsServeUncached(self):
        """
        A failed lookup is a miss; the render is served, and not stored: no
        generation fences its write.
        """
        self.store.failing.add("lookup")
        d = self.serve()
        self.finish()
        answer = self.successResultOf(d)
        self.assertIsNone(answer.entry)
        self.assertEqual(answer.capture.value(), b"rendered")
        self.assertEqual(answer.status, b"nevowcache; fwd=uri-miss; detail=store-error")
        self.assertNotIn("store", self.store.calls)
        self.assertNotIn("acquireLease", self.store.calls)
        self.assertEqual(self.cache.stats()["storeErrors"], 1)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)


    def test_leaseFailsRenderAndStore(self):
        """
        A store that cannot give a lease still gets the render stored.
        """
        self.store.failing.add("acquireLease")
        d = self.serve()
        self.finish()
        self.assertEqual(self.successResultOf(d).status, b"nevowcache; fwd=uri-miss; ttl=60; stored")
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)


    def test_storeFailsServeAnyway(self):
        """
        A failed store serves the render, not stored.
        """
        self.store.failing.add("store")
        d = self.serve()
        self.finish()
        answer = self.successResultOf(d)
        self.assertEqual(answer.status, b"nevowcache; fwd=uri-miss")
        self.assertEqual(answer.entry.body, b"rendered")
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)


    def test_unavailableStoreLogsQuietly(self):
        """
        A store that says it is unavailable (its circuit is open) is not
        logged as an error on every request.
        """
        events = EventLoggingObserver.createWithCleanup(self, globalLogPublisher)
        self.store.failing.update(["lookup", "store", "acquireLease"])
        self.store.failWith = StoreUnavailable
        for _ in range(3):
            d = self.serve()
            self.finish()
            self.successResultOf(d)
        self.assertEqual(self.flushLoggedErrors(), [])
        self.assertEqual(self.cache.stats()["storeErrors"], 3)
        self.assertEqual(set(e["log_level"] for e in events
                             if "Store" in e.get("log_format", "")), {LogLevel.debug})


    def test_sharedStoreAgesByTimeOfDay(self):
        """
        Entries of a store shared across hosts are aged by the time of day,
        not by a monotonic clock that means nothing on another host.
        """
        alsoProvides(self.store, ISharedStore)
        cache = PageCache(self.store)
        self.assertLess(abs(cache._clock.seconds() - time.time()), 5)
        self.assertGreater(abs(PageCache(MemoryStore())._clock.seconds() - time.time()), 1000)
