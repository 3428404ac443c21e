# -*- test-case-name: tests.test_behaviour -*-
"""
Rendering a page for the engine: counted and timed, and rendering for one
request alone (never stored).
"""

from __future__ import absolute_import, division

from twisted.internet import defer

from nevowcache._engine.answer import Answer
from nevowcache._engine.cachestatus import withDetail
from nevowcache._http.refusal import refusalOf

__all__ = ["Renderer"]



class Renderer(object):
    """
    Run an adapter's renders: counted (C{renders}, C{renderFailures}) and
    timed for the statistics.
    """

    def __init__(self, clock, counters, statistics):
        """
        @param clock: The engine's clock: what a render's time is measured
            on.
        @param counters: The engine's counters.
        @param statistics: The engine's L{CacheStatistics}.
        """
        self._clock = clock
        self._counters = counters
        self._statistics = statistics


    def render(self, render, key=None):
        """
        Call C{render}.

        @param key: The key rendered, to time it for the statistics; L{None}
            for a background refresh (it gives way to requests, so its time
            is not what a reader would have waited).
        @return: A L{Deferred} firing with its L{CaptureRequest}.
        """
        self._counters["renders"] += 1
        clock = self._clock
        started = clock.seconds()

        def rendered(capture):
            if key is not None:
                self._statistics.rendered(key, clock.seconds() - started)
            return capture
        d = defer.maybeDeferred(render)
        d.addCallbacks(rendered, self._failed)
        return d


    def _failed(self, failure):
        self._counters["renderFailures"] += 1
        return failure


    def alone(self, render, policy, status, key=None, countRefusal=True):
        """
        Render for one request only, never storing the result.

        @param status: Its C{Cache-Status}; the storage rules' refusal, if
            any, is added as its detail.
        @param key: The key rendered, for the statistics.
        @param countRefusal: Whether a response the storage rules refuse
            counts as uncacheable (a HEAD miss was counted already).
        @return: A L{Deferred} firing with an L{Answer}.
        """
        def done(capture):
            reason = refusalOf(capture, policy.vary)
            if reason is not None and countRefusal and key is not None:
                self._statistics.uncacheable(key)
            return Answer(capture=capture, status=status if reason is None
                          else withDetail(status, reason))
        return self.render(render, key).addCallback(done)
