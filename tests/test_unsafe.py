"""
Read your writes: a successful unsafe request invalidates what it may have
changed (RFC 9111 section 4.4) wherever it goes in the site, under Nevow's
C{NevowSite} and L{nevowcache.CachingSite} and under twisted.web's C{Site}
and L{nevowcache.web.InvalidatingSite}.  The rules themselves run against
every adapter in L{tests.test_behaviour}.
"""

from __future__ import absolute_import, division

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from twisted.web import resource, server

from nevowcache import MemoryStore, PageCache
from nevowcache._stores.footprint import orderedDictBytes
from nevowcache.web import InvalidatingSite, cached

from tests._adapters import ADAPTERS, PageSpec
from tests._http import Exchange



def redirectTo(location, code=303):
    """
    The behaviour of an uncached form handler redirecting to C{location}.
    """
    def behave(request):
        request.setResponseCode(code)
        request.setHeader(b"location", location)
        return b"moved"
    return behave



def counting(spec):
    def behave(request):
        return b"<p>" + request.uri + b" #" + str(spec.renders).encode("ascii") + b"</p>"
    return behave



class SiteTestsMixin(object):
    """
    A form posted to an uncached resource outside any cached page, which
    redirects to a cached page: only a site that sees every request can
    invalidate it.  Subclasses define C{makeSite(root)}.
    """

    def setUp(self):
        self.clock = Clock()
        self.cache = PageCache(MemoryStore(), reactor=self.clock)
        self.spec = PageSpec(None)
        self.spec.behave = counting(self.spec)
        self.pages = {b"p": self.spec, b"form": redirectTo(b"/p")}


    def get(self, site, path, **kwargs):
        ex = Exchange(site, path=path, **kwargs)
        self.assertTrue(ex.done())
        return ex.response()


    def test_postElsewhereInvalidates(self):
        """
        A successful POST to an uncached resource that redirects to a
        cached page drops the page's entries on every host, in the caches
        the site was given.
        """
        site = self.invalidatingSite()
        self.get(site, b"/p")
        self.get(site, b"/p", host=b"localhost")
        self.assertEqual(self.get(site, b"/form", method=b"POST").code, 303)
        for host in (b"example.com", b"localhost"):
            self.assertEqual(self.get(site, b"/p", host=host).cacheStatus,
                             b"nevowcache; fwd=uri-miss; ttl=60; stored")
        self.assertEqual(self.spec.renders, 4)


    def test_otherCachesUntouched(self):
        """
        A site invalidates in the caches it was given, not in others.
        """
        site = self.invalidatingSite(pageCaches=[PageCache(MemoryStore())])
        self.get(site, b"/p")
        self.get(site, b"/form", method=b"POST")
        self.assertEqual(self.get(site, b"/p").cacheStatus, b"nevowcache; hit; ttl=60")


    def test_plainSiteDoesNot(self):
        """
        Under the framework's own site, such a POST reaches no cache (what
        the site-level hook is for).
        """
        site = self.adapter.makeSite(self.clock, self.cache, self.pages)
        self.get(site, b"/p")
        self.get(site, b"/form", method=b"POST")
        self.assertEqual(self.get(site, b"/p").cacheStatus, b"nevowcache; hit; ttl=60")


    def test_anyHostOnlyInvalidates(self):
        """
        A POST with an odd C{Host} invalidates the same paths as any other
        (the path on every host), and stores nothing: it can make pages
        render again, never put a page in the cache.
        """
        site = self.invalidatingSite()
        self.get(site, b"/p")
        for host in (b"evil.example", b"evil.example:1", b"[::1]:99"):
            self.assertEqual(self.get(site, b"/form", method=b"POST", host=host).code, 303)
            self.assertEqual(self.get(site, b"/p").cacheStatus,
                             b"nevowcache; fwd=uri-miss; ttl=60; stored", host)
        self.assertEqual(self.cache.stats()["entries"], 1)
        self.assertEqual(self.spec.renders, 4)


    def test_postFloodBounded(self):
        """
        A flood of successful POSTs to distinct paths leaves the store's
        invalidation records within their bound.
        """
        store = MemoryStore(maxBytes=100000, maxUrlBytes=5000)
        self.cache = PageCache(store, reactor=self.clock)
        self.pages[b"form"] = PageSpec(redirectTo(b"/p"), leaf=True)
        site = self.invalidatingSite()
        for i in range(300):
            self.get(site, b"/form/%d/x?%d" % (i, i), method=b"POST")
            self.assertLessEqual(store._scopeBytes + orderedDictBytes(store._scopes),
                                 5000)
        self.assertEqual(self.cache.stats()["unsafeInvalidations"], 300)
        self.assertLess(len(store._scopes), 150)



