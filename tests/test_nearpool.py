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
from nevowcache._stores.coherence import (
    counterName, parseEvent, parseSlot, slotName)
from nevowcache._stores.generations import urlTag

from tests import _servers
from tests.test_near import NearStoreTestsMixin
from tests.test_stores import makeEntry, makeKey, pause, scopesOf, uniqueNamespace


def keysOn(store, count=3, prefix=b"p"):
    """
    A key whose URL lives on each server of C{store}'s pool, in the order
    of its servers (its path: C{prefix} and a number).
    """
    keys = [None] * count
    i = 0
    while None in keys:
        key = makeKey(prefix + b"%d" % (i,))
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
        # The shared stores' time of day (what a lost counter is seeded
        # from): the real one, unless a test sets its own.
        self.wallClock = None
        self.servers = []
        for _ in range(3):
            server = _servers.Server("memcached")
            self.addCleanup(server.cleanUp)
            self.servers.append(server)


    def makeNear(self, namespace):
        shared = MemcachedStore(
            servers=["127.0.0.1:%d" % (server.port,) for server in self.servers],
            namespace=namespace, timeout=5.0, maxFailures=2, coolDown=0.05,
            wallClock=self.wallClock)
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


    def counterOn(self, shared, index):
        """
        @return: A L{Deferred} firing with C{(flags, value)} of the event
            counter of C{shared}'s server C{index}, or L{None} if it has
            none.
        """
        name = counterName(shared.namespace)
        d = shared._callOn(shared._servers[index],
                           lambda protocol: protocol.fetch([name]))
        return d.addCallback(lambda found: found.get(name))


    @inlineCallbacks
    def reconnected(self, near, index):
        """
        Call C{near}'s server C{index} until it answers (restarted: the calls
        on the old connection fail, and past its circuit's cool-down a new
        connection is made).

        @return: A L{Deferred} firing with what L{counterOn} reads.
        """
        for _ in range(50):
            try:
                counter = yield self.counterOn(near.shared, index)
            except Exception:
                self.flushLoggedErrors()
                yield pause(0.06)
            else:
                defer.returnValue(counter)
        self.fail("the restarted server never answered")


    @inlineCallbacks
    def readAgain(self, index, *nears):
        """
        Periods pass until the last of C{nears} trusts its share of server
        C{index} again (its first reads of a restarted server may fail).
        """
        for _ in range(10):
            yield self.period(*nears)
            if nears[-1]._trusted(index):
                return
            yield pause(0.06)
        self.fail("server %d's share was never trusted again" % (index,))


    @inlineCallbacks
    def test_restartedCounterSeededUpToWhatWasRead(self):
        """
        A server restarted, and its counter seeded again by a writer before
        a near tier reads it, from a wall clock the old counter had run
        ahead of (more than one event per millisecond; here the clock
        stands still): when the new counter has come up to the number the
        near tier read last, or past it, the near tier still forgets that
        server's share (the counter's epoch changed), so the changes made
        since the restart are not missed; the other servers' shares are
        kept.
        """
        self.wallClock = Clock()
        self.wallClock.advance(1000)
        for extra in (0, 2):
            a, b, keys = yield self.twoProcesses()
            last = b._coherence._rings[1].last
            self.assertEqual(int((yield self.counterOn(a.shared, 1))[1]), last)
            restarted = self.servers[1]
            restarted.stop()
            restarted.start()
            self.assertIsNone((yield self.reconnected(a, 1)))
            # The first change after the restart seeds the counter, from
            # the wall clock: below what the near tier read last.
            yield self.write(a, keys[1], b"after")
            counter = int((yield self.counterOn(a.shared, 1))[1])
            self.assertLess(counter, last)
            # More changes on that server (deletions of an entry the near
            # tier does not hold), up to what it read last or past it.
            other = keysOn(a.shared, prefix=b"q")[1]
            while counter < last + extra:
                yield a.delete(other)
                counter = int((yield self.counterOn(a.shared, 1))[1])
            self.assertEqual(counter, last + extra)
            yield self.readAgain(1, a, b)
            self.assertEqual(b.peek(keys[1]), (None, None), extra)
            entry, _ = yield b.lookup(keys[1], scopesOf(keys[1], u"news"))
            self.assertEqual(entry.body, b"after")
            self.assertIsNotNone(b.peek(keys[0])[0])
            self.assertIsNotNone(b.peek(keys[2])[0])


    @inlineCallbacks
    def test_restartedCounterWithoutEpoch(self):
        """
        A counter without an epoch (created again, after a restart, by a
        nevowcache that gave none: flags 0), come up to the number a near
        tier read last: the near tier forgets that server's share all the
        same, and gives the counter an epoch (the same number); from the
        read after, its changes are read one by one again, and what it
        holds is kept across reads.
        """
        self.wallClock = Clock()
        self.wallClock.advance(1000)
        a, b, keys = yield self.twoProcesses()
        last = b._coherence._rings[1].last
        restarted = self.servers[1]
        restarted.stop()
        restarted.start()
        self.assertIsNone((yield self.reconnected(a, 1)))
        name = counterName(a.shared.namespace)
        self.assertTrue((yield a.shared._callOn(
            a.shared._servers[1],
            lambda protocol: protocol.add(name, b"%d" % (last - 1,)))))
        yield self.write(a, keys[1], b"after")
        self.assertEqual((yield self.counterOn(a.shared, 1)), (0, b"%d" % (last,)))
        yield self.readAgain(1, a, b)
        self.assertEqual(b.peek(keys[1]), (None, None))
        entry, _ = yield b.lookup(keys[1], scopesOf(keys[1], u"news"))
        self.assertEqual(entry.body, b"after")
        self.assertIsNotNone(b.peek(keys[0])[0])
        epoch, value = yield self.counterOn(a.shared, 1)
        self.assertNotEqual(epoch, 0)
        self.assertEqual(int(value), last)
        # The first read of the counter with its epoch starts a run of
        # reads (what changed before it is unknown).
        yield self.period(a, b)
        self.assertEqual(b._coherence._rings[1].epoch, epoch)
        entry, _ = yield b.lookup(keys[1], scopesOf(keys[1], u"news"))
        self.assertEqual(b.peek(keys[1])[0].body, b"after")
        forgotten = b.stats()["nearForgotten"]
        for _ in range(2):
            yield self.period(a, b)
            self.assertEqual(b.peek(keys[1])[0].body, b"after")
        self.assertEqual(b.stats()["nearForgotten"], forgotten)
        yield self.write(a, keys[1], b"again")
        yield self.period(a, b)
        self.assertEqual(b.peek(keys[1]), (None, None))
        self.assertIsNotNone(b.peek(keys[0])[0])
        entry, _ = yield b.lookup(keys[1], scopesOf(keys[1], u"news"))
        self.assertEqual(entry.body, b"again")


    @inlineCallbacks
    def test_writersCreateTheCounterWithAnEpoch(self):
        """
        Writers that find no counter create it with an epoch, in the same
        C{add}: two racing to create it agree on one counter and one
        epoch, and number their events one after the other; memcached keeps
        the epoch through every C{incr}, also when the number grows a
        digit.
        """
        self.wallClock = Clock()
        self.wallClock.advance(0.998)
        namespace = uniqueNamespace()
        writers = []
        for _ in range(2):
            shared = MemcachedStore(
                servers=["127.0.0.1:%d" % (server.port,) for server in self.servers],
                namespace=namespace, timeout=5.0, wallClock=self.wallClock)
            self.addCleanup(shared.close)
            writers.append(shared)
        x, y = writers
        key = keysOn(x)[0]
        yield defer.gatherResults([x.delete(key), y.delete(key)])
        epoch, value = yield self.counterOn(x, 0)
        self.assertNotEqual(epoch, 0)
        self.assertEqual(int(value), 999)
        slots = yield x._callOn(x._servers[0], x._fetch, [
            slotName(namespace, 998), slotName(namespace, 999)])
        self.assertEqual([parseEvent(parseSlot(slot, number))[0]
                          for slot, number in zip(slots, (998, 999))],
                         [b"e:" + key.digest()] * 2)
        for number in (1000, 1001):
            yield x.delete(key)
            self.assertEqual((yield self.counterOn(x, 0)),
                             (epoch, b"%d" % (number,)))



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
