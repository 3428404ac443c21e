# -*- test-case-name: tests.test_stats -*-
"""
What the engine saw, kept for the operator: per page class counts, render
times, a minute-by-minute history of the last hour, the most hit pages,
recent refresh failures.  L{PageCache} calls a L{CacheStatistics} from its
decisions; the admin pages and the metrics read everything through
L{nevowcache._operations.report.report}.

Everything is bounded: at most C{maxPages} page classes (the rest are
counted together as C{(other)}), 61 minutes of history
(L{nevowcache._operations.minutes}), C{topSize} pages in the heavy-hitters
sketch (L{nevowcache._operations.toppages}), C{maxFailures} refresh
failures (L{nevowcache._operations.failures}).  A hit costs a dictionary
look-up, an increment, a comparison and a countdown; one hit in about
C{sampleEvery} (after the first thousand) also feeds the sketch.
"""

from __future__ import absolute_import, division

import time

from nevowcache._operations.describe import pageNameOf
from nevowcache._operations.failures import RefreshFailures
from nevowcache._operations.minutes import MinuteSeries
from nevowcache._operations.toppages import TopPages

__all__ = ["CacheStatistics", "RENDER_BUCKETS"]

# The upper bounds (seconds) of the render-time histogram's buckets; the
# last bucket, unbounded, follows.
RENDER_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                  1.0, 2.5, 5.0, 10.0)

OTHER_PAGES = u"(other)"



class PageStats(object):
    """
    The counts of one page class.

    @ivar hits: Fresh hits.
    @ivar staleHits: Stale hits.
    @ivar misses: Lookups that found nothing to serve.
    @ivar uncacheable: Of those, the ones that could never be stored.
    @ivar renders: Renders finished (successfully).
    @ivar renderSeconds: Their total time.
    @ivar buckets: Renders per histogram bucket (L{RENDER_BUCKETS}, then
        the unbounded bucket); not cumulative.
    @ivar fastest: The shortest render time, or L{None}.
    @ivar slowest: The longest render time, or L{None}.
    """
    __slots__ = ("name", "hits", "staleHits", "misses", "uncacheable", "renders",
                 "renderSeconds", "buckets", "fastest", "slowest")

    def __init__(self, name):
        self.name = name
        self.hits = self.staleHits = self.misses = self.uncacheable = 0
        self.renders = 0
        self.renderSeconds = 0.0
        self.buckets = [0] * (len(RENDER_BUCKETS) + 1)
        self.fastest = self.slowest = None


    def counts(self):
        return (self.hits, self.staleHits, self.misses, self.uncacheable)


    def quantile(self, q):
        """
        Estimate a quantile of the render times from the histogram, as
        Prometheus' C{histogram_quantile} does (linear within a bucket),
        within the fastest and slowest renders seen.

        @return: Seconds, or L{None} before the first render.
        """
        if not self.renders:
            return None
        return min(self.slowest, max(self.fastest, self._interpolate(q)))


    def _interpolate(self, q):
        rank = q * self.renders
        seen = 0
        lower = 0.0
        for index, count in enumerate(self.buckets):
            if index == len(RENDER_BUCKETS):
                return RENDER_BUCKETS[-1]
            upper = RENDER_BUCKETS[index]
            if count and seen + count >= rank:
                return lower + (upper - lower) * (rank - seen) / count
            seen += count
            lower = upper
        return RENDER_BUCKETS[-1]



