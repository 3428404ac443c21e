# -*- test-case-name: tests.test_breaker -*-
"""
Tests for L{nevowcache._stores.breaker}: deadlines and the circuit breaker, on a
L{Clock}.
"""

from __future__ import absolute_import, division

from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.internet.testing import EventLoggingObserver
from twisted.logger import globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase

from nevowcache._stores.breaker import CircuitBreaker, CircuitOpen
from nevowcache._stores.interfaces import StoreUnavailable



class Boom(Exception):
    """
    A store failure.
    """



class CircuitBreakerTests(SynchronousTestCase):
    """
    L{CircuitBreaker} opens after repeated failures, fails fast while open,
    probes after its cool-down and closes again on success.
    """

    def setUp(self):
        self.clock = Clock()
        self.breaker = CircuitBreaker(self.clock, timeout=1.0, maxFailures=3,
                                      coolDown=10.0, name=u"test store")
        self.calls = 0


    def tearDown(self):
        self.assertEqual(self.clock.getDelayedCalls(), [])


    def failing(self):
        self.calls += 1
        return defer.fail(Boom())


    def succeeding(self):
        self.calls += 1
        return defer.succeed("ok")


    def fail(self, times=1):
        for _ in range(times):
            self.failureResultOf(self.breaker.call(self.failing), Boom)


    def test_passesResults(self):
        """
        While closed, results and failures pass through.
        """
        self.assertEqual(self.successResultOf(self.breaker.call(self.succeeding)), "ok")
        self.fail()
        self.assertEqual(self.breaker.state, "closed")


    def test_opensAfterMaxFailuresInARow(self):
        """
        C{maxFailures} failures in a row open the circuit: calls then fail
        with L{CircuitOpen} (a L{StoreUnavailable}) without being made.
        """
        self.fail(3)
        self.assertEqual(self.breaker.state, "open")
        failure = self.failureResultOf(self.breaker.call(self.failing), CircuitOpen)
        self.assertIsInstance(failure.value, StoreUnavailable)
        self.assertEqual(self.calls, 3)
        self.assertEqual(self.breaker.shortCircuits, 1)


    def test_successResetsCount(self):
        """
        Only failures in a row count.
        """
        self.fail(2)
        self.successResultOf(self.breaker.call(self.succeeding))
        self.fail(2)
        self.assertEqual(self.breaker.state, "closed")


    def test_probeAfterCoolDownCloses(self):
        """
        After the cool-down one call goes through; while it runs the others
        still fail fast; when it succeeds the circuit closes.
        """
        self.fail(3)
        self.clock.advance(9.9)
        self.failureResultOf(self.breaker.call(self.succeeding), CircuitOpen)
        self.clock.advance(0.1)
        self.assertEqual(self.breaker.state, "half-open")
        probe = defer.Deferred()
        d = self.breaker.call(lambda: probe)
        self.failureResultOf(self.breaker.call(self.succeeding), CircuitOpen)
        probe.callback("back")
        self.assertEqual(self.successResultOf(d), "back")
        self.assertEqual(self.breaker.state, "closed")
        self.successResultOf(self.breaker.call(self.succeeding))


    def test_failedProbeReopens(self):
        """
        A probe that fails opens the circuit for another cool-down.
        """
        self.fail(3)
        self.clock.advance(10)
        self.fail()
        self.assertEqual(self.breaker.state, "open")
        self.clock.advance(9)
        self.failureResultOf(self.breaker.call(self.succeeding), CircuitOpen)
        self.clock.advance(1)
        self.successResultOf(self.breaker.call(self.succeeding))


    def test_timeoutIsAFailure(self):
        """
        A call that takes longer than the timeout is cancelled and fails
        with L{TimeoutError}, which counts as a failure.
        """
        cancelled = []
        pending = [defer.Deferred(cancelled.append) for _ in range(3)]
        results = [self.breaker.call(lambda d=d: d) for d in pending]
        self.clock.advance(1)
        for d in results:
            self.failureResultOf(d, defer.TimeoutError)
        self.assertEqual(len(cancelled), 3)
        self.assertEqual(self.breaker.state, "open")
        self.assertEqual(self.breaker.timeouts, 3)


    def test_logsOpenAndClose(self):
        """
        Opening and closing are logged once each, not once per call.
        """
        events = EventLoggingObserver.createWithCleanup(self, globalLogPublisher)
        self.fail(3)
        self.failureResultOf(self.breaker.call(self.failing), CircuitOpen)
        self.clock.advance(10)
        self.successResultOf(self.breaker.call(self.succeeding))
        formats = [e["log_format"] for e in events]
        self.assertEqual(len(formats), 2, formats)
        self.assertIn(u"circuit open", formats[0])
        self.assertIn(u"circuit closed", formats[1])


    def test_badSettings(self):
        """
        Settings that make no sense are refused.
        """
        self.assertRaises(ValueError, CircuitBreaker, self.clock, maxFailures=0)
        self.assertRaises(ValueError, CircuitBreaker, self.clock, timeout=0)
        self.assertRaises(ValueError, CircuitBreaker, self.clock, coolDown=-1)