class WebSiteTests(SiteTestsMixin, SynchronousTestCase):
    """
    Under twisted.web: L{InvalidatingSite}.
    """
    adapter = ADAPTERS[1]

    def invalidatingSite(self, pageCaches=None):
        plain = self.adapter.makeSite(self.clock, self.cache, self.pages)
        return InvalidatingSite(plain.resource, reactor=self.clock,
                                pageCaches=[self.cache] if pageCaches is None
                                else pageCaches)


    def test_cachedWrapperSubtree(self):
        """
        A Klein-like application wrapped with C{cached()}, its routes in
        one leaf resource: C{POST /post/1/comment} redirecting to
        C{/post/1} makes C{/post/1} render anew, under a plain C{Site}.
        """
        renders = []

        class App(resource.Resource):
            isLeaf = True

            def render_GET(self, request):
                renders.append(request.path)
                return b"post #%d" % (len(renders),)

            def render_POST(self, request):
                request.redirect(b"/post/1")
                return b""

        site = server.Site(cached(App(), cacheTimeout=30, pageCache=self.cache),
                           reactor=self.clock)
        self.assertEqual(self.get(site, b"/post/1").body, b"post #1")
        self.assertEqual(self.get(site, b"/post/1").body, b"post #1")
        self.assertEqual(self.get(site, b"/post/1/comment", method=b"POST").code, 302)
        self.assertEqual(self.get(site, b"/post/1").body, b"post #2")


    def test_cachedWrapperChildren(self):
        """
        A POST to a child of a resource wrapped with C{cached()} that
        redirects to it invalidates it.
        """
        class Parent(resource.Resource):
            def render_GET(self, request):
                return b"parent"

        parent = Parent()
        parent.putChild(b"form", resource.Resource())
        parent.children[b"form"].render_POST = lambda request: (
            request.redirect(b"/p") or b"")
        root = resource.Resource()
        root.putChild(b"p", cached(parent, pageCache=self.cache))
        site = server.Site(root, reactor=self.clock)
        self.get(site, b"/p")
        self.assertEqual(self.get(site, b"/p").cacheStatus, b"nevowcache; hit; ttl=60")
        self.assertEqual(self.get(site, b"/p/form", method=b"POST").code, 302)
        self.assertEqual(self.get(site, b"/p").cacheStatus,
                         b"nevowcache; fwd=uri-miss; ttl=60; stored")



class NevowSiteTests(SiteTestsMixin, SynchronousTestCase):
    """
    Under Nevow: L{nevowcache.CachingSite}.
    """
    adapter = ADAPTERS[0]
    skip = adapter.skip

    def invalidatingSite(self, pageCaches=None):
        from nevowcache import CachingSite
        plain = self.adapter.makeSite(self.clock, self.cache, self.pages)
        site = CachingSite(plain.resource, reactor=self.clock,
                           pageCaches=[self.cache] if pageCaches is None else pageCaches)
        site.sessionFactory = plain.sessionFactory
        return site


    def test_formlessGetActionInvalidates(self):
        """
        A C{GET} of a formless action (a C{freeform_post!!...} or
        C{freeform-action-post!...} segment, which Nevow acts on whatever
        the method) outside any cached page invalidates as a POST does:
        the page it redirects to renders anew.  It is never answered from
        the cache.
        """
        self.pages[b"freeform_post!!go"] = redirectTo(b"/p")
        site = self.invalidatingSite()
        self.get(site, b"/p")
        self.assertEqual(self.get(site, b"/p").cacheStatus, b"nevowcache; hit; ttl=60")
        for i in range(2):
            answer = self.get(site, b"/freeform_post!!go?x=1")
            self.assertEqual(answer.code, 303)
            self.assertEqual(answer.cacheStatus, None)
            self.assertEqual(self.get(site, b"/p").cacheStatus,
                             b"nevowcache; fwd=uri-miss; ttl=60; stored")
        self.assertEqual(self.spec.renders, 3)
