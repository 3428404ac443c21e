"""
What only the Nevow adapter has to handle: Nevow's contexts, C{addSlash},
carry-over, inline and production errors, results that are resources,
C{beforeRender}, re-traversal for refreshes, and a real TCP round trip.
"""

from __future__ import absolute_import, division

import time
import types

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
    from nevow import context, flat, stan
    from nevow.flat.twist import deferflatten
    from twisted.web import server
    from nevowcache import CachedPage, CachedPageMixin
    from nevowcache._adapters import nevowflatten as _nevowflatten



class _Work(object):
    """
    A fake clock for the sliced flattener (a L{PageCache}'s C{sliceClock}): the
    reactor's L{Clock}, plus the CPU time that the render functions say they
    spent, which the L{Clock} does not see.

    @ivar spent: Seconds of work done so far.
    """

    def __init__(self, clock):
        self.clock = clock
        self.spent = 0.0


    def seconds(self):
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
        self.assertEqual(self.get(b"/d/").cacheStatus, b"nevowcache; fwd=uri-miss; ttl=60; stored")
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
        parent remembered in the context during traversal is there again;
        a refresh whose traversal remembers another value fails, and the
        stale page is never shown to requests that remember the new one.
        """
        class IColour(inevow.IData):
            pass
        colour = ["red"]
        traversals = []

        def render_body(self, ctx, data):
            return "colour %s %d" % (ctx.locate(IColour), len(traversals))
        page = self.makePage(render_body=render_body, cacheRefreshSlice=None)

        class Parent(rend.Page):
            def locateChild(self, ctx, segments):
                traversals.append(1)
                ctx.remember(colour[0], IColour)
                return page, segments[1:]
        root = rend.Page()
        root.putChild("c", Parent())
        self.serve(root)
        # The first render shows that the page looks the colour up: not
        # stored, and from then on the colour is in the key.
        first = self.get(b"/c/p")
        self.assertEqual((first.body, first.cacheStatus),
                         (b"colour red 1", b"nevowcache; fwd=uri-miss; detail=context"))
        self.assertEqual(self.get(b"/c/p").body, b"colour red 2")
        self.assertEqual(self.get(b"/c/p").cacheStatus, b"nevowcache; hit; ttl=60")
        self.clock.advance(61)
        self.assertEqual(self.get(b"/c/p").body, b"colour red 2")
        self.clock.advance(0)
        self.assertEqual(len(traversals), 5)
        refreshed = self.get(b"/c/p")
        self.assertEqual((refreshed.body, refreshed.cacheStatus),
                         (b"colour red 5", b"nevowcache; hit; ttl=60"))
        self.clock.advance(61)
        colour[0] = "blue"
        blue = self.get(b"/c/p")
        self.assertEqual((blue.body, blue.cacheStatus),
                         (b"colour blue 7", b"nevowcache; fwd=uri-miss; ttl=60; stored"))
        colour[0] = "red"
        self.assertEqual(self.get(b"/c/p").body, b"colour red 5")
        colour[0] = "blue"
        self.clock.advance(0)
        self.assertEqual(self.cache.stats()["refreshFailures"], 1)
        self.assertEqual(self.get(b"/c/p").body, b"colour blue 7")
        self.flushLoggedErrors(RuntimeError)


    def test_refreshIsTimeSliced(self):
        """
        A background refresh flattens in slices of about C{cacheRefreshSlice}
        seconds and pauses after each for at least as long as it took: the
        refresh takes at least twice its work in the reactor's time, and
        produces the same body as a render in one go.
        """
        work = _Work(self.clock)
        self.patch(self.cache, "sliceClock", work)

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
        # The render's set-up starts on a turn after the traversal, and
        # flattening on a turn after that.
        self.assertEqual(pauses[:2], [0, 0])
        self.assertGreater(len(pauses), 10)
        for pause in pauses[2:]:
            self.assertGreaterEqual(pause, 0.005)
        # The last slice needs no pause after it.
        self.assertGreaterEqual(self.clock.seconds() - started, spent - 0.01)
        self.assertEqual(self.cache.stats()["refreshes"], 1)
        self.assertEqual(self.cache.stats()["refreshFailures"], 0)
        fresh = self.get()
        self.assertEqual(fresh.body, first)
        self.assertEqual(fresh.cacheStatus, b"nevowcache; hit; ttl=60")


    def test_refreshSlicesMeasuredByCacheClock(self):
        """
        A background refresh measures its slices by its L{PageCache}'s
        C{sliceClock}, by default the L{Clock} the cache was given: however
        long its render really takes (a loaded machine), it flattens within
        the turn it starts in, as many slices as the test says.
        """
        def render_cell(self, ctx, data):
            # Real time: more than a slice of the real clock, every cell.
            time.sleep(0.002)
            return data
        root = rend.Page()
        root.putChild("p", self.makePage(
            data_rows=lambda self, ctx, data: range(5), render_cell=render_cell,
            docFactory=loaders.stan(tags.ul(data=tags.directive("rows"),
                                            render=tags.directive("sequence"))[
                tags.li(pattern="item")[tags.span(render=tags.directive("cell"))]])))
        self.serve(root)
        self.assertIs(self.cache.sliceClock, self.clock)
        first = self.get().body
        self.clock.advance(61)
        self.get()
        self.clock.advance(0)
        self.assertEqual(self.cache.stats()["refreshes"], 1)
        self.assertEqual(self.cache.stats()["inFlight"], 0)
        self.assertEqual(self.get().cacheStatus, b"nevowcache; hit; ttl=60")
        self.assertEqual(self.get().body, first)


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
        self.assertEqual(self.get().cacheStatus, b"nevowcache; fwd=uri-miss; ttl=60; stored")


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
    L{_nevowflatten._sliceFlatten}, the flattener of background refreshes, on
    a L{Clock} and a fake time source where only the render functions spend
    time.
    """

    def setUp(self):
        self.clock = Clock()
        self.work = _Work(self.clock)


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


    def flatten(self, stan, seconds, ctx=None, **kwargs):
        """
        Flatten C{stan} with L{_nevowflatten._sliceFlatten}, advancing the clock
        to each call it schedules.

        @param ctx: The context to flatten in; by default L{context}'s.

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
        if ctx is None:
            ctx = self.context()
        _nevowflatten._sliceFlatten(stan, ctx, output.append, self.clock, seconds,
                                 clock=self.work, **kwargs).addBoth(result.append)
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
        _nevowflatten._sliceFlatten(stan, self.context(), output.append,
                                 self.clock, 0.005, clock=self.work).addBoth(result.append)
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


    def sequencePage(self, base, rows):
        """
        A page of class C{base} whose document is a table of C{rows} rows,
        from the C{sequence} renderer, where cloning the item pattern (as the
        renderer does for each row) costs 1 ms of work.
        """
        work = self.work

        class Costly(str):
            def clone(self, deep=True):
                work.spend(0.001)
                return Costly(self)

        class Page(base):
            docFactory = loaders.stan(tags.table(data=tags.directive("items"),
                                                 render=tags.directive("sequence"))[
                tags.tr(pattern="header")[tags.th["n"]],
                tags.tr(pattern="item", class_=Costly("row"))[
                    tags.td(render=tags.directive("data"))],
                tags.tr(pattern="footer")[tags.td["end"]]])

            def data_items(self, ctx, data):
                return range(rows)
        return Page()


    def test_sequenceRowsCutInRefreshes(self):
        """
        In a background refresh, the C{sequence} renderer of a L{CachedPage}
        clones its rows one at a time, as the flattener reaches them, so a
        slice can end between any two rows; Nevow's own clones them all in
        one call, which no slice can cut.  The bytes are Nevow's.
        """
        def flattenPage(base, rows):
            page = self.sequencePage(base, rows)
            ctx = _pageContext(page, refresh=True)
            result, output, pauses = self.flatten(page.docFactory.load(ctx), 0, ctx,
                                                  checkEvery=1)
            self.assertEqual(result, "")
            return output, [worked for delay, worked in pauses]
        expected, nevowSlices = flattenPage(rend.Page, 100)
        self.assertGreaterEqual(max(nevowSlices), 0.1 - 1e-9)
        output, slices = flattenPage(CachedPage, 100)
        self.assertEqual(output, expected)
        self.assertEqual(output.count(b'<tr class="row"><td>'), 100)
        # A slice for each row's clone: none has more than one.
        self.assertLessEqual(max(slices), 0.001 + 1e-9)
        self.assertEqual(len([worked for worked in slices if worked]), 100)
        # Every row adds its cut points.
        fewer = flattenPage(CachedPage, 10)[1]
        self.assertGreaterEqual(len(slices) - len(fewer), 90 * 2)


    def test_sequenceWholeOutsideRefreshes(self):
        """
        Outside background refreshes, the C{sequence} renderer of a
        L{CachedPage} is Nevow's, clones and all.
        """
        page = self.sequencePage(CachedPage, 100)
        ctx = _pageContext(page, refresh=False)
        result, output, pauses = self.flatten(page.docFactory.load(ctx), 0, ctx,
                                              checkEvery=1)
        self.assertEqual(result, "")
        self.assertEqual(output.count(b'<tr class="row"><td>'), 100)
        self.assertGreaterEqual(max(worked for delay, worked in pauses), 0.1 - 1e-9)



class SequenceTests(NevowTestsBase):
    """
    L{CachedPageMixin.render_sequence}: Nevow's C{sequence} renderer, with
    the rows cloned one at a time in background refreshes, and the same
    bytes.

    @ivar lazy: The data of each call of L{_nevowflatten._lazySequence}.
    """

    def setUp(self):
        NevowTestsBase.setUp(self)
        self.lazy = []
        lazySequence = _nevowflatten._lazySequence

        def spy(ctx, data):
            self.lazy.append(data)
            return lazySequence(ctx, data)
        self.patch(_nevowflatten, "_lazySequence", spy)


    def template(self):
        """
        A list with every pattern the C{sequence} renderer knows: two
        headers and two footers, three item patterns (one below a tag that is
        not a pattern), two dividers and two empty patterns, among children
        that are not patterns, which it drops.
        """
        data = tags.directive("data")
        return tags.ul(class_="seq", data=tags.directive("items"),
                       render=tags.directive("sequence"))[
            "dropped ", tags.p["dropped"],
            tags.li(pattern="header")["first header"],
            tags.li(pattern="item", class_="a", render=data),
            tags.li(pattern="divider", class_="d", render=data),
            tags.li(pattern="footer")["first footer"],
            tags.invisible[
                tags.li(pattern="item", class_="b", render=data),
                tags.li(pattern="header")["second header"]],
            tags.li(pattern="item", class_="c")[tags.b(render=data)],
            tags.hr(pattern="divider"),
            tags.li(pattern="empty")["nothing"],
            tags.li(pattern="empty")["at all"],
            tags.li(pattern="footer")["second footer"]]


    def assertSameAsNevow(self, template, items, **namespace):
        """
        Render C{template}, with C{data_items} returning C{items()}, with a
        C{rend.Page}, and with a L{CachedPage}: on a miss (a render as
        Nevow's) and in a background refresh (where L{_lazySequence}
        renders).  All three give the same bytes.

        @param namespace: More attributes of both pages.

        @return: The bytes.
        """
        self.cache = PageCache(MemoryStore(), reactor=self.clock)
        del self.lazy[:]
        namespace.update(docFactory=loaders.stan(template),
                         data_items=lambda page, ctx, data: items())
        root = rend.Page()
        root.putChild("nevow", type("Nevow", (rend.Page,), namespace)())
        root.putChild("p", self.makePage(**namespace))
        self.serve(root)
        expected = self.get(b"/nevow").body
        self.assertEqual(self.get().body, expected)
        self.assertEqual(self.lazy, [])
        self.clock.advance(61)
        self.assertEqual(self.get().body, expected)
        self.clock.advance(0)
        while self.cache.stats()["inFlight"]:
            self.clock.advance(0.001)
        self.assertEqual(self.cache.stats()["refreshes"], 1)
        self.assertEqual(self.cache.stats()["refreshFailures"], 0)
        self.assertTrue(self.lazy)
        refreshed = self.get()
        self.assertEqual(refreshed.cacheStatus, b"nevowcache; hit; ttl=60")
        self.assertEqual(refreshed.body, expected)
        return expected


    def test_patterns(self):
        """
        Headers and footers in order, item patterns cycled, dividers cycled
        and only between items, the element as the data of each item and
        the divider after it, the tag's attributes kept and its other
        children dropped.
        """
        body = self.assertSameAsNevow(
            self.template(), lambda: [1, u"<\xe9&>", 3, "four", 5.5, 6, 7])
        self.assertEqual(
            body,
            b'<ul class="seq"><li>first header</li><li>second header</li>'
            b'<li class="a">1</li><li class="d">1</li>'
            b'<li class="b">&lt;\xc3\xa9&amp;&gt;</li><hr />'
            b'<li class="c"><b>3</b></li><li class="d">3</li>'
            b'<li class="a">four</li><hr />'
            b'<li class="b">5.5</li><li class="d">5.5</li>'
            b'<li class="c"><b>6</b></li><hr />'
            b'<li class="a">7</li>'
            b'<li>first footer</li><li>second footer</li></ul>')


    def test_dataKinds(self):
        """
        The data may be a list, a tuple, a generator or any other iterable.
        """
        class Items(object):
            def __iter__(self):
                return iter([u"x", u"y", u"z"])
        expected = self.assertSameAsNevow(self.template(), lambda: [u"x", u"y", u"z"])
        for items in (lambda: (u"x", u"y", u"z"), lambda: (c for c in u"xyz"),
                      lambda: iter([u"x", u"y", u"z"]), lambda: u"xyz", Items):
            self.assertEqual(self.assertSameAsNevow(self.template(), items), expected)


    def test_oneItem(self):
        """
        One item has no divider.
        """
        body = self.assertSameAsNevow(self.template(), lambda: [u"only"])
        self.assertIn(b'</li><li class="a">only</li><li>first footer', body)


    def test_empty(self):
        """
        No items: the empty patterns between the headers and footers, if
        there are any.
        """
        body = self.assertSameAsNevow(self.template(), lambda: [])
        self.assertIn(b"header</li><li>nothing</li><li>at all</li><li>first footer", body)
        self.assertEqual(self.assertSameAsNevow(self.template(), lambda: iter(())), body)
        body = self.assertSameAsNevow(
            tags.ol(data=tags.directive("items"), render=tags.directive("sequence"))[
                tags.li(pattern="item")], lambda: [])
        self.assertEqual(body, b"<ol></ol>")


    def test_onlyItems(self):
        """
        With only an item pattern, the rows follow one another.
        """
        body = self.assertSameAsNevow(
            tags.ol(data=tags.directive("items"), render=tags.directive("sequence"))[
                tags.li(pattern="item", render=tags.directive("data"))],
            lambda: range(3))
        self.assertEqual(body, b"<ol><li>0</li><li>1</li><li>2</li></ol>")


    def test_slotsAndNesting(self):
        """
        Rows rendered by a method filling slots, as the benchmark's, and
        sequences in sequences.
        """
        def render_row(page, ctx, item):
            ctx.fillSlots("name", item[0])
            return ctx.tag

        def row(cls):
            return tags.tr(pattern="item", class_=cls, render=tags.directive("row"))[
                tags.td[tags.a(href=tags.slot("name"))[tags.slot("name")]],
                tags.td(data=item(1), render=tags.directive("sequence"))[
                    tags.span(pattern="item", render=tags.directive("data")),
                    tags.em(pattern="empty")["none"]]]

        def item(index):
            return lambda ctx, data: data[index]
        template = tags.table(data=tags.directive("items"),
                              render=tags.directive("sequence"))[
            tags.tr(pattern="header")[tags.th["Name"]], row("odd"), row("even")]
        body = self.assertSameAsNevow(
            template, lambda: [(u"n%d" % (n,), range(n % 3)) for n in range(100)],
            render_row=render_row)
        self.assertEqual(body.count(b'<tr class="even"><td><a href="n1">n1</a></td>'
                                    b'<td><span>0</span></td></tr>'), 1)
        self.assertEqual(body.count(b"<em>none</em>"), 34)


    def sequenceContext(self, page, tag, refresh):
        """
        @return: The context of C{tag}, rendered by C{page}, in a background
            refresh if C{refresh}.
        """
        return context.WovenContext(parent=_pageContext(page, refresh), tag=tag)


    def test_lazyOnlyInSlicedRefreshes(self):
        """
        Only when a background refresh flattens in slices does the
        renderer return its rows as a generator; otherwise it returns
        Nevow's list.
        """
        def rows(page, refresh):
            tag = tags.ul[tags.li(pattern="item"), tags.li(pattern="divider")]
            ctx = self.sequenceContext(page, tag, refresh)
            return page.render_sequence(ctx, [1, 2]).children[1]
        page = CachedPage()
        self.assertIsInstance(rows(page, True), types.GeneratorType)
        expected = rend.sequence(
            self.sequenceContext(page, tags.ul[tags.li(pattern="item"),
                                               tags.li(pattern="divider")], False),
            [1, 2]).children[1]
        normal = rows(page, False)
        self.assertIsInstance(normal, list)
        self.assertEqual(flat.flatten(normal), flat.flatten(expected))
        page.cacheRefreshSlice = None
        self.assertIsInstance(rows(page, True), list)


    def test_ownSequenceRendererKept(self):
        """
        A C{render_sequence} of the page's own, below the mixin, is used, in
        background refreshes too.
        """
        class Base(rend.Page):
            def render_sequence(self, ctx, data):
                return "own"

        class Page(CachedPageMixin, Base):
            pass
        tag = tags.ul[tags.li(pattern="item")]
        self.assertEqual(
            Page().render_sequence(self.sequenceContext(Page(), tag, True), [1]), "own")


    def test_noItemPattern(self):
        """
        Without an item pattern, the renderer raises Nevow's
        C{NodeNotFound}, even with no items.
        """
        page = CachedPage()
        for refresh in (False, True):
            ctx = self.sequenceContext(page, tags.ul[tags.li(pattern="empty")], refresh)
            self.assertRaises(stan.NodeNotFound, page.render_sequence, ctx, [])



class ContextTests(NevowTestsBase):
    """
    What the application remembered on the context outside the render (a
    parent's C{locateChild}, the page's C{renderHTTP} before the mixin's):
    a cached page renders the bytes the same page renders uncached, on
    every path, the cache sees what the render reads, and a render looking
    up such a value is stored only under a key holding it.
    """

    def twins(self, make, path=b"p", parent=None, **attributes):
        """
        Serve a page class made by C{make(base)} uncached (on C{rend.Page})
        at C{/plain/PATH}, and cached (on L{CachedPage} with C{attributes})
        at C{/PATH}, below C{parent} (a function making a parent of a page)
        if given.
        """
        attributes.setdefault("pageCache", self.cache)
        # Refreshes in one go: done after one turn of the clock.
        attributes.setdefault("cacheRefreshSlice", None)
        cached = type("Base", (CachedPage,), attributes)
        root = rend.Page()
        plain = rend.Page()
        root.putChild("plain", plain)
        for holder, base in ((plain, rend.Page), (root, cached)):
            page = make(base)()
            holder.putChild(path, parent(page) if parent is not None else page)
        self.serve(root)


    def parentDoing(self, traverse):
        """
        A C{parent} for L{twins}: a page whose C{locateChild} calls
        C{traverse(ctx)}, then gives the page for the next segment.
        """
        def parent(page):
            class Parent(rend.Page):
                def locateChild(self, ctx, segments):
                    traverse(ctx)
                    return page, segments[1:]
            return Parent()
        return parent


    def rendering(self, render):
        """
        A C{make} for L{twins}: a page rendering a C{<p>} holding
        C{render(ctx)}.
        """
        def make(base):
            class Page(base):
                docFactory = loaders.stan(tags.p(render=tags.directive("it")))

                def render_it(self, ctx, data):
                    return ctx.tag[render(ctx)]
            return Page
        return make


    def assertSame(self, path, headers=(), status=None):
        """
        Request C{path} cached and uncached: the same body.

        @return: The cached response's C{Cache-Status}.
        """
        expected = self.get(b"/plain" + path, headers=headers)
        got = self.get(path, headers=headers)
        self.assertEqual((got.code, got.body), (expected.code, expected.body))
        if status is not None:
            self.assertEqual(got.cacheStatus, status)
        return got.cacheStatus


    def test_rememberedLanguage(self):
        """
        Nevow's i18n example remembers C{ILanguages} in C{renderHTTP} from
        C{?lang=}: the render uses it, not C{Accept-Language}; pages with
        the same C{?lang=} are shared whatever the header says, and without
        it the header decides (C{cacheVary}).
        """
        def make(base):
            class Common(base):
                docFactory = loaders.stan(tags.p(render=tags.directive("langs")))

                def renderHTTP(self, ctx):
                    lang = ctx.arg("lang")
                    if lang is not None:
                        ctx.remember([lang], inevow.ILanguages)
                    return super(Common, self).renderHTTP(ctx)

                def render_langs(self, ctx, data):
                    return ctx.tag[",".join(inevow.ILanguages(ctx))]
            return Common
        self.twins(make, cacheVary=("accept-language",))
        de = [b"Accept-Language: de"]
        self.assertSame(b"/p?lang=it", de, b"nevowcache; fwd=uri-miss; detail=context")
        self.assertSame(b"/p?lang=it", de, b"nevowcache; fwd=uri-miss; ttl=60; stored")
        self.assertSame(b"/p?lang=it", [b"Accept-Language: fr"], b"nevowcache; fwd=uri-miss; ttl=60; stored")
        self.assertSame(b"/p?lang=it", de, b"nevowcache; hit; ttl=60")
        self.assertEqual(self.get(b"/p?lang=it", headers=de).body, b"<p>it</p>")
        self.assertSame(b"/p", de, b"nevowcache; fwd=uri-miss; ttl=60; stored")
        self.assertSame(b"/p", [b"Accept-Language: fr"], b"nevowcache; fwd=uri-miss; ttl=60; stored")
        self.assertSame(b"/p", de, b"nevowcache; hit; ttl=60")
        self.assertEqual(self.get(b"/p", headers=de).body, b"<p>de</p>")
        self.clock.advance(61)
        self.assertSame(b"/p?lang=it", de)
        self.clock.advance(0)
        self.assertEqual(self.cache.stats()["refreshes"], 1)
        self.assertEqual(self.cache.stats()["refreshFailures"], 0)
        self.assertSame(b"/p?lang=it", de, b"nevowcache; hit; ttl=60")


    def test_rendPageRenderHTTPCalledDirectly(self):
        """
        A page whose C{renderHTTP} calls C{rend.Page.renderHTTP(self, ctx)}
        (past the mixin's C{renderHTTP}, as Nevow's examples do) is cached
        all the same, and sees what its C{renderHTTP} remembered.
        """
        class IGreeting(inevow.IData):
            pass

        def make(base):
            class Example(base):
                docFactory = loaders.stan(tags.p(render=tags.directive("greeting")))

                def renderHTTP(self, ctx):
                    ctx.remember(ctx.arg("greeting", "hello"), IGreeting)
                    return rend.Page.renderHTTP(self, ctx)

                def render_greeting(self, ctx, data):
                    return ctx.tag[IGreeting(ctx)]
            return Example
        self.twins(make)
        self.assertSame(b"/p?greeting=hi", status=b"nevowcache; fwd=uri-miss; detail=context")
        self.assertSame(b"/p?greeting=hi", status=b"nevowcache; fwd=uri-miss; ttl=60; stored")
        self.assertSame(b"/p?greeting=hi", status=b"nevowcache; hit; ttl=60")
        self.assertSame(b"/p", status=b"nevowcache; fwd=uri-miss; ttl=60; stored")
        self.assertSame(b"/p", status=b"nevowcache; hit; ttl=60")
        self.assertEqual(self.get(b"/p?greeting=hi").body, b"<p>hi</p>")
        self.clock.advance(61)
        self.assertSame(b"/p?greeting=hi", status=b"nevowcache; hit; ttl=-1")
        self.clock.advance(0)
        self.assertEqual(self.cache.stats()["refreshFailures"], 0)
        self.assertSame(b"/p?greeting=hi", status=b"nevowcache; hit; ttl=60")


    def test_rendPageRenderHTTPWithBeforeRender(self):
        """
        Such a page with a C{beforeRender} (which has run on the live
        request before the cache can see it) is not cached: visibly, and
        logged once for its class, naming the fix.
        """
        from twisted.logger import globalLogPublisher
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)

        def make(base):
            class Example(base):
                docFactory = loaders.stan(tags.p["hello"])

                def beforeRender(self, ctx):
                    inevow.IRequest(ctx).setHeader(b"x-before", b"yes")

                def renderHTTP(self, ctx):
                    return rend.Page.renderHTTP(self, ctx)
            return Example
        self.twins(make)
        for _ in range(3):
            self.assertSame(b"/p", status=b"nevowcache; fwd=bypass; detail=before-render")
        self.assertEqual(self.get(b"/p").header(b"x-before"), b"yes")
        told = [e for e in events if "rend.Page.renderHTTP" in e.get("log_format", "")]
        self.assertEqual(len(told), 1)
        self.assertIn(u"super(Example, self).renderHTTP(ctx)",
                      told[0]["log_format"].format(**told[0]))


    def test_parentRememberedPerUser(self):
        """
        A parent remembers a user name taken from a cookie (the cache does
        not see that read): the page that shows it is stored for each name,
        never shown to another user, nor to a request without the name.
        """
        class IUser(inevow.IData):
            pass

        def traverse(ctx):
            name = inevow.IRequest(ctx).getCookie(b"user")
            if name is not None:
                ctx.remember(name, IUser)
        self.twins(self.rendering(lambda ctx: ["hello ", IUser(ctx, None) or "stranger"]),
                   parent=self.parentDoing(traverse))
        alice, bob = [b"Cookie: user=alice"], [b"Cookie: user=bob"]
        self.assertSame(b"/p/p", status=b"nevowcache; fwd=uri-miss; ttl=60; stored")
        self.assertSame(b"/p/p", alice, b"nevowcache; fwd=uri-miss; detail=context")
        for _ in range(2):
            self.assertSame(b"/p/p", alice)
            self.assertSame(b"/p/p", bob)
            self.assertSame(b"/p/p")
        self.assertEqual(self.get(b"/p/p", headers=bob).body, b"<p>hello bob</p>")
        self.assertEqual(self.get(b"/p/p", headers=bob).cacheStatus, b"nevowcache; hit; ttl=60")
        self.assertEqual(self.get(b"/p/p").body, b"<p>hello stranger</p>")
        self.assertEqual(self.cache.stats()["entries"], 3)


    def test_objectsRefused(self):
        """
        A render looking up an object (not plain data) remembered outside it
        is not stored, and after that such requests bypass the cache.
        """
        class IAvatar(inevow.IData):
            pass

        class Avatar(object):
            name = "alice"

        self.twins(self.rendering(lambda ctx: IAvatar(ctx).name),
                   parent=self.parentDoing(lambda ctx: ctx.remember(Avatar(), IAvatar)))
        self.assertSame(b"/p/p", status=b"nevowcache; fwd=uri-miss; detail=context")
        self.assertSame(b"/p/p", status=b"nevowcache; fwd=bypass; detail=context")
        self.assertEqual(self.cache.stats()["entries"], 0)


    def test_unusedValuesOnlyPresent(self):
        """
        What the render does not look up joins the key only as present: a
        counter a parent remembers for each request does not keep the page
        from being shared, but requests that do not remember it have their
        own entry.
        """
        class ICounter(inevow.IData):
            pass
        count = []

        def traverse(ctx):
            count.append(1)
            if not inevow.IRequest(ctx).args.get("bare"):
                ctx.remember(len(count), ICounter)

        def make(base):
            class Page(base):
                docFactory = loaders.stan(tags.p["same"])
            return Page
        self.twins(make, parent=self.parentDoing(traverse))
        self.assertSame(b"/p/p", status=b"nevowcache; fwd=uri-miss; ttl=60; stored")
        self.assertSame(b"/p/p", status=b"nevowcache; hit; ttl=60")
        self.assertSame(b"/p/p?bare=1", status=b"nevowcache; fwd=uri-miss; ttl=60; stored")


    def test_requestContextFactoriesReadTheCapture(self):
        """
        What Nevow's C{RequestContext} factories made during traversal
        (C{ISession}, C{ILanguages}: from the live request) is made again
        from the capture in the render, so the cache sees the reads; and a
        request a parent remembered is the capture in the render.
        """
        def traverse(ctx):
            inevow.ISession(ctx)
            inevow.ILanguages(ctx)
            ctx.remember(inevow.IRequest(ctx), inevow.IRequest)

        def render(ctx):
            what = inevow.IRequest(ctx).args.get("what", [""])[0]
            if what == "session":
                return str(inevow.ISession(ctx) is not None)
            if what == "languages":
                return ",".join(inevow.ILanguages(ctx))
            return str(inevow.IRequest(ctx).getCookie(b"c"))
        self.twins(self.rendering(render), parent=self.parentDoing(traverse))
        fr = [b"Accept-Language: fr"]
        for _ in range(2):
            self.assertSame(b"/p/p?what=session", fr, b"nevowcache; fwd=uri-miss; detail=session")
            self.assertSame(b"/p/p?what=languages", fr,
                            b"nevowcache; fwd=uri-miss; detail=header-read-accept-language")
            self.assertSame(b"/p/p?what=cookie", [b"Cookie: c=1"],
                            b"nevowcache; fwd=uri-miss; detail=cookie-read")
        self.assertEqual(self.cache.stats()["entries"], 0)


    def test_slotFilledOutsideRefused(self):
        """
        A slot filled on the page's context before the render and read by
        it is not stored (slots are not in keys); the bytes are the same.
        """
        def make(base):
            class Page(base):
                docFactory = loaders.stan(tags.p[tags.slot("who")])

                def renderHTTP(self, ctx):
                    ctx.fillSlots("who", inevow.IRequest(ctx).getCookie(b"who") or "nobody")
                    return super(Page, self).renderHTTP(ctx)
            return Page
        self.twins(make)
        for headers in ([b"Cookie: who=alice"], [], [b"Cookie: who=bob"]):
            self.assertSame(b"/p", headers, b"nevowcache; fwd=uri-miss; detail=context")
        self.assertEqual(self.cache.stats()["entries"], 0)


    def test_siteAndPageRemembrancesShared(self):
        """
        What the site remembers and what a page object remembers for itself
        (Nevow's i18n example's C{II18NConfig}) are the same for every
        request: not in keys, the page is stored at once.
        """
        class IConfig(inevow.IData):
            pass

        class ISite(inevow.IData):
            pass

        class Config(object):
            name = "page-config"

        class Site(object):
            name = "site"

        def make(base):
            class Page(base):
                docFactory = loaders.stan(tags.p(render=tags.directive("config")))

                def __init__(self):
                    rend.Page.__init__(self)
                    self.remember(Config(), IConfig)

                def render_config(self, ctx, data):
                    return ctx.tag[IConfig(ctx).name, " ", ISite(ctx).name]
            return Page
        self.twins(make)
        self.site.remember(Site(), ISite)
        self.assertSame(b"/p", status=b"nevowcache; fwd=uri-miss; ttl=60; stored")
        self.assertSame(b"/p", status=b"nevowcache; hit; ttl=60")
        self.assertEqual(self.get(b"/p").body, b"<p>page-config site</p>")


    def test_cachingSiteTraversesWhenContextRemembered(self):
        """
        L{CachingSite} never answers before traversal for a page whose
        traversal remembered something: the traversal may remember
        something else next time.
        """
        from nevowcache import CachingSite

        class IUser(inevow.IData):
            pass
        traversals = []

        def traverse(ctx):
            traversals.append(1)
            ctx.remember("alice" if len(traversals) < 4 else "bob", IUser)
        self.twins(self.rendering(lambda ctx: IUser(ctx)), parent=self.parentDoing(traverse))
        self.site = CachingSite(self.site.resource, reactor=self.clock)
        bodies = [self.get(b"/p/p").body for _ in range(5)]
        self.assertEqual(bodies, [b"<p>alice</p>"] * 3 + [b"<p>bob</p>"] * 2)
        self.assertEqual(len(traversals), 5)



class OutsideHTTPTests(NevowTestsBase):
    """
    Every Nevow entry point that renders a C{rend.Page} renders a cached
    page to the bytes of the same page uncached: C{renderSynchronously},
    C{renderString}, C{renderHTTP} through C{NevowSite} and L{CachingSite},
    and a page inside another page's template.
    """

    def pages(self):
        """
        @return: The same page, uncached and cached (a template with Nevow's
            C{sequence} renderer, data and slots).
        """
        def render_row(page, ctx, item):
            ctx.fillSlots("name", item)
            return ctx.tag
        namespace = dict(
            data_items=lambda page, ctx, data: [u"a", u"<b>", u"c"],
            render_row=render_row,
            docFactory=loaders.stan(tags.ul(data=tags.directive("items"),
                                            render=tags.directive("sequence"))[
                tags.li(pattern="header")["head"],
                tags.li(pattern="item", render=tags.directive("row"))[tags.slot("name")],
                tags.hr(pattern="divider")]))
        return (type("Plain", (rend.Page,), dict(namespace))(),
                type("Cached", (CachedPage,), dict(namespace, pageCache=self.cache))())


    def test_renderSynchronously(self):
        """
        C{renderSynchronously} (no request at all) gives the uncached bytes.
        """
        plain, cached = self.pages()
        expected = plain.renderSynchronously()
        self.assertIn(b"<li>&lt;b&gt;</li><hr />", expected)
        self.assertEqual(cached.renderSynchronously(), expected)


    def test_renderString(self):
        """
        C{renderString} (no request at all) gives the uncached bytes.
        """
        plain, cached = self.pages()
        expected = self.successResultOf(plain.renderString())
        self.assertEqual(self.successResultOf(cached.renderString()), expected)
        self.assertEqual(cached.renderSynchronously(), expected)


    def test_renderHTTP(self):
        """
        Through C{NevowSite} and L{CachingSite}, misses and hits give the
        uncached bytes.
        """
        from nevowcache import CachingSite
        for site in (appserver.NevowSite, CachingSite):
            self.cache = PageCache(MemoryStore(), reactor=self.clock)
            plain, cached = self.pages()
            root = rend.Page()
            root.putChild("plain", plain)
            root.putChild("p", cached)
            self.site = site(root, reactor=self.clock)
            expected = self.get(b"/plain").body
            self.assertEqual(expected, plain.renderSynchronously())
            statuses = []
            for _ in range(3):
                response = self.get()
                self.assertEqual(response.body, expected)
                statuses.append(response.cacheStatus)
            self.assertEqual(statuses[0], b"nevowcache; fwd=uri-miss; ttl=60; stored")
            self.assertEqual(statuses[2], b"nevowcache; hit; ttl=60")


    def test_fragment(self):
        """
        A cached page inside another page's template renders as the
        uncached page would there (it is part of the other page's render),
        whether that other page is cached or not.
        """
        plain, cached = self.pages()
        outer = lambda page, base: type("Outer", base, dict(
            pageCache=self.cache,
            docFactory=loaders.stan(tags.div[tags.p["before"], page])))()
        root = rend.Page()
        root.putChild("plain", outer(plain, (rend.Page,)))
        root.putChild("cached", outer(cached, (rend.Page,)))
        root.putChild("both", outer(cached, (CachedPage,)))
        self.serve(root)
        expected = self.get(b"/plain").body
        self.assertIn(b"<li>c</li>", expected)
        self.assertEqual(self.get(b"/cached").body, expected)
        for status in (b"nevowcache; fwd=uri-miss; ttl=60; stored", b"nevowcache; hit; ttl=60"):
            response = self.get(b"/both")
            self.assertEqual((response.body, response.cacheStatus), (expected, status))
        self.assertEqual(outer(cached, (rend.Page,)).renderSynchronously(),
                         outer(plain, (rend.Page,)).renderSynchronously())



def _pageContext(page, refresh):
    """
    @return: The context of C{page}, as Nevow makes it to render it, in a
        background refresh if C{refresh}.
    """
    request = _FakeRequest()
    if refresh:
        request.nevowcacheRefresh = object()
    pageContext = context.PageContext(parent=context.RequestContext(tag=request), tag=page)
    page.rememberStuff(pageContext)
    return pageContext



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
                             [b"nevowcache; fwd=uri-miss; ttl=60; stored"])
            [status] = h2.getRawHeaders(b"cache-status")
            [age] = h2.getRawHeaders(b"age")
            self.assertEqual(status, b"nevowcache; hit; ttl=%d" % (60 - int(age),))
            self.assertEqual(len(renders), 1)
        d.addCallback(check)
        # Let the client's connections go before the test ends.
        from twisted.internet import task
        return d.addCallback(lambda _: task.deferLater(reactor, 0, lambda: None))
