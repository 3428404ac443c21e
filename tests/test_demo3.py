"""
The twisted.web demo site (L{demo.site3}) answers as its pages say.
"""

from __future__ import absolute_import, division

import json

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from nevowcache import MemoryStore, PageCache

from demo import site3
from tests._http import Exchange



class DemoTests(SynchronousTestCase):
    """
    Every page of the demo, in memory.
    """

    def setUp(self):
        self.clock = Clock()
        self.cache = PageCache(MemoryStore(), reactor=self.clock)
        self.site = site3.makeSite(self.cache, reactor=self.clock)


    def get(self, path):
        ex = Exchange(self.site, path=path, host=b"127.0.0.1")
        self.assertTrue(ex.done(), ex.transport.value())
        return ex.response()


    def test_homeCachedThenStale(self):
        """
        The home page is stored, hit for 10 seconds, then served stale while
        it refreshes.
        """
        first = self.get(b"/")
        self.assertEqual(first.cacheStatus, b"nevowcache; fwd=uri-miss; ttl=10; stored")
        self.assertTrue(first.body.startswith(b"<!DOCTYPE html>\n<html>"))
        self.assertEqual(self.get(b"/").body, first.body)
        self.clock.advance(11)
        self.assertEqual(self.get(b"/").cacheStatus, b"nevowcache; hit; ttl=-1")
        self.clock.advance(0)
        fresh = self.get(b"/")
        self.assertEqual(fresh.cacheStatus, b"nevowcache; hit; ttl=10")
        self.assertNotEqual(fresh.body, first.body)


    def test_slowPages(self):
        """
        C{/slow} is cached, C{/slow-uncached} is not; both show the same
        table.
        """
        slow = self.get(b"/slow")
        self.assertEqual(self.get(b"/slow").cacheStatus, b"nevowcache; hit; ttl=60")
        uncached = self.get(b"/slow-uncached")
        self.assertIsNone(uncached.cacheStatus)
        self.assertIn(b"<td>99</td><td>9801</td>", slow.body)
        self.assertEqual(slow.body, uncached.body)


    def test_sessionNeverStored(self):
        """
        The session page is answered, with its session cookie, and never
        stored.
        """
        for _ in range(2):
            response = self.get(b"/session")
            self.assertEqual(response.cacheStatus,
                             b"nevowcache; fwd=uri-miss; detail=session")
            self.assertIn(b"TWISTED_SESSION", response.header(b"set-cookie"))
        self.assertEqual(self.cache.stats()["entries"], 0)


    def test_status(self):
        """
        The status pages show the cache's statistics.
        """
        self.get(b"/")
        self.get(b"/")
        self.assertIn(b"<th>hits</th><td>1</td>", self.get(b"/status").body)
        stats = json.loads(self.get(b"/status.json").body.decode("ascii"))
        self.assertEqual(stats["hits"], 1)
        self.assertEqual(stats["misses"], 1)


    def test_operatorResource(self):
        """
        The operator's resource is at C{/_cache/}: the status page,
        C{stats.json}, C{metrics}, and the README's purge walkthrough.
        """
        walkthrough(self, self.get, self.site)



def assertStored(case, cacheStatus):
    """
    A C{Cache-Status} saying a miss was rendered and stored.
    """
    case.assertTrue(cacheStatus.startswith(b"nevowcache; fwd=uri-miss"), cacheStatus)
    case.assertTrue(cacheStatus.endswith(b"; stored"), cacheStatus)



def walkthrough(case, get, site):
    """
    The README's walkthrough against a demo site: a miss, a hit, a 304 for
    the entry's ETag, a hard purge through C{/_cache/purge}, then a fresh
    render; and the operator's pages.
    """
    from tests._http import Exchange

    def send(path, method=b"GET", headers=()):
        ex = Exchange(site, method=method, path=path, headers=headers, host=b"127.0.0.1")
        case.assertTrue(ex.done(), ex.transport.value())
        # The Nevow demo's site runs on the global reactor: no connection
        # timeout may be left on it.
        ex.disconnect()
        return ex.response()
    assertStored(case, send(b"/").cacheStatus)
    hit = send(b"/")
    case.assertTrue(hit.cacheStatus.startswith(b"nevowcache; hit"), hit.cacheStatus)
    etag = hit.header(b"etag")
    case.assertEqual(send(b"/", headers=[b"If-None-Match: " + etag]).code, 304)
    purge = send(b"/_cache/purge?url=http://127.0.0.1:8080/&hard=1", b"PURGE")
    case.assertEqual(purge.code, 200, purge.body)
    case.assertEqual(json.loads(purge.body.decode("ascii"))["invalidated"],
                     u"http://127.0.0.1:8080/")
    assertStored(case, send(b"/").cacheStatus)
    page = send(b"/_cache/")
    case.assertEqual(page.code, 200)
    case.assertIn(b"<h2>Hit ratio</h2>", page.body)
    case.assertIn(b"<svg", page.body)
    stats = json.loads(send(b"/_cache/stats.json").body.decode("ascii"))
    case.assertEqual((stats["hits"], stats["misses"]), (2, 2))
    metrics = send(b"/_cache/metrics")
    case.assertIn(b"nevowcache_hits_total{", metrics.body)
    # From elsewhere, or through a proxy: nothing.
    case.assertEqual(send(b"/_cache/", headers=[b"X-Forwarded-For: 1.2.3.4"]).code, 403)
