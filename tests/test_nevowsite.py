"""
Tests for L{nevowcache.CachingSite}: it answers fresh hits before traversal,
and only where a C{NevowSite} would answer the same.
"""

from __future__ import absolute_import, division

import time

from twisted.internet import reactor
from twisted.internet.defer import DeferredList, inlineCallbacks, returnValue
from twisted.internet.task import Clock, deferLater
from twisted.trial.unittest import SynchronousTestCase, TestCase

from nevowcache import MemoryStore, PageCache

from tests import _servers
from tests._http import Exchange
from tests.test_stores import _noRedisClient, uniqueNamespace

try:
    from nevow import appserver, inevow, loaders, rend, tags
except ImportError:
    skip = "Nevow runs only on Python 2.7"
else:
    skip = None
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



def makeVersionTree(state, log):
    """
    A site whose pages C{/a}, C{/b}, C{/c} show their name and
    C{state["version"]}: the same bytes whoever renders them, until the
    version changes.  C{log} records every traversal of the root and every
    render.
    """
    class Page(CachedPage):
        pageCache = state["cache"]
        docFactory = loaders.stan(tags.p(render=tags.directive("body")))

        def render_body(self, ctx, data):
            log.append("render")
            return "%s v%d" % (inevow.IRequest(ctx).path, state["version"])

    class Root(rend.Page):
        def locateChild(self, ctx, segments):
            log.append("traverse")
            return Page(), segments[1:]
    return Root()



def _responses(raw):
    """
    Split what a connection received into its responses (each with a
    C{Content-Length}).

    @return: A L{list} of L{MemoryResponse}s.
    """
    from nevowcache.testing import MemoryResponse
    out = []
    while raw:
        head, rest = raw.split(b"\r\n\r\n", 1)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, value = line.split(b":", 1)
            if name.lower() == b"content-length":
                length = int(value)
        out.append(MemoryResponse(head + b"\r\n\r\n" + rest[:length]))
        raw = rest[length:]
    return out



