# -*- test-case-name: tests.test_clocks -*-
"""
Tests for L{nevowcache._engine.clocks}: the real clocks, L{Clocks} (every source
of time of one engine, given to its collaborators) and L{lazyReactor}.
"""

from __future__ import absolute_import, division

import time

from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from nevowcache import MemoryStore, MemcachedStore, PageCache
from nevowcache._engine import clocks as _clocks
from nevowcache._stores.breaker import CircuitBreaker
from nevowcache._stores.coherence import generationSeed



class MonotonicClockTests(SynchronousTestCase):
    """
    The default clock that ages entries.
    """

    def test_followsRealTimeNotTheTimeOfDay(self):
        """
        It advances with real time, and setting the time of day back an hour
        does not move it.
        """
        for clock in (_clocks.monotonicClock(), _clocks._SecondsClock(_clocks._linuxMonotonic())):
            before = clock.seconds()
            self.patch(time, "time", lambda: 0.0)
            time.sleep(0.01)
            after = clock.seconds()
            self.assertTrue(0.005 < after - before < 5, (before, after))



class _Holder(object):
    reactor = _clocks.lazyReactor()

    def __init__(self, reactor):
        self._reactor = reactor



class ClocksTests(SynchronousTestCase):
    """
    L{Clocks}: one clock, one wall clock, one reactor (and the slices'
    clock), with the engine's defaults.
    """

    def test_fakeReactorIsEveryClock(self):
        """
        Given a reactor that is not a real one (a L{Clock}), it is every
        source of time: tests move all time with it.
        """
        reactor = Clock()
        clocks = _clocks.Clocks(reactor)
        for source in (clocks.reactor, clocks.clock, clocks.wallClock, clocks.sliceClock):
            self.assertIs(source, reactor)


    def test_realDefaults(self):
        """
        Given nothing: the global reactor, a monotonic clock, the time of
        day, and the time of day as the clock of entries shared by
        processes.
        """
        from twisted.internet import reactor
        clocks = _clocks.Clocks()
        self.assertIs(clocks.reactor, reactor)
        self.assertLess(abs(clocks.wallClock.seconds() - time.time()), 5)
        self.assertGreater(abs(clocks.clock.seconds() - time.time()), 1000)
        shared = _clocks.Clocks(shared=True)
        self.assertLess(abs(shared.clock.seconds() - time.time()), 5)


    def test_lazyReactor(self):
        """
        L{lazyReactor} gives the reactor an object was given, else the
        global reactor, read when first needed.
        """
        from twisted.internet import reactor
        given = Clock()
        self.assertIs(_Holder(given).reactor, given)
        holder = _Holder(None)
        self.assertIs(holder.reactor, reactor)
        self.assertIs(holder._reactor, reactor)



class InjectedTimeTests(SynchronousTestCase):
    """
    What reads the time reads it from the clocks it was given: the engine's
    collaborators from the L{PageCache}'s, a store's breaker and generation
    counter from the store's.
    """

    def test_engineCollaboratorsShareItsClocks(self):
        """
        A L{PageCache}'s reactor, clock and wall clock are its
        collaborators': its statistics' start is on its wall clock.
        """
        reactor, clock, wall = Clock(), Clock(), Clock()
        wall.advance(5000)
        cache = PageCache(MemoryStore(), reactor=reactor, clock=clock, wallClock=wall)
        self.assertIs(cache.reactor, reactor)
        self.assertIs(cache.clocks.clock, clock)
        self.assertIs(cache._judge.clock, clock)
        self.assertIs(cache.clocks.wallClock, wall)
        self.assertEqual(cache.statistics.startedAt, 5000)


    def test_breakerCoolsDownOnItsClock(self):
        """
        A L{CircuitBreaker} given a clock measures its cool-down on it.
        """
        reactor, clock = Clock(), Clock()
        breaker = CircuitBreaker(reactor, timeout=None, maxFailures=1, coolDown=10,
                                 clock=clock)
        breaker.call(lambda: defer.fail(ValueError("down"))).addErrback(lambda f: None)
        self.assertEqual(breaker.state, "open")
        reactor.advance(20)
        self.assertEqual(breaker.state, "open")
        clock.advance(10)
        self.assertEqual(breaker.state, "half-open")


    def test_generationSeedOnTheStoresWallClock(self):
        """
        A lost generation counter restarts from the store's wall clock, in
        milliseconds.
        """
        wall = Clock()
        wall.advance(1234.5)
        self.assertEqual(generationSeed(wall), 1234500)
        store = MemcachedStore(port=1, wallClock=wall)
        self.assertIs(store.wallClock, wall)
        self.assertLess(abs(MemcachedStore(port=1).wallClock.seconds() - time.time()), 5)
