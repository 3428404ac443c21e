"""
Tests for L{nevowcache.admin.AdminResource}.
"""

from __future__ import absolute_import, division

import json

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from twisted.web import resource, server

from nevowcache import MemoryStore, PageCache
from nevowcache.admin import AdminResource

from tests._http import Exchange


class AdminResourceTests(SynchronousTestCase):
    """
    Statistics and purging, for loopback or token holders only.
    """

    def setUp(self):
        self.clock = Clock()
        self.cache = PageCache(MemoryStore(), reactor=self.clock)
        self.invalidated = []
        self.patch(self.cache.store, "invalidate",
                   lambda url, hard: self.invalidated.append((url, hard)))
        self.scopes = []
        self.patch(self.cache.store, "invalidateScope",
                   lambda scope, hard: self.scopes.append((scope, hard)))


    def site(self, token=None):
        root = resource.Resource()
        root.putChild(b"_cache", AdminResource(self.cache, token=token))
        return server.Site(root, reactor=self.clock)


    def get(self, site, path, method=b"GET", headers=(), peer="127.0.0.1"):
        ex = Exchange(site, method=method, path=path, headers=headers, peer=(peer, 40000))
        return ex.response()


    def test_statsFromLoopback(self):
        """
        Without a token, loopback clients see the statistics, as HTML and
        JSON, marked never to be stored.
        """
        site = self.site()
        page = self.get(site, b"/_cache/")
        self.assertEqual(page.code, 200)
        self.assertIn(b"<th>hits</th>", page.body)
        self.assertEqual(page.header(b"cache-control"), b"no-store")
        stats = json.loads(self.get(site, b"/_cache/stats.json").body.decode("ascii"))
        self.assertEqual(stats["hits"], 0)


    def test_othersForbidden(self):
        """
        Without a token, other clients get C{403} and purge nothing.
        """
        site = self.site()
        for path, method in [(b"/_cache/", b"GET"), (b"/_cache/stats.json", b"GET"),
                             (b"/_cache/purge?url=http://example.com/", b"POST")]:
            self.assertEqual(self.get(site, path, method, peer="10.1.2.3").code, 403)
        self.assertEqual(self.invalidated, [])


    def test_purgeFromLoopback(self):
        """
        C{POST /purge?url=...} invalidates that URL, softly unless
        C{hard=1}; C{PURGE} does the same.
        """
        site = self.site()
        response = self.get(site, b"/_cache/purge?url=http://example.com:8080/p%3Fa=1",
                             b"POST")
        self.assertEqual(response.code, 200)
        self.get(site, b"/_cache/purge?url=http://example.com/q&hard=1", b"PURGE")
        self.assertEqual(
            [(url[:4], hard) for url, hard in self.invalidated],
            [((b"http", b"example.com", 8080, (b"p",)), False),
             ((b"http", b"example.com", 80, (b"q",)), True)])


    def test_purgePrefixAndTag(self):
        """
        C{POST /purge?prefix=...} invalidates a path prefix, and
        C{?tag=...} a tag, softly unless C{hard=1}; C{BAN} with C{url} or
        C{prefix} invalidates the prefix.
        """
        site = self.site()
        for path, method in [
                (b"/_cache/purge?prefix=http://example.com:8080/blog/", b"POST"),
                (b"/_cache/purge?tag=news&hard=1", b"PURGE"),
                (b"/_cache/purge?url=http://example.com/a", b"BAN"),
                (b"/_cache/purge?prefix=http://example.com/b&hard=1", b"BAN")]:
            response = self.get(site, path, method)
            self.assertEqual(response.code, 200, path)
        self.assertEqual(self.scopes, [
            ((b"p", b"http", b"example.com", 8080, (b"blog",)), False),
            ((b"t", u"news"), True),
            ((b"p", b"http", b"example.com", 80, (b"a",)), False),
            ((b"p", b"http", b"example.com", 80, (b"b",)), True)])
        self.assertEqual(self.invalidated, [])


    def test_purgeNeedsOneTarget(self):
        """
        A purge naming none or several of C{url}, C{prefix} and C{tag}, a
        relative prefix, or a C{BAN} of a tag, is a C{400} and purges
        nothing; others cannot purge prefixes or tags either.
        """
        site = self.site()
        for path, method in [
                (b"/_cache/purge?url=http://example.com/&tag=news", b"POST"),
                (b"/_cache/purge?prefix=/relative", b"POST"),
                (b"/_cache/purge?tag=news", b"BAN")]:
            self.assertEqual(self.get(site, path, method).code, 400, path)
        for path in [b"/_cache/purge?prefix=http://example.com/",
                     b"/_cache/purge?tag=news"]:
            self.assertEqual(self.get(site, path, b"POST", peer="10.1.2.3").code, 403)
        self.assertEqual((self.invalidated, self.scopes), ([], []))


    def test_purgeNeedsUrl(self):
        """
        A purge without a valid absolute URL is a C{400}.
        """
        site = self.site()
        self.assertEqual(self.get(site, b"/_cache/purge", b"POST").code, 400)
        self.assertEqual(self.get(site, b"/_cache/purge?url=/relative", b"POST").code, 400)
        self.assertEqual(self.invalidated, [])


    def test_getDoesNotPurge(self):
        """
        A GET of the purge URL purges nothing.
        """
        site = self.site()
        self.assertEqual(self.get(site, b"/_cache/purge?url=http://example.com/").code, 404)
        self.assertEqual(self.invalidated, [])


    def test_token(self):
        """
        With a token, the token is needed, from anywhere, loopback too.
        """
        site = self.site(token=u"s3cret")
        purge = b"/_cache/purge?url=http://example.com/"
        self.assertEqual(self.get(site, purge, b"POST").code, 403)
        self.assertEqual(self.get(site, purge, b"POST", [b"X-Cache-Token: wrong"]).code, 403)
        self.assertEqual(self.invalidated, [])
        self.assertEqual(self.get(site, purge, b"POST", [b"X-Cache-Token: s3cret"],
                                  peer="10.1.2.3").code, 200)
        self.assertEqual(self.get(site, purge, b"POST",
                                  [b"Authorization: Bearer s3cret"]).code, 200)
        self.assertEqual(len(self.invalidated), 2)
