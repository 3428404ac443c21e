"""
Tests for L{nevowcache.admin.AdminResource}.
"""

from __future__ import absolute_import, division

import json
import re

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from twisted.web import resource, server

from nevowcache import MemoryStore, PageCache
from nevowcache.admin import AdminResource

from tests._http import Exchange
from tests.test_demo3 import assertStored
from tests.test_stats import Page, Personal


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
                (b"/_cache/purge?prefix=relative", b"POST"),
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
        self.assertEqual(self.get(site, b"/_cache/purge?url=relative", b"POST").code, 400)
        self.assertEqual(self.invalidated, [])


    def test_getDoesNotPurge(self):
        """
        A GET of the purge URL purges nothing: it is a C{405} naming the
        methods that purge; other methods of the pages are C{405}s too.
        """
        site = self.site()
        response = self.get(site, b"/_cache/purge?url=http://example.com/")
        self.assertEqual(response.code, 405)
        self.assertEqual(response.header(b"allow"), b"POST, PURGE, BAN")
        self.assertEqual(self.invalidated, [])
        for path in [b"/_cache/", b"/_cache/stats.json"]:
            response = self.get(site, path, b"POST")
            self.assertEqual((response.code, response.header(b"allow")),
                             (405, b"GET, HEAD"), path)
        self.assertEqual(self.get(site, b"/_cache/nothing").code, 404)
        self.assertEqual(self.get(site, b"/_cache/purge/x", b"POST").code, 404)


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


    def test_proxiedNeverLocal(self):
        """
        Without a token, a loopback request carrying a header a reverse
        proxy adds (C{X-Forwarded-For}, C{Forwarded}, C{X-Real-IP}, C{Via},
        in any case, with any value, even empty) is not local: C{403},
        nothing purged, no statistics.
        """
        site = self.site()
        headers = [b"X-Forwarded-For: 127.0.0.1", b"x-forwarded-for:", b"FORWARDED: for=1.2.3.4",
                   b"Forwarded: for=127.0.0.1", b"X-Real-IP: 127.0.0.1", b"x-real-ip: ",
                   b"Via: 1.1 proxy", b"VIA:", b"X-Forwarded-Host: example.com",
                   b"X_Forwarded_For: 1.2.3.4"]
        for header in headers:
            for path, method in [(b"/_cache/", b"GET"), (b"/_cache/stats.json", b"GET"),
                                 (b"/_cache/purge?url=http://example.com/", b"PURGE"),
                                 (b"/_cache/purge?tag=news", b"BAN"),
                                 (b"/_cache/purge?prefix=http://example.com/", b"POST")]:
                response = self.get(site, path, method, [header])
                self.assertEqual(response.code, 403, (header, path))
                self.assertNotIn(b"hits", response.body)
        self.assertEqual((self.invalidated, self.scopes), ([], []))
        # With the token, a proxied request is fine.
        site = self.site(token=u"s3cret")
        self.assertEqual(self.get(site, b"/_cache/purge?url=http://example.com/", b"PURGE",
                                  [b"X-Forwarded-For: 1.2.3.4", b"X-Cache-Token: s3cret"],
                                  peer="10.1.2.3").code, 200)


    def test_loopbackAddresses(self):
        """
        Loopback is C{127.0.0.0/8} and C{::1} (and IPv4-mapped loopback);
        other addresses that merely start alike are not.
        """
        from nevowcache._operations.admingate import _isLoopback
        for host in [u"127.0.0.1", u"127.5.6.7", u"::1", u"::ffff:127.0.0.1"]:
            self.assertTrue(_isLoopback(host), host)
        for host in [u"::1:2", u"::10", u"10.127.0.1", u"", u"::ffff:10.0.0.1"]:
            self.assertFalse(_isLoopback(host), host)


    def test_crossSiteRefused(self):
        """
        A request another site's page sent (an C{Origin} that is not the
        request's own, or C{Sec-Fetch-Site} other than C{same-origin} or
        C{none}) is a C{403} and purges nothing, from loopback and with the
        token alike; the operator's own requests pass.
        """
        site = self.site()
        purge = b"/_cache/purge?url=http://example.com/"
        hostile = [
            [b"Origin: http://evil.example", b"Sec-Fetch-Site: cross-site"],
            [b"Origin: http://evil.example"],
            [b"Origin: null"],
            [b"Origin: https://example.com"],
            [b"Origin: http://example.com:8080"],
            [b"Sec-Fetch-Site: cross-site"],
            [b"Sec-Fetch-Site: same-site"],
            [b"Origin: http://example.com", b"Sec-Fetch-Site: cross-site"],
        ]
        for headers in hostile:
            for method in [b"POST", b"PURGE", b"BAN"]:
                response = self.get(site, purge, method, headers)
                self.assertEqual(response.code, 403, (headers, method))
                self.assertIn(b"cross-site", response.body)
            response = self.get(site, b"/_cache/stats.json", b"GET", headers)
            self.assertEqual(response.code, 403, headers)
        tokenSite = self.site(token=u"s3cret")
        self.assertEqual(self.get(tokenSite, purge, b"PURGE",
                                  [b"X-Cache-Token: s3cret",
                                   b"Origin: http://evil.example"]).code, 403)
        self.assertEqual((self.invalidated, self.scopes), ([], []))
        # The operator's own: same origin, or typed in, or a link followed
        # from elsewhere to the page (a navigation changes nothing).
        for method, path, headers in [
                (b"PURGE", purge, [b"Origin: http://EXAMPLE.com:80",
                                   b"Sec-Fetch-Site: same-origin"]),
                (b"PURGE", purge, [b"Sec-Fetch-Site: none"]),
                (b"GET", b"/_cache/", [b"Sec-Fetch-Site: cross-site",
                                       b"Sec-Fetch-Mode: navigate"])]:
            self.assertEqual(self.get(site, path, method, headers).code, 200, headers)
        self.assertEqual(len(self.invalidated), 2)


    def test_formPostNeedsCSRFToken(self):
        """
        A C{POST} a browser sends, allowed by its loopback address alone,
        must carry the CSRF token of the admin's own forms: without it, or
        with a forged, expired, or another origin's token, it is a C{403}
        and purges nothing.  A request with the operator's token needs none.
        """
        site = self.site()
        admin = site.resource.children[b"_cache"]
        now = [1000000.0]
        admin.csrf._now = lambda: now[0]
        page = self.get(site, b"/_cache/").body.decode("utf-8")
        token = re.search(u'name="csrf" value="([^"]+)"', page).group(1).encode("ascii")
        form = [b"Content-Type: application/x-www-form-urlencoded",
                b"Origin: http://example.com", b"Sec-Fetch-Site: same-origin"]

        def post(csrf, headers=form, host=b"example.com", site=site):
            body = b"url=http%3A%2F%2Fexample.com%2Fp"
            if csrf is not None:
                body += b"&csrf=" + csrf
            ex = Exchange(site, method=b"POST", path=b"/_cache/purge", headers=headers,
                          body=body, host=host)
            return ex.response()
        forged = b"1000000." + b"0" * 64
        altered = token[:-1] + (b"1" if token[-1:] == b"0" else b"0")
        for csrf in [None, b"", b"junk", forged, altered,
                     b"999999" + token[7:]]:
            response = post(csrf)
            self.assertEqual(response.code, 403, csrf)
            self.assertIn(b"CSRF", response.body)
        self.assertEqual(post(token, host=b"other.example").code, 403)
        # Without a browser's Origin too (older browsers send none).
        self.assertEqual(post(None, [b"Content-Type: text/plain"]).code, 403)
        self.assertEqual(self.invalidated, [])
        self.assertEqual(post(token).code, 200)
        self.assertEqual(len(self.invalidated), 1)
        now[0] += admin.csrf.lifetime
        self.assertEqual(post(token).code, 403)
        # Another process's secret (or a restart) makes old tokens invalid.
        self.assertEqual(self.site().resource.children[b"_cache"].csrf.check(
            (b"http", b"example.com", 80), token), False)
        # The token's bearer needs no form token; nor a bare scripted POST.
        tokenSite = self.site(token=u"s3cret")
        self.assertEqual(post(None, form + [b"X-Cache-Token: s3cret"],
                              site=tokenSite).code, 200)
        self.assertEqual(self.get(site, b"/_cache/purge?url=http://example.com/",
                                  b"POST").code, 200)
        self.assertEqual(len(self.invalidated), 3)


    def test_pagesHardened(self):
        """
        Every answer, refusals included, is never stored, never framed,
        never sniffed, sends no referrer and loads nothing from anywhere.
        """
        site = self.site()
        for path, peer in [(b"/_cache/", "127.0.0.1"), (b"/_cache/stats.json", "127.0.0.1"),
                           (b"/_cache/", "10.0.0.1"), (b"/_cache/purge", "127.0.0.1")]:
            response = self.get(site, path, peer=peer)
            self.assertEqual(response.header(b"cache-control"), b"no-store")
            self.assertEqual(response.header(b"x-frame-options"), b"DENY")
            self.assertEqual(response.header(b"x-content-type-options"), b"nosniff")
            self.assertEqual(response.header(b"referrer-policy"), b"no-referrer")
            csp = response.header(b"content-security-policy")
            self.assertIn(b"frame-ancestors 'none'", csp)
            self.assertIn(b"default-src 'none'", csp)



