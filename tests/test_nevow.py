"""
What only the Nevow adapter has to handle: Nevow's contexts, C{addSlash},
carry-over, inline and production errors, results that are resources,
C{beforeRender}, re-traversal for refreshes, and a real TCP round trip.
"""

from __future__ import absolute_import, division

from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase, TestCase

from nevowcache import MemoryStore, PageCache
from nevowcache.admin import AdminResource

from tests._http import Exchange

try:
    from nevow import appserver, inevow, loaders, rend, tags, url
except ImportError:
    nevow = None
    skip = "Nevow runs only on Python 2.7"
else:
    from nevow import context, flat
    from nevow.flat.twist import deferflatten
    from twisted.web import server
    from nevowcache import CachedPage, CachedPageMixin, _nevowpage



class _Work(object):
    """
    A fake time source for the sliced flattener (C{_nevowpage._timer}): the
    reactor's L{Clock}, plus the CPU time that the render functions say they
    spent, which the L{Clock} does not see.

    @ivar spent: Seconds of work done so far.
    """

    def __init__(self, clock):
        self.clock = clock
        self.spent = 0.0


    def __call__(self):
        return self.clock.seconds() + self.spent


    def spend(self, seconds):
        self.spent += seconds



class NevowTestsBase(SynchronousTestCase):
    """
    A Nevow site in memory with a cache on a L{Clock}.
    """

    def setUp(self):
        self.clock = Clock()
        self.cache = PageCache(MemoryStore(), reactor=self.clock)
        self.renders = []


    def makePage(self, base=None, **attributes):
        """
        A cached page counting its renders in C{self.renders}.
        """
        test = self
        bases = (CachedPage,) if base is None else (CachedPageMixin, base)

        def render_body(self, ctx, data):
            test.renders.append(inevow.IRequest(ctx).uri)
            return "render %d" % (len(test.renders),)
        namespace = dict(pageCache=self.cache, render_body=render_body,
                         docFactory=loaders.stan(tags.p(render=tags.directive("body"))))
        namespace.update(attributes)
        return type("Page", bases, namespace)()


    def serve(self, root):
        self.site = appserver.NevowSite(root, reactor=self.clock)
        self.site.sessionFactory = lambda site, uid: server.Session(site, uid, reactor=self.clock)


    def get(self, path=b"/p", **kwargs):
        ex = Exchange(self.site, path=path, **kwargs)
        self.assertTrue(ex.done(), ex.transport.value())
        return ex.response()



