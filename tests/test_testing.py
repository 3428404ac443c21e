# -*- test-case-name: tests.test_testing -*-
"""
Tests for L{nevowcache.testing}, the helpers for applications' own tests.
"""

from __future__ import absolute_import, division

from twisted.internet import defer, task
from twisted.trial.unittest import SynchronousTestCase
from twisted.web import resource, server
from zope.interface.verify import verifyObject

from nevowcache import IPageStore, MemoryStore, PageCache
from nevowcache.testing import (FailingStore, MemoryClient, MemoryResponse,
                                NotAnswered, StoreFailure, cacheOnClock)
from nevowcache.web import CachedResource

try:
    import nevow
except ImportError:
    nevow = None



class Articles(CachedResource):
    """
    The application of L{nevowcache.testing}'s example: a list of titles,
    to which a C{POST} adds one.
    """
    cacheTimeout = 60

    def __init__(self, pageCache):
        CachedResource.__init__(self)
        self.pageCache = pageCache
        self.titles = [b"First"]


    def render_GET(self, request):
        request.setHeader(b"content-type", b"text/plain")
        return b"\n".join(self.titles)


    def render_POST(self, request):
        self.titles.append(request.args[b"title"][0])
        return b"added"



class ExampleTests(SynchronousTestCase):
    """
    The example in L{nevowcache.testing}'s docstring (and the README),
    as it is written there.
    """

    def test_cachedThenInvalidatedByPost(self):
        clock = task.Clock()
        cache = cacheOnClock(clock)
        root = resource.Resource()
        root.putChild(b"articles", Articles(pageCache=cache))
        client = MemoryClient(root, clock)

        first = client.get(b"/articles")
        self.assertEqual(first.cacheStatus, b"nevowcache; fwd=uri-miss; ttl=60; stored")
        clock.advance(5)
        second = client.get(b"/articles")
        self.assertEqual(second.cacheStatus, b"nevowcache; hit; ttl=55")
        self.assertEqual(second.age, 5)
        self.assertEqual(second.body, first.body)

        self.assertEqual(client.post(b"/articles", body=b"title=New").code, 200)
        self.assertEqual(cache.stats()["unsafeInvalidations"], 1)
        client.get(b"/articles")        # a new render is under way, or done
        clock.advance(1)
        self.assertIn(b"New", client.get(b"/articles").body)



class Counter(resource.Resource):
    """
    An uncached resource counting its renders; C{pending} makes the next
    render wait on a L{defer.Deferred}.
    """
    isLeaf = True

    def __init__(self):
        resource.Resource.__init__(self)
        self.renders = 0
        self.pending = None


    def render_GET(self, request):
        self.renders += 1
        if self.pending is not None:
            def finish(body):
                request.write(body)
                request.finish()
            self.pending.addCallback(finish)
            return server.NOT_DONE_YET
        request.setHeader(b"x-render", str(self.renders).encode("ascii"))
        return b"render " + str(self.renders).encode("ascii")



class CacheOnClockTests(SynchronousTestCase):
    """
    L{cacheOnClock} makes a L{PageCache} whose time is the test's clock.
    """

    def test_timeIsTheClock(self):
        """
        Freshness runs on the clock: an entry is fresh until the clock has
        advanced C{cacheTimeout} seconds, whatever the time of day.
        """
        clock = task.Clock()
        cache = cacheOnClock(clock, waitTimeout=3)
        self.assertIsInstance(cache, PageCache)
        self.assertIsInstance(cache.store, MemoryStore)
        client = MemoryClient(resource.Resource(), clock)
        client.site.resource.putChild(b"c", CachedWrapper(cache))
        self.assertEqual(client.get(b"/c").body, b"render 1")
        clock.advance(9.5)
        self.assertEqual(client.get(b"/c").cacheStatus, b"nevowcache; hit; ttl=1")
        clock.advance(1)
        stale = client.get(b"/c")
        self.assertEqual(stale.body, b"render 1")
        self.assertIn(b"ttl=-", stale.cacheStatus)


    def test_givenStore(self):
        """
        The store given is the one the cache uses.
        """
        store = MemoryStore()
        self.assertIs(cacheOnClock(task.Clock(), store=store).store, store)



def CachedWrapper(cache):
    """
    A L{Counter} behind L{nevowcache.web.cached}, fresh for 10 seconds.
    """
    from nevowcache.web import cached
    return cached(Counter(), cacheTimeout=10, pageCache=cache)



