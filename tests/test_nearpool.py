# -*- test-case-name: tests.test_nearpool -*-
"""
L{NearStore} over a pool of memcached servers: each server's ring of
events read each period, each server's share of the near tier trusted by
its own reads.

Against real memcached servers: the near tiers' periods are driven by a
L{Clock} (the shared stores talk to the servers on the real reactor), so
that "within the bound" is counted in periods, whatever the machine's
load; and, in real time, the whole store suite and the measured bound
(L{NearStoreTestsMixin}).
"""

from __future__ import absolute_import, division

from twisted.internet import defer
from twisted.internet.defer import inlineCallbacks
from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from nevowcache import MemcachedStore, NearStore
from nevowcache._http.scopes import (
    pathScopeFromString, prefixScopeFromString, tagScope)
from nevowcache._stores.generations import urlTag

from tests import _servers
from tests.test_near import NearStoreTestsMixin
from tests.test_stores import makeEntry, makeKey, pause, scopesOf, uniqueNamespace


def keysOn(store, count=3):
    """
    A key whose URL lives on each server of C{store}'s pool, in the order
    of its servers.
    """
    keys = [None] * count
    i = 0
    while None in keys:
        key = makeKey(b"p%d" % (i,))
        index = store._servers.index(store._serverFor(urlTag(key.url)))
        if keys[index] is None:
            keys[index] = key
        i += 1
    return keys