class NevowAdapterTests(NevowTestsBase):
    """
    Nevow-only rules.
    """

    def test_addSlashRedirectNotStored(self):
        """
        A page with C{addSlash} answers C{/d} with a redirect, never stored,
        and C{/d/} is cached.
        """
        root = rend.Page()
        root.putChild("d", self.makePage(addSlash=True))
        self.serve(root)
        for _ in range(2):
            response = self.get(b"/d")
            self.assertEqual(response.code, 302)
            self.assertTrue(response.header(b"location").endswith(b"/d/"))
        self.assertEqual(self.get(b"/d/").cacheStatus, b"nevowcache; fwd=uri-miss; stored")
        self.assertEqual(self.get(b"/d/").cacheStatus, b"nevowcache; hit; ttl=60")
        self.assertEqual(self.cache.stats()["entries"], 1)


    def test_carryoverBypasses(self):
        """
        A request carrying a form carry-over is rendered and not stored.
        """
        root = rend.Page()
        root.putChild("p", self.makePage())
        self.serve(root)
        self.get(b"/p?_nevow_carryover_=abc")
        response = self.get(b"/p?_nevow_carryover_=abc")
        self.assertEqual(response.cacheStatus, b"nevowcache; fwd=bypass; detail=carryover")
        self.assertEqual(len(self.renders), 2)


    def test_productionErrorPageNotStored(self):
        """
        With Nevow's production exception handler a failed render is answered
        with C{200}: still, it is not stored.
        """
        def render_body(self, ctx, data):
            raise RuntimeError("broken")
        root = rend.Page()
        root.putChild("p", self.makePage(render_body=render_body))
        self.serve(root)
        self.site.remember(appserver.UninformativeExceptionHandler(),
                           inevow.ICanHandleException)
        first = self.get()
        second = self.get()
        self.assertEqual(second.code, 200)
        self.assertIn(b"Internal Server Error", second.body)
        self.assertEqual(self.cache.stats()["entries"], 0)
        self.assertEqual(self.cache.stats()["renderFailures"], 2)
        self.flushLoggedErrors(RuntimeError)
        del first


    def test_resourceResultPassedOn(self):
        """
        A page answering with a URL (a redirect) is passed to Nevow, not
        stored.
        """
        class Redirecting(rend.Page):
            def renderHTTP(self, ctx):
                return url.URL.fromString("http://example.com/elsewhere")
        root = rend.Page()
        root.putChild("p", self.makePage(base=Redirecting))
        self.serve(root)
        for _ in range(2):
            response = self.get()
            self.assertEqual(response.header(b"location"), b"http://example.com/elsewhere")
        self.assertEqual(self.cache.stats()["entries"], 0)


    def test_mixinWithBeforeRender(self):
        """
        L{CachedPageMixin} caches an existing page class; its C{beforeRender}
        runs on renders only, and the headers it sets are replayed on hits.
        """
        calls = []

        class Existing(rend.Page):
            def beforeRender(self, ctx):
                calls.append(1)
                inevow.IRequest(ctx).setHeader(b"x-before", b"1")
        root = rend.Page()
        root.putChild("p", self.makePage(base=Existing))
        self.serve(root)
        self.get()
        hit = self.get()
        self.assertEqual(hit.header(b"x-before"), b"1")
        self.assertEqual(hit.body, b"render 1")
        self.assertEqual(len(calls), 1)


    def test_sessionThroughContextNotStored(self):
        """
        C{ISession(ctx)} is seen, though it goes through the context and not
        the request.
        """
        def render_body(self, ctx, data):
            inevow.ISession(ctx)
            return "personal"
        root = rend.Page()
        root.putChild("p", self.makePage(render_body=render_body))
        self.serve(root)
        self.get()
        response = self.get()
        self.assertEqual(response.cacheStatus, b"nevowcache; fwd=uri-miss; detail=session")
        self.assertEqual(self.cache.stats()["entries"], 0)


    def test_languagesNotStoredUnlessDeclared(self):
        """
        C{ILanguages(ctx)} reads C{Accept-Language}: not stored unless the
        page declares it in C{cacheVary}.
        """
        def render_body(self, ctx, data):
            return ",".join(inevow.ILanguages(ctx))
        root = rend.Page()
        root.putChild("p", self.makePage(render_body=render_body))
        root.putChild("q", self.makePage(render_body=render_body,
                                         cacheVary=("accept-language",)))
        self.serve(root)
        self.get(headers=[b"Accept-Language: fr"])
        self.assertEqual(self.cache.stats()["entries"], 0)
        self.assertEqual(self.get(b"/q", headers=[b"Accept-Language: fr"]).body, b"fr")
        self.assertEqual(self.get(b"/q", headers=[b"Accept-Language: de"]).body, b"de")
        self.assertEqual(self.get(b"/q", headers=[b"Accept-Language: fr"]).cacheStatus[:15],
                         b"nevowcache; hit")


    def test_guardSessionBypasses(self):
        """
        Behind C{nevow.guard} (a request with a session attached during
        traversal) the tree may be personal: the cache is bypassed.
        """
        page = self.makePage()

        class Guarded(rend.Page):
            def locateChild(self, ctx, segments):
                inevow.IRequest(ctx).session = object()
                return page, segments[1:]
        root = rend.Page()
        root.putChild("g", Guarded())
        self.serve(root)
        self.assertEqual(self.get(b"/g/p").cacheStatus,
                         b"nevowcache; fwd=bypass; detail=guard-session")


    def test_unbufferedHeadSendsNoBody(self):
        """
        HEAD on an unbuffered page with deferred data sends no body (plain
        Nevow leaks one on Twisted 20.3).
        """
        pending = []

        def data_slow(self, ctx, data):
            d = defer.Deferred()
            pending.append(d)
            return d
        root = rend.Page()
        root.putChild("p", self.makePage(
            buffered=False, data_slow=data_slow,
            docFactory=loaders.stan(tags.html[tags.p["start"],
                                              tags.p(data=tags.directive("slow"))[str]])))
        self.serve(root)
        ex = Exchange(self.site, method=b"HEAD", path=b"/p")
        pending[0].callback("slow-data")
        self.assertTrue(ex.done())
        self.assertTrue(ex.transport.value().endswith(b"\r\n\r\n"), ex.transport.value())


    def test_refreshRetraversesFromRoot(self):
        """
        A background refresh goes through the site from its root, so what a
        parent remembered in the context during traversal is there again.
        """
        class IColour(inevow.IData):
            pass
        colour = ["red"]

        def render_body(self, ctx, data):
            return "colour " + ctx.locate(IColour)
        page = self.makePage(render_body=render_body)

        class Parent(rend.Page):
            def locateChild(self, ctx, segments):
                ctx.remember(colour[0], IColour)
                return page, segments[1:]
        root = rend.Page()
        root.putChild("c", Parent())
        self.serve(root)
        self.assertEqual(self.get(b"/c/p").body, b"colour red")
        colour[0] = "blue"
        self.clock.advance(61)
        self.assertEqual(self.get(b"/c/p").body, b"colour red")
        self.clock.advance(0)
        self.assertEqual(self.get(b"/c/p").body, b"colour blue")


    def test_refreshIsTimeSliced(self):
        """
        A background refresh flattens in slices of about C{cacheRefreshSlice}
        seconds and pauses after each for at least as long as it took: the
        refresh takes at least twice its work in the reactor's time, and
        produces the same body as a render in one go.
        """
        work = _Work(self.clock)
        self.patch(_nevowpage, "_timer", work)

        def data_rows(self, ctx, data):
            return range(200)

        def render_cell(self, ctx, data):
            work.spend(0.0005)
            return data
        root = rend.Page()
        root.putChild("p", self.makePage(
            cacheRefreshSlice=0.005, data_rows=data_rows, render_cell=render_cell,
            docFactory=loaders.stan(tags.table(data=tags.directive("rows"),
                                               render=tags.directive("sequence"))[
                tags.tr(pattern="item")[tags.td(render=tags.directive("cell"))]])))
        self.serve(root)
        first = self.get().body
        self.clock.advance(61)
        self.get()
        pauses = []
        callLater = self.clock.callLater

        def recordingCallLater(delay, f, *args, **kwargs):
            if delay < 1:
                pauses.append(delay)
            return callLater(delay, f, *args, **kwargs)
        self.patch(self.clock, "callLater", recordingCallLater)
        started, spent = self.clock.seconds(), work.spent
        self.clock.advance(0)
        self.assertEqual(self.cache.stats()["inFlight"], 1)
        while self.cache.stats()["inFlight"]:
            self.clock.advance(0.001)
        spent = work.spent - spent
        self.assertAlmostEqual(spent, 0.1)
        # Flattening starts on the turn after the traversal.
        self.assertEqual(pauses[0], 0)
        self.assertGreater(len(pauses), 10)
        for pause in pauses[1:]:
            self.assertGreaterEqual(pause, 0.005)
        # The last slice needs no pause after it.
        self.assertGreaterEqual(self.clock.seconds() - started, spent - 0.01)
        self.assertEqual(self.cache.stats()["refreshes"], 1)
        self.assertEqual(self.cache.stats()["refreshFailures"], 0)
        fresh = self.get()
        self.assertEqual(fresh.body, first)
        self.assertEqual(fresh.cacheStatus, b"nevowcache; hit; ttl=60")


    def test_refreshSliceNoneFlattensInOneGo(self):
        """
        With C{cacheRefreshSlice = None}, a background refresh flattens in
        one go, within the reactor turn it starts in.
        """
        root = rend.Page()
        root.putChild("p", self.makePage(cacheRefreshSlice=None))
        self.serve(root)
        self.get()
        self.clock.advance(61)
        self.assertEqual(self.get().body, b"render 1")
        self.clock.advance(0)
        self.assertEqual(self.cache.stats()["inFlight"], 0)
        self.assertEqual(self.cache.stats()["refreshes"], 1)
        self.assertEqual(self.get().body, b"render 2")


    def test_refreshThatMissesPageFails(self):
        """
        If re-traversal no longer reaches the page (it was removed), the
        refresh fails and the stale entry stays.
        """
        root = rend.Page()
        root.putChild("p", self.makePage())
        self.serve(root)
        self.get()
        self.clock.advance(61)
        self.get()
        del root.children["p"]
        self.clock.advance(0)
        self.assertEqual(self.cache.stats()["refreshFailures"], 1)
        self.assertEqual(self.cache.stats()["entries"], 1)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)


    def test_adminUnderNevow(self):
        """
        The operator's resource serves and purges under a C{NevowSite}.
        """
        root = rend.Page()
        root.putChild("p", self.makePage())
        root.putChild("_cache", AdminResource(self.cache))
        self.serve(root)
        self.get()
        self.assertIn(b"<th>entries</th><td>1</td>", self.get(b"/_cache/").body)
        purge = self.get(b"/_cache/purge?url=http://example.com:8080/p&hard=1", method=b"POST")
        self.assertEqual(purge.code, 200)
        self.assertEqual(self.get().cacheStatus, b"nevowcache; fwd=uri-miss; stored")


    def test_livePageBypasses(self):
        """
        Athena C{LivePage}s are never cached.
        """
        from nevow import athena

        class Live(CachedPageMixin, athena.LivePage):
            pass
        self.assertEqual(Live()._nevowBypassReason(_FakeRequest()), b"livepage")