class MemoryClientTests(SynchronousTestCase):
    """
    L{MemoryClient} sends requests to a site in memory.
    """

    def setUp(self):
        self.clock = task.Clock()
        self.counter = Counter()
        root = resource.Resource()
        root.putChild(b"c", self.counter)
        self.client = MemoryClient(root, self.clock)


    def test_response(self):
        """
        A response's status, headers and body are read from what the site
        wrote; C{cacheStatus} and C{age} are L{None} without the headers.
        """
        response = self.client.get(b"/c")
        self.assertIsInstance(response, MemoryResponse)
        self.assertEqual(response.code, 200)
        self.assertEqual(response.body, b"render 1")
        self.assertEqual(response.header(b"X-Render"), b"1")
        self.assertEqual(response.headers.getRawHeaders(b"x-render"), [b"1"])
        self.assertIsNone(response.cacheStatus)
        self.assertIsNone(response.age)
        self.assertEqual(self.client.get(b"/nothing").code, 404)


    def test_requestHeadersAndHost(self):
        """
        Headers, the C{Host} header and the method reach the request.
        """
        seen = []

        class Echo(resource.Resource):
            isLeaf = True

            def render(self, request):
                seen.append((request.method, request.getHeader(b"host"),
                             request.requestHeaders.getRawHeaders(b"x-a"),
                             request.content.read()))
                return b""
        client = MemoryClient(Echo(), self.clock, host=b"example.org")
        client.get(b"/", headers={b"X-A": [b"1", b"2"]})
        client.head(b"/", host=b"other.example")
        client.post(b"/", body=b"a=1")
        self.assertEqual(seen, [(b"GET", b"example.org", [b"1", b"2"], b""),
                                (b"HEAD", b"other.example", None, b""),
                                (b"POST", b"example.org", None, b"a=1")])


    def test_notAnswered(self):
        """
        C{get} raises L{NotAnswered} when the answer does not come at once;
        C{request} returns a pending request that is answered once what the
        page waits on fires.
        """
        self.counter.pending = defer.Deferred()
        self.assertRaises(NotAnswered, self.client.get, b"/c")
        self.counter.pending = defer.Deferred()
        pending = self.client.request(b"GET", b"/c")
        self.assertFalse(pending.finished)
        self.assertRaises(NotAnswered, pending.response)
        self.counter.pending.callback(b"late")
        self.assertTrue(pending.finished)
        self.assertEqual(pending.response().body, b"late")
        pending.close()


    def test_site(self):
        """
        A site is used as it is.
        """
        site = server.Site(self.counter)
        self.assertIs(MemoryClient(site, self.clock).site, site)
        self.assertEqual(MemoryClient(site).get(b"/").body, b"render 1")


    def test_nevowPage(self):
        """
        A Nevow page is served by a C{NevowSite}, and its cached answers
        read as twisted.web's are.
        """
        from nevow import appserver, loaders, rend, tags
        from nevowcache import CachedPage
        cache = cacheOnClock(self.clock)

        class Home(CachedPage):
            pageCache = cache
            cacheTimeout = 60
            docFactory = loaders.stan(tags.p["hello"])
        root = rend.Page()
        root.putChild("home", Home())
        client = MemoryClient(root, self.clock)
        self.assertIsInstance(client.site, appserver.NevowSite)
        self.assertEqual(client.get(b"/home").cacheStatus,
                         b"nevowcache; fwd=uri-miss; ttl=60; stored")
        self.clock.advance(2)
        hit = client.get(b"/home")
        self.assertEqual((hit.body, hit.age), (b"<p>hello</p>", 2))
    if nevow is None:
        test_nevowPage.skip = "Nevow runs only on Python 2.7"



class FailingStoreTests(SynchronousTestCase):
    """
    L{FailingStore} fails on demand; pages are served all the same.
    """

    def setUp(self):
        self.clock = task.Clock()
        self.store = FailingStore()
        self.cache = cacheOnClock(self.clock, store=self.store, storeTimeout=2)
        self.client = MemoryClient(resource.Resource(), self.clock)
        self.counter = Counter()
        from nevowcache.web import cached
        self.client.site.resource.putChild(
            b"c", cached(self.counter, cacheTimeout=10, pageCache=self.cache))


    def test_interface(self):
        """
        It provides L{IPageStore}.
        """
        verifyObject(IPageStore, self.store)


    def test_okPassesThrough(self):
        """
        In mode C{"ok"} the inner store answers.
        """
        self.client.get(b"/c")
        self.assertEqual(self.client.get(b"/c").body, b"render 1")
        self.assertEqual(self.store.inner.stats()["entries"], 1)
        self.assertGreater(self.store.calls, 0)


    def test_fail(self):
        """
        In mode C{"fail"} (and C{"raise"}) every call fails with
        L{StoreFailure}, and every request is rendered and answered.
        """
        for mode in ("fail", "raise"):
            self.store.mode = mode
            calls = self.store.calls
            response = self.client.get(b"/c")
            self.assertEqual(response.code, 200)
            self.assertGreater(self.store.calls, calls)
        self.assertEqual(self.counter.renders, 2)
        self.assertEqual(self.store.inner.stats()["entries"], 0)
        self.flushLoggedErrors(StoreFailure)


    def test_hang(self):
        """
        In mode C{"hang"} calls never answer; the cache's store deadline
        (on the clock) lets the request through.
        """
        self.store.mode = "hang"
        pending = self.client.request(b"GET", b"/c")
        self.assertFalse(pending.finished)
        self.assertTrue(self.store.hung)
        self.clock.advance(2)
        self.assertTrue(pending.finished)
        self.assertEqual(pending.response().body, b"render 1")
        pending.close()
        self.flushLoggedErrors()
