# -*- test-case-name: tests.test_stats -*-
"""
One report of a L{PageCache}'s figures, for the admin's page, its
C{stats.json} and the metrics: the engine's and the store's counters, and
what L{nevowcache._operations.stats.CacheStatistics} derives from its records.
"""

from __future__ import absolute_import, division

from nevowcache._operations.describe import describeUrl, pageNameOf
from nevowcache._operations.stats import RENDER_BUCKETS

__all__ = ["report", "hitRatio"]



def hitRatio(hits, staleHits, misses, uncacheable):
    """
    The share of the requests the cache could have answered that it did:
    C{(hits + staleHits) / (hits + staleHits + misses - uncacheable)}.
    Requests that bypassed the cache, and misses that could never have
    been stored, do not count.

    @return: A L{float} in C{[0, 1]}, or L{None} when nothing counts yet.
    """
    answered = hits + staleHits
    total = answered + max(0, misses - uncacheable)
    if total <= 0:
        return None
    return min(1.0, answered / total)



def _store(cache):
    store = cache.store
    return getattr(store, "name", None) or type(store).__name__



def report(cache, version=None, top=10):
    """
    Gather every figure of a cache.

    @param cache: A L{PageCache}.
    @param version: The version to report; by default nevowcache's.
    @param top: How many of the most hit pages to list.
    @return: A L{dict} that L{json.dumps} takes: the flat counters of
        L{PageCache.stats}, and C{version}, C{uptime}, C{startedAt},
        C{hitRatio}, C{requestsPerSecond}, C{recent} (the last minutes'
        C{seconds}, C{hitRatio}, C{requestsPerSecond} and counts),
        C{pages} (per page class), C{renderSecondsSaved}, C{top},
        C{recentRefreshFailures}, C{history} (per minute, oldest first),
        C{store} and C{renderBuckets}.
    """
    if version is None:
        from nevowcache import __version__ as version
    stats = cache.stats()
    statistics = cache.statistics
    uptime = statistics.uptime()
    result = dict(stats)
    result["version"] = version
    result["uptime"] = uptime
    result["startedAt"] = statistics.startedAt
    result["store"] = _store(cache)
    result["hitRatio"] = hitRatio(stats["hits"], stats["staleHits"], stats["misses"],
                                  stats["uncacheable"])
    requests = (stats["hits"] + stats["staleHits"] + stats["misses"]
                + stats["bypasses"])
    result["requests"] = requests
    result["requestsPerSecond"] = requests / uptime if uptime > 0 else 0.0
    seconds, totals, recentPages = statistics.recent()
    recent = dict(totals)
    recent["seconds"] = seconds
    recent["hitRatio"] = hitRatio(totals["hits"], totals["staleHits"], totals["misses"],
                                  totals["uncacheable"])
    recent["requestsPerSecond"] = (totals["hits"] + totals["staleHits"]
                                   + totals["misses"] + totals["bypasses"]) / seconds
    result["recent"] = recent
    pages = []
    saved = 0.0
    for page in statistics.pages():
        mean = page.renderSeconds / page.renders if page.renders else None
        pageSaved = (page.hits + page.staleHits) * mean if mean is not None else 0.0
        saved += pageSaved
        last = recentPages.get(page.name, (0, 0, 0, 0))
        pages.append({
            "name": page.name, "hits": page.hits, "staleHits": page.staleHits,
            "misses": page.misses, "uncacheable": page.uncacheable,
            "hitRatio": hitRatio(*page.counts()),
            "recentHitRatio": hitRatio(*last),
            "renders": page.renders, "renderSeconds": page.renderSeconds,
            "renderMean": mean, "renderP50": page.quantile(0.5),
            "renderP99": page.quantile(0.99), "renderBuckets": list(page.buckets),
            "renderSecondsSaved": pageSaved})
    result["pages"] = pages
    result["renderSecondsSaved"] = saved
    result["top"] = [{"url": describeUrl(getattr(key, "url", key)),
                      "page": pageNameOf(key), "hits": count, "error": error}
                     for key, count, error in statistics.top(top)]
    result["recentRefreshFailures"] = list(statistics.failures)
    result["history"] = [dict(counts, minutesAgo=ago)
                         for ago, counts in statistics.perMinute()]
    result["renderBuckets"] = list(RENDER_BUCKETS)
    return result
