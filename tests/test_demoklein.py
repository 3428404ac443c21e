"""
The Klein demo (L{demo.kleinblog}) answers as its routes say, and the
README's walkthrough holds against it.
"""

from __future__ import absolute_import, division

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from nevowcache import MemoryStore, PageCache

from tests._http import Exchange
from tests.test_demo3 import walkthrough

try:
    from demo import kleinblog
except ImportError:
    kleinblog = None



class DemoTests(SynchronousTestCase):
    """
    Every route of the demo, in memory.
    """
    if kleinblog is None:
        skip = "Klein (requirements/py3.txt) is installed on Python 3 only"

    def setUp(self):
        self.clock = Clock()
        self.cache = PageCache(MemoryStore(), reactor=self.clock)
        self.site = kleinblog.makeSite(self.cache, reactor=self.clock)
        self.app = self.site.app


    def send(self, path, method=b"GET", headers=(), body=b"", host=b"127.0.0.1"):
        ex = Exchange(self.site, method=method, path=path, headers=headers, body=body,
                      host=host)
        self.assertTrue(ex.done(), ex.transport.value())
        return ex.response()


    def test_homeCachedThenStale(self):
        """
        The list of posts is stored, hit for 10 seconds, then served stale
        while one background call of the route refreshes it.
        """
        first = self.send(b"/")
        self.assertEqual(first.cacheStatus, b"nevowcache; fwd=uri-miss; ttl=10; stored")
        self.assertTrue(first.body.startswith(b"<!DOCTYPE html>\n<html>"), first.body[:40])
        self.assertIn(b'<a href="/post/1">Hello</a>', first.body)
        self.assertEqual(self.send(b"/").body, first.body)
        self.assertEqual(self.app.calls["home"], 1)
        self.clock.advance(11)
        self.assertEqual(self.send(b"/").cacheStatus, b"nevowcache; hit; ttl=-1")
        self.clock.advance(0)
        self.assertEqual(self.app.calls["home"], 2)
        fresh = self.send(b"/")
        self.assertEqual(fresh.cacheStatus, b"nevowcache; hit; ttl=10")


    def test_editShowsAtOnce(self):
        """
        Posting the form saves the post, invalidates it and the list on
        every host, and redirects to the post, which shows the edit.
        """
        for host in (b"127.0.0.1", b"localhost"):
            self.send(b"/", host=host)
            self.send(b"/post/1", host=host)
        self.assertEqual(self.send(b"/post/1").cacheStatus, b"nevowcache; hit; ttl=60")
        body = b"title=Edited&text=New+text"
        saved = self.send(b"/post/1/edit", b"POST", body=body, headers=[
            b"Content-Type: application/x-www-form-urlencoded"])
        self.assertEqual(saved.code, 303)
        self.assertEqual(saved.header(b"location"), b"/post/1")
        for host in (b"127.0.0.1", b"localhost"):
            post = self.send(b"/post/1", host=host)
            self.assertEqual(post.cacheStatus, b"nevowcache; fwd=uri-miss; ttl=60; stored")
            self.assertIn(b"<h1>Edited</h1>", post.body)
            self.assertIn(b"Edited", self.send(b"/", host=host).body)
        self.assertEqual(self.send(b"/post/2").code, 200)
        self.assertEqual(self.send(b"/post/3").cacheStatus,
                         b"nevowcache; fwd=uri-miss; detail=status-404; fwd-status=404")


    def test_slowPages(self):
        """
        C{/slow} is cached, C{/slow-uncached} is not; both show the same
        table.
        """
        slow = self.send(b"/slow")
        self.assertEqual(self.send(b"/slow").cacheStatus, b"nevowcache; hit; ttl=60")
        uncached = self.send(b"/slow-uncached")
        self.assertIsNone(uncached.cacheStatus)
        self.assertIn(b"<td>99</td><td>9801</td>", slow.body)
        self.assertEqual(slow.body, uncached.body)


    def test_sessionNeverStored(self):
        """
        The session route is answered, with its session cookie, and never
        stored.
        """
        for _ in range(2):
            response = self.send(b"/session")
            self.assertEqual(response.cacheStatus, b"nevowcache; fwd=uri-miss; detail=session")
            self.assertIn(b"TWISTED_SESSION", response.header(b"set-cookie"))
        self.assertEqual(self.cache.stats()["entries"], 0)


    def test_walkthrough(self):
        """
        The README's walkthrough: a miss, a hit, a 304, a purge through
        C{/_cache/purge}, a fresh render, and the operator's pages.
        """
        walkthrough(self, self.send, self.site)
