# -*- test-case-name: tests.test_stores,tests.test_sharedwire -*-
"""
A store in memcached, on Twisted's own client,
L{twisted.protocols.memcache}.

A lookup is one C{get} of three names (the entry, its URL's generation
record, the clear record), and of the records of the entry's scopes (its
URL's path prefixes, its page's tags) when the engine passes them.  A store
is one C{gets} of the same names (the scopes as its entry's stamp names
them) and one C{cas} (or C{add}) of the entry: it is written only if the
generations are still those the render started under, and only if no one
wrote the entry since they were read.

An invalidation is several round trips (C{gets}, C{incr}, C{cas}): this
process's lookups and store fences that read the record it bumps wait until
it is done (L{nevowcache._stores.servers.Server.read}), so that a C{GET}
after a successful C{POST} never reads the record from before it.  Other
processes' may, until the C{cas} lands.

Residual races, by design of memcached (no server-side scripts):

    - An invalidation that lands between a store's C{gets} and its C{cas}
      does not stop the write.  The entry carries its generation stamp, so
      every later lookup judges it stale (or gone): it is never served as
      fresh after the invalidation, and the next refresh replaces it.
    - A generation record can be evicted like any item.  An entry stamped
      under the lost record then never matches it again: it is stale, never
      fresh, as in L{MemoryStore} when it forgets a URL.  After an eviction
      a hard invalidation is therefore only as strong as a soft one; keep
      memcached from evicting (C{-M}, or memory to spare) if that matters.
      The generation counter can be evicted on its own too: seeded again
      from a clock it had run ahead of, it would hand out generations that
      surviving records hold, so a bump never gives a record a generation
      at or below its own (L{MemcachedStore._nextGeneration}).  Only when
      the record was evicted as well can an entry stamped under it match
      the record created anew.

A pool, C{MemcachedStore(servers=["10.0.0.1", "10.0.0.2:11311", ...])},
spreads names over its servers by consistent hashing, placed as
libmemcached's ketama places keys (L{nevowcache._stores.ketama}).  What matters
is which names live together, so that a lookup stays one C{get} of one
server and judges an entry by the records that were bumped for it:

    - An entry, its URL's generation record and its lease live on the
      server the URL identity's tag hashes to (not the entry's own name):
      every variant of a URL with its URL record.  A lookup reads the
      entry and that record together; a URL invalidation is one bump, on
      that server; a store is fenced there, by the records it reads there.
    - The clear record and the scope records (path prefixes, paths on every
      host, page tags) are shared by URLs on every server, so every server
      keeps its own copy, and judges the entries it holds by its copies
      alone: a lookup never reads another server.  C{clear} and a scope
      invalidation bump every server's copy, each from that server's own
      generation counter (generations are only ever compared within one
      server).  A server that does not get its copy (down, unreachable)
      has it kept and sent before its next call, as for a single server:
      an entry it holds is never served as fresh after the invalidation,
      even if the server was only cut off and comes back with its entries.
      Placing each scope record on the server its own name hashes to
      instead would make every lookup read several servers, and one
      server down would leave every URL under its scopes unjudgeable: a
      failure costing far more than its share.
    - Each server has its own connection, deadline and circuit breaker.
      One that is down fails the calls for its share at once (refused) or
      at the deadline (not answering), until its circuit opens; those
      lookups are misses, those pages served uncached, and the other
      servers' pages are not affected.  Its share is not handed to the
      other servers (libmemcached's auto-eject does that): the URL
      invalidations made meanwhile would go to the stand-in, and when the
      server returned, its own entries and records would be served as if
      nothing had been invalidated.  A server restarted comes back empty:
      its pages are rendered again.
    - Every process must list the same servers (in any order; weights
      alike).  Changing the list moves about 1/n of the URLs to other
      servers, whose records never saw the invalidations made before: use
      a new C{namespace} with a new list.
"""

from __future__ import absolute_import, division

import math

from twisted.internet import defer

from nevowcache._stores.coherence import (
    counterEpoch, counterName, generationSeed, slotName, slotValue)
from nevowcache._stores.generations import BadRecord, makeRecord, parseRecord
from nevowcache._stores.memcacheclient import MemcacheClient, valuesOf
from nevowcache._stores.sharedstore import SharedStore

__all__ = ["MemcachedStore"]

# memcached reads an expiry time above 30 days as an absolute Unix time.
_MAX_RELATIVE_EXPIRY = 30 * 24 * 3600

# How often a read-modify-write of a generation record is retried when
# other writers keep winning.
_BUMP_ATTEMPTS = 10



