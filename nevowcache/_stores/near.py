# -*- test-case-name: tests.test_near,tests.test_nearpool -*-
"""
A near tier: entries of a shared store kept in this process's memory too,
so that a hit on a hot page costs what a L{MemoryStore} hit costs, and
kept coherent with what every other process does to the shared store
(L{nevowcache._stores.coherence}).
"""

from __future__ import absolute_import, division

from collections import OrderedDict

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python import runtime
from zope.interface import implementer

from nevowcache._engine.clocks import monotonicClock
from nevowcache._stores.coherence import MemcachedCoherence, RedisCoherence
from nevowcache._stores.footprint import orderedDictBytes
from nevowcache._stores.interfaces import (
    Generation, ILeaseStore, INearStore, IPeekableStore, IScopedStore, ISharedStore)
from nevowcache._stores.sharedstore import urlTag

__all__ = ["NearStore"]

# OrderedDict.move_to_end (Python 3, in C); Python 2.7 pops and re-inserts.
_moveToEnd = getattr(OrderedDict, "move_to_end", None)

# How many changes the near tier remembers, to tell whether one that came
# while a lookup or store was under way concerns its entry.
_RECENT = 256

# The bound of each kind of shared store, by default.
_BOUNDS = {"redis": 0.5, "memcached": 1.0}



def _partName(part):
    """
    @return: The name every near entry of server C{part} of a pool is noted
        under, so that they are forgotten together.
    """
    return b"@%d" % (part,)



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



class _Item(object):
    """
    One near entry.
    """
    __slots__ = ("entry", "generation", "scopes", "names", "size", "part")

    def __init__(self, entry, generation, scopes, names, part):
        self.entry = entry
        self.generation = generation
        self.scopes = scopes
        self.names = names
        self.size = entry.size
        self.part = part