class PoolCoherenceTests(TestCase):
    """
    Two near tiers (two processes) over a pool of three real memcached
    servers, their periods on a L{Clock}.
    """
    skip = _servers.missing("memcached")
    timeout = 60
    bound = 1.0

    def setUp(self):
        self.clock = Clock()
        self.clock.advance(1000)
        self.servers = []
        for _ in range(3):
            server = _servers.Server("memcached")
            self.addCleanup(server.cleanUp)
            self.servers.append(server)


    def makeNear(self, namespace):
        shared = MemcachedStore(
            servers=["127.0.0.1:%d" % (server.port,) for server in self.servers],
            namespace=namespace, timeout=5.0, maxFailures=2, coolDown=0.05)
        near = NearStore(shared, bound=self.bound, reactor=self.clock)
        self.addCleanup(near.close)
        return near


    @inlineCallbacks
    def settled(self, *nears):
        """
        Wait until the reads of the servers' events under way are done.
        """
        for _ in range(2000):
            if not any(near._coherence._polling for near in nears):
                return
            yield pause(0.005)
        self.fail("the servers' events were never read")


    def period(self, *nears):
        """
        Half a bound passes on the clock: each near tier reads every
        server's events.

        @return: A L{Deferred} firing once those reads are done.
        """
        self.clock.advance(self.bound / 2)
        return self.settled(*nears)


    @inlineCallbacks
    def twoProcesses(self, tags=(u"news",)):
        """
        Two near tiers on one namespace, the second holding the entries the
        first wrote, one on each server.

        @return: C{(a, b, keys)}.
        """
        namespace = uniqueNamespace()
        a, b = self.makeNear(namespace), self.makeNear(namespace)
        a._start()
        b._start()
        yield self.settled(a, b)
        self.assertTrue(a._trusted() and b._trusted())
        keys = keysOn(a.shared)
        for key in keys:
            yield self.write(a, key, b"first")
        # The other tier reads the first stores (they forget nothing it
        # holds), then looks the entries up.
        yield self.period(a, b)
        for key in keys:
            entry, _ = yield b.lookup(key, scopesOf(key, *tags))
            self.assertEqual(entry.body, b"first")
            self.assertEqual(b.peek(key)[0].body, b"first")
        defer.returnValue((a, b, keys))


    @inlineCallbacks
    def write(self, store, key, body, tags=(u"news",)):
        _, generation = yield store.lookup(key, scopesOf(key, *tags))
        self.assertTrue((yield store.store(key, makeEntry(
            key, body=body, generation=generation.stamp()))))


    @inlineCallbacks
    def test_everyChangeReachesTheOtherTier(self):
        """
        Every kind of change made through one near tier (URL, path on every
        host, prefix, tag, clear; soft and hard; a deletion) reaches the
        other near tier within a period (half the bound), whichever server
        holds the entries it concerns; a URL's change forgets only that
        URL's entry.
        """
        for hard in (False, True):
            for index in range(3):
                a, b, keys = yield self.twoProcesses()
                key = keys[index]
                yield a.invalidate(key.url, hard)
                yield self.period(a, b)
                self.assertEqual(b.peek(key), (None, None), (index, hard))
                for other in keys:
                    if other is not key:
                        self.assertIsNotNone(b.peek(other)[0], (index, hard))
            for change in [
                    lambda a, key: a.invalidateScope(pathScopeFromString(
                        u"/" + key.url[3][0].decode("ascii")), hard),
                    lambda a, key: a.invalidateScope(prefixScopeFromString(
                        u"http://example.com:8080/"), hard),
                    lambda a, key: a.invalidateScope(tagScope(u"news"), hard),
                    lambda a, key: a.clear(hard)]:
                a, b, keys = yield self.twoProcesses()
                for key in keys:
                    yield change(a, key)
                yield self.period(a, b)
                for index, key in enumerate(keys):
                    self.assertEqual(b.peek(key), (None, None), (index, hard))
                    entry, generation = yield b.lookup(key, scopesOf(key, u"news"))
                    self.assertNotEqual(generation.judge(entry.generation), "valid")
        a, b, keys = yield self.twoProcesses()
        for key in keys:
            yield a.delete(key)
        yield self.period(a, b)
        for key in keys:
            self.assertEqual(b.peek(key), (None, None))


    @inlineCallbacks
    def test_newerEntryReachesTheOtherTier(self):
        """
        A newer entry stored through one near tier replaces the other's
        near entry within a period, whichever server holds it.
        """
        a, b, keys = yield self.twoProcesses()
        for key in keys:
            yield self.write(a, key, b"newer")
        yield self.period(a, b)
        for key in keys:
            self.assertEqual(b.peek(key), (None, None))
            entry, _ = yield b.lookup(key, scopesOf(key, u"news"))
            self.assertEqual(entry.body, b"newer")
            self.assertEqual(b.peek(key)[0].body, b"newer")


    @inlineCallbacks
    def test_serverKilledAndRestarted(self):
        """
        A server killed: within the bound the near entries it holds are no
        longer served (looked up there: misses), the other servers' still
        are.  Restarted, it comes back cleanly: its share is forgotten
        (whatever changed meanwhile is unknown) and trusted again, and its
        changes reach the other tier again.
        """
        a, b, keys = yield self.twoProcesses()
        killed = self.servers[1]
        killed.stop()
        # The last read of its ring was at most now: within the bound, its
        # share is not served.
        yield self.period(a, b)
        yield self.period(a, b)
        self.assertEqual(b.peek(keys[1]), (None, None))
        self.assertIsNotNone(b.peek(keys[0])[0])
        self.assertIsNotNone(b.peek(keys[2])[0])
        self.assertEqual(b.stats()["nearTrustedServers"], 2)
        yield self.assertFailure(b.lookup(keys[1], scopesOf(keys[1], u"news")),
                                 Exception)
        self.flushLoggedErrors()

        killed.start()
        # Past its circuit's cool-down, the next read probes it.
        yield pause(0.1)
        for _ in range(10):
            yield self.period(a, b)
            if b._trusted():
                break
            yield pause(0.06)
        self.assertTrue(b._trusted())
        self.assertEqual(b.stats()["nearTrustedServers"], 3)
        self.assertEqual(b.peek(keys[1]), (None, None))
        self.assertIsNotNone(b.peek(keys[0])[0])
        self.assertIsNotNone(b.peek(keys[2])[0])
        # Stored there again, near again, and its changes heard.
        yield self.write(a, keys[1], b"again")
        yield self.period(a, b)
        entry, _ = yield b.lookup(keys[1], scopesOf(keys[1], u"news"))
        self.assertEqual(entry.body, b"again")
        self.assertEqual(b.peek(keys[1])[0].body, b"again")
        yield a.invalidate(keys[1].url, True)
        yield self.period(a, b)
        self.assertEqual(b.peek(keys[1]), (None, None))
        self.assertIsNotNone(b.peek(keys[0])[0])



class MemcachedPoolNearStoreTests(NearStoreTestsMixin, TestCase):
    """
    The store suite through a near tier over a pool of three real
    memcached servers, and the bound measured in real time.
    """
    binary = "memcached"
    skip = _servers.missing("memcached")
    shortLease = 1
    expiryGranularity = 1.1

    def makeShared(self, **kwargs):
        kwargs.setdefault("namespace", uniqueNamespace())
        kwargs.setdefault("timeout", 5.0)
        servers = _servers.sharedPool(self.binary, 3)
        return MemcachedStore(
            servers=["127.0.0.1:%d" % (server.port,) for server in servers], **kwargs)
