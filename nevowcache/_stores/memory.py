# -*- test-case-name: tests.test_stores -*-
"""
An in-memory, byte-bounded LRU store.
"""

from __future__ import absolute_import, division

from collections import OrderedDict

from twisted.internet.defer import succeed
from zope.interface import implementer

from nevowcache._stores.footprint import footprint, orderedDictBytes
from nevowcache._stores.interfaces import (
    Generation, IChargedStore, IPeekableStore, IScopedStore)

__all__ = ["MemoryStore"]

# OrderedDict.move_to_end (Python 3, in C); Python 2.7 pops and re-inserts.
_moveToEnd = getattr(OrderedDict, "move_to_end", None)

# Stands for the size an invalidation record keeps of itself (an integer as
# large), when measuring the record.
_SIZE = 2 ** 40

# How many keys' judged generations peek remembers (the hot ones).
_MAX_JUDGED = 1024



class _Judged(Generation):
    """
    A L{Generation} that knows its verdict on one stamp: what L{peek}
    hands out for an entry looked up again while no record changed, so
    that a hit judges its entry's scopes once, not on every request.
    """

    def judge(self, stamp):
        if stamp is self.stamp_ or stamp == self.stamp_:
            return self.verdict
        return Generation.judge(self, stamp)



def _recordSize(name, generation, floor):
    """
    The bytes an invalidation record takes, without its slot in the table:
    its name (a URL identity or a scope) and its C{(generation, floor,
    size)}.
    """
    return footprint(name, (generation, floor, _SIZE))



