"""
Tests for L{nevowcache.CachingSite}: it answers fresh hits before traversal,
and only where a C{NevowSite} would answer the same.
"""

from __future__ import absolute_import, division

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from nevowcache import MemoryStore, PageCache

from tests._http import Exchange

try:
    from nevow import appserver, inevow, loaders, rend, tags
except ImportError:
    skip = "Nevow runs only on Python 2.7"
else:
    from twisted.web import server
    from nevowcache import CachedPage, CachingSite


def makeTree(cache, log):
    """
    A site whose root, like C{nevow.guard}, gives requests carrying a
    session cookie another tree: a personal home page instead of the public
    one.  C{log} records every traversal of the root.
    """
    class Public(CachedPage):
        pageCache = cache
        cacheVary = ("accept-language",)
        docFactory = loaders.stan(tags.p(render=tags.directive("body")))

        def render_body(self, ctx, data):
            log.append("render")
            request = inevow.IRequest(ctx)
            return "public %s %s %s" % (request.uri, request.getHeader("accept-language"),
                                        log.count("render"))

    class Personal(CachedPage):
        pageCache = cache
        docFactory = loaders.stan(tags.p(render=tags.directive("body")))

        def render_body(self, ctx, data):
            return "hello " + inevow.IRequest(ctx).getCookie("session")

    class Keyed(Public):
        def cacheKey(self, ctx):
            return ("colour",)

    public, personal = Public(), Personal()

    class Root(rend.Page):
        def locateChild(self, ctx, segments):
            log.append("traverse")
            if inevow.IRequest(ctx).getCookie("session"):
                return personal, segments[1:]
            if segments[0] == "keyed":
                return Keyed(), segments[1:]
            if segments[0] == "alias":
                # Traversal that changes the request: the page's URL
                # identity is not the request line's.
                inevow.IRequest(ctx).args["via"] = ["alias"]
                return public, segments[1:]
            return public, segments[1:]
    return Root()



