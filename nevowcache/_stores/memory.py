# -*- test-case-name: tests.test_stores -*-
"""
An in-memory, byte-bounded LRU store (its invalidation records:
L{nevowcache._stores.memoryrecords}).
"""

from __future__ import absolute_import, division

from collections import OrderedDict

from twisted.internet.defer import succeed
from zope.interface import implementer

from nevowcache._stores.footprint import orderedDictBytes
from nevowcache._stores.interfaces import (
    Generation, IChargedStore, IPeekableStore, IScopedStore)
from nevowcache._stores.memoryrecords import MAX_JUDGED, InvalidationRecords, Judged

__all__ = ["MemoryStore"]

# OrderedDict.move_to_end (Python 3, in C); Python 2.7 pops and re-inserts.
_moveToEnd = getattr(OrderedDict, "move_to_end", None)



@implementer(IScopedStore, IPeekableStore, IChargedStore)
class MemoryStore(InvalidationRecords):
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
        self._entries = OrderedDict()
        self._bytes = 0
        self._evictions = 0
        self._rejected = 0
        # Bytes charged by the store's users (L{charge}).
        self._charged = 0
        self._startRecords()


    def lookup(self, key, scopes=()):
        return succeed(self.peek(key, scopes))


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
                judged = tuple.__new__(Judged, generation)
                judged.stamp_ = stamp
                judged.verdict = Generation.judge(generation, stamp)
                if len(self._judged) >= MAX_JUDGED:
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


    def clear(self, hard):
        self._bumpClear(hard)
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
