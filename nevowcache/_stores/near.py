# -*- test-case-name: tests.test_near,tests.test_nearpool -*-
"""
A near tier: entries of a shared store kept in this process's memory too,
so that a hit on a hot page costs what a L{MemoryStore} hit costs, and
kept coherent with what every other process does to the shared store
(L{nevowcache._stores.coherence}).  The entries it holds, and the trust
they are served under, are its base's (L{nevowcache._stores.neartable}).
"""

from __future__ import absolute_import, division

from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer

from nevowcache._stores.footprint import orderedDictBytes
from nevowcache._stores.interfaces import (
    Generation, ILeaseStore, INearStore, IPeekableStore, IScopedStore, ISharedStore)
from nevowcache._stores.generations import urlTag
from nevowcache._stores.memcachedcoherence import MemcachedCoherence
from nevowcache._stores.neartable import NearTable
from nevowcache._stores.rediscoherence import RedisCoherence

__all__ = ["NearStore"]

# The bound of each kind of shared store, by default.
_BOUNDS = {"redis": 0.5, "memcached": 1.0}



class _Valid(Generation):
    """
    The generation a near entry was read (or stored) under: it judges that
    entry valid at once, and any other stamp as a L{Generation} does.
    """

    def judge(self, stamp):
        if stamp is self.entryStamp:
            return "valid"
        return Generation.judge(self, stamp)



def _generationOf(stamp):
    """
    The generation an entry stored under C{stamp} was fenced by: its
    generations, with floors that judge nothing gone.
    """
    if stamp is None:
        generation = tuple.__new__(_Valid, Generation())
    elif len(stamp) > 2:
        generation = tuple.__new__(_Valid, Generation(
            stamp[0], 0, stamp[1], 0,
            tuple((name, number, 0) for name, number in stamp[2])))
    else:
        generation = tuple.__new__(_Valid, Generation(stamp[0], 0, stamp[1], 0))
    generation.entryStamp = stamp
    return generation



