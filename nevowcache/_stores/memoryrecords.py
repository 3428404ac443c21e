# -*- test-case-name: tests.test_stores,tests.test_unsafe -*-
"""
L{InvalidationRecords}: what a L{MemoryStore} keeps of its invalidations
(the generation records of URL identities, of scopes, and of
L{MemoryStore.clear}), bounded like its entries, and the generations
lookups get from them.
"""

from __future__ import absolute_import, division

from collections import OrderedDict

from twisted.internet.defer import succeed

from nevowcache._stores.footprint import footprint, orderedDictBytes
from nevowcache._stores.interfaces import Generation

__all__ = ["InvalidationRecords"]

# Stands for the size an invalidation record keeps of itself (an integer as
# large), when measuring the record.
_SIZE = 2 ** 40

# How many keys' judged generations peek remembers (the hot ones).
MAX_JUDGED = 1024



class Judged(Generation):
    """
    A L{Generation} that knows its verdict on one stamp: what
    L{MemoryStore.peek} hands out for an entry looked up again while no
    record changed, so that a hit judges its entry's scopes once, not on
    every request.
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



class InvalidationRecords(object):
    """
    The invalidation records of L{MemoryStore}, for it to inherit: URL and
    scope records, each C{(generation, floor, size)} by name, least
    recently bumped first, bounded by C{maxUrls} and C{maxUrlBytes}; the
    clear record C{(generation, floor)}.  A change calls C{_evict}, so that
    the records count within C{maxBytes}.
    """

    def _startRecords(self):
        """
        No record yet: called once, by C{__init__}.
        """
        self._clear = (0, 0)
        self._urls = OrderedDict()
        self._urlBytes = 0
        # Scope (path prefix, tag) records, bounded like URL records.
        self._scopes = OrderedDict()
        self._scopeBytes = 0
        # Every generation handed out is new: an entry's stamp can never
        # match a later generation by accident, even after its URL's record
        # was forgotten.
        self._lastGeneration = 0
        self._plain = self._plainFor = None
        # Keys to (stamp, scopes, the generation judged for them) looked up
        # with scopes since the records last changed (forgotten whenever
        # they do; the most recent MAX_JUDGED keys).
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


    def needsScopes(self):
        """
        Whether L{MemoryStore.peek} must be told an entry's scopes to judge it: only once
        a scope (a path prefix or a tag) was invalidated.  Until then, a
        lookup without them answers the same.
        """
        return bool(self._scopes)


    def _recordBytes(self):
        """
        @return: The bytes invalidation records take now, with their tables.
        """
        return (self._urlBytes + orderedDictBytes(self._urls)
                + self._scopeBytes + orderedDictBytes(self._scopes))


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


    def _bumpClear(self, hard):
        """
        Give the clear record a new generation (and, if C{hard}, raise its
        floor to it).
        """
        self._judged.clear()
        self._lastGeneration += 1
        generation = self._lastGeneration
        self._clear = (generation, generation if hard else self._clear[1])
