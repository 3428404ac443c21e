"""
Tests for L{nevowcache._operations.stats} (and its collaborators:
L{nevowcache._operations.minutes}, L{nevowcache._operations.toppages},
L{nevowcache._operations.failures}, L{nevowcache._operations.describe}) and
L{nevowcache._operations.report}: what the engine records for the operator,
and the figures made of it.
"""

from __future__ import absolute_import, division

import json

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from twisted.web import resource, server

from nevowcache import CacheKey, MemoryStore, PageCache
from nevowcache._operations.report import hitRatio, report
from nevowcache._operations.describe import describeUrl
from nevowcache._operations.minutes import MINUTE
from nevowcache._operations.stats import CacheStatistics
from nevowcache._operations.toppages import SpaceSaving
from nevowcache.web import CachedResource

from tests._http import Exchange



class Page(CachedResource):
    """
    A cached page whose render takes C{self.delay} seconds of the clock.
    """
    isLeaf = True
    cacheTimeout = 10
    cacheGrace = 100

    def __init__(self, clock, delay=0.0, body=b"page", fail=False):
        CachedResource.__init__(self)
        self.clock = clock
        self.delay = delay
        self.body = body
        self.fail = fail


    def render_GET(self, request):
        if self.fail:
            raise RuntimeError("refresh <broken> & failed")
        if not self.delay:
            return self.body
        def done():
            request.write(self.body)
            request.finish()
        self.clock.callLater(self.delay, done)
        return server.NOT_DONE_YET



class Personal(Page):
    """
    Uses the session: never stored.
    """

    def render_GET(self, request):
        request.getSession()
        return b"yours"



