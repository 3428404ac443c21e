"""
The behaviour suite: every rule of the cache, run against every adapter.
"""

from __future__ import absolute_import, division

import gc
import sys
import time

from twisted.internet import defer, task
from twisted.internet.task import Clock
from twisted.web import http

from nevowcache import MemoryStore, PageCache

from tests._adapters import ADAPTERS, KLEIN, PageSpec, makeCases, pendingRenders
from tests._http import Exchange


def urlBody(request):
    """
    A body naming the request's URI, so a wrong page shows.
    """
    return b"<p>" + request.uri + b"</p>"



class BehaviourTestsMixin(object):
    """
    Rules every adapter must follow.  Subclasses set C{adapter}.
    """
    adapter = None

    def setUp(self):
        self.freshSite()


    def freshSite(self):
        """
        A new clock, store, cache and site (no pages yet): what C{setUp}
        makes, and what a test looping over cases makes for each case.
        """
        self.clock = Clock()
        self.store = MemoryStore()
        self.cache = PageCache(self.store, reactor=self.clock, waitTimeout=10,
                               renderTimeout=20)
        self.pages = {}
        self.site = None


    def flushErrors(self, *types):
        """
        Flush logged errors of these types (collecting garbage first, so
        failures left in frameworks' Deferreds are logged now), and again
        once the test is over and its site is gone.

        @return: How many there were.
        """
        def again():
            self.site = None
            self.pages = {}
            gc.collect()
            self.flushLoggedErrors(*types)
        self.addCleanup(again)
        gc.collect()
        return len(self.flushLoggedErrors(*types))


    def page(self, name, behave=None, **kwargs):
        """
        Add a page at C{/name}; it counts renders, and by default shows its
        URI and render number.
        """
        if behave is None:
            def behave(request):
                return b"<p>" + request.uri + b" #" + str(spec.renders).encode("ascii") + b"</p>"
        spec = self.pages[name] = PageSpec(behave, **kwargs)
        self.site = None
        return spec


    def exchange(self, path=b"/p", **kwargs):
        if self.site is None:
            self.site = self.adapter.makeSite(self.clock, self.cache, self.pages)
        return Exchange(self.site, path=path, **kwargs)


    def get(self, path=b"/p", **kwargs):
        """
        Send a request; it must be answered at once.
        """
        ex = self.exchange(path, **kwargs)
        self.assertTrue(ex.done(), "no complete response to %r: %r"
                        % (path, ex.transport.value()))
        return ex.response()


    # Hits and misses

    def test_missThenHit(self):
        """
        The first request renders and stores; the second is a hit with the
        same body, sent once, and no render.
        """
        spec = self.page(b"p")
        first = self.get()
        self.assertEqual(first.code, 200)
        self.assertEqual(first.body, b"<p>/p #1</p>")
        self.assertEqual(first.cacheStatus, b"nevowcache; fwd=uri-miss; ttl=60; stored")
        second = self.get()
        self.assertEqual(second.body, b"<p>/p #1</p>")
        self.assertEqual(second.cacheStatus, b"nevowcache; hit; ttl=60")
        self.assertEqual(second.header(b"age"), b"0")
        self.assertEqual(second.header(b"content-length"), b"12")
        self.assertEqual(spec.renders, 1)


    def test_hitReplaysStatusAndHeaders(self):
        """
        A hit carries the headers the render set, but not per-response ones.
        """
        def behave(request):
            request.setHeader(b"x-custom", b"yes")
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            return b"plain"
        self.page(b"p", behave)
        miss = self.get()
        hit = self.get()
        for response in (miss, hit):
            self.assertEqual(response.header(b"x-custom"), b"yes")
            self.assertEqual(response.header(b"content-type"), b"text/plain; charset=utf-8")
            self.assertEqual(response.body, b"plain")
        self.assertEqual(len(hit.headers.getRawHeaders(b"date")), 1)


    def test_ageAndTtl(self):
        """
        C{Age} counts seconds since the render; C{ttl} the seconds left.
        """
        self.page(b"p")
        self.get()
        self.clock.advance(42)
        hit = self.get()
        self.assertEqual(hit.header(b"age"), b"42")
        self.assertEqual(hit.cacheStatus, b"nevowcache; hit; ttl=18")


    def test_timeoutZeroMeansUntilInvalidated(self):
        """
        With C{cacheTimeout = 0} an entry never goes stale by age.
        """
        spec = self.page(b"p", cacheTimeout=0)
        self.get()
        self.clock.advance(10 ** 7)
        self.assertEqual(self.get().cacheStatus, b"nevowcache; hit")
        self.assertEqual(spec.renders, 1)


    def test_timeoutNoneMeansNoCaching(self):
        """
        With C{cacheTimeout = None} every request renders.
        """
        spec = self.page(b"p", cacheTimeout=None)
        self.get()
        response = self.get()
        self.assertEqual(response.body, b"<p>/p #2</p>")
        self.assertIsNone(response.cacheStatus)
        self.assertEqual(spec.renders, 2)


    # Keys

    def test_argumentOrderIsAnotherEntry(self):
        """
        Arguments in another order, or split on C{;}, are another entry:
        the render sees the URI as it was sent.
        """
        spec = self.page(b"p")
        self.get(b"/p?a=1&b=2")
        self.assertEqual(self.get(b"/p?b=2&a=1").body, b"<p>/p?b=2&a=1 #2</p>")
        self.assertEqual(self.get(b"/p?a=1;b=2").body, b"<p>/p?a=1;b=2 #3</p>")
        self.assertEqual(self.get(b"/p?b=2&a=1").cacheStatus[:15], b"nevowcache; hit")
        self.assertEqual(spec.renders, 3)


    def test_differentArgumentsDiffer(self):
        """
        Any difference in the parsed arguments is another entry: values,
        repeated names, their order, blank values.
        """
        spec = self.page(b"p")
        paths = [b"/p", b"/p?a=1", b"/p?a=2", b"/p?a=1&a=2", b"/p?a=2&a=1",
                 b"/p?a=", b"/p?a=1&b=", b"/p?a%3D1", b"/p?a=1%26b%3D2"]
        for i, path in enumerate(paths):
            response = self.get(path)
            self.assertEqual(response.body, b"<p>" + path + b" #" + str(i + 1).encode("ascii") + b"</p>")
        self.assertEqual(spec.renders, len(paths))


    def test_hostPortSharesEntry(self):
        """
        The Host's port is not in the key: the render sees the socket's
        port, not the header's.  Its case is (the render sees it).
        """
        spec = self.page(b"p")
        self.get(host=b"example.com")
        self.assertEqual(self.get(host=b"example.com:9999").cacheStatus[:15], b"nevowcache; hit")
        self.assertEqual(spec.renders, 1)
        self.assertEqual(self.get(host=b"EXAMPLE.com:9999").cacheStatus[:24],
                         b"nevowcache; fwd=uri-miss")


    def test_otherHostOtherEntry(self):
        """
        Another Host is another entry: a poisoned Host stays in its own key.
        """
        def behave(request):
            return b"<a href='" + request.prePathURL() + b"'>here</a>"
        self.page(b"p", behave)
        evil = self.get(host=b"evil.example")
        self.assertIn(b"evil.example", evil.body)
        good = self.get(host=b"good.example")
        self.assertNotIn(b"evil", good.body)
        self.assertEqual(good.cacheStatus, b"nevowcache; fwd=uri-miss; ttl=60; stored")


    def test_portIsInKey(self):
        """
        The listening port is part of the key.
        """
        spec = self.page(b"p")
        self.get(port=8080)
        self.assertEqual(self.get(port=8081).cacheStatus, b"nevowcache; fwd=uri-miss; ttl=60; stored")
        self.assertEqual(spec.renders, 2)


    # Stale while revalidate

    def test_staleServedAtOnceThenRefreshed(self):
        """
        Past C{cacheTimeout} the stale entry is served at once, marked with a
        negative ttl, and one background render replaces it.
        """
        spec = self.page(b"p", cacheTimeout=60)
        self.get()
        self.clock.advance(65)
        stale = self.get()
        self.assertEqual(stale.body, b"<p>/p #1</p>")
        self.assertEqual(stale.cacheStatus, b"nevowcache; hit; ttl=-5")
        self.assertEqual(spec.renders, 1)
        self.clock.advance(0)
        self.assertEqual(spec.renders, 2)
        fresh = self.get()
        self.assertEqual(fresh.body, b"<p>/p #2</p>")
        self.assertEqual(fresh.cacheStatus, b"nevowcache; hit; ttl=60")
        self.assertEqual(self.cache.stats()["refreshes"], 1)


    def test_oneRefreshForManyStaleHits(self):
        """
        However many stale hits arrive, one background render runs for a key.
        """
        pending = []

        def behave(request):
            if spec.renders == 1:
                return b"first"
            d = defer.Deferred()
            pending.append(d)
            return d
        spec = self.page(b"p", behave)
        self.get()
        self.clock.advance(61)
        for _ in range(5):
            self.assertEqual(self.get().body, b"first")
            self.clock.advance(0)
        self.assertEqual(spec.renders, 2)
        pending[0].callback(b"second")
        self.assertEqual(self.get().body, b"second")
        self.assertEqual(spec.renders, 2)


    def test_staleHitDecidedAtOnce(self):
        """
        On a store that answers synchronously (L{MemoryStore.peek}), a stale
        hit is decided as a fresh one is, without the store's Deferred
        C{lookup}, and schedules its background render all the same.
        """
        spec = self.page(b"p")
        self.get()
        lookups = []
        lookup = self.store.lookup
        self.patch(self.store, "lookup", lambda *args: lookups.append(args) or lookup(*args))
        self.assertEqual(self.get().cacheStatus, b"nevowcache; hit; ttl=60")
        self.clock.advance(61)
        stale = self.get()
        self.assertEqual(stale.cacheStatus, b"nevowcache; hit; ttl=-1")
        self.assertEqual(stale.body, b"<p>/p #1</p>")
        self.assertEqual(lookups, [])
        self.assertEqual(self.cache.stats()["staleHits"], 1)
        self.clock.advance(0)
        self.assertEqual(spec.renders, 2)
        self.assertEqual(self.get().body, b"<p>/p #2</p>")


    def test_refreshAfterStaleResponseSent(self):
        """
        A background render starts on a turn of the reactor after the stale
        response was sent: while the reactor has output to write (a
        written response waits in its transport for the next turn), the
        render waits, a few turns at most.
        """
        spec = self.page(b"p")
        self.get()
        self.clock.advance(61)
        writers = [object()]
        self.clock.getWriters = lambda: list(writers)
        self.assertEqual(self.get().body, b"<p>/p #1</p>")
        for _ in range(2):
            # One turn: the calls due now, not those they schedule.
            for call in [c for c in self.clock.getDelayedCalls()
                         if c.getTime() <= self.clock.seconds()]:
                self.clock.calls.remove(call)
                call.func(*call.args, **call.kw)
            self.assertEqual(self.cache.stats()["refreshes"], 0)
        del writers[:]
        self.clock.advance(0)
        self.assertEqual(self.cache.stats()["refreshes"], 1)
        self.assertEqual(spec.renders, 2)
        self.assertEqual(self.get().body, b"<p>/p #2</p>")


    def test_refreshNeedsNoLiveRequest(self):
        """
        The background render sees the URI, arguments, Host and safe headers
        of the request that found the entry stale, but never its cookies or
        credentials, and runs after that request was answered.
        """
        seen = []

        def behave(request):
            # Look at the request under the capture, without making the
            # render depend on the cookie.
            underlying = request._underlying
            seen.append((request.uri, request.args, request.getHeader(b"host"),
                         request.getHeader(b"x-safe"), underlying.getHeader(b"cookie"),
                         underlying.getHeader(b"authorization")))
            return b"ok"
        self.page(b"p", behave, cacheVary=(b"x-safe",))
        self.get(b"/p?x=1", headers=[b"X-Safe: 1", b"Cookie: secret=1"])
        self.clock.advance(61)
        ex = self.exchange(b"/p?x=1", headers=[b"X-Safe: 1", b"Cookie: secret=1"])
        self.assertTrue(ex.done())
        self.assertEqual(len(seen), 1)
        ex.disconnect()
        self.clock.advance(0)
        self.assertEqual(len(seen), 2)
        uri, args, host, safe, cookie, authorization = seen[1]
        self.assertEqual((uri, args, host, safe), (b"/p?x=1", {b"x": [b"1"]}, b"example.com", b"1"))
        self.assertEqual(seen[0][4], b"secret=1")
        self.assertIsNone(cookie)


    def test_refreshDropsConditionalsAndCredentials(self):
        """
        The background render never sees the triggering request's
        conditionals or proxy credentials: it renders the whole page, for
        everyone.
        """
        names = (b"if-none-match", b"if-modified-since", b"proxy-authorization",
                 b"x-safe")
        seen = []

        def behave(request):
            underlying = request._underlying
            seen.append(tuple(underlying.getHeader(name) for name in names))
            return b"ok"
        self.page(b"p", behave)
        self.get()
        self.clock.advance(61)
        self.get(headers=[b'If-None-Match: "x"', b"Proxy-Authorization: Basic dTpw",
                          b"If-Modified-Since: Sun, 09 Sep 2001 01:46:40 GMT",
                          b"X-Safe: 1"])
        self.clock.advance(0)
        self.assertEqual(seen, [(None, None, None, None), (None, None, None, b"1")])


    def test_failedRefreshKeepsStaleAndBacksOff(self):
        """
        A failing background render keeps the stale entry in service; the
        next attempt waits, longer after each failure.
        """
        def behave(request):
            if spec.renders > 1:
                raise RuntimeError("database down")
            return b"good"
        spec = self.page(b"p", behave)
        self.get()
        self.clock.advance(61)
        self.assertEqual(self.get().body, b"good")
        self.clock.advance(0)
        self.assertEqual(spec.renders, 2)
        self.assertTrue(self.flushErrors(RuntimeError))
        self.assertEqual(self.get().body, b"good")
        self.clock.advance(0)
        self.assertEqual(spec.renders, 2, "retried before the back-off")
        self.clock.advance(1)
        self.get()
        self.clock.advance(0)
        self.assertEqual(spec.renders, 3)
        self.clock.advance(1)
        self.get()
        self.clock.advance(0)
        self.assertEqual(spec.renders, 3, "second back-off is longer")
        self.clock.advance(1)
        self.get()
        self.clock.advance(0)
        self.assertEqual(spec.renders, 4)
        self.flushErrors(RuntimeError)
        self.assertEqual(self.cache.stats()["refreshFailures"], 3)


    def test_failedRefreshOnNon200(self):
        """
        A background render answering other than 200 is a failure too.
        """
        def behave(request):
            if spec.renders > 1:
                request.setResponseCode(503)
            return b"body %d" % (spec.renders,)
        spec = self.page(b"p", behave)
        self.get()
        self.clock.advance(61)
        self.get()
        self.clock.advance(0)
        self.assertEqual(self.get().body, b"body 1")
        self.assertEqual(self.cache.stats()["refreshFailures"], 1)
        self.flushErrors()


    def test_hangingRefreshTimesOut(self):
        """
        A background render that never ends counts as failed after
        C{renderTimeout}, and a later one can run.
        """
        def behave(request):
            if spec.renders > 1:
                return defer.Deferred()
            return b"good"
        spec = self.page(b"p", behave)
        self.get()
        self.clock.advance(61)
        self.get()
        self.clock.advance(0)
        self.assertEqual(self.cache.stats()["inFlight"], 1)
        self.clock.advance(20)
        self.assertEqual(self.cache.stats()["inFlight"], 0)
        self.assertEqual(self.cache.stats()["refreshFailures"], 1)
        self.flushLoggedErrors()


    def test_pastGraceWaitsForFreshRender(self):
        """
        Past C{cacheGrace} a stale entry is not served: the request waits
        for a fresh render.
        """
        spec = self.page(b"p", cacheTimeout=60, cacheGrace=100)
        self.get()
        self.clock.advance(159)
        self.assertEqual(self.get().body, b"<p>/p #1</p>")
        self.clock.advance(0)
        self.assertEqual(spec.renders, 2)
        self.clock.advance(161)
        late = self.get()
        self.assertEqual(late.body, b"<p>/p #3</p>")
        self.assertEqual(late.cacheStatus, b"nevowcache; fwd=stale; ttl=60; stored")


    # Single flight

    def test_concurrentMissesRenderOnce(self):
        """
        Concurrent misses on one key wait for the one render in flight.
        """
        pending = []

        def behave(request):
            d = defer.Deferred()
            pending.append(d)
            return d
        spec = self.page(b"p", behave)
        exchanges = [self.exchange() for _ in range(5)]
        self.assertEqual(spec.renders, 1)
        self.assertFalse(any(ex.done() for ex in exchanges))
        pending[0].callback(b"shared")
        responses = [ex.response() for ex in exchanges]
        self.assertEqual([r.body for r in responses], [b"shared"] * 5)
        self.assertEqual(responses[0].cacheStatus, b"nevowcache; fwd=uri-miss; ttl=60; stored")
        self.assertEqual([r.cacheStatus for r in responses[1:]],
                         [b"nevowcache; fwd=uri-miss; collapsed"] * 4)
        self.assertEqual(self.cache.stats()["collapsed"], 4)


    def test_waiterTimesOutAndRendersAlone(self):
        """
        A waiter whose leader takes longer than C{waitTimeout} renders on its
        own, and does not store.
        """
        pending = []

        def behave(request):
            d = defer.Deferred()
            pending.append(d)
            return d
        spec = self.page(b"p", behave)
        leader = self.exchange()
        waiter = self.exchange()
        self.clock.advance(10)
        self.assertEqual(spec.renders, 2)
        pending[1].callback(b"own")
        self.assertEqual(waiter.response().body, b"own")
        self.assertEqual(waiter.response().cacheStatus,
                         b"nevowcache; fwd=uri-miss; detail=leader-timeout")
        pending[0].callback(b"leader")
        self.assertEqual(leader.response().body, b"leader")
        self.assertEqual(self.get().body, b"leader")


    def test_waitersNeverGetUnshareableResponse(self):
        """
        When the leader's response may not be shared, each waiter renders
        its own.
        """
        pending = []

        def behave(request):
            d = defer.Deferred()
            pending.append(d)
            n = spec.renders
            request.addCookie(b"user", b"u%d" % (n,))

            def body(_):
                return b"for u%d" % (n,)
            return d.addCallback(body)
        spec = self.page(b"p", behave)
        exchanges = [self.exchange() for _ in range(3)]
        pending[0].callback(None)
        self.assertEqual(spec.renders, 3)
        for d in pending[1:]:
            d.callback(None)
        for i, ex in enumerate(exchanges):
            response = ex.response()
            self.assertEqual(response.body, b"for u%d" % (i + 1,))
            self.assertIn(b"user=u%d" % (i + 1,), response.header(b"set-cookie"))


    def test_failedRenderReleasesWaiters(self):
        """
        A render that fails stores nothing; its waiters render on their own.
        """
        pending = []

        def behave(request):
            d = defer.Deferred()
            pending.append(d)
            return d
        spec = self.page(b"p", behave)
        leader = self.exchange()
        waiter = self.exchange()
        pending[0].errback(RuntimeError("boom"))
        self.assertEqual(leader.response().code, 500)
        self.assertEqual(spec.renders, 2)
        pending[1].callback(b"ok")
        self.assertEqual(waiter.response().body, b"ok")
        del pending[:]
        self.assertTrue(self.flushErrors(RuntimeError))
        self.assertEqual(self.cache.stats()["entries"], 0)


    # Refusals

    def assertNotStored(self, behave=None, requestHeaders=(), method=b"GET", status=None,
                        **kwargs):
        """
        Two requests to a page both render: nothing was stored, and each
        answer's C{Cache-Status} is C{status} (which says why), if given.
        """
        spec = self.page(b"p", behave, **kwargs)
        first = self.get(method=method, headers=list(requestHeaders))
        second = self.get(method=method, headers=list(requestHeaders))
        self.assertEqual(spec.renders, 2)
        self.assertEqual(self.cache.stats()["entries"], 0)
        if status is not None:
            self.assertEqual((first.cacheStatus, second.cacheStatus), (status, status))
        return first, second


    def test_postBypasses(self):
        """
        Methods other than GET and HEAD pass through, untouched.
        """
        first, second = self.assertNotStored(method=b"POST", status=b"nevowcache; fwd=method")
        self.assertEqual(second.body, b"<p>/p #2</p>")
        self.assertEqual(second.cacheStatus, b"nevowcache; fwd=method")


    def test_authorizationBypasses(self):
        """
        Requests with credentials pass through.
        """
        self.assertNotStored(requestHeaders=[b"Authorization: Basic dTpw"],
                             status=b"nevowcache; fwd=bypass; detail=authorization")


    def test_methodOverrideBypasses(self):
        """
        A GET asking to be treated as another method passes through.
        """
        self.assertNotStored(requestHeaders=[b"X-HTTP-Method-Override: DELETE"],
                             status=b"nevowcache; fwd=bypass; detail=method-override")


    def test_non200NotStored(self):
        """
        Responses other than 200 pass through, never stored.
        """
        def behave(request):
            request.setResponseCode(404)
            return b"gone"
        first, second = self.assertNotStored(
            behave, status=b"nevowcache; fwd=uri-miss; detail=status-404; fwd-status=404")
        self.assertEqual(second.code, 404)
        self.assertEqual(second.body, b"gone")
        self.assertEqual(second.cacheStatus, b"nevowcache; fwd=uri-miss; detail=status-404; fwd-status=404")


    def test_redirectNotStored(self):
        """
        Redirects are not stored.
        """
        def behave(request):
            request.redirect(b"/elsewhere")
            return b""
        first, second = self.assertNotStored(
            behave, status=b"nevowcache; fwd=uri-miss; detail=status-302; fwd-status=302")
        self.assertEqual(second.code, 302)
        self.assertEqual(second.header(b"location"), b"/elsewhere")


    def test_addCookieNotStored(self):
        """
        A response setting a cookie passes through with its cookie.
        """
        def behave(request):
            request.addCookie(b"k", b"v")
            return b"x"
        first, second = self.assertNotStored(
            behave, status=b"nevowcache; fwd=uri-miss; detail=set-cookie")
        self.assertIn(b"k=v", second.header(b"set-cookie"))


    def test_setCookieHeaderNotStored(self):
        """
        A C{Set-Cookie} header set directly is caught too.
        """
        def behave(request):
            request.setHeader(b"set-cookie", b"k=v")
            return b"x"
        self.assertNotStored(behave, status=b"nevowcache; fwd=uri-miss; detail=set-cookie")


    def test_sessionNotStored(self):
        """
        A render that uses the session is not stored.
        """
        def behave(request):
            request.getSession()
            return b"x"
        self.assertNotStored(behave, status=b"nevowcache; fwd=uri-miss; detail=session")


    def test_cookieReadNotStored(self):
        """
        A render that reads a cookie is not stored.
        """
        def behave(request):
            return b"hello " + (request.getCookie(b"name") or b"stranger")
        first, second = self.assertNotStored(behave, requestHeaders=[b"Cookie: name=alice"],
                                             status=b"nevowcache; fwd=uri-miss; detail=cookie-read")
        self.assertEqual(second.body, b"hello alice")


    def test_cacheControlNotStored(self):
        """
        C{Cache-Control} C{private}, C{no-store} or C{no-cache}, in any case
        and spacing, keep a response out of the cache.
        """
        for value, directive in [(b"private", b"private"), (b"NO-STORE", b"no-store"),
                                 (b"max-age=0,  No-Cache", b"no-cache"),
                                 (b"public, private=\"x\"", b"private")]:
            self.freshSite()

            def behave(request):
                request.setHeader(b"cache-control", value)
                return b"x"
            self.assertNotStored(
                behave, status=b"nevowcache; fwd=uri-miss; detail=cache-control-" + directive)


    def test_varyStarNotStored(self):
        """
        A response with C{Vary: *} is not stored.
        """
        def behave(request):
            request.setHeader(b"vary", b"*")
            return b"x"
        self.assertNotStored(behave, status=b"nevowcache; fwd=uri-miss; detail=vary-star")


    def test_undeclaredHeaderReadNotStored(self):
        """
        A render that reads a request header it did not declare in
        C{cacheVary} is not stored.
        """
        def behave(request):
            return b"lang " + (request.getHeader(b"accept-language") or b"-")
        self.assertNotStored(
            behave, requestHeaders=[b"Accept-Language: fr"],
            status=b"nevowcache; fwd=uri-miss; detail=header-read-accept-language")


    def test_declaredHeaderJoinsKey(self):
        """
        A header declared in C{cacheVary} may be read, and its value joins
        the key.
        """
        def behave(request):
            return b"lang " + (request.getHeader(b"accept-language") or b"-")
        spec = self.page(b"p", behave, cacheVary=(b"accept-language",))
        self.assertEqual(self.get(headers=[b"Accept-Language: fr"]).body, b"lang fr")
        self.assertEqual(self.get(headers=[b"Accept-Language: de"]).body, b"lang de")
        self.assertEqual(self.get().body, b"lang -")
        self.assertEqual(self.get(headers=[b"Accept-Language: fr"]).body, b"lang fr")
        self.assertEqual(spec.renders, 3)


    def test_clientAddressNotStored(self):
        """
        A render that reads the client's address is not stored.
        """
        def behave(request):
            return b"you are " + request.getClientAddress().host.encode("ascii")
        self.assertNotStored(behave, status=b"nevowcache; fwd=uri-miss; detail=client-address")


    def test_renderErrorNotStored(self):
        """
        A render that raises is answered with an error and not stored.
        """
        def behave(request):
            raise ValueError("broken")
        first, second = self.assertNotStored(behave)
        self.assertEqual(second.code, 500)
        self.assertTrue(self.flushErrors(ValueError))


    def test_headHitHasNoBody(self):
        """
        HEAD is answered from the GET entry, without a body.
        """
        spec = self.page(b"p")
        self.get()
        head = self.get(method=b"HEAD")
        self.assertEqual(head.body, b"")
        self.assertEqual(head.header(b"content-length"), b"12")
        self.assertEqual(head.cacheStatus, b"nevowcache; hit; ttl=60")
        self.assertEqual(spec.renders, 1)


    def test_headMissNotStored(self):
        """
        A HEAD miss is rendered, sent without a body, and not stored.
        """
        spec = self.page(b"p")
        head = self.get(method=b"HEAD")
        self.assertEqual(head.body, b"")
        self.assertEqual(head.code, 200)
        self.assertEqual(self.get().cacheStatus, b"nevowcache; fwd=uri-miss; ttl=60; stored")
        self.assertEqual(spec.renders, 2)


    def test_conditionalHit(self):
        """
        A page's own validators are replayed through the request, so a
        conditional request for a hit gets a C{304}.
        """
        def behave(request):
            request.setLastModified(1000000000)
            return b"dated"
        self.page(b"p", behave)
        self.get()
        response = self.get(headers=[b"If-Modified-Since: Sun, 09 Sep 2001 01:46:40 GMT"])
        self.assertEqual(response.code, 304)
        self.assertEqual(response.body, b"")


    def test_entriesHaveValidators(self):
        """
        A stored response carries a strong C{ETag} derived from its body and
        a C{Last-Modified}; misses and hits alike.
        """
        self.page(b"p")
        self.clock.advance(1000000000)
        miss = self.get()
        hit = self.get()
        self.assertEqual(miss.header(b"etag"), hit.header(b"etag"))
        self.assertTrue(hit.header(b"etag").startswith(b'"'))
        self.assertEqual(hit.header(b"last-modified"), b"Sun, 09 Sep 2001 01:46:40 GMT")


    def test_ifNoneMatch(self):
        """
        A hit whose C{ETag} matches C{If-None-Match} (weakly) is a C{304}
        without a body; another tag gets the page.
        """
        spec = self.page(b"p")
        etag = self.get().header(b"etag")
        for value in (etag, b"W/" + etag, b'"other", ' + etag, b"*"):
            response = self.get(headers=[b"If-None-Match: " + value])
            self.assertEqual(response.code, 304, value)
            self.assertEqual(response.body, b"")
            self.assertEqual(response.header(b"etag"), etag)
            self.assertEqual(response.cacheStatus, b"nevowcache; hit; ttl=60")
            self.assertIsNone(response.header(b"content-type"))
        other = self.get(headers=[b'If-None-Match: "other"'])
        self.assertEqual(other.code, 200)
        self.assertEqual(other.body, b"<p>/p #1</p>")
        self.assertEqual(spec.renders, 1)


    def test_ifModifiedSince(self):
        """
        C{If-Modified-Since} at or after C{Last-Modified} is a C{304};
        earlier, the page.  C{If-None-Match}, when present, wins.
        """
        self.page(b"p")
        self.clock.advance(1000000000)
        self.get()
        later = b"If-Modified-Since: Sun, 09 Sep 2001 01:46:40 GMT"
        earlier = b"If-Modified-Since: Sun, 09 Sep 2001 01:46:39 GMT"
        self.assertEqual(self.get(headers=[later]).code, 304)
        self.assertEqual(self.get(headers=[earlier]).code, 200)
        self.assertEqual(self.get(headers=[later, b'If-None-Match: "x"']).code, 200)
        self.assertEqual(self.get(headers=[b"If-Modified-Since: garbage"]).code, 200)


    def test_validatorsStableAcrossRefreshes(self):
        """
        A refresh that renders the same body keeps C{ETag} and
        C{Last-Modified}; a changed body changes both.
        """
        bodies = [b"same", b"same", b"changed"]

        def behave(request):
            return bodies[spec.renders - 1]
        spec = self.page(b"p", behave)
        first = self.get()
        for expectSame in (True, False):
            self.clock.advance(61)
            self.get()
            self.clock.advance(0)
            fresh = self.get()
            self.assertEqual(fresh.header(b"etag") == first.header(b"etag"), expectSame)
            self.assertEqual(fresh.header(b"last-modified") == first.header(b"last-modified"),
                             expectSame)
        self.assertEqual(fresh.body, b"changed")


    def test_pageValidatorsKept(self):
        """
        A page that sets its own C{ETag} keeps it, and conditional requests
        use it.
        """
        def behave(request):
            request.setETag(b'"v1"')
            return b"versioned"
        self.page(b"p", behave)
        self.assertEqual(self.get().header(b"etag"), b'"v1"')
        self.assertEqual(self.get(headers=[b'If-None-Match: "v1"']).code, 304)


    def test_varyValuesNormalised(self):
        """
        Declared header values are normalised before they join the key:
        case and order of preference in C{Accept-Language}, whitespace.
        Absent and empty values stay apart.
        """
        def behave(request):
            return b"ok"
        spec = self.page(b"p", behave, cacheVary=(b"accept-language", b"x-theme"))
        self.get(headers=[b"Accept-Language: fr, en;q=0.8", b"X-Theme: dark"])
        for same in ([b"Accept-Language: en;q=0.8,FR", b"X-Theme:   dark"],
                     [b"Accept-Language: fr,en;q=0.80", b"X-Theme: dark"]):
            self.assertEqual(self.get(headers=same).cacheStatus[:15], b"nevowcache; hit", same)
        self.assertEqual(spec.renders, 1)
        self.get(headers=[b"Accept-Language: fr, en;q=0.8", b"X-Theme: Dark"])
        self.get(headers=[b"Accept-Language: fr, en;q=0.8"])
        self.get(headers=[b"Accept-Language: fr, en;q=0.8", b"X-Theme: "])
        self.assertEqual(spec.renders, 4)


    def test_varyHeaderSent(self):
        """
        Stored responses of a page with C{cacheVary} say so in C{Vary}, with
        the page's own C{Vary} names kept.
        """
        def behave(request):
            request.setHeader(b"vary", b"X-Theme")
            return b"ok"
        self.page(b"p", behave, cacheVary=(b"accept-language", b"x-theme"))
        self.get()
        self.assertEqual(self.get().header(b"vary"), b"accept-language, x-theme")


    def test_variantsPerUrlCapped(self):
        """
        No more than C{maxVariants} variants of one URL are stored; the rest
        are served uncached and counted.
        """
        self.cache.maxVariants = 3
        spec = self.page(b"p", lambda request: b"ok", cacheVary=(b"x-theme",))
        for theme in (b"a", b"b", b"c", b"d", b"e"):
            self.get(headers=[b"X-Theme: " + theme])
        response = self.get(headers=[b"X-Theme: e"])
        self.assertEqual(response.cacheStatus, b"nevowcache; fwd=uri-miss; detail=too-many-variants")
        self.assertEqual(self.get(headers=[b"X-Theme: a"]).cacheStatus[:15], b"nevowcache; hit")
        self.assertEqual(self.cache.stats()["varyOverflows"], 3)
        self.assertEqual(spec.renders, 6)


    def test_downstreamCacheControl(self):
        """
        With C{cacheControl = "public"} stored responses tell browsers and
        shared caches how long they stay fresh and may be served stale.
        They say their C{Age}, which a cache downstream adds to the time it
        keeps them (RFC 9111 section 4.2.3): C{max-age} is the whole
        lifetime, so that C{max-age - Age} is what is left, as here.
        """
        self.page(b"p", cacheTimeout=60, cacheGrace=3600, cacheControl="public")
        self.page(b"q")
        miss = self.get()
        self.assertEqual(miss.header(b"cache-control"),
                         b"public, max-age=60, stale-while-revalidate=3600")
        self.clock.advance(20)
        hit = self.get()
        self.assertEqual(hit.header(b"cache-control"),
                         b"public, max-age=60, stale-while-revalidate=3600")
        self.assertEqual(hit.header(b"age"), b"20")
        self.assertEqual(hit.cacheStatus, b"nevowcache; hit; ttl=40")
        self.assertEqual(self.get(headers=[b"If-None-Match: *"]).header(b"cache-control"),
                         b"public, max-age=60, stale-while-revalidate=3600")
        self.clock.advance(50)
        stale = self.get()
        # Age 70 is past max-age 60: stale downstream too, for 3600 s more.
        self.assertEqual(stale.header(b"cache-control"),
                         b"public, max-age=60, stale-while-revalidate=3600")
        self.assertEqual(stale.header(b"age"), b"70")
        self.assertEqual(self.get(b"/q").header(b"cache-control"), b"no-cache")


    def test_downstreamInvalidatedIsStale(self):
        """
        An entry invalidated softly is served stale here: downstream too
        (C{max-age} no more than its C{Age}).
        """
        self.page(b"p", cacheTimeout=60, cacheGrace=3600, cacheControl="public")
        self.get()
        self.clock.advance(5)
        self.cache.invalidate(u"http://example.com:8080/p")
        stale = self.get()
        self.assertIn(b"detail=invalidated", stale.cacheStatus)
        self.assertEqual(stale.header(b"age"), b"5")
        self.assertEqual(stale.header(b"cache-control"),
                         b"public, max-age=5, stale-while-revalidate=3600")


    def test_downstreamWithoutGrace(self):
        """
        With C{cacheGrace = None} (stale served here for as long as needed),
        nothing lets caches downstream serve it stale: no
        C{stale-while-revalidate}, since no purge reaches them.
        """
        self.page(b"p", cacheTimeout=60, cacheControl="public")
        self.assertEqual(self.get().header(b"cache-control"), b"public, max-age=60")
        self.page(b"z", cacheTimeout=0, cacheControl="public")
        self.assertEqual(self.get(b"/z").header(b"cache-control"), b"public, no-cache")


    def test_noHeuristicFreshness(self):
        """
        A stored page that gave no freshness of its own (no C{max-age},
        C{s-maxage}, C{Expires}) goes out with C{no-cache} added to its
        C{Cache-Control}: caches downstream may keep it and revalidate (a
        C{304} from the entry), but never choose a lifetime of their own
        from the C{Last-Modified} the cache adds (RFC 9111 section 4.2.2).
        A page that said how long is left alone; a response not stored is
        passed through as the page made it, without validators added.
        """
        def own(value):
            def behave(request):
                request.setHeader(b"cache-control", value)
                return b"own"
            return behave

        def expires(request):
            request.setHeader(b"expires", b"Sun, 09 Sep 2001 01:46:40 GMT")
            return b"expires"

        def personal(request):
            request.getSession()
            return b"personal"
        self.page(b"p")
        self.page(b"own", own(b"max-age=30"))
        self.page(b"pub", own(b"public"))
        self.page(b"exp", expires)
        self.page(b"personal", personal)
        for path in (b"/p", b"/p"):
            response = self.get(path)
            self.assertEqual(response.header(b"cache-control"), b"no-cache")
            self.assertIsNotNone(response.header(b"last-modified"))
        revalidated = self.get(b"/p", headers=[b"If-None-Match: " + response.header(b"etag")])
        self.assertEqual(revalidated.code, 304)
        self.assertEqual(revalidated.header(b"cache-control"), b"no-cache")
        for path in (b"/own", b"/own"):
            self.assertEqual(self.get(path).header(b"cache-control"), b"max-age=30")
        self.assertEqual(self.get(b"/pub").header(b"cache-control"), b"public, no-cache")
        exp = self.get(b"/exp")
        self.assertIsNone(exp.header(b"cache-control"))
        self.assertEqual(exp.header(b"expires"), b"Sun, 09 Sep 2001 01:46:40 GMT")
        passed = self.get(b"/personal")
        self.assertIn(b"detail=session", passed.cacheStatus)
        self.assertIsNone(passed.header(b"cache-control"))
        self.assertIsNone(passed.header(b"last-modified"))
        self.assertIsNone(passed.header(b"etag"))


    # Last-Modified and Date

    def assertNotAfterDate(self, response):
        date = http.stringToDatetime(response.header(b"date"))
        modified = response.header(b"last-modified")
        self.assertIsNotNone(modified)
        self.assertLessEqual(http.stringToDatetime(modified), date,
                             "Last-Modified %r after Date %r"
                             % (modified, response.header(b"date")))


    def test_lastModifiedNeverAfterDate(self):
        """
        A C{Last-Modified} is never later than the C{Date} of the response
        that carries it (RFC 9110 section 8.8.2.1), whatever the time of
        day twisted.web dates the request by: a response from an entry is
        dated by the cache's (L{test_dateIsWhenGenerated}); a time of day
        ahead of the response's (a body that changed twice in one second
        gets the second after the first's) is sent as the C{Date}; the
        entry keeps its own for C{If-Modified-Since}.
        """
        self.page(b"p")
        # The cache's time of day (this clock) an hour ahead of the real
        # one, which twisted.web dates requests by.
        self.clock.advance(time.time() + 3600)
        miss = self.get()
        hit = self.get()
        head = self.get(method=b"HEAD")
        for response in (miss, hit, head):
            self.assertNotAfterDate(response)
        # Dated when their entry was generated, by the cache's time of day,
        # as its Last-Modified (its render's start) is.
        self.assertEqual(miss.header(b"last-modified"), miss.header(b"date"))
        self.assertEqual(hit.header(b"last-modified"), hit.header(b"date"))
        # The entry's own time decides: the real time of day is earlier, so
        # modified.
        since = self.get(headers=[
            b"If-Modified-Since: " + http.datetimeToString(int(time.time()))])
        self.assertEqual(since.code, 200)


    def test_dateIsWhenGenerated(self):
        """
        A response from an entry is dated when the entry was generated, as
        a cache sends a stored response's C{Date} with its C{Age} (RFC 9111
        section 5.1): C{Date} plus C{Age} is now, by the answering cache's
        time of day (its injected wall clock), whichever way the hit is
        written (HEAD and conditional requests are replayed).
        """
        self.page(b"p")
        # The cache's time of day (this clock): a day ahead of the real one.
        self.clock.advance(int(time.time()) + 86400)
        self.get()
        self.clock.advance(42)
        for response in (self.get(), self.get(method=b"HEAD"),
                         self.get(headers=[b"If-None-Match: *"])):
            self.assertEqual(response.header(b"age"), b"42")
            self.assertEqual(len(response.headers.getRawHeaders(b"date")), 1)
            # By the cache's time of day, not the real one.
            date = http.stringToDatetime(response.header(b"date"))
            self.assertEqual(date + 42, self.clock.seconds(),
                             (response.header(b"date"), response.code))
            self.assertNotAfterDate(response) if response.code == 200 else None


    def test_lastModifiedIsWhenTheRenderStarted(self):
        """
        A new body's C{Last-Modified} is the second its render started, not
        ended: the response was dated before its render (twisted.web and
        Nevow set C{Date} when the request arrives), and a render that
        crosses a second must not look modified after it.
        """
        def behave(request):
            return task.deferLater(self.clock, 0.4, lambda: b"slow")
        self.page(b"p", behave)
        self.clock.advance(1000000000.8)
        ex = self.exchange()
        self.clock.advance(0.4)
        self.assertTrue(ex.done())
        self.assertEqual(ex.response().header(b"last-modified"),
                         b"Sun, 09 Sep 2001 01:46:40 GMT")


    # Cache-Status (RFC 9211)

    def test_cacheStatusMethod(self):
        """
        A request never looked up for its method says C{fwd=method}.
        """
        self.page(b"p")
        self.assertEqual(self.get(method=b"POST").cacheStatus, b"nevowcache; fwd=method")


    def test_cacheStatusForwardedNotModified(self):
        """
        A miss answered C{304} from the C{200} the render gave says so with
        C{fwd-status}.
        """
        self.page(b"p")
        response = self.get(headers=[b"If-None-Match: *"])
        self.assertEqual(response.code, 304)
        self.assertEqual(response.cacheStatus,
                         b"nevowcache; fwd=uri-miss; ttl=60; stored; fwd-status=200")


    # Invalidation, bounds and statistics

    def test_invalidateIsSoft(self):
        """
        C{invalidate(url)} makes every entry of that URL stale: served once
        more while one refresh runs.
        """
        spec = self.page(b"p")
        self.get(b"/p?a=1", host=b"Example.com")
        self.cache.invalidate(u"http://example.com:8080/p?a=1")
        stale = self.get(b"/p?a=1", host=b"Example.com")
        self.assertEqual(stale.body, b"<p>/p?a=1 #1</p>")
        self.assertEqual(stale.cacheStatus, b"nevowcache; hit; ttl=-1; detail=invalidated")
        self.clock.advance(0)
        self.assertEqual(self.get(b"/p?a=1", host=b"Example.com").body, b"<p>/p?a=1 #2</p>")
        self.assertEqual(spec.renders, 2)


    def test_invalidateHard(self):
        """
        C{invalidate(url, hard=True)} drops the entries: the next request
        renders.
        """
        self.page(b"p")
        self.get()
        self.cache.invalidate(b"http://example.com:8080/p", hard=True)
        self.assertEqual(self.get().body, b"<p>/p #2</p>")


    def test_invalidateOtherUrlUntouched(self):
        """
        Invalidating one URL leaves the others fresh.
        """
        self.page(b"p")
        self.get(b"/p?a=1")
        self.get(b"/p?a=2")
        self.cache.invalidate(u"http://example.com:8080/p?a=1", hard=True)
        self.assertEqual(self.get(b"/p?a=2").cacheStatus[:15], b"nevowcache; hit")


    def test_renderStartedBeforeInvalidationNotStored(self):
        """
        A render that started before an invalidation is never stored after
        it.
        """
        pending = []

        def behave(request):
            d = defer.Deferred()
            pending.append(d)
            return d
        self.page(b"p", behave)
        ex = self.exchange()
        self.cache.invalidate(u"http://example.com:8080/p", hard=True)
        pending[0].callback(b"old data")
        self.assertEqual(ex.response().body, b"old data")
        self.assertEqual(ex.response().cacheStatus, b"nevowcache; fwd=uri-miss")
        self.assertEqual(self.cache.stats()["entries"], 0)


    def assertInvalidated(self, path):
        """
        A request for C{path} is answered stale, from its entry.
        """
        self.assertEqual(self.get(path).cacheStatus,
                         b"nevowcache; hit; ttl=-1; detail=invalidated", path)


    def assertHit(self, path):
        """
        A request for C{path} is a fresh hit.
        """
        self.assertEqual(self.get(path).cacheStatus, b"nevowcache; hit; ttl=60", path)


    def test_invalidatePrefixIsSoft(self):
        """
        C{invalidatePrefix(urlPrefix)} makes every entry under the prefix
        stale, on path-segment boundaries and whatever the query: C{/blog}
        reaches C{/blog}, C{/blog/} and C{/blog/x?y=1}, not C{/blogs}.
        """
        blog = self.page(b"blog", leaf=True)
        self.page(b"blogs", leaf=True)
        under = [b"/blog", b"/blog/", b"/blog/x?y=1"]
        for path in under + [b"/blogs", b"/blogs/x"]:
            self.get(path)
        self.cache.invalidatePrefix(u"http://example.com:8080/blog")
        for path in under:
            self.assertInvalidated(path)
        self.assertHit(b"/blogs")
        self.assertHit(b"/blogs/x")
        self.clock.advance(0)
        self.assertEqual(blog.renders, 6)
        for path in under:
            self.assertHit(path)


    def test_invalidatePrefixHard(self):
        """
        C{invalidatePrefix(urlPrefix, hard=True)} drops the entries under
        it: the next request renders.  The host's root reaches every path.
        """
        self.page(b"blog", leaf=True)
        self.get(b"/blog/x")
        self.cache.invalidatePrefix(b"http://example.com:8080/blog/", hard=True)
        self.assertEqual(self.get(b"/blog/x").body, b"<p>/blog/x #2</p>")
        self.cache.invalidatePrefix(u"http://example.com:8080/", hard=True)
        self.assertEqual(self.get(b"/blog/x").body, b"<p>/blog/x #3</p>")
        self.cache.invalidatePrefix(u"http://other.example:8080/", hard=True)
        self.assertHit(b"/blog/x")


    def test_invalidatePathReachesEveryHost(self):
        """
        C{invalidate(path)}, a path alone, reaches that path on every host,
        port and scheme, whatever its query (softly by default, hard if
        asked); other paths stay fresh.  C{invalidatePrefix(path)} reaches
        the paths under it on every host.
        """
        self.page(b"post", leaf=True)
        aliases = [dict(host=b"localhost"), dict(host=b"127.0.0.1"),
                   dict(host=b"www.example.com", port=8443),
                   dict(host=b"example.com:8080", port=8080)]
        paths = [b"/post/1", b"/post/1?page=2"]
        for where in aliases:
            for path in paths + [b"/post/12", b"/post/1/x"]:
                self.get(path, **where)
        self.cache.invalidate(u"/post/1")
        for where in aliases:
            for path in paths:
                self.assertEqual(self.get(path, **where).cacheStatus,
                                 b"nevowcache; hit; ttl=-1; detail=invalidated",
                                 (path, where))
            for path in (b"/post/12", b"/post/1/x"):
                self.assertEqual(self.get(path, **where).cacheStatus,
                                 b"nevowcache; hit; ttl=60", (path, where))
        self.clock.advance(0)
        self.cache.invalidate(b"/post/1", hard=True)
        for where in aliases:
            self.assertEqual(self.get(b"/post/1", **where).cacheStatus,
                             b"nevowcache; fwd=uri-miss; ttl=60; stored", where)
        self.cache.invalidatePrefix(u"/post/1", hard=True)
        for where in aliases:
            self.assertEqual(self.get(b"/post/1/x", **where).cacheStatus,
                             b"nevowcache; fwd=uri-miss; ttl=60; stored", where)
            self.assertEqual(self.get(b"/post/12", **where).cacheStatus,
                             b"nevowcache; hit; ttl=60", where)


    def test_invalidateTagIsSoft(self):
        """
        C{invalidateTag(tag)} makes the entries of the pages tagged with it
        (C{cacheTags}, an attribute or a method of the request or context)
        stale; pages without the tag stay fresh.
        """
        def tagsOf(request):
            return (u"news",) if request.args.get(b"news") else (u"other",)
        news = self.page(b"n", cacheTags=(u"news", u"front"))
        self.page(b"s", cacheTags=(u"sport",))
        self.page(b"c", cacheTags=tagsOf)
        for path in (b"/n", b"/s", b"/c?news=1", b"/c"):
            self.get(path)
        self.cache.invalidateTag(u"news")
        self.assertInvalidated(b"/n")
        self.assertInvalidated(b"/c?news=1")
        self.assertHit(b"/s")
        self.assertHit(b"/c")
        self.clock.advance(0)
        self.assertEqual(news.renders, 2)
        self.assertHit(b"/n")


    def test_invalidateTagHard(self):
        """
        C{invalidateTag(tag, hard=True)} drops the entries of the pages
        tagged with it: the next request renders.
        """
        self.page(b"n", cacheTags=(u"news",))
        self.page(b"s", cacheTags=(u"sport",))
        self.get(b"/n")
        self.get(b"/s")
        self.cache.invalidateTag(b"news", hard=True)
        self.assertEqual(self.get(b"/n").body, b"<p>/n #2</p>")
        self.assertHit(b"/s")


    def test_renderStartedBeforeScopeInvalidationNotStored(self):
        """
        A render that started before an invalidation of its prefix or its
        tag is never stored after it.
        """
        pending = []

        def behave(request):
            d = defer.Deferred()
            pending.append(d)
            return d
        self.page(b"p", behave, cacheTags=(u"news",), leaf=True)
        for invalidate in [
                lambda: self.cache.invalidatePrefix(u"http://example.com:8080/p"),
                lambda: self.cache.invalidateTag(u"news")]:
            for hard in (False, True):
                del pending[:]
                ex = self.exchange(b"/p/x")
                invalidate()
                pending[0].callback(b"old data")
                self.assertEqual(ex.response().body, b"old data")
                self.assertEqual(ex.response().cacheStatus, b"nevowcache; fwd=uri-miss")
                self.assertEqual(self.cache.stats()["entries"], 0)


    def test_unsafeMethodInvalidates(self):
        """
        A successful POST to a cached URL drops its entries: the next
        request renders (it may show what the POST changed); a failed one
        leaves them fresh.
        """
        def behave(request):
            if request.method == b"POST" and request.args.get(b"fail"):
                request.setResponseCode(400)
            return b"#" + str(spec.renders).encode("ascii")
        spec = self.page(b"p", behave)
        self.get(b"/p?a=1")
        self.get(b"/p?a=1&fail=1", method=b"POST")
        self.assertEqual(self.get(b"/p?a=1").cacheStatus, b"nevowcache; hit; ttl=60")
        self.get(b"/p?a=1", method=b"POST")
        after = self.get(b"/p?a=1")
        self.assertEqual(after.cacheStatus, b"nevowcache; fwd=uri-miss; ttl=60; stored")
        self.assertEqual(after.body, b"#4")
        self.assertEqual(self.cache.stats()["unsafeInvalidations"], 1)


    def redirector(self, location=b"/p", code=303, header=b"location"):
        """
        @return: The behaviour of an uncached form handler: it answers
            every method with C{code} and C{Location: location}.
        """
        def behave(request):
            request.setResponseCode(code)
            request.setHeader(header, location)
            return b"moved"
        return behave


    def test_postToChildInvalidatesRedirectTarget(self):
        """
        A successful POST to a child of a cached page (a form's
        C{freeform_post!!...}) that redirects back to the page drops the
        page's entries on every host: the page after the redirect renders
        anew.  Same-origin C{Location}s count, relative or absolute, and
        C{Content-Location}s; other origins' do not, nor failures.
        """
        cases = [
            (b"/p", 303, b"location", True),
            (b"http://example.com:8080/p?x=1", 302, b"location", True),
            (b"../p", 303, b"location", True),
            (b"/p", 201, b"content-location", True),
            (b"http://other.example:8080/p", 303, b"location", False),
            (b"https://example.com:8080/p", 303, b"location", False),
            (b"/p", 403, b"location", False),
        ]
        for location, code, header, invalidates in cases:
            self.freshSite()
            spec = self.page(b"p", children={
                b"post": self.redirector(location, code, header)})
            self.get(b"/p")
            self.get(b"/p", host=b"localhost")
            answer = self.get(b"/p/post", method=b"POST")
            self.assertEqual(answer.code, code)
            for host in (b"example.com", b"localhost"):
                status = self.get(b"/p", host=host).cacheStatus
                self.assertEqual(status, b"nevowcache; fwd=uri-miss; ttl=60; stored"
                                 if invalidates else b"nevowcache; hit; ttl=60",
                                 (location, code, header, host))
            self.assertEqual(spec.renders, 4 if invalidates else 2)


    def test_putAndDeleteAndOthersInvalidate(self):
        """
        Any method not known to be safe invalidates (PUT, DELETE, PATCH,
        and methods nobody here knows); OPTIONS does not.
        """
        spec = self.page(b"p", children={b"post": self.redirector()})
        self.get(b"/p")
        for method in (b"PUT", b"DELETE", b"PATCH", b"FROBNICATE"):
            self.get(b"/p/post", method=method)
            self.assertEqual(self.get(b"/p").cacheStatus,
                             b"nevowcache; fwd=uri-miss; ttl=60; stored", method)
        self.get(b"/p/post", method=b"OPTIONS")
        self.assertEqual(self.get(b"/p").cacheStatus, b"nevowcache; hit; ttl=60")
        self.assertEqual(spec.renders, 5)


    def pendingPage(self, name=b"p", **kwargs):
        """
        A page whose every render waits for a L{Deferred} of its body.

        @return: The L{PageSpec}, and the list of pending L{Deferred}s.
        """
        behave, pending = pendingRenders()
        return self.page(name, behave, **kwargs), pending


    def test_getAfterPostNeverSharesEarlierRender(self):
        """
        A request arriving after a successful POST never shares a render
        that began before the POST ended: it waits for a new render, which
        begins once that one is over, and which the requests arriving after
        the POST share.
        """
        spec, pending = self.pendingPage(children={b"post": self.redirector()})
        before = self.exchange(b"/p")
        self.assertEqual(spec.renders, 1)
        self.assertEqual(self.get(b"/p/post", method=b"POST").code, 303)
        after = [self.exchange(b"/p"), self.exchange(b"/p")]
        # One render of the URL at a time.
        self.assertEqual(spec.renders, 1)
        pending[0].callback(b"before the post")
        self.assertEqual(before.response().body, b"before the post")
        self.assertEqual(spec.renders, 2)
        self.assertFalse(after[0].done())
        pending[1].callback(b"after the post")
        self.assertEqual([ex.response().body for ex in after], [b"after the post"] * 2)
        self.assertEqual([ex.response().cacheStatus for ex in after],
                         [b"nevowcache; fwd=uri-miss; ttl=60; stored",
                          b"nevowcache; fwd=uri-miss; collapsed"])
        self.assertEqual(self.get(b"/p").body, b"after the post")
        self.assertEqual(spec.renders, 2)


    def test_postFloodRendersOneAtATime(self):
        """
        Under a flood of POSTs, a URL is rendered once at a time: the
        requests arriving while a render that began before the last POST
        runs share one next render, whatever number of POSTs arrive before
        it begins; the requests that arrived before a POST still get the
        render they joined, stored or not.
        """
        spec, pending = self.pendingPage(children={b"post": self.redirector()})
        first = self.exchange(b"/p")
        waiting = []
        for i in range(5):
            self.get(b"/p/post", method=b"POST")
            waiting.append(self.exchange(b"/p"))
        self.assertEqual(spec.renders, 1)
        pending[0].callback(b"render 1")
        self.assertEqual(first.response().body, b"render 1")
        self.assertEqual(spec.renders, 2)
        # The second render runs; a POST now, and the requests after it
        # wait for a third, which begins when the second is over.
        joined = self.exchange(b"/p")
        self.get(b"/p/post", method=b"POST")
        later = [self.exchange(b"/p") for _ in range(3)]
        self.assertEqual(spec.renders, 2)
        pending[1].callback(b"render 2")
        for ex in waiting + [joined]:
            self.assertEqual(ex.response().body, b"render 2")
        self.assertEqual(spec.renders, 3)
        self.assertFalse(later[0].done())
        pending[2].callback(b"render 3")
        for ex in later:
            self.assertEqual(ex.response().body, b"render 3")
        self.assertEqual(self.get(b"/p").cacheStatus, b"nevowcache; hit; ttl=60")
        self.assertEqual(spec.renders, 3)
        self.assertEqual(self.cache.stats()["unsafeInvalidations"], 6)


    def test_unsafeInvalidationCanBeTurnedOff(self):
        """
        With C{invalidateOnUnsafe} false a POST leaves entries alone.
        """
        self.cache.invalidateOnUnsafe = False
        self.page(b"p")
        self.get()
        self.get(method=b"POST")
        self.assertEqual(self.get().cacheStatus, b"nevowcache; hit; ttl=60")


    def test_clear(self):
        """
        C{clear()} empties the cache.
        """
        spec = self.page(b"p")
        self.get()
        self.cache.clear()
        self.get()
        self.assertEqual(spec.renders, 2)


    def test_floodStaysBounded(self):
        """
        A flood of distinct query strings cannot grow the store past its
        byte bound; evictions are counted and recent entries stay.
        """
        self.store = MemoryStore(maxBytes=20000, maxEntries=1000)
        self.cache = PageCache(self.store, reactor=self.clock)
        self.page(b"p")
        for i in range(300):
            self.get(b"/p?r=%d" % (i,))
            self.assertLessEqual(self.store.stats()["bytes"], 20000)
        stats = self.cache.stats()
        self.assertGreater(stats["evictions"], 200)
        self.assertEqual(self.get(b"/p?r=299").cacheStatus[:15], b"nevowcache; hit")


    def test_stats(self):
        """
        C{stats()} counts hits, stale hits, misses, renders and refreshes.
        """
        self.page(b"p")
        self.get()
        self.get()
        self.clock.advance(61)
        self.get()
        self.clock.advance(0)
        stats = self.cache.stats()
        for name, value in [("hits", 1), ("staleHits", 1), ("misses", 1),
                            ("renders", 2), ("refreshes", 1), ("refreshFailures", 0),
                            ("collapsed", 0), ("evictions", 0), ("entries", 1)]:
            self.assertEqual(stats[name], value, name)
        self.assertGreater(stats["bytes"], 0)


    def test_noTimersLeft(self):
        """
        After the dust settles no timer of the cache is pending: every timer
        nevowcache set (a first render's deadline, a refresh's, the turns
        it waits) has run or been cancelled.  A timer is nevowcache's when
        the code that asked the clock for it, past Twisted's own scheduling
        helpers, is in nevowcache; a first render and a refresh set some.
        """
        scheduled = []
        callLater = self.clock.callLater

        def recording(delay, f, *args, **kwargs):
            call = callLater(delay, f, *args, **kwargs)
            frame = sys._getframe(1)
            while frame.f_globals.get("__name__", "").startswith("twisted.internet"):
                frame = frame.f_back
            if frame.f_globals.get("__name__", "").startswith("nevowcache"):
                scheduled.append(call)
            return call
        self.clock.callLater = recording
        self.page(b"p")
        self.get()
        firstRender = len(scheduled)
        self.clock.advance(61)
        self.get()
        self.clock.advance(0)
        self.assertTrue(firstRender, "the first render set no timer")
        self.assertTrue(len(scheduled) > firstRender, "the refresh set no timer")
        self.assertEqual([call for call in scheduled if call.active()], [])



makeCases(globals(), BehaviourTestsMixin, "BehaviourTests", ADAPTERS + [KLEIN])
