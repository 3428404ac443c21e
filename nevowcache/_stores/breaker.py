# -*- test-case-name: tests.test_breaker -*-
"""
A deadline on every call to a network store, and a circuit breaker, so that
a store that is down, slow or flapping costs each request a bounded delay,
and a dead store is not hammered.
"""

from __future__ import absolute_import, division

from twisted.internet import defer
from twisted.logger import Logger

from nevowcache._engine.clocks import lazyReactor
from nevowcache._stores.interfaces import StoreUnavailable

__all__ = ["CircuitBreaker", "CircuitOpen"]



class CircuitOpen(StoreUnavailable):
    """
    A store failed too often in a row: it is skipped until its cool-down is
    over.
    """



class CircuitBreaker(object):
    """
    Run calls to one store with a deadline each, counting failures.

    The circuit starts I{closed}: calls go through.  After C{maxFailures}
    failures in a row (a timeout is a failure) it I{opens}: calls fail at
    once with L{CircuitOpen}, for C{coolDown} seconds.  Then it is
    I{half-open}: one call goes through as a probe while the others still
    fail at once; if the probe succeeds the circuit closes, else it opens
    for another cool-down.

    @ivar timeout: Seconds a call may take; past it, it is cancelled (a
        store's calls drop their connection when cancelled) and fails with
        L{defer.TimeoutError}.  L{None} for no deadline.
    @ivar maxFailures: Failures in a row that open the circuit.
    @ivar coolDown: Seconds the circuit stays open before a probe.
    """
    _log = Logger()

    reactor = lazyReactor()

    def __init__(self, reactor=None, timeout=1.0, maxFailures=5, coolDown=10.0,
                 name=u"store", clock=None):
        """
        @param reactor: An L{IReactorTime} for deadlines; by default the
            global reactor, imported when first needed.
        @param clock: What C{seconds()} times cool-downs; by default the
            C{reactor}.
        @param name: Names the store in logs.
        """
        if maxFailures < 1:
            raise ValueError("maxFailures must be 1 or more")
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be None or positive")
        if coolDown < 0:
            raise ValueError("coolDown must be 0 or more")
        self._reactor = reactor
        self._clock = clock
        self.timeout = timeout
        self.maxFailures = maxFailures
        self.coolDown = coolDown
        self.name = name
        self.failures = 0
        self.calls = 0
        self.failedCalls = 0
        self.timeouts = 0
        self.shortCircuits = 0
        self._openUntil = None
        self._probing = False


    def _now(self):
        return (self.reactor if self._clock is None else self._clock).seconds()


    @property
    def state(self):
        """
        C{"closed"}, C{"open"} or C{"half-open"}.
        """
        if self._openUntil is None:
            return "closed"
        if self._probing or self._now() >= self._openUntil:
            return "half-open"
        return "open"


    def call(self, function, *args, **kwargs):
        """
        Call C{function}, unless the circuit is open.

        @return: A L{Deferred} with C{function}'s result; or failing with
            L{CircuitOpen} (C{function} not called), or with
            L{defer.TimeoutError} if it took longer than C{timeout}.
        """
        probe = False
        if self._openUntil is not None:
            if self._probing or self._now() < self._openUntil:
                self.shortCircuits += 1
                return defer.fail(CircuitOpen(
                    "%s skipped for %ss after %d failures in a row"
                    % (self.name, self.coolDown, self.maxFailures)))
            self._probing = probe = True
        self.calls += 1
        try:
            d = function(*args, **kwargs)
        except Exception:
            d = defer.fail()
        else:
            if not isinstance(d, defer.Deferred):
                d = defer.succeed(d)
        if self.timeout is not None:
            d.addTimeout(self.timeout, self.reactor)
        d.addCallbacks(self._succeeded, self._failed,
                       callbackArgs=(probe,), errbackArgs=(probe,))
        return d


    def _succeeded(self, result, probe):
        self.failures = 0
        if probe:
            self._probing = False
        if self._openUntil is not None and (probe or not self._probing):
            self._openUntil = None
            self._log.info(u"{store} answers again: circuit closed", store=self.name)
        return result


    def _failed(self, failure, probe):
        self.failures += 1
        self.failedCalls += 1
        if failure.check(defer.TimeoutError):
            self.timeouts += 1
        if probe:
            self._probing = False
            self._open(u"{store} still failing ({error}): circuit open for "
                       u"another {coolDown}s", failure)
        elif self._openUntil is None and self.failures >= self.maxFailures:
            self._open(u"{store} failed {failures} times in a row (last: "
                       u"{error}): circuit open for {coolDown}s", failure)
        return failure


    def _open(self, message, failure):
        self._openUntil = self._now() + self.coolDown
        self._log.warn(message, store=self.name, failures=self.failures,
                       coolDown=self.coolDown,
                       error=failure.getErrorMessage() or failure.type.__name__)
