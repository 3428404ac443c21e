"""
Tests for L{nevowcache.metrics}: the Prometheus exposition, checked with
C{prometheus_client}'s own parser, and the collector.
"""

from __future__ import absolute_import, division

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from twisted.web import resource, server

from nevowcache import CacheKey, MemoryStore, PageCache
from nevowcache.admin import AdminResource
from nevowcache.metrics import PageCacheCollector, prometheusText

from tests._http import Exchange
from tests.test_stats import Page, Personal

try:
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    text_string_to_metric_families = None



def parse(text):
    """
    Parse an exposition with prometheus_client's parser.

    @return: C{{family name: (type, {(sample name, sorted labels): value})}}.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    out = {}
    for family in text_string_to_metric_families(text):
        samples = out.setdefault(family.name, (family.type, {}))[1]
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out



class MetricsTests(SynchronousTestCase):
    """
    C{/_cache/metrics} and L{PageCacheCollector}.
    """
    if text_string_to_metric_families is None:
        skip = "prometheus_client is not installed (requirements/*.txt)"

    def setUp(self):
        self.clock = Clock()
        self.cache = PageCache(MemoryStore(), reactor=self.clock)
        root = resource.Resource()
        self.site = server.Site(root, reactor=self.clock)
        self.site.sessionFactory = lambda site, uid: server.Session(
            site, uid, reactor=self.clock)
        for name, page in [(b"p", Page(self.clock, delay=0.02)),
                           (b"personal", Personal(self.clock))]:
            page.pageCache = self.cache
            root.putChild(name, page)
        root.putChild(b"_cache", AdminResource(self.cache))
        self.get(b"/p?a=<1>", advance=0.02)
        self.get(b"/p?a=<1>")
        self.get(b"/p?a=<1>")
        self.get(b"/personal")


    def get(self, path, advance=0.0):
        ex = Exchange(self.site, path=path)
        if advance:
            self.clock.advance(advance)
        self.assertTrue(ex.done())
        return ex.response()


    def test_exposition(self):
        """
        C{/_cache/metrics} is the Prometheus text format: counters named
        C{..._total}, gauges, and a render-time histogram per page class,
        whose only label is the page class.
        """
        response = self.get(b"/_cache/metrics")
        self.assertEqual(response.code, 200)
        self.assertEqual(response.header(b"content-type"),
                         b"text/plain; version=0.0.4; charset=utf-8")
        families = parse(response.body)
        page = u"tests.test_stats.Page"
        kind, samples = families["nevowcache_hits"]
        self.assertEqual(kind, "counter")
        self.assertEqual(samples[("nevowcache_hits_total", (("page", page),))], 2)
        _, samples = families["nevowcache_misses"]
        self.assertEqual(samples[("nevowcache_misses_total", (("page", page),))], 1)
        _, samples = families["nevowcache_uncacheable"]
        self.assertEqual(samples[("nevowcache_uncacheable_total",
                                  (("page", u"tests.test_stats.Personal"),))], 1)
        self.assertEqual(families["nevowcache_renders"][0], "counter")
        self.assertEqual(families["nevowcache_renders"][1][("nevowcache_renders_total", ())],
                         2)
        self.assertEqual(families["nevowcache_entries"],
                         ("gauge", {("nevowcache_entries", ()): 1}))
        self.assertEqual(families["nevowcache_max_bytes"][1][("nevowcache_max_bytes", ())],
                         64 * 1024 * 1024)
        kind, samples = families["nevowcache_render_seconds"]
        self.assertEqual(kind, "histogram")
        labels = (("le", "0.025"), ("page", page))
        self.assertEqual(samples[("nevowcache_render_seconds_bucket", labels)], 1)
        self.assertEqual(samples[("nevowcache_render_seconds_bucket",
                                  (("le", "0.01"), ("page", page)))], 0)
        self.assertEqual(samples[("nevowcache_render_seconds_bucket",
                                  (("le", "+Inf"), ("page", page)))], 1)
        self.assertEqual(samples[("nevowcache_render_seconds_count", (("page", page),))], 1)
        self.assertAlmostEqual(
            samples[("nevowcache_render_seconds_sum", (("page", page),))], 0.02)
        # Buckets are cumulative.
        for name in (page, u"tests.test_stats.Personal"):
            counts = [value for (sample, labels), value in sorted(
                samples.items(), key=lambda item: float(dict(item[0][1]).get("le", "nan")))
                if sample.endswith("_bucket") and dict(labels)["page"] == name]
            self.assertEqual(counts, sorted(counts))
        self.assertEqual(families["nevowcache_info"][0], "gauge")


    def test_noUrlLabels(self):
        """
        No label value is a URL, however many URLs are served: label values
        are page classes, bucket bounds, breaker states, the version and the
        store.
        """
        for n in range(50):
            self.get(b"/p?n=%d" % (n,), advance=0.02)
        families = parse(self.get(b"/_cache/metrics").body)
        names = set()
        series = 0
        for kind, samples in families.values():
            for (sample, labels), value in samples.items():
                series += 1
                for label, text in labels:
                    names.add(label)
                    self.assertNotIn(u"/", text)
                    self.assertNotIn(u"<", text)
        self.assertEqual(names, set(["page", "le", "version", "store"]))
        self.assertLess(series, 150)


    def test_labelEscaping(self):
        """
        Page class names with quotes, backslashes and new lines are escaped
        in labels and parse back as they were.
        """
        odd = u'odd "name"\\ with\nnewline'
        key = CacheKey((b"http", b"h", 80, (), (), ()), (odd, (), None))
        self.cache.statistics.hit(key, self.clock.seconds())
        families = parse(prometheusText(self.cache))
        self.assertEqual(families["nevowcache_hits"][1][
            ("nevowcache_hits_total", (("page", odd),))], 1)


    def test_collector(self):
        """
        L{PageCacheCollector} gives an application's registry the same
        families and values as C{/_cache/metrics}.
        """
        registry = CollectorRegistry()
        registry.register(PageCacheCollector(self.cache))
        collected = parse(generate_latest(registry))
        served = parse(self.get(b"/_cache/metrics").body)
        ignore = ("nevowcache_uptime_seconds",)
        for name, (kind, samples) in served.items():
            if name in ignore:
                continue
            self.assertEqual(collected[name][0], kind, name)
            for key, value in samples.items():
                if key[0].endswith("_created"):
                    continue
                self.assertAlmostEqual(collected[name][1][key], value, msg=repr(key))
        self.assertEqual(
            set(collected) - set(["nevowcache_render_seconds_created"]), set(served))


    def test_sharedStoreHealth(self):
        """
        A shared store's health (its circuit breaker's state, its calls and
        failures) is on the status page and in the metrics.
        """
        stats = self.cache.store.stats
        self.patch(self.cache.store, "stats", lambda: dict(
            stats(), circuit="open", storeCalls=10, storeFailures=4, storeTimeouts=1,
            shortCircuits=3, connects=2))
        families = parse(prometheusText(self.cache))
        self.assertEqual(families["nevowcache_store_circuit"][1], {
            ("nevowcache_store_circuit", (("state", "closed"),)): 0,
            ("nevowcache_store_circuit", (("state", "open"),)): 1,
            ("nevowcache_store_circuit", (("state", "half-open"),)): 0})
        self.assertEqual(families["nevowcache_store_failures"][1],
                         {("nevowcache_store_failures_total", ()): 4})
        self.assertEqual(families["nevowcache_store_short_circuits"][1],
                         {("nevowcache_store_short_circuits_total", ()): 3})
        page = self.get(b"/_cache/").body
        self.assertIn(b'<td>circuit</td><td class="n"><span class="bad">open</span></td>',
                      page)
        self.assertIn(b'<td>storeFailures</td><td class="n">4</td>', page)


    def test_networkStores(self):
        """
        With memcached or Redis, whose server alone knows the entries and
        bytes, the page, C{stats.json} and the metrics still answer, with
        the store's circuit.
        """
        from nevowcache import MemcachedStore, RedisStore
        from nevowcache._operations.adminpage import statusPage
        from nevowcache._operations.report import report
        for storeClass in (MemcachedStore, RedisStore):
            cache = PageCache(storeClass("127.0.0.1", 1, reactor=self.clock),
                              reactor=self.clock)
            figures = report(cache)
            self.assertEqual((figures["entries"], figures["circuit"]), (None, "closed"))
            page = statusPage(figures, u".", u"token")
            self.assertIn(b"<h2>Entries</h2>", page)
            self.assertIn(b'<span class="ok">closed</span>', page)
            families = parse(prometheusText(cache))
            self.assertNotIn("nevowcache_entries", families)
            self.assertEqual(families["nevowcache_info"][1][
                ("nevowcache_info", (("store", storeClass.name), ("version", "0.1.0")))], 1)