@implementer(IScopedStore, IPeekableStore, ISharedStore, ILeaseStore, INearStore)
class NearStore(object):
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
        self.shared = shared
        self.name = "near+" + kind
        self.bound = bound
        self.maxBytes = maxBytes
        self.maxEntries = maxEntries
        self._reactor = reactor
        self._clock = None
        self._items = OrderedDict()
        self._bytes = 0
        # Names changed (as events name them) to the keys of the near
        # entries they concern.
        self._byName = {}
        # Until when the near entries of each part are trusted: the entries
        # of each server of a memcached pool are trusted by the reads of
        # that server's events (nevowcache._coherence); others have one
        # part.
        servers = getattr(shared, "_servers", ())
        self._pool = len(servers) > 1 and kind == "memcached"
        self._trustedUntil = [0] * (len(servers) if self._pool else 1)
        # Counts changes seen; _recent holds the names of the last ones, and
        # _forgotten the count when the whole tier was last emptied.
        self._changes = 0
        self._recent = OrderedDict()
        self._forgotten = 0
        # Keys whose lease this process asked for: looked up in the shared
        # store until it releases it or it lapses.
        self._leasing = {}
        self._counts = dict.fromkeys(
            ("nearHits", "nearMisses", "nearUntrusted", "nearEvictions",
             "nearEvents", "nearForgotten", "nearLapses"), 0)
        coherence = RedisCoherence if kind == "redis" else MemcachedCoherence
        self._coherence = coherence(self, shared, bound)
        self._started = False
        self._closed = False


    @property
    def reactor(self):
        if self._reactor is None:
            self._reactor = self.shared.reactor
        return self._reactor


    @property
    def clock(self):
        """
        What trust is timed by: a monotonic clock (the time of day may jump
        back, and would make entries trusted for longer), unless the
        reactor is not a real one (a L{task.Clock} in tests).
        """
        clock = self._clock
        if clock is None:
            reactor = self.reactor
            if getattr(reactor, "seconds", None) is runtime.seconds:
                clock = monotonicClock()
            else:
                clock = reactor
            self._clock = clock
        return clock


    def _start(self):
        if not self._started and not self._closed:
            self._started = True
            self._coherence.start()


    # Trust

    def _trusted(self, part=None):
        """
        Whether the near entries of C{part} (by default: every part) are
        served.
        """
        now = self.clock.seconds()
        if part is None:
            return all(now < until for until in self._trustedUntil)
        return now < self._trustedUntil[part]


    def _trustUntil(self, when, part=None):
        """
        Every change made before C{when - bound} (to the entries of
        C{part}; by default every part) has been seen.
        """
        parts = range(len(self._trustedUntil)) if part is None else [part]
        for part in parts:
            until = self._trustedUntil[part]
            if when > until:
                if self._items and until and not self._trusted(part):
                    self._counts["nearLapses"] += 1
                self._trustedUntil[part] = when


    def _distrust(self):
        """
        Changes may be missed from now on: serve no near entry.
        """
        self._trustedUntil[:] = [0] * len(self._trustedUntil)


    def _partOf(self, tag):
        """
        @param tag: The tag of an entry's URL identity.
        @return: The part of the near tier the entry belongs to: of a pool,
            the index of the server it lives on.
        """
        if not self._pool:
            return 0
        shared = self.shared
        return shared._servers.index(shared._serverFor(tag))


    def _forgetPart(self, part):
        """
        Forget the near entries of C{part} (the changes made on its server
        are unknown), and the lookups and stores of them under way.
        """
        if not self._pool:
            self._forgetAll()
            return
        name = _partName(part)
        self._counts["nearForgotten"] += len(self._byName.get(name, ()))
        self._changed(name)


    def _forgetAll(self):
        """
        Forget every near entry, and the lookups and stores under way.
        """
        self._changes += 1
        self._forgotten = self._changes
        self._recent.clear()
        self._counts["nearForgotten"] += len(self._items)
        self._items.clear()
        self._byName.clear()
        self._bytes = 0


    def _event(self, name, writer):
        """
        Apply a change another process (or this one) made.
        """
        self._counts["nearEvents"] += 1
        if name == b"c":
            self._forgetAll()
            return
        if name.startswith(b"e:") and writer == self.shared.writerId:
            # This process's own store: its near entry is that one.
            return
        self._changed(name)


    def _changed(self, name):
        """
        Note a change of C{name} and forget the near entries it concerns.
        """
        self._changes += 1
        recent = self._recent
        recent[self._changes] = name
        if len(recent) > _RECENT:
            recent.popitem(last=False)
        keys = self._byName.pop(name, None)
        if keys:
            for key in list(keys):
                self._remove(key)


    def _unchangedSince(self, mark, names):
        """
        Whether no change that concerns C{names} came since C{mark} (the
        count of changes when a lookup or store began).
        """
        if self._changes == mark:
            return True
        if self._forgotten > mark or mark < self._changes - len(self._recent):
            return False
        for number, name in self._recent.items():
            if number > mark and name in names:
                return False
        return True


    # The near table

    def _remove(self, key):
        item = self._items.pop(key, None)
        if item is None:
            return
        self._bytes -= item.size
        for name in item.names:
            keys = self._byName.get(name)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._byName[name]


    def _keep(self, key, entry, generation, scopes, names, part):
        if not self._trusted(part) or entry.key != key:
            return
        if entry.size > self.maxBytes // 4:
            return
        self._remove(key)
        item = _Item(entry, generation, scopes, names, part)
        self._items[entry.key] = item
        self._bytes += item.size
        for name in names:
            self._byName.setdefault(name, set()).add(entry.key)
        items = self._items
        while items and (len(items) > self.maxEntries
                         or self._bytes + orderedDictBytes(items) > self.maxBytes):
            oldest = next(iter(items))
            self._remove(oldest)
            self._counts["nearEvictions"] += 1


    def _namesOf(self, key, scopeTags):
        """
        @return: C{(names, part)}: the names whose change concerns the near
            entry of C{key} (with its part's, of a pool), and its part.
        """
        tag = urlTag(key.url)
        part = self._partOf(tag)
        names = [b"u:" + tag, b"e:" + key.digest()] + [
            b"s:" + scopeTag for scopeTag in scopeTags]
        if self._pool:
            names.append(_partName(part))
        return frozenset(names), part


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


    def _hit(self, item):
        """
        Answer with C{item} of the near table, if the tier is trusted.
        """
        if self.clock.seconds() >= self._trustedUntil[item.part]:
            self._counts["nearUntrusted"] += 1
            return None, None
        self._counts["nearHits"] += 1
        if _moveToEnd is not None:
            _moveToEnd(self._items, item.entry.key)
        else:
            del self._items[item.entry.key]
            self._items[item.entry.key] = item
        return item.entry, item.generation


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
            dropped wholesale: a clear, a gap in the changes), C{nearTrusted}
            (1 while its entries are served), C{nearBound}; of a pool,
            C{nearTrustedServers} (how many servers' entries are served).
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