class MemcachedStore(SharedStore):
    """
    Keep entries in memcached, shared by every process that uses the same
    server and namespace::

        from nevowcache import MemcachedStore, PageCache
        cache = PageCache(MemcachedStore("127.0.0.1", 11211))

    Provides L{IPageStore} and L{ILeaseStore}.  Values are at most
    C{maxEntryBytes} (memcached's own limit is 1 MiB by default, C{-I}).
    See L{SharedStore.__init__} for the parameters; C{servers} makes a
    pool (see L{nevowcache._stores.memcachedstore}).

    @since: 0.2.0
    """
    name = "memcached"
    defaultPort = 11211

    def __init__(self, host="127.0.0.1", port=11211, servers=None, **kwargs):
        SharedStore.__init__(self, host, port, servers=servers, **kwargs)
        if self.entryTimeout > _MAX_RELATIVE_EXPIRY:
            raise ValueError("memcached takes an entryTimeout of 30 days at most")


    def _buildProtocol(self):
        return MemcacheClient(self.timeout or 60, self.reactor)


    def _fetch(self, protocol, names):
        d = protocol.fetch(names)
        return d.addCallback(valuesOf, names)


    @defer.inlineCallbacks
    def _fencedSet(self, protocol, entryName, urlName, tag, data, stamp,
                   scopeTags=()):
        scopeNames = [self._scopeName(scopeTag) for scopeTag in scopeTags]
        values = yield protocol.getMultiple(
            [entryName, urlName, self._clearName] + scopeNames,
            withIdentifier=True)
        if stamp is not None:
            generation = self._generationOf(
                values[urlName][2], tag, values[self._clearName][2], scopeTags,
                [values[name][2] for name in scopeNames], protocol)
            if generation.judge(stamp) != "valid":
                defer.returnValue(False)
        _, cas, old = values[entryName]
        expiry = int(self.entryTimeout)
        if old is None:
            written = protocol.add(entryName, data, 0, expiry)
        else:
            written = protocol.checkAndSet(entryName, data, cas, 0, expiry)
        announced = self._announce(protocol, entryName)
        ok = yield written
        yield announced
        defer.returnValue(ok)


    @defer.inlineCallbacks
    def _remove(self, protocol, name):
        removed = protocol.delete(name)
        announced = self._announce(protocol, name)
        ok = yield removed
        yield announced
        defer.returnValue(ok)


    @defer.inlineCallbacks
    def _announce(self, protocol, name):
        """
        Announce a change of C{name} to near tiers (L{nevowcache._stores.coherence}):
        draw the next event number and write the event into its ring slot.
        Called right after the change is sent, before its answer, so that
        the two go together (memcached runs one connection's commands in
        order): a writer that dies between them leaves a numbered slot
        empty, which near tiers read as "something changed", never as
        nothing.  A counter lost (the server restarted, the counter
        evicted) is created again with a new epoch, as its flags, in the
        same C{add}: near tiers forget what they hold of this server,
        whatever number it starts from.
        """
        counter = counterName(self.namespace)
        for _ in range(_BUMP_ATTEMPTS):
            sequence = yield protocol.increment(counter)
            if sequence is False:
                seed = generationSeed(self.wallClock)
                if (yield protocol.add(counter, b"%d" % (seed,), counterEpoch())):
                    sequence = seed
            if sequence is not False:
                yield protocol.set(slotName(self.namespace, sequence),
                                   slotValue(sequence, self._eventOf(name)))
                return
        raise RuntimeError("%s: could not number an event" % (self.name,))


    @defer.inlineCallbacks
    def _bump(self, protocol, name, tag, hard):
        """
        Give a generation record a new generation (and, if C{hard}, raise
        its floor to it): read it with its CAS identifier, draw a new
        generation, and write it back only if no one else did meanwhile.
        The new generation is drawn after the read, so whichever write wins
        holds the highest generation; and it is always above the one read
        (L{_nextGeneration}), so that a record's generation only ever goes
        up, and a floor raised to it is above every stamp made under it.
        """
        for _ in range(_BUMP_ATTEMPTS):
            values = yield protocol.getMultiple([name], withIdentifier=True)
            _, cas, old = values[name]
            try:
                current, floor = parseRecord(old, tag)
            except BadRecord:
                # A record that cannot be read: make everything under it gone.
                current, floor = 0, None
            generation = yield self._nextGeneration(protocol, current)
            if hard or floor is None:
                floor = generation
            record = makeRecord(generation, floor, tag)
            if old is None:
                written = protocol.add(name, record)
            else:
                written = protocol.checkAndSet(name, record, cas)
            announced = self._announce(protocol, name)
            ok = yield written
            yield announced
            if ok:
                defer.returnValue(None)
        raise RuntimeError("%s: gave up bumping %r, others kept writing it"
                           % (self.name, name))


    @defer.inlineCallbacks
    def _nextGeneration(self, protocol, above=0):
        """
        Draw a generation from the counter (seeding it from the wall clock
        if it is gone: L{generationSeed}).

        A counter lost on its own (evicted) while records survive, and
        seeded again from a clock it had run ahead of (more than one
        invalidation a millisecond, or a writer whose clock is behind),
        hands out generations again that records already hold and entries
        are stamped with: a hard invalidation would then put its floor at
        or below their stamps, and leave them stale, or valid.  So the
        generation drawn is always above C{above} (the record's own); one
        drawn at or below it gives C{above + 1}, and raises the counter by
        as much (C{incr}: raced by others, it only goes higher), so that it
        is again at or above every generation it handed out.

        @param above: The generation of the record being bumped.
        @return: A L{Deferred} firing with the generation, an L{int}.
        """
        for _ in range(_BUMP_ATTEMPTS):
            generation = yield protocol.increment(self._counterName)
            if generation is False:
                generation = generationSeed(self.wallClock)
                if not (yield protocol.add(self._counterName, b"%d" % (generation,))):
                    continue
            if generation <= above:
                yield protocol.increment(self._counterName, above + 1 - generation)
                generation = above + 1
            defer.returnValue(generation)
        raise RuntimeError("%s: could not draw a generation" % (self.name,))


    def _addLease(self, protocol, name, token, ttl):
        return protocol.add(name, token, 0, max(1, int(math.ceil(ttl))))


    @defer.inlineCallbacks
    def _removeLease(self, protocol, name, token):
        values = yield protocol.getMultiple([name], withIdentifier=True)
        _, cas, value = values[name]
        if value != token:
            defer.returnValue(False)
        # A negative expiry time expires the item at once: a delete that
        # only happens if no one took the lease since it was read.
        ok = yield protocol.checkAndSet(name, b"-", cas, 0, -1)
        defer.returnValue(ok)
