# -*- test-case-name: tests.test_stores -*-
"""
The engine's bookkeeping per URL and per key (the variants stored for each
URL, the back-off of failing refreshes), bounded in count and in bytes, and
charged to the store's byte bound where the store counts it.
"""

from __future__ import absolute_import, division

import hashlib
import os
import sys

from nevowcache._stores.footprint import footprint

__all__ = ["Records", "Fingerprints"]

_MISSING = object()



class Fingerprints(object):
    """
    Name things by a keyed hash of their encoding: a 60-bit L{int}, far
    smaller than the key it names, and which nobody without this process's
    random salt can make collide.
    """

    def __init__(self):
        self._salt = os.urandom(16)


    def __call__(self, data):
        """
        @param data: C{bytes}, as L{encodeKey} makes them.
        @rtype: L{int}
        """
        return int(hashlib.sha256(self._salt + data).hexdigest()[:15], 16)



class _Generation(object):
    """
    One of the two tables of L{Records}, with what its keys and values take.
    """
    __slots__ = ("items", "payload")

    def __init__(self):
        self.items = {}
        self.payload = 0


    def bytes(self):
        return self.payload + sys.getsizeof(self.items)


    def take(self, name):
        value = self.items.pop(name, _MISSING)
        if value is not _MISSING:
            self.payload -= footprint(name, value)
        return value



class Records(object):
    """
    A mapping of fingerprints to small values, keeping the recently written
    ones: at most a count of them (given with each write, so that it can be
    changed at any time) and at most C{maxBytes} of memory (their objects as
    L{footprint} measures them, and the tables).

    Two plain tables, not an L{OrderedDict}: writes go to the newer one;
    when it holds half of either bound, the older one is forgotten and the
    newer one becomes the older (and the older is forgotten early if both
    take more than C{maxBytes}).  A record written again moves to the newer
    one.  So a record is kept while fewer than half the bound of others
    were written since, and the tables never hold the holes that evicting
    one at a time from an ordered table leaves, which can cost more than
    the records.

    @ivar maxBytes: The byte budget.
    """

    def __init__(self, maxBytes, charge=None):
        """
        @param charge: Called with the change in bytes whenever it changes,
            or L{None}: a store's C{charge}.
        """
        self.maxBytes = maxBytes
        self._newer = _Generation()
        self._older = _Generation()
        self._charge = charge
        self._charged = 0
        self._settle()


    def __len__(self):
        return len(self._newer.items) + len(self._older.items)


    def get(self, name, default=None):
        value = self._newer.items.get(name, _MISSING)
        if value is _MISSING:
            value = self._older.items.get(name, default)
        return value


    def put(self, name, value, maxCount):
        """
        Write a record; forget the older ones past C{maxCount} or
        C{maxBytes}.
        """
        newer = self._newer
        newer.take(name)
        self._older.take(name)
        newer.items[name] = value
        newer.payload += footprint(name, value)
        if len(newer.items) >= max(1, maxCount // 2) or newer.bytes() > self.maxBytes // 2:
            self._older = newer
            self._newer = _Generation()
        if self.bytes() > self.maxBytes:
            # The newer table grew (tables grow twofold or fourfold at once).
            self._older = _Generation()
        self._settle()


    def pop(self, name):
        """
        Forget a record.

        @return: Its value, or L{None}.
        """
        value = self._newer.take(name)
        if value is _MISSING:
            value = self._older.take(name)
        self._settle()
        return None if value is _MISSING else value


    def _settle(self):
        """
        Charge the change in bytes since the last charge.
        """
        if self._charge is not None:
            now = self.bytes()
            if now != self._charged:
                self._charge(now - self._charged)
                self._charged = now


    def bytes(self):
        """
        @return: The bytes the records take now.
        """
        return self._newer.bytes() + self._older.bytes()
