# -*- test-case-name: tests.test_stores -*-
"""
An in-memory, byte-bounded LRU store.
"""

from __future__ import absolute_import, division

from collections import OrderedDict

from twisted.internet.defer import succeed
from zope.interface import implementer

from nevowcache._interfaces import Generation, IPageStore

__all__ = ["MemoryStore"]



@implementer(IPageStore)
class MemoryStore(object):
    """
    Keep entries in this process's memory, evicting the least recently used
    first when either bound is reached.

    @ivar maxBytes: The most bytes of entries (body, headers, key and a fixed
        per-entry overhead) kept at once.
    @ivar maxEntries: The most entries kept at once.
    @ivar maxEntryBytes: Larger entries are not stored at all.
    @ivar maxUrls: The most URL invalidation generations remembered; the
        least recently invalidated are forgotten, which leaves their entries
        stale (even after a hard invalidation), never fresh.
    """
    name = "memory"

    def __init__(self, maxBytes=64 * 1024 * 1024, maxEntries=10000,
                 maxEntryBytes=None, maxUrls=100000):
        if maxBytes <= 0 or maxEntries <= 0:
            raise ValueError("maxBytes and maxEntries must be positive")
        self.maxBytes = maxBytes
        self.maxEntries = maxEntries
        self.maxEntryBytes = maxBytes if maxEntryBytes is None else maxEntryBytes
        self.maxUrls = maxUrls
        self._entries = OrderedDict()
        self._bytes = 0
        self._evictions = 0
        self._rejected = 0
        self._clear = (0, 0)
        self._urls = OrderedDict()
        # Every generation handed out is new: an entry's stamp can never
        # match a later generation by accident, even after its URL's record
        # was forgotten.
        self._lastGeneration = 0


    def _generation(self, url):
        urlGen = self._urls.get(url)
        if urlGen is None:
            urlGen = (0, 0)
        return Generation(self._clear[0], self._clear[1], urlGen[0], urlGen[1])


    def lookup(self, key):
        entry = self._entries.pop(key, None)
        if entry is not None:
            # Re-inserting moves it to the most recently used end.
            self._entries[key] = entry
            if entry.key != key:
                entry = None
        return succeed((entry, self._generation(key.url)))


    def peek(self, key):
        """
        Synchronous L{lookup}, for the hit path.

        @return: C{(entry, generation)}.
        """
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._entries[key] = entry
            if entry.key != key:
                entry = None
        return entry, self._generation(key.url)


    def store(self, key, entry):
        if entry.generation is not None and (
                entry.generation != self._generation(key.url).stamp()):
            return succeed(False)
        if entry.size > self.maxEntryBytes:
            self._rejected += 1
            return succeed(False)
        self._remove(key)
        self._entries[key] = entry
        self._bytes += entry.size
        while len(self._entries) > self.maxEntries or self._bytes > self.maxBytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= evicted.size
            self._evictions += 1
        return succeed(True)


    def _remove(self, key):
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old.size


    def delete(self, key):
        self._remove(key)
        return succeed(None)


    def invalidate(self, url, hard):
        _, floor = self._urls.pop(url, (0, 0))
        self._lastGeneration += 1
        generation = self._lastGeneration
        self._urls[url] = (generation, generation if hard else floor)
        while len(self._urls) > self.maxUrls:
            self._urls.popitem(last=False)
        return succeed(None)


    def clear(self, hard):
        self._lastGeneration += 1
        generation = self._lastGeneration
        self._clear = (generation, generation if hard else self._clear[1])
        if hard:
            self._entries.clear()
            self._bytes = 0
        return succeed(None)


    def stats(self):
        return {"entries": len(self._entries), "bytes": self._bytes,
                "evictions": self._evictions, "tooLarge": self._rejected,
                "maxBytes": self.maxBytes, "maxEntries": self.maxEntries}
