# -*- test-case-name: tests.test_behaviour,tests.test_reliability -*-
"""
Background refreshes (stale-while-revalidate): the refresh scheduler, its
concurrency cap, and its back-off after failures.
"""

from __future__ import absolute_import, division

from twisted.internet import defer
from twisted.logger import Logger

from nevowcache._http.keyencoding import encodeKey
from nevowcache._engine.leases import BUSY
from nevowcache._engine.records import Records
from nevowcache._engine.slicing import callAfterOutput

__all__ = ["RefreshScheduler"]

# How many keys the refresh back-off is remembered for, and in how many
# bytes at most (a sixty-fourth of a store's byte bound at most, charged to
# it).
_MAX_BACKOFF_KEYS = 10000
_MAX_BACKOFF_BYTES = 512 * 1024



class _Refused(Exception):
    """
    A background render produced a response that may not be shared.
    """



class RefreshScheduler(object):
    """
    Refresh stale entries in the background, once the stale response is
    sent: one refresh of a key at a time (its flight), C{maxRefreshes} at
    most, none for a key backing off after failures.

    @ivar refreshBackoff: Seconds to wait before retrying a failed
        refresh; doubled after each further failure, up to
        C{maxRefreshBackoff}.
    @ivar maxRefreshes: The most refreshes running at once.
    @ivar running: How many are running.
    @ivar failures: The L{Records} of back-offs, C{(failures, retryAt)} by
        key fingerprint.
    """
    _log = Logger()

    def __init__(self, flights, leases, writer, renderer, clocks, counters, statistics,
                 fingerprint, refreshBackoff, maxRefreshBackoff, maxRefreshes,
                 charge=None, bound=None):
        self._flights = flights
        self._leases = leases
        self._writer = writer
        self._renderer = renderer
        self._clocks = clocks
        self._counters = counters
        self._statistics = statistics
        self._fingerprint = fingerprint
        self.refreshBackoff = refreshBackoff
        self.maxRefreshBackoff = maxRefreshBackoff
        self.maxRefreshes = maxRefreshes
        self.running = 0
        self.failures = Records(_MAX_BACKOFF_BYTES if bound is None
                                else min(_MAX_BACKOFF_BYTES, bound // 64), charge)


    def schedule(self, lookup):
        """
        Refresh C{lookup}'s key in the background, unless it is refreshing
        or rendering already, backing off, or too many refreshes run.

        @param lookup: The L{Lookup} of the stale hit: its C{makeRefresher},
            the C{generation} read and the stale entry (C{previous}).
        """
        key = lookup.key
        if key in self._flights:
            return
        failures = self._backOffOf(key)
        if failures is not None and self._clocks.clock.seconds() < failures[1]:
            return
        if self.running >= self.maxRefreshes:
            self._counters["refreshesSkipped"] += 1
            return
        lookup.render = lookup.makeRefresher()
        lookup.flight = self._flights.start(key, refresh=True, stamp=lookup.stamp())
        self.running += 1
        # Run once the stale response has been sent, not before: written,
        # it waits in the transport for the reactor's next turn.
        callAfterOutput(self._clocks.reactor, 0, lambda: self._refresh(lookup))


    def _refresh(self, lookup):
        key, flight, flights = lookup.key, lookup.flight, self._flights
        outcome = defer.Deferred()

        def giveUp():
            outcome.errback(defer.TimeoutError(
                "background refresh took over %ss" % (flights.renderTimeout,)))
            flights.late(key, flight)
        deadline = self._clocks.reactor.callLater(flights.renderTimeout, giveUp)

        def rendered(capture):
            return self._writer.write(lookup, capture).addCallback(written)

        def written(lookup):
            if lookup.refusal is not None:
                raise _Refused(lookup.refusal)
            return lookup.entry if lookup.stored else None

        def settle(result):
            if deadline.active():
                deadline.cancel()
            flights.settled(key, flight)
            if not outcome.called:
                outcome.callback(result)

        def start(token):
            if token is BUSY:
                return BUSY
            self._counters["refreshes"] += 1
            lookup.started = self._clocks.wallClock.seconds()
            # Not timed for the statistics: a refresh gives way to requests,
            # so its time is not what a reader would have waited.
            d = self._renderer.render(lookup.render).addCallback(rendered)
            return d.addBoth(self._leases.release, key, token)
        self._leases.forRefresh(key).addCallback(start).addBoth(settle)

        def succeeded(entry):
            if entry is BUSY:
                # Another process is refreshing it: serve stale, ask later.
                self._counters["leaseBusy"] += 1
                count = (self._backOffOf(key) or (0, 0))[0]
                self._backOff(key, count, self.refreshBackoff)
                return None
            if len(self.failures):
                self.failures.pop(self._backOffName(key))
            return entry

        def failed(failure):
            self._counters["refreshFailures"] += 1
            self._statistics.refreshFailed(key, failure)
            count = (self._backOffOf(key) or (0, 0))[0] + 1
            delay = min(self.maxRefreshBackoff, self.refreshBackoff * 2 ** (count - 1))
            self._backOff(key, count, delay)
            self._log.failure(u"Background refresh of {key!r} failed ({count} in a "
                              u"row); serving stale, retry in {delay}s", failure,
                              key=key, count=count, delay=delay)
            return None

        def done(entry):
            self.running -= 1
            flights.land(key, flight, entry)
        outcome.addCallbacks(succeeded, failed).addCallback(done)
        return outcome


    def _backOff(self, key, count, delay):
        """
        Remember that C{key} failed to refresh C{count} times in a row and
        waits C{delay} seconds; for the most recent keys only, so that an
        outage with a flood of URLs does not grow memory without bound.
        """
        self.failures.put(self._backOffName(key),
                          (count, self._clocks.clock.seconds() + delay), _MAX_BACKOFF_KEYS)


    def _backOffName(self, key):
        """
        @return: What names the back-off record of C{key}: a fingerprint,
            not the key, which a flood of long URLs would make large.
        """
        return self._fingerprint(encodeKey((key.url, key.variant)))


    def _backOffOf(self, key):
        """
        @return: C{(failures, retryAt)} for C{key}, or L{None}; at no cost
            while no refresh is failing.
        """
        if not len(self.failures):
            return None
        return self.failures.get(self._backOffName(key))