class StatusPageTests(SynchronousTestCase):
    """
    The status page, its forms' answers, and C{stats.json}, on a cache
    that served pages.
    """

    def setUp(self):
        self.clock = Clock()
        self.cache = PageCache(MemoryStore(maxBytes=8 * 1024 * 1024), reactor=self.clock)
        self.root = resource.Resource()
        self.site = server.Site(self.root, reactor=self.clock)
        self.site.sessionFactory = lambda site, uid: server.Session(
            site, uid, reactor=self.clock)
        self.page = Page(self.clock, body=b"x" * 3000)
        for name, page in [(b"p", self.page), (b"personal", Personal(self.clock))]:
            page.pageCache = self.cache
            self.root.putChild(name, page)
        self.root.putChild(b"_cache", AdminResource(self.cache))


    def get(self, path, method=b"GET", headers=(), body=b""):
        ex = Exchange(self.site, method=method, path=path, headers=headers, body=body)
        self.assertTrue(ex.done())
        return ex.response()


    def test_figures(self):
        """
        The page shows the hit ratio, the rates, memory against the bound
        in people's units, the per page class table, the most hit pages,
        refresh failures, the store, uptime and version, a chart of the
        last hour, and each counter with what it means.
        """
        for _ in range(4):
            self.get(b"/p?q=<i>")
        self.get(b"/personal")
        self.page.fail = True
        self.clock.advance(11)
        self.get(b"/p?q=<i>")
        self.clock.advance(0)
        self.flushLoggedErrors(RuntimeError)
        body = self.get(b"/_cache/").body.decode("utf-8")
        self.assertIn(u"<h2>Hit ratio</h2><div class=\"big\">80.0%</div>", body)
        self.assertIn(u"8.0 MiB", body)
        self.assertIn(u"<h2>Memory</h2>", body)
        self.assertIn(u"tests.test_stats.Page", body)
        self.assertIn(u"tests.test_stats.Personal", body)
        self.assertIn(u"http://example.com:8080/p?q=%3Ci%3E", body)
        self.assertIn(u"RuntimeError: refresh &lt;broken&gt; &amp; failed", body)
        self.assertNotIn(u"<broken>", body)
        self.assertIn(u"version 0.1.0", body)
        self.assertIn(u"<svg", body)
        self.assertIn(u"<rect", body)
        self.assertIn(u"<th>uncacheable</th><td>1</td><td>Of the misses, those", body)
        self.assertIn(u"<th>hits</th><td>3</td>", body)
        self.assertIn(u'name="csrf"', body)


    def test_selfContained(self):
        """
        The page loads nothing, runs no script, and links only to the
        admin's own pages.
        """
        self.get(b"/p")
        body = self.get(b"/_cache/").body.decode("utf-8")
        self.assertNotIn(u"<script", body.lower())
        self.assertNotIn(u"src=", body.lower())
        self.assertNotIn(u"@import", body)
        self.assertNotIn(u"url(", body)
        links = re.findall(u'(?:href|action)="([^"]*)"', body)
        self.assertTrue(links)
        for link in links:
            self.assertIn(link, [u"./stats.json", u"./metrics", u"./purge"])
        # The links are relative to /_cache/: /_cache is sent there.
        response = self.get(b"/_cache")
        self.assertEqual((response.code, response.header(b"location")), (301, b"_cache/"))


    def test_purgeFormAnswersPage(self):
        """
        A purge from the page's form is answered with a page saying what
        was purged, linking back to the status page; a bad one says why.
        """
        page = self.get(b"/_cache/").body.decode("utf-8")
        token = re.search(u'name="csrf" value="([^"]+)"', page).group(1).encode("ascii")
        form = [b"Content-Type: application/x-www-form-urlencoded",
                b"Origin: http://example.com", b"Accept: text/html,*/*;q=0.8"]
        self.get(b"/p")
        response = self.get(b"/_cache/purge", b"POST", form,
                            b"url=http%3A%2F%2Fexample.com%3A8080%2Fp&hard=1&csrf=" + token)
        self.assertEqual(response.code, 200)
        self.assertEqual(response.header(b"content-type"), b"text/html; charset=utf-8")
        self.assertIn(b"Purged (hard)", response.body)
        self.assertIn(b"every page and variant stored for the URL "
                      b"http://example.com:8080/p", response.body)
        self.assertIn(b'<a href="./">', response.body)
        assertStored(self, self.get(b"/p").cacheStatus)
        response = self.get(b"/_cache/purge", b"POST", form,
                            b"prefix=%3Cb%3Erelative&csrf=" + token)
        self.assertEqual(response.code, 400)
        self.assertIn(b"Nothing purged", response.body)
        self.assertNotIn(b"<b>relative", response.body)
        self.assertIn(b'<a href="./">', response.body)
        response = self.get(b"/_cache/purge", b"POST", form,
                            b"tag=news&csrf=" + token)
        self.assertIn(b"every page tagged news", response.body)
        # Scripts still get JSON.
        response = self.get(b"/_cache/purge?tag=news", b"PURGE")
        self.assertEqual(json.loads(response.body.decode("ascii")),
                         {"invalidated": "news", "kind": "tag", "hard": False})


    def test_statsJSON(self):
        """
        C{stats.json} has the page's figures.
        """
        self.get(b"/p")
        self.get(b"/p")
        stats = json.loads(self.get(b"/_cache/stats.json").body.decode("ascii"))
        self.assertEqual((stats["hits"], stats["misses"], stats["hitRatio"]), (1, 1, 0.5))
        self.assertEqual(stats["pages"][0]["name"], u"tests.test_stats.Page")
        self.assertEqual(stats["top"][0]["url"], u"http://example.com:8080/p")
        self.assertEqual(stats["maxBytes"], 8 * 1024 * 1024)
        self.assertEqual(stats["history"][-1]["minutesAgo"], 0)