class SharedStoreEarlyTestsMixin(object):
    """
    L{CachingSite} over a store shared by processes (a real server, no near
    tier): a fresh hit is looked up and answered before traversal; anything
    else takes C{NevowSite}'s way, looked up once.
    """
    timeout = 30

    def setUp(self):
        self.makeSite(_servers.shared(self.binary).port)


    def makeSite(self, port):
        """
        A L{CachingSite} and a C{NevowSite} over one cache on a real store
        on C{port}; its engine on a L{Clock} at the time of day (entries age
        when a test says), the store on the real reactor.
        """
        self.store = self.storeClass("127.0.0.1", port, namespace=uniqueNamespace(),
                                     timeout=5.0)
        self.addCleanup(self.store.close)
        self.lookups = []
        lookup = self.store.lookup

        def counted(key, *args):
            self.lookups.append(key.url)
            return lookup(key, *args)
        self.store.lookup = counted
        # A lease is released after the response is written: the store is
        # closed once that is done.
        pending = []
        release = self.store.releaseLease

        def releasing(*args):
            d = release(*args)
            pending.append(d)
            return d
        self.store.releaseLease = releasing
        self.addCleanup(lambda: DeferredList(pending, consumeErrors=True))
        self.clock = Clock()
        self.clock.advance(time.time())
        # The store's own deadlines, on the real reactor.
        self.cache = PageCache(self.store, reactor=self.clock, storeTimeout=None)
        self.state = {"cache": self.cache, "version": 1}
        self.log = []
        root = makeVersionTree(self.state, self.log)
        self.site = CachingSite(root, reactor=self.clock)
        self.plain = appserver.NevowSite(root, reactor=self.clock)


    @inlineCallbacks
    def settle(self, done):
        """
        Let the store answer, and the engine's clock run what is due at
        once, until C{done()} (at most 10 seconds).
        """
        deadline = time.time() + 10
        while not done():
            self.assertLess(time.time(), deadline, "not done in 10 s")
            self.clock.advance(0)
            yield deferLater(reactor, 0.002, lambda: None)


    @inlineCallbacks
    def get(self, path=b"/a", headers=(), method=b"GET", site=None):
        """
        Send a request and wait for its response.

        @return: A L{Deferred} firing with the L{MemoryResponse}.
        """
        exchange = Exchange(site or self.site, method=method, path=path,
                            headers=list(headers))
        yield self.settle(exchange.done)
        returnValue(exchange.response())


    def traversals(self):
        return self.log.count("traverse")


    @inlineCallbacks
    def test_freshHitEarly(self):
        """
        Once a URL's page was reached, its fresh hits in the shared store
        (GET and HEAD) are answered without traversal, one lookup each,
        with the bytes C{NevowSite} answers.
        """
        first = yield self.get()
        self.assertIn(b"uri-miss", first.cacheStatus)
        self.assertEqual(first.body, b"/a v1")
        traversals, lookups = self.traversals(), len(self.lookups)
        second = yield self.get()
        head = yield self.get(method=b"HEAD")
        self.assertEqual(self.traversals(), traversals)
        plain = yield self.get(site=self.plain)
        self.assertEqual(self.traversals(), traversals + 1)
        for response in second, plain:
            self.assertEqual((response.code, response.cacheStatus, response.body),
                             (200, b"nevowcache; hit; ttl=60", first.body))
            self.assertEqual(response.header(b"etag"), first.header(b"etag"))
        self.assertEqual((head.code, head.body, head.header(b"content-length")),
                         (200, b"", b"%d" % (len(first.body),)))
        self.assertEqual(len(self.lookups), lookups + 3)
        self.assertEqual(self.log.count("render"), 1)
        self.assertEqual(self.cache.stats()["hits"], 3)


    @inlineCallbacks
    def test_staleFallsThrough(self):
        """
        A stale entry found before traversal takes the normal way, which
        serves it and refreshes it in the background, looked up once; the
        refreshed entry is then answered early.
        """
        yield self.get()
        self.clock.advance(61)
        traversals, lookups = self.traversals(), len(self.lookups)
        self.state["version"] = 2
        stale = yield self.get()
        self.assertEqual(stale.body, b"/a v1")
        self.assertEqual(stale.cacheStatus, b"nevowcache; hit; ttl=-1")
        self.assertEqual(self.traversals(), traversals + 1)
        self.assertEqual(len(self.lookups), lookups + 1)
        yield self.settle(lambda: self.cache.stats()["refreshes"] == 1
                          and self.cache.stats()["refreshesRunning"] == 0)
        traversals = self.traversals()
        fresh = yield self.get()
        self.assertEqual((fresh.body, fresh.cacheStatus),
                         (b"/a v2", b"nevowcache; hit; ttl=60"))
        self.assertEqual(self.traversals(), traversals)


    @inlineCallbacks
    def test_invalidationSeenAtOnce(self):
        """
        After an invalidation, the next request is not answered early: a
        soft one serves the old entry once while it refreshes, a hard one
        renders anew; each with the bytes C{NevowSite} answers.
        """
        yield self.get()
        yield self.get()
        self.assertEqual(self.traversals(), 1)
        self.state["version"] = 2
        yield self.cache.invalidate(u"/a")
        lookups = len(self.lookups)
        soft = yield self.get()
        # Looked up once, though it went the normal way.
        self.assertEqual(len(self.lookups), lookups + 1)
        self.assertEqual(soft.body, b"/a v1")
        self.assertEqual(soft.cacheStatus, b"nevowcache; hit; ttl=-1; detail=invalidated")
        self.assertEqual(self.traversals(), 2)
        yield self.settle(lambda: self.cache.stats()["refreshesRunning"] == 0)
        self.state["version"] = 3
        yield self.cache.invalidate(u"/a", hard=True)
        lookups = len(self.lookups)
        hard = yield self.get()
        # Once, and once more with the lease (another process may have
        # rendered meanwhile).
        self.assertEqual(len(self.lookups), lookups + 2)
        self.assertEqual((hard.body, hard.cacheStatus),
                         (b"/a v3", b"nevowcache; fwd=uri-miss; ttl=60; stored"))
        yield self.cache.invalidate(u"/a", hard=True)
        plain = yield self.get(site=self.plain)
        self.assertEqual((plain.code, plain.body, plain.cacheStatus),
                         (hard.code, hard.body, hard.cacheStatus))
        traversals = self.traversals()
        again = yield self.get()
        self.assertEqual((again.body, again.cacheStatus),
                         (b"/a v3", b"nevowcache; hit; ttl=60"))
        self.assertEqual(self.traversals(), traversals)


    @inlineCallbacks
    def test_personalRequestsTraverse(self):
        """
        Requests with a cookie (a writer's mark among them) or credentials
        are never answered before traversal; anonymous ones are.
        """
        yield self.get()
        yield self.get()
        self.assertEqual(self.traversals(), 1)
        for header in [b"Cookie: a=b", b"Cookie: nevowcache-wrote=99999999999999",
                       b"Authorization: Basic dTpw"]:
            yield self.get(headers=[header])
        self.assertEqual(self.traversals(), 4)


    @inlineCallbacks
    def test_pipelinedInOrder(self):
        """
        Requests pipelined on one connection are answered in order, whether
        early or not, each once.
        """
        yield self.get(b"/a")
        yield self.get(b"/b")
        traversals = self.traversals()
        exchange = Exchange(self.site, path=b"/a")
        for path in [b"/c", b"/b", b"/a"]:
            exchange.protocol.dataReceived(
                b"GET " + path + b" HTTP/1.1\r\nHost: example.com\r\n\r\n")

        def answered():
            return len(_responses(exchange.transport.value())) == 4
        yield self.settle(answered)
        responses = _responses(exchange.transport.value())
        self.assertEqual([r.body for r in responses],
                         [b"/a v1", b"/c v1", b"/b v1", b"/a v1"])
        self.assertEqual([r.cacheStatus for r in responses],
                         [b"nevowcache; hit; ttl=60", b"nevowcache; fwd=uri-miss; ttl=60; stored",
                          b"nevowcache; hit; ttl=60", b"nevowcache; hit; ttl=60"])
        # Only /c traversed.
        self.assertEqual(self.traversals(), traversals + 1)


    @inlineCallbacks
    def test_clientGone(self):
        """
        A client that goes away while its request is looked up before
        traversal gets nothing, and nothing fails; the site goes on.
        """
        yield self.get()
        traversals, lookups = self.traversals(), len(self.lookups)
        gone = Exchange(self.site, path=b"/a")
        gone.disconnect()
        # The store answers in order: the next lookup's answer comes after.
        after = yield self.get()
        self.assertEqual(after.cacheStatus, b"nevowcache; hit; ttl=60")
        self.assertEqual(gone.transport.value(), b"")
        self.assertEqual(self.traversals(), traversals)
        self.assertEqual(len(self.lookups), lookups + 2)
        self.assertEqual(self.cache.stats()["hits"], 1)


    @inlineCallbacks
    def test_outageFallsThrough(self):
        """
        With the store gone, a request answered early before is answered as
        C{NevowSite} answers it: rendered, not stored, never a 5xx.
        """
        server = _servers.Server(self.binary)
        self.addCleanup(server.cleanUp)
        self.makeSite(server.port)
        yield self.get()
        early = yield self.get()
        self.assertEqual((early.cacheStatus, self.traversals()),
                         (b"nevowcache; hit; ttl=60", 1))
        server.stop()
        for _ in range(3):
            caching = yield self.get()
            plain = yield self.get(site=self.plain)
            self.assertEqual((caching.code, caching.body, caching.cacheStatus),
                             (plain.code, plain.body, plain.cacheStatus))
            self.assertEqual((caching.code, caching.body), (200, early.body))
        self.assertEqual(self.traversals(), 7)
        self.flushLoggedErrors()



class MemcachedEarlyTests(SharedStoreEarlyTestsMixin, TestCase):
    """
    L{CachingSite} over L{MemcachedStore}.
    """
    binary = "memcached"
    skip = skip or _servers.missing("memcached")
    if not skip:
        from nevowcache import MemcachedStore as storeClass



class RedisEarlyTests(SharedStoreEarlyTestsMixin, TestCase):
    """
    L{CachingSite} over L{RedisStore}.
    """
    binary = "redis-server"
    skip = skip or _servers.missing("redis-server") or _noRedisClient
    if not skip:
        from nevowcache import RedisStore as storeClass
