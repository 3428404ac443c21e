# -*- test-case-name: tests.test_stats -*-
"""
The statistics minute by minute: the engine's counters at the start of
each minute of the last hour (L{MinuteSeries.perMinute}), and each page
class's counts at the start of the last few (L{MinuteSeries.recent}).
"""

from __future__ import absolute_import, division

from collections import deque

__all__ = ["MinuteSeries", "MINUTE", "RECENT_MINUTES"]

# Seconds a history slot covers, and how many are kept (an hour and the
# current minute).
MINUTE = 60
_HISTORY = 61

# How many minutes the "recent" figures cover.
RECENT_MINUTES = 5

# The counters the history keeps, from the engine's counters.
_HISTORY_COUNTERS = ("hits", "staleHits", "misses", "uncacheable", "bypasses")



class MinuteSeries(object):
    """
    The totals taken at the start of each minute, bounded: 61 minutes of
    the engine's counters, L{RECENT_MINUTES} and one of the page classes'
    counts.  Its owner says when a minute starts (L{mark}); the figures
    are the differences between the totals.

    @ivar history: C{(minute, hits, staleHits, misses, uncacheable,
        bypasses)} totals, oldest first.
    """

    def __init__(self, counters, started):
        """
        @param counters: The engine's counters (a L{dict}).
        @param started: When counting began, by the engine's clock.
        """
        self._counters = counters
        self._started = started
        self.history = deque(maxlen=_HISTORY)
        self._pages = deque(maxlen=RECENT_MINUTES + 1)


    def mark(self, now, pages):
        """
        Keep the counters' totals, and those of C{pages}, at the start of
        the minute of C{now}.

        @param pages: The L{nevowcache._operations.stats.PageStats} of
            every page class.
        @return: When the next minute starts.
        """
        minute = int(now // MINUTE)
        counters = self._counters
        self.history.append((minute,) + tuple(counters.get(name, 0)
                                              for name in _HISTORY_COUNTERS))
        self._pages.append((minute, dict((page.name, page.counts())
                                         for page in pages)))
        return (minute + 1) * MINUTE


    def perMinute(self, now):
        """
        The counters of each minute of the last hour, oldest first.

        @param now: The engine's clock, its minute marked.
        @return: C{[(minutesAgo, {counter: count}), ...]} for the minutes
            (current one included, as C{0}) since counting began.
        """
        current = int(now // MINUTE)
        live = (current + 1,) + tuple(self._counters.get(name, 0)
                                      for name in _HISTORY_COUNTERS)
        marks = list(self.history) + [live]
        byMinute = {}
        for before, after in zip(marks, marks[1:]):
            byMinute[before[0]] = dict(
                (name, after[i + 1] - before[i + 1])
                for i, name in enumerate(_HISTORY_COUNTERS))
        first = max(current - (_HISTORY - 1), marks[0][0])
        empty = dict.fromkeys(_HISTORY_COUNTERS, 0)
        return [(current - minute, byMinute.get(minute, empty))
                for minute in range(first, current + 1)]


    def recent(self, now, pages):
        """
        The counts of the last few minutes (L{RECENT_MINUTES}, fewer just
        after start).

        @param now: The engine's clock, its minute marked.
        @param pages: The L{nevowcache._operations.stats.PageStats} of
            every page class.
        @return: C{(seconds, totals, pages)}: the seconds covered, the
            engine counters' increase (L{_HISTORY_COUNTERS}) and, per page
            class name, C{(hits, staleHits, misses, uncacheable)} increases.
        """
        current = int(now // MINUTE)
        since = None
        for mark in self.history:
            if mark[0] >= current - RECENT_MINUTES:
                since = mark
                break
        if since is None:
            since = self.history[-1]
        seconds = max(1.0, now - max(since[0] * MINUTE, self._started))
        totals = dict((name, self._counters.get(name, 0) - since[i + 1])
                      for i, name in enumerate(_HISTORY_COUNTERS))
        pagesThen = {}
        for minute, counts in self._pages:
            if minute == since[0]:
                pagesThen = counts
                break
        increases = {}
        for page in pages:
            then = pagesThen.get(page.name, (0, 0, 0, 0))
            increases[page.name] = tuple(a - b for a, b in zip(page.counts(), then))
        return seconds, totals, increases
