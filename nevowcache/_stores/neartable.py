# -*- test-case-name: tests.test_near,tests.test_nearpool -*-
"""
The near table: the entries a near tier (L{nevowcache.NearStore}) holds in
this process's memory, filed under the names whose change concerns them,
served only while trusted, and forgotten when what they concern changes.
"""

from __future__ import absolute_import, division

from collections import OrderedDict

from twisted.python import runtime

from nevowcache._engine.clocks import monotonicClock
from nevowcache._stores.footprint import orderedDictBytes
from nevowcache._stores.generations import urlTag

__all__ = ["NearTable"]

# OrderedDict.move_to_end (Python 3, in C); Python 2.7 pops and re-inserts.
_moveToEnd = getattr(OrderedDict, "move_to_end", None)

# How many changes the near tier remembers, to tell whether one that came
# while a lookup or store was under way concerns its entry.
_RECENT = 256



def _partName(part):
    """
    @return: The name every near entry of server C{part} of a pool is noted
        under, so that they are forgotten together.
    """
    return b"@%d" % (part,)



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



class NearTable(object):
    """
    The base of L{NearStore}: its near entries, each filed under the
    names whose change concerns it (its URL's record, its own name, its
    scopes' records and, over a memcached pool, its server's part), evicted
    least recently used first, served only while its part is trusted (every
    change made before the trust's time minus C{bound} has been seen), and
    forgotten when any of its names changes.

    A subclass provides C{shared} (the shared store), C{reactor},
    C{maxBytes} and C{maxEntries}.
    """

    def __init__(self, parts):
        """
        @param parts: How many parts trust is kept for: the servers of a
            memcached pool (the entries of each are trusted by the reads of
            that server's events, L{nevowcache._stores.memcachedcoherence});
            else one.
        """
        self._clock = None
        self._items = OrderedDict()
        self._bytes = 0
        # Names changed (as events name them) to the keys of the near
        # entries they concern.
        self._byName = {}
        # Until when the near entries of each part are trusted.
        self._pool = parts > 1
        self._trustedUntil = [0] * parts
        # Counts changes seen; _recent holds the names of the last ones, and
        # _forgotten the count when the whole tier was last emptied.
        self._changes = 0
        self._recent = OrderedDict()
        self._forgotten = 0
        self._counts = dict.fromkeys(
            ("nearHits", "nearMisses", "nearUntrusted", "nearEvictions",
             "nearEvents", "nearForgotten", "nearLapses"), 0)


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
        return self.shared._continuum.find(tag)


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
