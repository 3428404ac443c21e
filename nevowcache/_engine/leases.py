# -*- test-case-name: tests.test_leases -*-
"""
Single flight across processes: the lease coordinator.  With a store shared
by processes (an L{ILeaseStore}), a process renders a missing or stale key
only while it holds the key's lease; the others wait for its entry, or
serve stale.
"""

from __future__ import absolute_import, division

from twisted.internet import defer, task
from twisted.python.failure import Failure

__all__ = ["LeaseCoordinator", "BUSY", "LEAD", "ENTRY", "TIMEOUT"]

# What LeaseCoordinator.take answers.
LEAD = "lead"
ENTRY = "entry"
TIMEOUT = "timeout"



class _Busy(object):
    """
    The type of L{BUSY}.
    """

    def __repr__(self):
        return "<lease held elsewhere>"

BUSY = _Busy()



class LeaseCoordinator(object):
    """
    Take and release the leases of keys in a shared store.

    @ivar timeout: Seconds a process may hold a lease before it lapses
        (C{leaseTimeout}).
    @ivar poll: Seconds between two looks at the store while another
        process holds the lease of a missing key (C{leasePoll}).
    """

    def __init__(self, client, judge, flights, clocks, counters, timeout, poll):
        """
        @param client: The engine's L{StoreClient}.
        @param judge: The engine's L{FreshnessJudge}.
        @param flights: The engine's L{FlightTable}: a request waits for
            another process's lease as long as for another request's
            render (its C{waitTimeout}).
        @param clocks: The engine's L{Clocks}: its C{clock} measures the
            wait, its reactor schedules the polls.
        """
        self._client = client
        self._judge = judge
        self._flights = flights
        self._clocks = clocks
        self._counters = counters
        self.timeout = timeout
        self.poll = poll


    @defer.inlineCallbacks
    def take(self, lookup):
        """
        Take the lease of a missing key before rendering it.  While another
        process holds it, look for its entry every C{poll} seconds, for
        C{waitTimeout} seconds at most.

        @param lookup: The L{Lookup} of the key.
        @return: A L{Deferred} firing with C{(kind, value, generation)}:
            C{(LEAD, token, generation)} to render and store (C{token} is
            L{None} if the store could not give one), C{(ENTRY, entry,
            generation)} when another process stored it meanwhile, or
            C{(TIMEOUT, None, generation)} to render without storing.
        """
        client, key, policy = self._client, lookup.key, lookup.policy
        generation = lookup.generation
        clock = self._clocks.clock
        giveUp = clock.seconds() + self._flights.waitTimeout
        waited = False
        while True:
            try:
                token = yield client.acquireLease(key, self.timeout)
            except Exception:
                client.failed(Failure(), u"acquireLease", None)
                defer.returnValue((LEAD, None, generation))
            if token is not None:
                # The holder may have stored and released since the last
                # look: look once more before rendering.
                try:
                    entry, generation = yield client.call(
                        client.store.lookup, *client.scopesOf(key, policy))
                except Exception:
                    client.failed(Failure(), u"lookup", None)
                    client.releaseLease(None, key, token)
                    defer.returnValue((LEAD, None, None))
                if self._judge.fresh(key, entry, generation, policy):
                    client.releaseLease(None, key, token)
                    defer.returnValue((ENTRY, entry, generation))
                defer.returnValue((LEAD, token, generation))
            if clock.seconds() >= giveUp:
                self._counters["leaseTimeouts"] += 1
                defer.returnValue((TIMEOUT, None, generation))
            if not waited:
                waited = True
                self._counters["leaseWaits"] += 1
            yield task.deferLater(self._clocks.reactor, self.poll, lambda: None)
            try:
                entry, generation = yield client.call(
                    client.store.lookup, *client.scopesOf(key, policy))
            except Exception:
                client.failed(Failure(), u"lookup", None)
                defer.returnValue((LEAD, None, None))
            if self._judge.fresh(key, entry, generation, policy):
                defer.returnValue((ENTRY, entry, generation))


    def forRefresh(self, key):
        """
        Take the lease of a stale key before refreshing it.

        @return: A L{Deferred} firing with a token, L{None} (no lease to
            release: the store has none, or failed), or L{BUSY}.
        """
        client = self._client
        if not client.leasing:
            return defer.succeed(None)
        d = client.acquireLease(key, self.timeout)
        return d.addCallbacks(lambda token: BUSY if token is None else token,
                              client.failed, errbackArgs=(u"acquireLease", None))


    def release(self, result, key, token):
        """
        Release the lease C{token} of C{key}, if any; pass C{result} on.
        """
        if token is None:
            return result
        return self._client.releaseLease(result, key, token)