@implementer(IScopedStore, IPeekableStore, ISharedStore, ILeaseStore, INearStore)
class NearStore(NearTable):
    """
    A shared store (L{RedisStore}, L{MemcachedStore}) with a near tier: the
    entries this process reads or writes are kept in its memory too, and a
    hit on one is answered synchronously (L{IPeekableStore}: CachingSite
    answers it before traversal), as from a L{MemoryStore}::

        from nevowcache import NearStore, PageCache, RedisStore
        cache = PageCache(NearStore(RedisStore("127.0.0.1"), maxBytes=32 << 20))

    Every change any process makes in the shared store (an invalidation of
    any kind, soft or hard, a clear, a newer entry, a deletion) reaches this
    process's near tier within C{bound} seconds: Redis pushes them (in a few
    milliseconds on a LAN); from memcached, which cannot, they are read
    every C{bound / 2} seconds, from each server of a pool.  Changes made
    through this store reach its own near tier at once.  Near entries are
    served only while the channel of changes is known to work (a heartbeat
    heard, a read done, within C{bound}; of a pool, a read of the server
    the entry lives on); else the shared store answers, so a broken channel
    costs speed, never a page older than C{bound}.

    Everything else (leases, fencing, scopes, outages) is the shared
    store's.

    @ivar shared: The shared store.
    @ivar bound: Seconds within which another process's change reaches this
        near tier.
    @ivar maxBytes: The most bytes of this process's memory near entries
        take (as L{MemoryStore} counts them).
    @ivar maxEntries: The most near entries.

    @since: 0.3.0
    """
    _log = Logger()

    def __init__(self, shared, maxBytes=16 * 1024 * 1024, maxEntries=10000,
                 bound=None, reactor=None):
        """
        @param shared: A L{RedisStore} or L{MemcachedStore}.
        @param maxBytes: See C{maxBytes}.
        @param maxEntries: See C{maxEntries}.
        @param bound: See C{bound}; by default half a second for Redis, a
            second for memcached.
        @param reactor: An L{IReactorTCP} and L{IReactorTime}; by default the
            shared store's.
        """
        kind = getattr(shared, "name", None)
        if kind not in _BOUNDS or not ISharedStore.providedBy(shared):
            raise TypeError("NearStore keeps a RedisStore or a MemcachedStore "
                            "coherent, not %r" % (shared,))
        if maxBytes <= 0 or maxEntries <= 0:
            raise ValueError("maxBytes and maxEntries must be positive")
        if bound is None:
            bound = _BOUNDS[kind]
        if bound <= 0:
            raise ValueError("bound must be positive")
        # The entries of each server of a memcached pool are trusted by the
        # reads of that server's events; of other stores, all together.
        parts = len(getattr(shared, "_servers", ())) if kind == "memcached" else 1
        NearTable.__init__(self, max(1, parts))
        self.shared = shared
        self.name = "near+" + kind
        self.bound = bound
        self.maxBytes = maxBytes
        self.maxEntries = maxEntries
        self._reactor = reactor
        # Keys whose lease this process asked for: looked up in the shared
        # store until it releases it or it lapses.
        self._leasing = {}
        coherence = RedisCoherence if kind == "redis" else MemcachedCoherence
        self._coherence = coherence(self, shared, bound)
        self._started = False
        self._closed = False


    @property
    def reactor(self):
        if self._reactor is None:
            self._reactor = self.shared.reactor
        return self._reactor


    def _start(self):
        if not self._started and not self._closed:
            self._started = True
            self._coherence.start()


    # IPeekableStore

    def peek(self, key, scopes=()):
        """
        Answer from the near tier alone.

        @return: C{(entry, generation)}, or C{(None, None)}.
        """
        item = self._items.get(key)
        if item is None:
            return None, None
        return self._hit(item)


    def needsScopes(self):
        """
        Never: a near entry was read with its scopes, and is forgotten when
        any of them changes.
        """
        return False


    # IPageStore

    def lookup(self, key, scopes=()):
        self._start()
        item = self._items.get(key)
        if item is not None and self._leasing:
            until = self._leasing.get(key)
            if until is not None:
                if until > self.clock.seconds():
                    item = None
                else:
                    del self._leasing[key]
        if item is not None and item.scopes != scopes:
            # Stored by this process (its scopes named by its stamp), or
            # looked up with others (the page's tags changed).
            names = item.names
            if item.scopes is None and all(b"s:" + urlTag(scope) in names
                                           for scope in scopes):
                item.scopes = tuple(scopes)
            else:
                item = None
        if item is not None:
            found = self._hit(item)
            if found[0] is not None:
                return defer.succeed(found)
        self._counts["nearMisses"] += 1
        mark = self._changes
        d = self.shared.lookup(key, scopes)
        d.addCallback(self._found, key, tuple(scopes), mark)
        return d


    def _found(self, found, key, scopes, mark):
        entry, generation = found
        if (entry is not None and generation is not None
                and generation.judge(entry.generation) == "valid"):
            names, part = self._namesOf(key, [urlTag(scope) for scope in scopes])
            if self._unchangedSince(mark, names):
                near = tuple.__new__(_Valid, generation)
                near.entryStamp = entry.generation
                self._keep(key, entry, near, scopes, names, part)
        return found


    def store(self, key, entry):
        self._start()
        mark = self._changes
        d = self.shared.store(key, entry)

        def stored(ok):
            if ok:
                stamp = entry.generation
                scopeTags = [name if isinstance(name, bytes) else urlTag(name)
                             for name, _ in stamp[2]] if (
                    stamp is not None and len(stamp) > 2) else []
                names, part = self._namesOf(key, scopeTags)
                # A lookup under way began before this entry existed.
                self._changed(b"e:" + key.digest())
                if self._unchangedSince(mark, names - {b"e:" + key.digest()}):
                    self._keep(key, entry, _generationOf(stamp), None, names, part)
            return ok
        return d.addCallback(stored)


    def delete(self, key):
        self._changed(b"e:" + key.digest())
        return self.shared.delete(key)


    def invalidate(self, url, hard):
        self._changed(b"u:" + urlTag(url))
        return self.shared.invalidate(url, hard)


    def invalidateScope(self, scope, hard):
        self._changed(b"s:" + urlTag(scope))
        return self.shared.invalidateScope(scope, hard)


    def clear(self, hard):
        self._forgetAll()
        return self.shared.clear(hard)


    def stats(self):
        """
        @return: The shared store's statistics, with the near tier's:
            C{nearEntries}, C{nearBytes}, C{nearHits} (answered from it),
            C{nearMisses} (lookups it sent to the shared store),
            C{nearUntrusted} (entries it held but did not serve: the
            channel of changes was not known to work), C{nearEvictions},
            C{nearEvents} (changes heard of), C{nearForgotten} (entries
            dropped wholesale: a clear, a gap in the changes), C{nearLapses}
            (times its trust ran out before it was renewed), C{nearTrusted}
            (1 while its entries are served; of a pool, every server's),
            C{nearBound}; of a pool, C{nearTrustedServers} (how many
            servers' entries are served).
        """
        result = self.shared.stats()
        result.update(self._counts)
        result["nearEntries"] = len(self._items)
        result["nearBytes"] = self._bytes + orderedDictBytes(self._items)
        result["nearTrusted"] = int(self._trusted())
        if self._pool:
            result["nearTrustedServers"] = sum(
                self._trusted(part) for part in range(len(self._trustedUntil)))
        result["nearBound"] = self.bound
        return result


    # ILeaseStore

    def acquireLease(self, key, ttl):
        # Asked for when the entry is missing or stale: until this process
        # is done with it, look it up where another process's render lands.
        self._leasing[key] = self.clock.seconds() + ttl
        if len(self._leasing) > 1000:
            now = self.clock.seconds()
            for leased, until in list(self._leasing.items()):
                if until <= now:
                    del self._leasing[leased]
        self._remove(key)
        return self.shared.acquireLease(key, ttl)


    def releaseLease(self, key, token):
        self._leasing.pop(key, None)
        return self.shared.releaseLease(key, token)


    # The rest

    def close(self):
        """
        Stop keeping the near tier coherent, and close the shared store.

        @return: A L{Deferred} that fires once it is closed.
        """
        self._closed = True
        self._coherence.stop()
        self._distrust()
        self._forgetAll()
        return self.shared.close()


    def __repr__(self):
        return "<NearStore over %r bound=%s>" % (self.shared, self.bound)