class StatisticsTests(SynchronousTestCase):
    """
    The engine's records, through the twisted.web adapter.
    """

    def setUp(self):
        self.clock = Clock()
        self.clock.advance(1000 * MINUTE)
        self.cache = PageCache(MemoryStore(), reactor=self.clock)
        self.root = resource.Resource()
        self.site = server.Site(self.root, reactor=self.clock)
        self.site.sessionFactory = lambda site, uid: server.Session(
            site, uid, reactor=self.clock)
        self.fast = self.page(b"fast", Page(self.clock))
        self.slow = self.page(b"slow", Page(self.clock, delay=0.3))
        self.personal = self.page(b"personal", Personal(self.clock))


    def page(self, name, page):
        page.pageCache = self.cache
        self.root.putChild(name, page)
        return page


    def get(self, path, method=b"GET", advance=0.0):
        ex = Exchange(self.site, method=method, path=path)
        if advance:
            self.clock.advance(advance)
        self.assertTrue(ex.done(), ex.transport.value())
        return ex.response()


    def pages(self):
        return dict((p["name"].rsplit(".", 1)[-1], p) for p in report(self.cache)["pages"])


    def test_perPageClass(self):
        """
        Hits, stale hits, misses and uncacheable misses are counted per page
        class; HEAD misses and refused responses are uncacheable, once each,
        and the hit ratio leaves them out.
        """
        for _ in range(3):
            self.get(b"/fast")
        self.get(b"/fast?x=1", b"HEAD")
        self.get(b"/personal")
        self.get(b"/personal")
        self.clock.advance(11)
        self.get(b"/fast")
        self.clock.advance(0)
        pages = self.pages()
        fast, personal = pages["Page"], pages["Personal"]
        self.assertEqual((fast["hits"], fast["staleHits"], fast["misses"],
                          fast["uncacheable"]), (2, 1, 2, 1))
        self.assertEqual((personal["hits"], personal["misses"], personal["uncacheable"]),
                         (0, 2, 2))
        self.assertEqual(fast["hitRatio"], 3 / 4.0)
        self.assertIsNone(personal["hitRatio"])
        figures = report(self.cache)
        self.assertEqual((figures["misses"], figures["uncacheable"]), (4, 3))
        self.assertEqual(figures["hitRatio"], 3 / 4.0)
        self.assertEqual(figures["refreshes"], 1)


    def test_renderTimes(self):
        """
        Render times are kept per page class, in a histogram whose
        quantiles lie within the renders seen; the render time saved is
        the hits times the mean render time.
        """
        self.get(b"/slow", advance=0.3)
        for _ in range(4):
            self.get(b"/slow")
        slow = self.pages()["Page"]
        self.assertEqual(slow["renders"], 1)
        self.assertAlmostEqual(slow["renderSeconds"], 0.3)
        self.assertAlmostEqual(slow["renderP50"], 0.3)
        self.assertAlmostEqual(slow["renderP99"], 0.3)
        self.assertEqual(slow["renderBuckets"][8], 1)   # (0.25, 0.5]
        self.assertAlmostEqual(slow["renderSecondsSaved"], 1.2)
        self.assertAlmostEqual(report(self.cache)["renderSecondsSaved"], 1.2)


    def test_quantiles(self):
        """
        Quantiles are interpolated within the histogram's buckets, as
        Prometheus' C{histogram_quantile} does.
        """
        stats = CacheStatistics(self.clock, {})
        key = CacheKey((b"http", b"h", 80, (), (), ()), (u"P", (), None))
        for seconds in [0.002] * 50 + [0.02] * 49 + [2.0]:
            stats.rendered(key, seconds)
        page = stats.pages()[0]
        self.assertTrue(0.001 <= page.quantile(0.5) <= 0.0025, page.quantile(0.5))
        self.assertTrue(0.01 <= page.quantile(0.9) <= 0.025, page.quantile(0.9))
        self.assertTrue(1.0 <= page.quantile(0.999) <= 2.0, page.quantile(0.999))


    def test_historyPerMinute(self):
        """
        The history holds each minute's hits and misses, newest last, for
        the last hour only.
        """
        self.get(b"/fast")
        self.get(b"/fast")
        self.clock.advance(MINUTE)
        for _ in range(3):
            self.get(b"/fast")
        self.clock.advance(3 * MINUTE)
        self.get(b"/personal")
        history = report(self.cache)["history"]
        self.assertEqual([(m["minutesAgo"], m["hits"], m["staleHits"], m["misses"],
                           m["uncacheable"]) for m in history],
                         [(4, 1, 0, 1, 0), (3, 0, 3, 0, 0), (2, 0, 0, 0, 0),
                          (1, 0, 0, 0, 0), (0, 0, 0, 1, 1)])
        for _ in range(200):
            self.clock.advance(MINUTE)
            self.get(b"/fast")
        history = report(self.cache)["history"]
        self.assertEqual(len(history), 61)
        self.assertEqual(len(self.cache.statistics._minutes.history), 61)
        self.assertEqual([m["hits"] + m["staleHits"] for m in history], [1] * 61)


    def test_recent(self):
        """
        The recent figures cover the last few minutes only.
        """
        for _ in range(10):
            self.get(b"/personal")
        self.clock.advance(10 * MINUTE)
        self.get(b"/fast")
        for _ in range(3):
            self.get(b"/fast")
        recent = report(self.cache)["recent"]
        self.assertEqual((recent["hits"], recent["misses"], recent["uncacheable"]),
                         (3, 1, 0))
        self.assertEqual(recent["hitRatio"], 0.75)
        self.assertEqual(self.pages()["Page"]["recentHitRatio"], 0.75)
        self.assertIsNone(self.pages()["Personal"]["recentHitRatio"])


    def test_refreshFailures(self):
        """
        Failed refreshes are listed, newest first, with their URL, error
        and time, the last 20 only.
        """
        broken = self.page(b"broken", Page(self.clock))
        broken.cacheGrace = None
        self.cache.refreshBackoff = 0
        self.get(b"/broken?n=<x>")
        broken.fail = True
        for _ in range(25):
            self.clock.advance(11)
            self.get(b"/broken?n=<x>")
            self.clock.advance(0)
        failures = report(self.cache)["recentRefreshFailures"]
        self.assertEqual(len(failures), 20)
        self.assertEqual(failures[0]["url"], u"http://example.com:8080/broken?n=%3Cx%3E")
        self.assertEqual(failures[0]["error"], u"RuntimeError: refresh <broken> & failed")
        self.assertIsInstance(failures[0]["at"], float)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 25)


    def test_pageClassesBounded(self):
        """
        At most C{maxPages} page classes are counted apart; the others are
        counted together as C{(other)}.
        """
        stats = CacheStatistics(self.clock, {}, maxPages=3)
        for n in range(10):
            key = CacheKey((b"http", b"h", 80, (), (), ()), (u"P%d" % (n,), (), None))
            stats.hit(key, self.clock.seconds())
        names = [p.name for p in stats.pages()]
        self.assertEqual(names, [u"P0", u"P1", u"P2", u"(other)"])
        self.assertEqual(stats.pages()[-1].hits, 7)
        # Keys an application made itself, with no page name or an odd one.
        stats = CacheStatistics(self.clock, {})
        for variant in [(), None, ()]:
            stats.hit(CacheKey((b"http", b"h", 80, (), (), ()), variant),
                      self.clock.seconds())
        self.assertEqual([(p.name, p.hits) for p in stats.pages()], [(u"?", 3)])


    def test_otherPagesShownWithStaleHitsOnly(self):
        """
        The C{(other)} row is shown when its pages only had stale hits (they
        were rendered elsewhere, into a shared store).
        """
        stats = CacheStatistics(self.clock, {}, maxPages=1)
        for n in range(3):
            key = CacheKey((b"http", b"h", 80, (), (), ()), (u"P%d" % (n,), (), None))
            stats.staleHit(key, self.clock.seconds())
        self.assertEqual([(p.name, p.staleHits) for p in stats.pages()],
                         [(u"P0", 1), (u"(other)", 2)])


    def test_topPagesBounded(self):
        """
        The most hit pages are found among many others in bounded memory:
        the sketch keeps C{topSize} pages at most.
        """
        stats = CacheStatistics(self.clock, {}, topSize=16, sampleEvery=2)

        def key(path):
            return CacheKey((b"http", b"h", 80, (path,), (), ()), (u"P", (), None))
        hot, warm = key(b"hot"), key(b"warm")
        now = self.clock.seconds()
        for n in range(20000):
            stats.hit(hot if n % 4 == 0 else warm if n % 10 == 1 else key(b"%d" % n), now)
        self.assertEqual(len(stats._top.sketch.counts), 16)
        top = stats.top(2)
        self.assertEqual([k for k, _, _ in top], [hot, warm])
        self.assertTrue(4000 <= top[0][1] <= 6500, top)


    def test_spaceSaving(self):
        """
        Space-Saving counts exactly while it has room, then replaces the
        least counted item, which overestimates by at most its error.
        """
        sketch = SpaceSaving(2)
        for item in "aaab":
            sketch.add(item)
        self.assertEqual(sketch.top(5), [("a", 3, 0), ("b", 1, 0)])
        sketch.add("c")
        self.assertEqual(sketch.top(5), [("a", 3, 0), ("c", 2, 1)])


    def test_describeUrl(self):
        """
        A key's URL is spelt as a URL, quoted; the default port left out.
        """
        self.assertEqual(describeUrl((b"https", b"example.com", 443, (b"a b", b"c"),
                                      ((b"q", (b"1", b"<2>")),), (b"flag",))),
                         u"https://example.com/a%20b/c?q=1&q=%3C2%3E&flag")
        self.assertEqual(describeUrl((b"http", b"h", 8080, (), (), ())), u"http://h:8080/")
        self.assertTrue(describeUrl((b"http", b"h", 80, (b"x" * 1000,), (), ()))
                        .endswith(u"\u2026"))
        self.assertEqual(len(describeUrl((b"http", b"h", 80, (b"x" * 1000,), (), ()))), 300)
        self.assertIsInstance(describeUrl(u"not a url"), type(u""))


    def test_hitRatio(self):
        """
        The hit ratio counts hits and stale hits against the misses that
        could have been stored.
        """
        self.assertEqual(hitRatio(3, 1, 5, 1), 0.5)
        self.assertIsNone(hitRatio(0, 0, 2, 2))
        self.assertEqual(hitRatio(1, 0, 0, 0), 1.0)


    def test_reportIsJSON(self):
        """
        The report goes through JSON as it is.
        """
        self.get(b"/fast")
        self.get(b"/fast")
        figures = report(self.cache)
        self.assertEqual(json.loads(json.dumps(figures))["hits"], 1)
        for name in ("version", "uptime", "startedAt", "hitRatio", "requestsPerSecond",
                     "recent", "pages", "renderSecondsSaved", "top",
                     "recentRefreshFailures", "history", "maxBytes", "bytes", "entries",
                     "evictions", "refreshesRunning"):
            self.assertIn(name, figures)