class SliceFlattenTests(SynchronousTestCase):
    """
    L{_nevowpage._sliceFlatten}, the flattener of background refreshes, on
    a L{Clock} and a fake time source where only the render functions spend
    time.
    """

    def setUp(self):
        self.clock = Clock()
        self.work = _Work(self.clock)
        self.patch(_nevowpage, "_timer", self.work)


    def cells(self, count, cost=0.001):
        """
        A table row of C{count} cells, each rendered by a function that
        spends C{cost} seconds of work.
        """
        work = self.work

        def cell(number):
            def render(ctx, data):
                work.spend(cost)
                return tags.td(title=u"caf\xe9 & <%d>" % (number,))[
                    u"\u2603 ", number, (b"x" for _ in range(2)), [tags.br, u"\xe9"]]
            return render
        return tags.tr[[cell(number) for number in range(count)]]


    def flatten(self, stan, seconds, **kwargs):
        """
        Flatten C{stan} with L{_nevowpage._sliceFlatten}, advancing the clock
        to each call it schedules.

        @return: C{(result, output, pauses)}: what its L{Deferred} fired
            with (L{None} if it has not), the bytes written, and for each
            pause the delay asked for and the work done in the slice before
            it (not counting the turn it starts on).
        """
        pauses = []
        sliceStart = [self.work.spent]
        callLater = self.clock.callLater

        def recordingCallLater(delay, f, *args, **kw):
            pauses.append((delay, self.work.spent - sliceStart[0]))

            def resume():
                sliceStart[0] = self.work.spent
                f(*args, **kw)
            return callLater(delay, resume)
        self.patch(self.clock, "callLater", recordingCallLater)
        output = self.output = []
        result = []
        _nevowpage._sliceFlatten(stan, self.context(), output.append,
                                 self.clock, seconds, **kwargs).addBoth(result.append)
        self.assertEqual((output, result, pauses), ([], [], [(0, 0)]))
        del pauses[:]
        while not result and self.clock.getDelayedCalls():
            self.clock.advance(min(call.getTime() for call in self.clock.getDelayedCalls())
                               - self.clock.seconds())
        return (result[0] if result else None), b"".join(output), pauses


    def context(self):
        """
        @return: A context to flatten in, as a page's.
        """
        ctx = context.WovenContext()
        ctx.remember(None, inevow.IData)
        return ctx


    def nevowFlatten(self, stan):
        """
        @return: The bytes of C{stan} flattened by Nevow.
        """
        output = []
        result = []
        deferflatten(stan, self.context(), output.append).addBoth(result.append)
        self.assertEqual(result, [""])
        return b"".join(output)


    def test_startsOnNextTurn(self):
        """
        The flattener starts on the reactor's next turn, not in the one that
        traversed to the page.
        """
        stan = tags.div[self.cells(3)]
        output = []
        result = []
        _nevowpage._sliceFlatten(stan, self.context(), output.append,
                                 self.clock, 0.005).addBoth(result.append)
        self.assertEqual((output, result, self.work.spent), ([], [], 0))
        self.assertEqual([call.getTime() for call in self.clock.getDelayedCalls()], [0])
        self.clock.advance(0)
        self.assertEqual(result, [""])
        self.assertEqual(b"".join(output), self.nevowFlatten(stan))


    def test_sameBytesAsNevow(self):
        """
        Whatever the slice, the output is byte for byte Nevow's.
        """
        def stan():
            return tags.html[tags.body(class_="x")[
                tags.table[self.cells(30)],
                defer.succeed(tags.p["fired ", tags.b[u"\xe9"]]),
                tags.xml("<i>&amp;</i>"), self.cells(3)]]
        expected = self.nevowFlatten(stan())
        self.assertIn(u"\u2603".encode("utf8"), expected)
        for seconds in (0, 0.0025, 0.005, 1):
            result, output, pauses = self.flatten(stan(), seconds)
            self.assertEqual(result, "")
            self.assertEqual(output, expected)
            if seconds < 1:
                self.assertTrue(pauses)


    def test_pausesAtLeastAsLongAsEachSlice(self):
        """
        After each slice of about C{seconds} of work, the flattener pauses
        for at least as long as the slice took, so that a render has at most
        about half of the reactor's time and what came in meanwhile runs
        first.
        """
        result, output, pauses = self.flatten(tags.table[self.cells(60)], 0.005)
        self.assertEqual(result, "")
        self.assertGreater(len(pauses), 5)
        for delay, worked in pauses:
            self.assertGreaterEqual(worked, 0.005 - 1e-9)
            self.assertGreaterEqual(delay, worked - 1e-9)
        self.assertGreaterEqual(self.clock.seconds(), self.work.spent - 0.01)


    def test_restMultipliesPauses(self):
        """
        With C{rest}, each pause is that many times as long as the slice
        before it.
        """
        result, output, pauses = self.flatten(tags.table[self.cells(20)], 0.005, rest=3)
        self.assertEqual(result, "")
        self.assertTrue(pauses)
        for delay, worked in pauses:
            self.assertAlmostEqual(delay, 3 * worked)


    def test_clockCheckedOften(self):
        """
        The flattener looks at the clock often enough that a slice ends
        within a few cells of its time being up.
        """
        result, output, pauses = self.flatten(tags.table[self.cells(60)], 0)
        self.assertEqual(result, "")
        self.assertGreaterEqual(len(pauses), 60 // 4)
        self.assertLessEqual(max(worked for delay, worked in pauses), 0.004 + 1e-9)


    def test_pausesBeforeCallsIntoPage(self):
        """
        A slice that is over ends before the next call into the page: Nevow
        makes those as the flattener steps into a generator, where it looks
        at the clock.  Here each render function of a precompiled document
        (as a C{docFactory} gives) has a slice of its own.
        """
        work = self.work

        def costly(ctx, data):
            work.spend(0.006)
            return "costly"
        stan = flat.precompile(tags.div[[costly] * 6], self.context())
        result, output, pauses = self.flatten(stan, 0.005, checkEvery=1)
        self.assertEqual(result, "")
        self.assertEqual(output, b"<div>" + b"costly" * 6 + b"</div>")
        self.assertEqual(len(pauses), 5)
        for delay, worked in pauses:
            self.assertAlmostEqual(worked, 0.006)


    def test_waitingIsNotWork(self):
        """
        Time spent waiting for a L{Deferred} does not count as work: the
        slice after it starts when it fires.
        """
        later = defer.Deferred()
        stan = tags.div[self.cells(10), later, self.cells(10)]
        result, output, pauses = self.flatten(stan, 0.005)
        self.assertIsNone(result)
        self.assertFalse(self.clock.getDelayedCalls())
        del pauses[:]
        self.clock.advance(10)
        later.callback(tags.p["later"])
        while self.clock.getDelayedCalls():
            self.clock.advance(min(call.getTime() for call in self.clock.getDelayedCalls())
                               - self.clock.seconds())
        self.assertTrue(pauses)
        for delay, worked in pauses:
            self.assertLess(delay, 0.1)
        self.assertEqual(b"".join(self.output), self.nevowFlatten(
            tags.div[self.cells(10), tags.p["later"], self.cells(10)]))


    def test_firedDeferredsDoNotRecurse(self):
        """
        Thousands of L{Deferred}s that have already fired are flattened
        without the stack growing with each.
        """
        stan = tags.div[[defer.succeed(b"x") for _ in range(3000)]]
        result, output, pauses = self.flatten(stan, 10)
        self.assertEqual(result, "")
        self.assertEqual(output, b"<div>" + b"x" * 3000 + b"</div>")


    def test_errors(self):
        """
        An exception in a render function, in any slice, or a L{Deferred}
        that fails, fails the flattening.
        """
        def broken(ctx, data):
            raise ZeroDivisionError()
        result, output, pauses = self.flatten(tags.div[self.cells(20), broken], 0)
        result.trap(ZeroDivisionError)
        self.assertTrue(pauses)
        failing = defer.fail(ValueError())
        result, output, pauses = self.flatten(tags.div[self.cells(20), failing], 0)
        result.trap(ValueError)
        # Nevow's DeferredSerializer passes the failure on and leaves it in
        # the original Deferred too.
        failing.addErrback(lambda reason: None)



class _FakeRequest(object):
    args = {}
    session = None



class NevowTCPTests(TestCase):
    """
    The cache over a real loopback TCP connection.
    """

    def test_missThenHit(self):
        """
        Two GETs over TCP: a miss, then a hit with the same body, C{Age} and
        C{Cache-Status}.
        """
        from twisted.internet import reactor
        from twisted.web.client import Agent, readBody
        cache = PageCache(MemoryStore())
        renders = []

        class Page(CachedPage):
            pageCache = cache
            docFactory = loaders.stan(tags.p(render=tags.directive("body")))

            def render_body(self, ctx, data):
                renders.append(1)
                return "hello %d" % (len(renders),)
        root = rend.Page()
        root.putChild("p", Page())
        port = reactor.listenTCP(0, appserver.NevowSite(root), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        agent = Agent(reactor)
        url = b"http://127.0.0.1:%d/p" % (port.getHost().port,)
        results = []

        def fetch(_):
            d = agent.request(b"GET", url)

            def got(response):
                return readBody(response).addCallback(
                    lambda body: results.append((response.headers, body)))
            return d.addCallback(got)
        d = fetch(None).addCallback(fetch)

        def check(_):
            (h1, b1), (h2, b2) = results
            self.assertEqual(b1, b2)
            self.assertEqual(b1, b"hello 1")
            self.assertEqual(h1.getRawHeaders(b"cache-status"),
                             [b"nevowcache; fwd=uri-miss; stored"])
            [status] = h2.getRawHeaders(b"cache-status")
            [age] = h2.getRawHeaders(b"age")
            self.assertEqual(status, b"nevowcache; hit; ttl=%d" % (60 - int(age),))
            self.assertEqual(len(renders), 1)
        d.addCallback(check)
        # Let the client's connections go before the test ends.
        from twisted.internet import task
        return d.addCallback(lambda _: task.deferLater(reactor, 0, lambda: None))
