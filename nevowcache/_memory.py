# -*- test-case-name: tests.test_stores -*-
"""
An in-memory, byte-bounded LRU store.
"""

from __future__ import absolute_import, division

from collections import OrderedDict

from twisted.internet.defer import succeed
from zope.interface import implementer

from nevowcache._interfaces import Generation, IPageStore
from nevowcache._key import encodeKey

__all__ = ["MemoryStore"]

# Bookkeeping charged per URL invalidation record, on top of its URL.
_URL_RECORD_OVERHEAD = 128



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
    @ivar maxUrlBytes: The most bytes those records take (their URLs,
        encoded, and a fixed overhead each), by default a quarter of
        C{maxBytes}: invalidations of many long URLs (every successful POST
        invalidates one) are bounded like entries.
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
        # Every generation handed out is new: an entry's stamp can never
        # match a later generation by accident, even after its URL's record
        # was forgotten.
        self._lastGeneration = 0


    def _generation(self, url, scopes=()):
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
        entry = self._entries.pop(key, None)
        if entry is not None:
            # Re-inserting moves it to the most recently used end.
            self._entries[key] = entry
            if entry.key != key:
                entry = None
        return succeed((entry, self._generation(key.url, scopes)))


    def peek(self, key, scopes=()):
        """
        Synchronous L{lookup}, for the hit path.

        @return: C{(entry, generation)}.
        """
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._entries[key] = entry
            if entry.key != key:
                entry = None
        return entry, self._generation(key.url, scopes)


    def store(self, key, entry):
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
        _, floor, size = self._urls.pop(url, (0, 0, 0))
        self._urlBytes -= size
        self._lastGeneration += 1
        generation = self._lastGeneration
        size = _URL_RECORD_OVERHEAD + len(encodeKey(url))
        self._urls[url] = (generation, generation if hard else floor, size)
        self._urlBytes += size
        while len(self._urls) > self.maxUrls or self._urlBytes > self.maxUrlBytes:
            _, (_, _, dropped) = self._urls.popitem(last=False)
            self._urlBytes -= dropped
        return succeed(None)


    def invalidateScope(self, scope, hard):
        _, floor, size = self._scopes.pop(scope, (0, 0, 0))
        self._scopeBytes -= size
        self._lastGeneration += 1
        generation = self._lastGeneration
        size = _URL_RECORD_OVERHEAD + len(encodeKey(scope))
        self._scopes[scope] = (generation, generation if hard else floor, size)
        self._scopeBytes += size
        while (len(self._scopes) > self.maxUrls
               or self._scopeBytes > self.maxUrlBytes):
            _, (_, _, dropped) = self._scopes.popitem(last=False)
            self._scopeBytes -= dropped
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
