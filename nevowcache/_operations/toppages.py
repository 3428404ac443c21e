# -*- test-case-name: tests.test_stats -*-
"""
The most hit pages, in bounded memory: the Space-Saving sketch
(L{SpaceSaving}) fed by a sample of hits (L{TopPages}).
"""

from __future__ import absolute_import, division

import random

__all__ = ["SpaceSaving", "TopPages"]



class SpaceSaving(object):
    """
    The Space-Saving heavy-hitters sketch (Metwally, Agrawal and El Abbadi,
    2005): at most C{size} items counted; a new item takes the place of
    the least counted one, and its count, plus one.  Every item seen more
    than C{total / size} times is kept, and a kept item's count
    overestimates its true count by at most its C{error}.
    """

    def __init__(self, size):
        self.size = size
        self.counts = {}
        self.errors = {}


    def add(self, item, weight=1):
        counts = self.counts
        count = counts.get(item)
        if count is not None:
            counts[item] = count + weight
            return
        if len(counts) < self.size:
            counts[item] = weight
            self.errors[item] = 0
            return
        least = min(counts, key=counts.get)
        floor = counts.pop(least)
        del self.errors[least]
        counts[item] = floor + weight
        self.errors[item] = floor


    def top(self, n):
        """
        @return: C{[(item, count, error), ...]}, most counted first.
        """
        ranked = sorted(self.counts.items(), key=lambda pair: -pair[1])[:n]
        return [(item, count, self.errors[item]) for item, count in ranked]



class TopPages(object):
    """
    The most hit keys, estimated from a sample of hits: the first
    C{exactHits} all count, then about one hit in C{sampleEvery}, each
    standing for C{sampleEvery} hits.  Whoever counts the hits keeps the
    countdown to the next sample (L{sample} returns it), so that a hit not
    sampled costs only a decrement.

    @ivar sketch: The L{SpaceSaving} sketch the sampled hits feed.
    """

    def __init__(self, size, sampleEvery, exactHits):
        """
        @param size: The size of the sketch.
        @param sampleEvery: About one hit in this many is sampled, after the
            first C{exactHits}, which all are.
        """
        self.sketch = SpaceSaving(size)
        self._sampleEvery = sampleEvery
        # The first hits all feed the sketch (a quiet site's top pages are
        # exact); then about one in sampleEvery.
        self._weight = 1
        self._exactHits = exactHits


    def sample(self, key):
        """
        A sampled hit on C{key}.

        @return: The countdown to the next sampled hit (C{1}: the next
            hit is sampled).
        """
        self.sketch.add(key, self._weight)
        if self._weight == 1:
            self._exactHits -= 1
            if self._exactHits > 0:
                return 1
            self._weight = self._sampleEvery
        # A random gap, so that no regular pattern of requests escapes it;
        # each sampled hit stands for sampleEvery hits.
        return random.randint(1, 2 * self._weight - 1)


    def top(self, n):
        """
        @return: C{[(key, estimatedHits, error), ...]}, most hit first.
        """
        return self.sketch.top(n)