class CachingSiteTests(SynchronousTestCase):
    """
    L{CachingSite} answers what C{NevowSite} answers, with fewer traversals.
    """

    def makeSite(self, factory):
        clock = Clock()
        cache = PageCache(MemoryStore(), reactor=clock)
        log = []
        site = factory(makeTree(cache, log), reactor=clock)
        site.sessionFactory = lambda site, uid: server.Session(site, uid, reactor=clock)
        return site, clock, cache, log


    def play(self, site, clock, steps):
        out = []
        for step in steps:
            if step == "advance":
                clock.advance(61)
                continue
            if step == "settle":
                clock.advance(0)
                continue
            method, path, headers = step
            ex = Exchange(site, method=method, path=path, headers=headers)
            self.assertTrue(ex.done())
            r = ex.response()
            out.append((r.code, r.body, r.cacheStatus, r.header(b"content-type"),
                        r.header(b"etag"), r.header(b"age"), r.header(b"content-length")))
        return out


    def test_equivalentToNevowSite(self):
        """
        For a sequence of anonymous, personal, conditional, HEAD, POST,
        stale and varied requests, a L{CachingSite} answers exactly as a
        C{NevowSite} does, traversing less.
        """
        cookie = [b"Cookie: session=alice"]
        steps = [
            (b"GET", b"/p?a=1", []),
            (b"GET", b"/p?a=1", []),
            (b"GET", b"/p?a=1", cookie),
            (b"GET", b"/p?a=1", cookie),
            (b"GET", b"/p?a=1", []),
            (b"HEAD", b"/p?a=1", []),
            (b"GET", b"/p?a=1", [b"If-None-Match: *"]),
            (b"GET", b"/p?a=1", [b"Accept-Language: fr"]),
            (b"GET", b"/p?a=1", [b"Accept-Language: fr"]),
            (b"GET", b"/p?a=1", [b"Authorization: Basic dTpw"]),
            (b"GET", b"/keyed", []),
            (b"GET", b"/keyed", []),
            (b"POST", b"/p?a=1", []),
            (b"GET", b"/p?a=1", []),
            "settle",
            (b"GET", b"/p?a=1", []),
            "advance",
            (b"GET", b"/p?a=1", []),
            "settle",
            (b"GET", b"/p?a=1", []),
            (b"GET", b"/p?a=1", cookie),
        ]
        plain, plainClock, _, plainLog = self.makeSite(appserver.NevowSite)
        caching, cachingClock, _, cachingLog = self.makeSite(CachingSite)
        expected = self.play(plain, plainClock, steps)
        got = self.play(caching, cachingClock, steps)
        for i, (e, g) in enumerate(zip(expected, got)):
            self.assertEqual(e, g, "response %d differs" % (i,))
        self.assertEqual(plainLog.count("render"), cachingLog.count("render"))
        self.assertLess(cachingLog.count("traverse"), plainLog.count("traverse") - 3)


    def test_earlyDateOnTheCachesWallClock(self):
        """
        The C{Date} L{CachingSite} gives a response it answers before
        traversal is read from the answering cache's wall clock.
        """
        from twisted.web.http import datetimeToString
        from nevowcache._adapters.nevowsite import _date
        wall = Clock()
        wall.advance(86400 * 400 + 0.5)
        self.assertEqual(_date(wall), datetimeToString(86400 * 400))


    def test_freshHitSkipsTraversal(self):
        """
        Once a URL's page has been reached anonymously, its fresh hits are
        answered without traversal.
        """
        site, clock, cache, log = self.makeSite(CachingSite)
        self.play(site, clock, [(b"GET", b"/p", [])] * 3)
        self.assertEqual(log.count("traverse"), 1)
        self.assertEqual(cache.stats()["hits"], 2)


    def test_personalRequestsTraverse(self):
        """
        Requests carrying a cookie or credentials always traverse.
        """
        site, clock, cache, log = self.makeSite(CachingSite)
        self.play(site, clock, [(b"GET", b"/p", [])])
        self.play(site, clock, [(b"GET", b"/p", [b"Cookie: x=1"])] * 2)
        self.assertEqual(log.count("traverse"), 3)


    def test_routesBounded(self):
        """
        The site remembers at most C{maxRoutes} URLs.
        """
        clock = Clock()
        cache = PageCache(MemoryStore(), reactor=clock)
        site = CachingSite(makeTree(cache, []), reactor=clock, maxRoutes=5)
        self.play(site, clock, [(b"GET", b"/p?r=%d" % (i,), []) for i in range(20)])
        self.assertEqual(len(site.nevowcacheRoutes), 5)


    def _get(self, site, path, host=b"example.com", port=8080, headers=()):
        ex = Exchange(site, path=path, host=host, port=port, headers=list(headers))
        self.assertTrue(ex.done())
        return ex.response()


    def test_hostsAndPortsNotShared(self):
        """
        What a URL was learnt under is its whole request line: another
        C{Host}, another port, another query or no C{Host} at all is not
        answered from it (each is a miss of its own, as with C{NevowSite}).
        """
        site, clock, cache, log = self.makeSite(CachingSite)
        first = self._get(site, b"/p?a=1")
        self.assertIn(b"public /p?a=1", first.body)
        self.assertIn(b"hit", self._get(site, b"/p?a=1").cacheStatus)
        for kwargs in [dict(host=b"other.example"), dict(port=8081),
                       dict(host=None)]:
            response = self._get(site, b"/p?a=1", **kwargs)
            self.assertIn(b"uri-miss", response.cacheStatus, kwargs)
        response = self._get(site, b"/p?a=2")
        self.assertIn(b"uri-miss", response.cacheStatus)
        self.assertEqual(log.count("render"), 5)
        self.assertEqual(log.count("traverse"), 5)


    def test_hostPortSharesEntry(self):
        """
        C{Host} values that make the same key (an explicit port) share its
        entry, whether answered early or not; another case is another entry
        (the render sees the case).
        """
        site, clock, cache, log = self.makeSite(CachingSite)
        self._get(site, b"/p")
        for host in [b"example.com:8080", b"example.com:8080", b"example.com"]:
            self.assertIn(b"hit", self._get(site, b"/p", host=host).cacheStatus)
        self.assertEqual(log.count("render"), 1)
        # The first of each new request line traversed; repeats did not.
        self.assertEqual(log.count("traverse"), 2)
        self.assertIn(b"uri-miss", self._get(site, b"/p", host=b"EXAMPLE.com").cacheStatus)
        self.assertIn(b"hit", self._get(site, b"/p", host=b"EXAMPLE.com").cacheStatus)
        self.assertEqual(log.count("render"), 2)


    def test_duplicateHostNeverEarly(self):
        """
        A request with two C{Host} headers is never answered early (nor from
        the cache at all).
        """
        site, clock, cache, log = self.makeSite(CachingSite)
        self._get(site, b"/p")
        response = self._get(site, b"/p", headers=[b"Host: evil.example"])
        self.assertIn(b"bypass; detail=bad-host", response.cacheStatus)
        self.assertEqual(log.count("traverse"), 2)


    def test_rewritingTraversalNotLearnt(self):
        """
        A page reached through a C{locateChild} that changed the request
        (here, its arguments) has another URL identity than its request
        line: its hits still traverse.
        """
        site, clock, cache, log = self.makeSite(CachingSite)
        for i in range(3):
            response = self._get(site, b"/alias")
        self.assertIn(b"hit", response.cacheStatus)
        self.assertEqual(log.count("render"), 1)
        self.assertEqual(log.count("traverse"), 3)
        self.assertEqual(len(site.nevowcacheRoutes), 0)