@implementer(IScopedStore, IPeekableStore, IChargedStore)
class MemoryStore(object):
    """
    Keep entries in this process's memory, evicting the least recently used
    first when either bound is reached.

    @ivar maxBytes: The most bytes of this process's memory the store takes:
        its entries as the allocator counts them (L{CacheEntry.size}: the
        objects of each entry, its key, body, headers and stamp), its
        table, its invalidation records, and the bookkeeping its users
        charge to it (L{charge}: the engine's per-URL records).  The least
        recently used entries are evicted to stay within it.
    @ivar maxEntries: The most entries kept at once.
    @ivar maxEntryBytes: Larger entries (L{CacheEntry.size}) are not stored
        at all.
    @ivar maxUrls: The most URL invalidation generations remembered; the
        least recently invalidated are forgotten, which leaves their entries
        stale (even after a hard invalidation), never fresh.
    @ivar maxUrlBytes: The most bytes those records take (measured as
        entries are), by default a quarter of C{maxBytes}, within
        C{maxBytes}: invalidations of many long URLs (every successful POST
        invalidates one) are bounded like entries.  Scope records (path
        prefixes, tags) are bounded alike.
    """
    name = "memory"

    def __init__(self, maxBytes=64 * 1024 * 1024, maxEntries=10000,
                 maxEntryBytes=None, maxUrls=100000, maxUrlBytes=None):
        if maxBytes <= 0 or maxEntries <= 0:
            raise ValueError("maxBytes and maxEntries must be positive")
        self.maxBytes = maxBytes
        self.maxEntries = maxEntries
        self.maxEntryBytes = maxBytes if maxEntryBytes is None else maxEntryBytes
        self.maxUrls = maxUrls
        self.maxUrlBytes = maxBytes // 4 if maxUrlBytes is None else maxUrlBytes
        self._urlBytes = 0
        self._entries = OrderedDict()
        self._bytes = 0
        self._evictions = 0
        self._rejected = 0
        self._clear = (0, 0)
        self._urls = OrderedDict()
        # Scope (path prefix, tag) records, bounded like URL records.
        self._scopes = OrderedDict()
        self._scopeBytes = 0
        # Bytes charged by the store's users (L{charge}).
        self._charged = 0
        # Every generation handed out is new: an entry's stamp can never
        # match a later generation by accident, even after its URL's record
        # was forgotten.
        self._lastGeneration = 0
        self._plain = self._plainFor = None
        # Keys to (stamp, scopes, the generation judged for them) looked up
        # with scopes since the records last changed (forgotten whenever
        # they do; the most recent _MAX_JUDGED keys).
        self._judged = {}


    def _generation(self, url, scopes=()):
        if not self._urls and not self._scopes:
            # Nothing but clears ever invalidated: one shared generation,
            # made again only after a clear.
            if self._plainFor is not self._clear:
                self._plain = Generation(self._clear[0], self._clear[1], 0, 0)
                self._plainFor = self._clear
            return self._plain
        urlGen = self._urls.get(url)
        if urlGen is None:
            urlGen = (0, 0)
        found = ()
        if scopes and self._scopes:
            # Every scope, so that an entry's stamp names them all and store
            # fences by them.  While no scope was ever invalidated, none: a
            # site without prefix or tag invalidations pays nothing more per
            # lookup, and its stamps stay plain.
            records = self._scopes
            found = tuple((scope,) + records[scope][:2] if scope in records
                          else (scope, 0, 0) for scope in scopes)
        return Generation(self._clear[0], self._clear[1], urlGen[0], urlGen[1],
                          found)


    def lookup(self, key, scopes=()):
        return succeed(self.peek(key, scopes))


    def needsScopes(self):
        """
        Whether L{peek} must be told an entry's scopes to judge it: only once
        a scope (a path prefix or a tag) was invalidated.  Until then, a
        lookup without them answers the same.
        """
        return bool(self._scopes)


    def peek(self, key, scopes=()):
        """
        Synchronous L{lookup}, for the hit path.

        @return: C{(entry, generation)}.
        """
        entries = self._entries
        entry = entries.get(key)
        if entry is not None and scopes and self._scopes:
            # The entry's scopes are judged once while no record changes:
            # a scope record (any POST makes one) would otherwise make
            # every hit read a dozen records.
            stamp = entry.generation
            judged = self._judged.get(key)
            if judged is None or judged[0] != stamp or judged[1] != scopes:
                generation = self._generation(key.url, scopes)
                judged = tuple.__new__(_Judged, generation)
                judged.stamp_ = stamp
                judged.verdict = Generation.judge(generation, stamp)
                if len(self._judged) >= _MAX_JUDGED:
                    self._judged.clear()
                self._judged[key] = judged = (stamp, scopes, judged)
            self._touch(entry)
            return entry, judged[2]
        if entry is not None:
            # To the most recently used end (_touch's, written here: the
            # hit path).  Every entry is in the table under its own key
            # object (L{store}): by that object, found by identity, not
            # compared again.
            if _moveToEnd is not None:
                _moveToEnd(entries, entry.key)
            else:
                self._touch(entry)
        if self._plainFor is self._clear and not self._urls and not self._scopes:
            # _generation's first case: nothing but clears ever invalidated.
            return entry, self._plain
        return entry, self._generation(key.url, scopes)


    def _touch(self, entry):
        """
        Move an entry to the most recently used end.
        """
        # Every entry is in the table under its own key object (L{store}):
        # by that object, found by identity, not compared again.
        entries = self._entries
        stored = entry.key
        if _moveToEnd is not None:
            _moveToEnd(entries, stored)
        else:
            del entries[stored]
            entries[stored] = entry


    def store(self, key, entry):
        if key is not entry.key:
            if key != entry.key:
                # Another key's entry is never stored under this one: each
                # entry is in the table under its own key (L{peek}).
                return succeed(False)
            # One key object for both, not two.
            key = entry.key
        stamp = entry.generation
        if stamp is not None:
            if len(stamp) > 2:
                scopes = tuple(name for name, _ in stamp[2])
                if self._generation(key.url, scopes).judge(stamp) != "valid":
                    return succeed(False)
            elif self._scopes or stamp != self._generation(key.url).stamp():
                # Looked up while no scope record existed: one was made
                # since, perhaps for this entry's scopes.
                return succeed(False)
        # Measured here, once (off the hit path).
        size = entry.size
        if size > self.maxEntryBytes:
            self._rejected += 1
            return succeed(False)
        self._remove(key)
        self._entries[key] = entry
        self._bytes += size
        self._evict()
        return succeed(key in self._entries)


    def _used(self):
        """
        @return: The bytes the store takes now (see C{maxBytes}).
        """
        return (self._bytes + orderedDictBytes(self._entries) + self._recordBytes()
                + self._charged)


    def _recordBytes(self):
        """
        @return: The bytes invalidation records take now, with their tables.
        """
        return (self._urlBytes + orderedDictBytes(self._urls)
                + self._scopeBytes + orderedDictBytes(self._scopes))


    def _evict(self):
        """
        Evict the least recently used entries until both bounds hold.
        """
        entries = self._entries
        while entries and (len(entries) > self.maxEntries
                           or self._used() > self.maxBytes):
            _, evicted = entries.popitem(last=False)
            self._bytes -= evicted.size
            self._evictions += 1


    def charge(self, size):
        """
        Count C{size} more bytes (fewer, if negative) of a user's
        bookkeeping within C{maxBytes}: L{PageCache} charges its per-URL
        records (variants, refresh back-offs) to a store that has this
        method.  Entries are evicted to make room.

        @param size: Bytes, L{int}.
        """
        self._charged += size
        self._evict()


    def _remove(self, key):
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old.size


    def delete(self, key):
        self._remove(key)
        return succeed(None)


    def invalidate(self, url, hard):
        self._urlBytes = self._bump(self._urls, self._urlBytes, url, hard)
        self._evict()
        return succeed(None)


    def invalidateScope(self, scope, hard):
        self._scopeBytes = self._bump(self._scopes, self._scopeBytes, scope, hard)
        self._evict()
        return succeed(None)


    def _bump(self, records, used, name, hard):
        """
        Give C{name} a new generation in C{records} (URL or scope records),
        forgetting the least recently bumped records past C{maxUrls} or
        C{maxUrlBytes}.

        @param used: The bytes C{records} take now, without their table.
        @return: The bytes they take afterwards.
        """
        self._judged.clear()
        _, floor, size = records.pop(name, (0, 0, 0))
        used -= size
        self._lastGeneration += 1
        generation = self._lastGeneration
        floor = generation if hard else floor
        size = _recordSize(name, generation, floor)
        records[name] = (generation, floor, size)
        used += size
        while records and (len(records) > self.maxUrls
                           or used + orderedDictBytes(records) > self.maxUrlBytes):
            _, (_, _, dropped) = records.popitem(last=False)
            used -= dropped
        return used


    def clear(self, hard):
        self._judged.clear()
        self._lastGeneration += 1
        generation = self._lastGeneration
        self._clear = (generation, generation if hard else self._clear[1])
        if hard:
            self._entries.clear()
            self._bytes = 0
        return succeed(None)


    def stats(self):
        """
        @return: C{entries}; C{bytes}, what they take (with the store's
            table); C{recordBytes}, what invalidation records and the
            bookkeeping charged to the store take, within the same
            C{maxBytes}; C{evictions}; C{tooLarge}; and the bounds.
        """
        return {"entries": len(self._entries),
                "bytes": self._bytes + orderedDictBytes(self._entries),
                "recordBytes": self._recordBytes() + self._charged,
                "evictions": self._evictions, "tooLarge": self._rejected,
                "maxBytes": self.maxBytes, "maxEntries": self.maxEntries}