class CacheStatistics(object):
    """
    The engine's statistics beyond its plain counters.

    @ivar started: When counting began, by the engine's clock.
    @ivar startedAt: When counting began, as a time of day.
    @ivar failures: The last refresh failures (L{RefreshFailures}).
    """

    def __init__(self, clock, counters, maxPages=64, topSize=32, sampleEvery=8,
                 exactHits=1000, maxFailures=20, now=time.time):
        """
        @param clock: The engine's clock (C{seconds()}).
        @param counters: The engine's counters (a L{dict}); this object adds
            C{uncacheable}, and counts C{hits} and C{staleHits} in it.
        @param maxPages: The most page classes counted apart.
        @param topSize: The size of the heavy-hitters sketch.
        @param sampleEvery: About one hit in this many feeds the sketch,
            after the first C{exactHits}, which all do.
        @param maxFailures: How many refresh failures are remembered.
        @param now: Gives the time of day (for failures and uptime).
        """
        self._clock = clock
        self._counters = counters
        counters.setdefault("uncacheable", 0)
        # Counted here, with each page's (hit, staleHit).
        counters.setdefault("hits", 0)
        counters.setdefault("staleHits", 0)
        self.maxPages = maxPages
        self.started = clock.seconds()
        self.startedAt = now()
        self._pages = {}
        self._other = PageStats(OTHER_PAGES)
        self._top = TopPages(topSize, sampleEvery, exactHits)
        # Hits until the next one feeds the sketch.
        self._countdown = 1
        self.failures = RefreshFailures(maxFailures, now)
        self._minutes = MinuteSeries(counters, self.started)
        self._nextTick = self.started
        self.tick(self.started)


    def _page(self, key):
        try:
            name = key.variant[0]
            hash(name)
        except Exception:
            # A key of the application's own making, without a page name.
            name = None
        page = self._pages.get(name)
        if page is None:
            text = pageNameOf(key)
            if len(self._pages) >= self.maxPages:
                page = self._other
            else:
                page = self._pages[name] = PageStats(text)
        return page


    def _pageOf(self, key):
        try:
            return self._pages[key.variant[0]]
        except (KeyError, IndexError, TypeError, AttributeError):
            return self._page(key)


    # What the engine calls: hit and staleHit count the event in its
    # counters too; miss before it counts it there (a new minute's totals
    # are taken first).

    def hit(self, key, now, stale=False):
        """
        A hit on C{key} at C{now} (the engine's clock), fresh or stale:
        counted for its page, and in the engine's counters (C{hits} or
        C{staleHits}), once; a new minute's totals taken first, and the hit
        counted towards the next sample of the heavy hitters (and sampled
        when its turn has come).
        """
        try:
            page = self._pages[key.variant[0]]
        except (KeyError, IndexError, TypeError, AttributeError):
            page = self._page(key)
        if now >= self._nextTick:
            self.tick(now)
        self._countdown -= 1
        if not self._countdown:
            self._countdown = self._top.sample(key)
        if stale:
            page.staleHits += 1
            self._counters["staleHits"] += 1
        else:
            page.hits += 1
            self._counters["hits"] += 1


    def staleHit(self, key, now):
        """
        A stale hit on C{key}, at C{now} (the engine's clock): L{hit}.
        """
        self.hit(key, now, True)


    def miss(self, key):
        """
        A lookup of C{key} found nothing to serve.
        """
        self.tick(self._clock.seconds())
        self._pageOf(key).misses += 1


    def uncacheable(self, key):
        """
        A miss on C{key} that could never be stored: a HEAD miss, or a
        response the storage rules refuse (a session, a cookie, a status
        other than 200, ...).
        """
        self._counters["uncacheable"] += 1
        self._pageOf(key).uncacheable += 1


    def rendered(self, key, seconds):
        """
        A render of C{key} for a request finished in C{seconds} (background
        refreshes, which give way to requests, are not timed).
        """
        page = self._pageOf(key)
        page.renders += 1
        page.renderSeconds += seconds
        if page.fastest is None or seconds < page.fastest:
            page.fastest = seconds
        if page.slowest is None or seconds > page.slowest:
            page.slowest = seconds
        index = 0
        for bound in RENDER_BUCKETS:
            if seconds <= bound:
                break
            index += 1
        page.buckets[index] += 1


    def refreshFailed(self, key, failure):
        """
        A background refresh of C{key} failed with C{failure}.
        """
        self.failures.add(key, failure)


    def tick(self, now):
        """
        Keep the counters' totals at the start of each minute.
        """
        if now < self._nextTick:
            return
        self._nextTick = self._minutes.mark(now, self.pages())


    # What the operator sees

    def pages(self):
        """
        @return: The L{PageStats} of every page class, C{(other)} last if
            used.
        """
        pages = sorted(self._pages.values(), key=lambda page: page.name)
        other = self._other
        if other.hits or other.staleHits or other.misses or other.renders:
            pages.append(other)
        return pages


    def top(self, n=10):
        """
        @return: C{[(key, estimatedHits, error), ...]}: the most hit pages,
            estimated from a sample of hits.
        """
        return self._top.top(n)


    def perMinute(self):
        """
        The counters of each minute of the last hour, oldest first.

        @return: C{[(minutesAgo, {counter: count}), ...]} for the minutes
            (current one included, as C{0}) since counting began.
        """
        now = self._clock.seconds()
        self.tick(now)
        return self._minutes.perMinute(now)


    def recent(self):
        """
        The counts of the last few minutes (L{nevowcache._operations.minutes.RECENT_MINUTES}, fewer just
        after start).

        @return: C{(seconds, totals, pages)}: the seconds covered, the
            engine counters' increase and, per page class name, C{(hits,
            staleHits, misses, uncacheable)} increases.
        """
        now = self._clock.seconds()
        self.tick(now)
        return self._minutes.recent(now, self.pages())


    def uptime(self):
        """
        @return: Seconds since counting began.
        """
        return max(0.0, self._clock.seconds() - self.started)
