# -*- test-case-name: tests.test_behaviour,tests.test_model -*-
"""
Single flight: at most one render of a key at a time in this process, the
requests that miss meanwhile waiting for it.

A I{flight} is one render of a key in progress (a first render, or a
background refresh).  It I{lands} when its render is over: its waiters get
the entry it made, or L{None} (render on your own).  A flight given up on
at C{renderTimeout} lands at once; if a newer flight of its key starts
while its render still runs, it is I{superseded}: whatever it makes is
never written over the newer one's.
"""

from __future__ import absolute_import, division

from twisted.internet import defer
from twisted.logger import Logger

__all__ = ["FlightTable", "TIMED_OUT"]

# The stamp of a flight whose render has not started yet.
_PENDING = object()

# What a waiter gets when it waited waitTimeout seconds.
TIMED_OUT = b"timeout"



class _Flight(object):
    """
    One render in progress for a key: its waiters get the entry it made
    (stored or not), or L{None} to render on their own.

    @ivar stamp: The invalidation state its render started under (a
        L{Generation} stamp); L{_PENDING} until it starts; L{None} if
        unknown (the lookup failed).
    """
    __slots__ = ("waiters", "refresh", "superseded", "stamp")

    def __init__(self, refresh=False, stamp=_PENDING):
        self.waiters = []
        self.refresh = refresh
        # Given up on at renderTimeout, and a newer flight of the key began:
        # if this render ends after all, it must not replace that one's entry.
        self.superseded = False
        self.stamp = stamp


    def current(self, generation):
        """
        Whether a request that read C{generation} may share this render:
        unless the render started before an invalidation of its key that
        the request came after (it may show what an unsafe request the
        client made since has changed).
        """
        stamp = self.stamp
        if stamp is _PENDING or stamp is None or generation is None:
            return True
        return generation.judge(stamp) == "valid"



class FlightTable(object):
    """
    The flights of one engine, by key, and the renders given up on that
    may still end.

    @ivar waitTimeout: Seconds a request waits for a flight before
        rendering on its own.
    @ivar renderTimeout: Seconds after which a flight is given up on.
    """
    _log = Logger()

    def __init__(self, clocks, counters, waitTimeout, renderTimeout):
        """
        @param clocks: The engine's L{Clocks} (its reactor schedules the
            deadlines).
        @param counters: The engine's counters, a L{dict}.
        """
        self._clocks = clocks
        self._counters = counters
        self.waitTimeout = waitTimeout
        self.renderTimeout = renderTimeout
        self._flights = {}
        self._late = {}


    def __len__(self):
        return len(self._flights)


    def __contains__(self, key):
        return key in self._flights


    def get(self, key):
        """
        @return: The flight of C{key}, or L{None}.
        """
        return self._flights.get(key)


    def start(self, key, refresh=False, stamp=_PENDING):
        """
        Start the one flight of C{key}; a render of the key given up on
        earlier, if still running, is superseded by it.

        @rtype: L{_Flight}
        """
        late = self._late.pop(key, None)
        if late is not None:
            late.superseded = True
        flight = self._flights[key] = _Flight(refresh, stamp)
        return flight


    def land(self, key, flight, entry):
        """
        End a flight: forget it, and hand its waiters the entry (or L{None}:
        render on your own).
        """
        if self._flights.get(key) is flight:
            del self._flights[key]
        if self._late.get(key) is flight:
            del self._late[key]
        waiters, flight.waiters = flight.waiters, []
        for waiter in waiters:
            waiter.callback(entry)


    def deadline(self, key, flight):
        """
        Give up on C{flight} in C{renderTimeout} seconds: its waiters then
        render on their own.

        @return: The L{twisted.internet.interfaces.IDelayedCall}, to cancel
            when the render is over.
        """
        return self._clocks.reactor.callLater(self.renderTimeout, self._abandon, key,
                                              flight)


    def _abandon(self, key, flight):
        self._log.warn(u"Render of {key!r} exceeded {timeout}s; its waiters "
                       u"render on their own", key=key, timeout=self.renderTimeout)
        self.land(key, flight, None)
        self._late[key] = flight


    def late(self, key, flight):
        """
        Note that C{flight}, given up on, may still end: a newer flight of
        its key supersedes it.
        """
        self._late[key] = flight


    def settled(self, key, flight):
        """
        Forget that C{flight} may still end.
        """
        if self._late.get(key) is flight:
            del self._late[key]


    def join(self, flight):
        """
        Wait for C{flight} to land, C{waitTimeout} seconds at most.

        @return: A L{Deferred} firing with the entry it made, L{None}, or
            L{TIMED_OUT}.
        """
        self._counters["collapsed"] += 1
        waiter = defer.Deferred()
        flight.waiters.append(waiter)

        def timedOut():
            if waiter in flight.waiters:
                flight.waiters.remove(waiter)
                self._counters["waiterTimeouts"] += 1
                waiter.callback(TIMED_OUT)
        timer = self._clocks.reactor.callLater(self.waitTimeout, timedOut)

        def landed(result):
            if timer.active():
                timer.cancel()
            return result
        return waiter.addCallback(landed)


    def after(self, flight):
        """
        @return: A L{Deferred} firing once C{flight} has landed (with what
            it landed with), however long that takes.
        """
        gate = defer.Deferred()
        flight.waiters.append(gate)
        return gate
