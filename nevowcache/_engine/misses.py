# -*- test-case-name: tests.test_behaviour,tests.test_model,tests.test_leases -*-
"""
A miss: wait for the key's flight, queue behind an outdated one, or lead a
new one (with the key's lease, on a shared store), render, and write.
"""

from __future__ import absolute_import, division

from twisted.logger import Logger

from nevowcache._engine import cachestatus as cacheStatus
from nevowcache._engine.answer import Answer
from nevowcache._engine.cachestatus import withDetail
from nevowcache._engine.entrywriter import UNFENCED
from nevowcache._engine.flights import TIMED_OUT
from nevowcache._engine.leases import ENTRY, TIMEOUT
from nevowcache._http.entry import CacheEntry

__all__ = ["Misses"]



class Misses(object):
    """
    Answer the requests whose entry cannot be served: one render of a key
    at a time (its L{FlightTable}), however many requests miss.
    """
    _log = Logger()

    def __init__(self, client, judge, flights, leases, writer, renderer, clocks,
                 counters, statistics):
        self._client = client
        self._judge = judge
        self._flights = flights
        self._leases = leases
        self._writer = writer
        self._renderer = renderer
        self._clocks = clocks
        self._counters = counters
        self._statistics = statistics


    def miss(self, lookup, head):
        """
        Answer a miss.

        @param lookup: Its L{Lookup}: C{generation}, C{previous} and
            C{missKind} set from what the store answered.
        @param head: Whether it is a C{HEAD}: rendered alone, never stored
            (Nevow's unbuffered pages leak bodies on HEAD, and a HEAD render
            may differ).
        @return: A L{Deferred} firing with an L{Answer}.
        """
        key = lookup.key
        self._statistics.miss(key)
        self._counters["misses"] += 1
        if head:
            self._statistics.uncacheable(key)
            return self._renderer.alone(lookup.render, lookup.policy, withDetail(
                cacheStatus.forwarded(lookup.missKind), b"head"), key, False)
        flight = self._flights.get(key)
        if flight is not None:
            if flight.current(lookup.generation):
                return self.wait(lookup, flight)
            # Rendering since before an invalidation this request came
            # after: render again, once that render is over (one render of
            # a key at a time, however many invalidations).
            return self.queue(lookup, flight)
        return self.lead(lookup)


    def _collapsed(self, entry, status, policy):
        """
        Answer with another render's C{entry}.
        """
        age = self._judge.age(entry)
        return Answer(entry, status=cacheStatus.collapsed(status), age=age,
                      cacheControl=policy.downstream(age, False),
                      wallClock=self._clocks.wallClock)


    def wait(self, lookup, flight):
        """
        Wait for the key's flight; render alone if it lands without an
        entry, or takes longer than C{waitTimeout}.
        """
        status = cacheStatus.forwarded(b"uri-miss")

        def landed(entry):
            if isinstance(entry, CacheEntry):
                return self._collapsed(entry, status, lookup.policy)
            detail = b"leader-timeout" if entry == TIMED_OUT else b"leader-not-stored"
            return self._renderer.alone(lookup.render, lookup.policy,
                                        withDetail(status, detail), lookup.key)
        return self._flights.join(flight).addCallback(landed)


    def queue(self, lookup, after):
        """
        Render the key once the outdated flight C{after} has landed, for
        this request and for every request arriving meanwhile (they join
        this flight, which has not started, whatever is invalidated before
        it does).
        """
        key, policy = lookup.key, lookup.policy
        flight = lookup.flight = self._flights.start(key)

        def start(ignored):
            return self._client.lookup(key, policy).addCallback(looked)

        def looked(found):
            entry, generation = found
            if self._judge.fresh(key, entry, generation, policy):
                # Another process rendered it meanwhile.
                self._flights.land(key, flight, entry)
                return self._collapsed(entry, cacheStatus.forwarded(lookup.missKind),
                                       policy)
            lookup.generation = generation
            return self.lead(lookup)
        return self._flights.after(after).addCallback(start)


    def lead(self, lookup):
        """
        Render the key for this request and the requests that join its
        flight, and store it: with the key's lease first, on a store shared
        by processes.
        """
        key = lookup.key
        flights = self._flights
        flight = lookup.flight
        if flight is None:
            # Not queued (L{queue}) already.
            flight = lookup.flight = flights.start(key)
        flight.stamp = lookup.stamp()
        deadline = flights.deadline(key, flight)
        lookup.status = cacheStatus.forwarded(lookup.missKind)

        def finished(result):
            if deadline.active():
                deadline.cancel()
            return result
        if lookup.generation is None or not self._client.leasing:
            d = self.leadRender(lookup)
        else:
            d = self._leases.take(lookup).addCallback(self._leased, lookup)
        return d.addBoth(finished)


    def _leased(self, outcome, lookup):
        kind, value, generation = outcome
        lookup.generation = generation
        if kind == ENTRY:
            self._flights.land(lookup.key, lookup.flight, value)
            return self._collapsed(value, lookup.status, lookup.policy)
        if kind == TIMEOUT:
            self._flights.land(lookup.key, lookup.flight, None)
            return self._renderer.alone(lookup.render, lookup.policy, withDetail(
                lookup.status, b"lease-timeout"), lookup.key)
        lookup.token = value
        return self.leadRender(lookup)


    def leadRender(self, lookup):
        """
        Render for a flight and write the result (L{EntryWriter}); then
        release the lease C{lookup.token}, if any.
        """
        key, flights = lookup.key, self._flights
        wallClock = self._clocks.wallClock

        def rendered(capture):
            return self._writer.write(lookup, capture).addCallback(written, capture)

        def written(lookup, capture):
            reason, status, policy = lookup.refusal, lookup.status, lookup.policy
            if reason is UNFENCED:
                flights.land(key, lookup.flight, None)
                return Answer(capture=capture, status=withDetail(status, b"store-error"))
            if reason is not None:
                self._counters["refusals"] += 1
                if reason != b"superseded":
                    self._statistics.uncacheable(key)
                self._log.debug(u"Not storing {key!r}: {reason}", key=key, reason=reason)
                flights.land(key, lookup.flight, None)
                return Answer(capture=capture, status=withDetail(status, reason))
            # Shared with the waiters even if not stored (an invalidation
            # since it began fenced it): they joined while no invalidation
            # since its start had happened.
            flights.land(key, lookup.flight, lookup.entry)
            if lookup.stored:
                return Answer(lookup.entry, status=cacheStatus.stored(status, policy.timeout),
                              age=0, cacheControl=policy.downstream(0, False),
                              wallClock=wallClock)
            return Answer(lookup.entry, status=status, age=0, wallClock=wallClock)

        def failed(failure):
            flights.land(key, lookup.flight, None)
            return failure
        lookup.started = self._clocks.wallClock.seconds()
        d = self._renderer.render(lookup.render, key).addCallbacks(rendered, failed)
        if lookup.token is not None:
            d.addBoth(self._leases.release, key, lookup.token)
        return d
