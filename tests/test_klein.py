# -*- test-case-name: tests.test_klein -*-
"""
The Klein adapter (L{nevowcache.klein}): a cache in front of one route, and
L{nevowcache.klein.invalidateRoute}.  The rules every adapter shares run
against a Klein route in L{tests.test_behaviour} (L{tests._adapters}).
"""

from __future__ import absolute_import, division

import os
import subprocess
import sys

from twisted.internet import defer, task
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.resource import Resource

from nevowcache import web
from nevowcache.testing import MemoryClient, cacheOnClock

from tests._tools import ROOT

try:
    import klein
    from klein.interfaces import IKleinRequest
except ImportError:
    klein = None

KLEIN_SKIP = None if klein is not None else (
    "Klein (requirements/py3.txt) is installed on Python 3 only")



class _Counting(Resource):
    """
    A resource counting its renders.
    """
    isLeaf = True
    renders = 0

    def render_GET(self, request):
        self.renders += 1
        request.setHeader(b"content-type", b"text/plain")
        return b"resource #" + str(self.renders).encode("ascii")



def _elements():
    """
    @return: An element that renders, and the class of one whose renderer
        raises (twisted.web.template, imported late: Python 3 only here).
    """
    from twisted.web.template import Element, TagLoader, renderer, tags

    class Ok(Element):
        loader = TagLoader(tags.p("fine ", tags.transparent(render="n")))

        def __init__(self, n):
            Element.__init__(self)
            self.number = n

        @renderer
        def n(self, request, tag):
            return str(self.number)

    class Broken(Element):
        loader = TagLoader(tags.p(render="boom"))

        @renderer
        def boom(self, request, tag):
            raise ValueError("broken renderer")
    return Ok, Broken



class KleinTestsBase(SynchronousTestCase):
    """
    A Klein app on a clock, its cache, and a client.
    """
    skip = KLEIN_SKIP

    def setUp(self):
        self.clock = task.Clock()
        self.cache = cacheOnClock(self.clock, waitTimeout=10, renderTimeout=20)
        self.app = klein.Klein()
        self.calls = []
        self._client = None


    def cached(self, **kwargs):
        from nevowcache.klein import cached
        kwargs.setdefault("pageCache", self.cache)
        return cached(**kwargs)


    def root(self):
        return self.app.resource()


    @property
    def client(self):
        if self._client is None:
            self._client = MemoryClient(self.root(), self.clock)
        return self._client



class CachedRouteTests(KleinTestsBase):
    """
    L{nevowcache.klein.cached} in front of a route.
    """

    def test_hitDoesNotCallTheRoute(self):
        """
        The first request calls the route and stores its answer; the next
        ones are hits, and the route is not called again.
        """
        calls = self.calls

        @self.app.route("/post/<int:pid>")
        @self.cached()
        def post(request, pid):
            calls.append((request.uri, pid))
            return u"post %d \N{SNOWMAN} #%d" % (pid, len(calls))

        first = self.client.get(b"/post/1")
        self.assertEqual(first.cacheStatus, b"nevowcache; fwd=uri-miss; ttl=60; stored")
        self.assertEqual(first.body, u"post 1 \N{SNOWMAN} #1".encode("utf-8"))
        for _ in range(3):
            hit = self.client.get(b"/post/1")
            self.assertEqual(hit.cacheStatus, b"nevowcache; hit; ttl=60")
            self.assertEqual(hit.body, first.body)
        self.assertEqual(calls, [(b"/post/1", 1)])
        self.assertEqual(self.client.get(b"/post/2").body, u"post 2 \N{SNOWMAN} #2".encode("utf-8"))
        self.assertEqual(self.cache.stats()["hits"], 3)


    def test_bare(self):
        """
        C{@cached} without settings caches with the defaults.
        """
        from nevowcache import defaultPageCache
        from nevowcache.klein import cached
        calls = self.calls

        @self.app.route("/")
        @cached
        def home(request):
            calls.append(1)
            return b"home"
        self.addCleanup(defaultPageCache.clear)
        client = self.client
        client.get(b"/")
        self.assertEqual(client.get(b"/").cacheStatus, b"nevowcache; hit; ttl=60")
        self.assertEqual(calls, [1])


    def test_endpointIsTheFunctionName(self):
        """
        The route keeps its function's name, which Klein makes its endpoint
        (C{url_for} finds it).
        """
        @self.app.route("/post/<int:pid>")
        @self.cached()
        def post(request, pid):
            return b"x"
        self.assertIn("post", self.app.endpoints)
        self.assertEqual(post.__name__, "post")
        self.assertEqual(self.app.url_map.bind("").build("post", {"pid": 3}), "/post/3")


    def compareUncached(self, define):
        """
        Serve the routes C{define(app, wrap)} defines twice: cached and
        uncached.

        @return: A function of a path returning the uncached response, the
            cached miss and the cached hit.
        """
        plain = klein.Klein()
        define(plain, lambda f: f)
        define(self.app, lambda f: self.cached()(f))
        uncached = MemoryClient(plain.resource(), self.clock)

        def responses(path):
            return (uncached.get(path), self.client.get(path), self.client.get(path))
        return responses


    def test_whatRoutesReturn(self):
        """
        Text, bytes, an C{Element}, a C{Resource}, a L{klein.Response}, and
        a L{Deferred} or coroutine of one are answered as Klein answers them
        uncached: same status, headers and body, on the miss and on the hit.
        """
        Ok, _ = _elements()
        counting = _Counting()

        def define(app, wrap):
            @app.route("/text")
            @wrap
            def text(request):
                return u"caf\N{LATIN SMALL LETTER E WITH ACUTE}"

            @app.route("/bytes")
            @wrap
            def raw(request):
                request.setHeader(b"content-type", b"application/octet-stream")
                return b"\x00\x01"

            @app.route("/element")
            @wrap
            def element(request):
                return Ok(7)

            @app.route("/resource")
            @wrap
            def resource(request):
                return counting

            @app.route("/response")
            @wrap
            def response(request):
                return klein.Response(code=200, headers={"X-Made": "here"}, body=u"made")

            @app.route("/deferred")
            @wrap
            def deferred(request):
                return defer.succeed(Ok(8))

            # Written so that Python 2.7 can read this module.
            namespace = {}
            exec("async def coroutine(request):\n    return u'from a coroutine'\n",
                 namespace)
            app.route("/coroutine")(wrap(namespace["coroutine"]))
        responses = self.compareUncached(define)
        for path in (b"/text", b"/bytes", b"/element", b"/deferred", b"/coroutine",
                     b"/response"):
            plain, miss, hit = responses(path)
            self.assertEqual(hit.cacheStatus, b"nevowcache; hit; ttl=60", path)
            for cached in (miss, hit):
                self.assertEqual((cached.code, cached.body), (plain.code, plain.body), path)
                for name in (b"content-type", b"x-made"):
                    self.assertEqual(cached.header(name), plain.header(name), (path, name))
        plain, miss, hit = responses(b"/resource")
        self.assertEqual((plain.body, miss.body, hit.body),
                         (b"resource #1", b"resource #2", b"resource #2"))
        self.assertEqual(hit.header(b"content-type"), b"text/plain")


    def test_errorsGoToKlein(self):
        """
        A route's failure reaches Klein's error handling on the live
        request, as uncached: an C{HTTPException} answers with its status,
        the app's error handlers with their page; nothing is stored.
        """
        from werkzeug.exceptions import NotFound

        class Missing(Exception):
            pass

        def define(app, wrap):
            @app.handle_errors(Missing)
            def missing(request, failure):
                request.setResponseCode(410)
                return b"handled: gone"

            @app.route("/notfound")
            @wrap
            def notfound(request):
                raise NotFound()

            @app.route("/handled")
            @wrap
            def handled(request):
                return defer.fail(Missing())

            @app.route("/crash")
            @wrap
            def crash(request):
                raise ZeroDivisionError()
        responses = self.compareUncached(define)
        for path, code, detail in [(b"/notfound", 404, b"render-error"),
                                   (b"/handled", 410, b"render-error"),
                                   (b"/crash", 500, b"render-error")]:
            plain, first, second = responses(path)
            self.assertEqual((first.code, second.code), (code, code), path)
            self.assertEqual((first.body, second.body), (plain.body, plain.body), path)
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 3)
        self.assertEqual(self.cache.stats()["entries"], 0)


    def test_notShared(self):
        """
        What may not be shared is answered and not stored, as by every
        adapter: another status, a cookie set or read, a twisted.web
        session, an error page from C{renderElement}.
        """
        _, Broken = _elements()
        calls = self.calls

        def route(path, behave):
            @self.app.route(path, endpoint=path)
            @self.cached()
            def page(request):
                calls.append(path)
                return behave(request)

        def status(request):
            request.setResponseCode(404)
            return b"nothing here"

        def cookie(request):
            request.addCookie(b"k", b"v")
            return b"cookie"

        def session(request):
            return request.getSession().uid

        def readCookie(request):
            return b"hello " + (request.getCookie(b"name") or b"you")

        route("/status", status)
        route("/cookie", cookie)
        route("/session", session)
        route("/readCookie", readCookie)
        route("/broken", lambda request: Broken())
        cases = [(b"/status", b"status-404; fwd-status=404"),
                 (b"/cookie", b"set-cookie"),
                 (b"/session", b"session"),
                 (b"/readCookie", b"cookie-read"),
                 (b"/broken", b"render-error")]
        for path, detail in cases:
            for _ in range(2):
                response = self.client.get(path, headers={b"Cookie": b"name=alice"})
                self.assertEqual(response.cacheStatus,
                                 b"nevowcache; fwd=uri-miss; detail=" + detail, path)
        self.assertEqual(len(calls), 2 * len(cases))
        self.assertEqual(self.cache.stats()["entries"], 0)
        from twisted.web.error import FlattenerError
        self.assertEqual(len(self.flushLoggedErrors(FlattenerError)), 2)


    def test_kleinSessionNotShared(self):
        """
        A route whose session Klein's L{klein.Requirer} procures (a
        C{SessionProcurer} reading and setting its cookie) is never stored,
        with the cache around the requirer's route.
        """
        from klein import Requirer, SessionProcurer
        from klein.interfaces import ISession
        from klein.storage.memory import MemorySessionStore
        requirer = Requirer()
        procurer = SessionProcurer(MemorySessionStore())

        @requirer.prerequisite([ISession])
        def procure(request):
            return procurer.procureSession(request)

        calls = self.calls

        @requirer.require(lambda f: self.app.route("/me")(self.cached()(f)))
        def me():
            calls.append(1)
            return u"hello"

        first = self.client.get(b"/me")
        self.assertIn(b"Klein-INSECURE-Session=", first.header(b"set-cookie"))
        cookie = first.header(b"set-cookie").split(b";")[0]
        second = self.client.get(b"/me", headers={b"Cookie": cookie})
        self.assertEqual(first.cacheStatus, b"nevowcache; fwd=uri-miss; detail=cookie-read")
        self.assertEqual(second.cacheStatus, b"nevowcache; fwd=uri-miss; detail=cookie-read")
        self.assertEqual(second.body, b"hello")
        self.assertEqual(len(calls), 2)
        self.assertEqual(self.cache.stats()["entries"], 0)


    def test_placedWrongly(self):
        """
        Under a L{klein.Requirer}'s C{require}, which calls the function
        without the request, the cached route fails with a message saying
        where it goes, and nothing is shared.
        """
        from klein import Requirer
        requirer = Requirer()

        @requirer.require(self.app.route("/x"))
        @self.cached()
        def x():
            return b"x"
        response = self.client.get(b"/x")
        self.assertEqual(response.code, 500)
        [failure] = self.flushLoggedErrors(TypeError)
        self.assertIn("directly below @app.route", str(failure.value))


    def test_settings(self):
        """
        Each route has its own timeout, grace, vary and C{Cache-Control};
        tags may be a callable of the request and the route's arguments.
        """
        seen = []

        @self.app.route("/a/<int:pid>")
        @self.cached(cacheTimeout=10, cacheGrace=5, cacheVary=["Accept-Language"],
                     cacheControl="public",
                     cacheTags=lambda request, pid: seen.append(pid) or [u"post-%d" % pid])
        def a(request, pid):
            return b"a" + request.getHeader(b"accept-language")

        @self.app.route("/b")
        @self.cached(cacheTimeout=0, cacheTags=[u"b"])
        def b(request):
            return b"b"
        fr = self.client.get(b"/a/1", headers={b"Accept-Language": b"fr"})
        self.assertEqual(fr.cacheStatus, b"nevowcache; fwd=uri-miss; ttl=10; stored")
        self.assertEqual(fr.header(b"cache-control"),
                         b"public, max-age=10, stale-while-revalidate=5")
        self.assertEqual(fr.header(b"vary"), b"accept-language")
        self.assertEqual(self.client.get(b"/a/1", headers={b"Accept-Language": b"de"}).body, b"ade")
        self.assertEqual(self.client.get(b"/a/1", headers={b"Accept-Language": b"fr"}).cacheStatus,
                         b"nevowcache; hit; ttl=10")
        self.assertEqual(seen, [1, 1, 1])
        self.client.get(b"/b")
        self.clock.advance(10 ** 6)
        self.assertEqual(self.client.get(b"/b").cacheStatus, b"nevowcache; hit")
        self.cache.invalidateTag(u"post-1", hard=True)
        self.assertEqual(self.client.get(b"/a/1", headers={b"Accept-Language": b"fr"}).cacheStatus,
                         b"nevowcache; fwd=uri-miss; ttl=10; stored")
        self.assertEqual(self.client.get(b"/b").cacheStatus, b"nevowcache; hit")
        # Statistics by route: named after the route's function.
        pages = dict((page.name, page) for page in self.cache.statistics.pages())
        a = pages["tests.test_klein.CachedRouteTests.test_settings.<locals>.a"]
        self.assertEqual((a.hits, a.misses, a.renders), (1, 3, 3))


    def test_badSettings(self):
        """
        Wrong settings fail when the route is defined.
        """
        from nevowcache.klein import cached
        self.assertRaises(ValueError, cached, cacheTimeout=-1)
        self.assertRaises(ValueError, cached, cacheControl="private")
        self.assertRaises(TypeError, cached(cacheTimeout=1), Resource)


    def test_timeoutNone(self):
        """
        With C{cacheTimeout=None} the route is called every time, untouched.
        """
        calls = self.calls

        @self.app.route("/")
        @self.cached(cacheTimeout=None)
        def home(request):
            calls.append(1)
            return b"home"
        for _ in range(2):
            self.assertIsNone(self.client.get(b"/").cacheStatus)
        self.assertEqual(len(calls), 2)


    def test_refreshCallsTheRouteOnASnapshot(self):
        """
        A stale hit is answered at once; the route is called again in the
        background, with a snapshot of the request (not the live one) and
        the same route arguments, and Klein's C{url_for} works there.
        """
        calls = self.calls

        @self.app.route("/post/<int:pid>")
        @self.cached(cacheTimeout=10)
        def post(request, pid):
            calls.append((request, pid))
            url = IKleinRequest(request).url_for("post", {"pid": pid + 1})
            return u"#%d next %s" % (len(calls), url)
        self.assertEqual(self.client.get(b"/post/1").body, b"#1 next /post/2")
        self.clock.advance(11)
        stale = self.client.get(b"/post/1")
        self.assertEqual(stale.body, b"#1 next /post/2")
        self.assertTrue(stale.cacheStatus.startswith(b"nevowcache; hit; ttl=-1"), stale.cacheStatus)
        self.clock.advance(0)
        self.assertEqual(len(calls), 2)
        self.assertEqual(calls[1][1], 1)
        from nevowcache._adapters.webfront import _SnapshotRequest
        self.assertIsInstance(calls[1][0]._underlying, _SnapshotRequest)
        fresh = self.client.get(b"/post/1")
        self.assertEqual((fresh.body, fresh.cacheStatus),
                         (b"#2 next /post/2", b"nevowcache; hit; ttl=10"))
        self.assertEqual(self.cache.stats()["refreshes"], 1)


    def test_boundApp(self):
        """
        A route of an app bound to an instance (C{app = Klein()} in a class)
        is called with the instance, and so is its refresh.
        """
        cached = self.cached

        class Blog(object):
            app = klein.Klein()
            title = b"blog"

            def __init__(self):
                self.calls = 0

            @app.route("/")
            @cached(cacheTimeout=10)
            def home(self, request):
                self.calls += 1
                return self.title + b" #" + str(self.calls).encode("ascii")
        blog = Blog()
        client = MemoryClient(blog.app.resource(), self.clock)
        self.assertEqual(client.get(b"/").body, b"blog #1")
        self.assertEqual(client.get(b"/").body, b"blog #1")
        self.clock.advance(11)
        client.get(b"/")
        self.clock.advance(0)
        self.assertEqual(client.get(b"/").body, b"blog #2")


    def test_branch(self):
        """
        A branch route caches each path below it apart.
        """
        calls = self.calls

        @self.app.route("/docs/", branch=True)
        @self.cached()
        def docs(request):
            calls.append(request.uri)
            return u"/".join(IKleinRequest(request).branch_segments)
        self.assertEqual(self.client.get(b"/docs/a/b").body, b"a/b")
        self.assertEqual(self.client.get(b"/docs/c").body, b"c")
        self.assertEqual(self.client.get(b"/docs/a/b").cacheStatus, b"nevowcache; hit; ttl=60")
        self.assertEqual(calls, [b"/docs/a/b", b"/docs/c"])


    def test_clientGoneDoesNotCancelSharedRender(self):
        """
        Klein cancels what a route returned when its client goes away: the
        render the other requests wait for goes on.
        """
        pending = []

        @self.app.route("/slow")
        @self.cached()
        def slow(request):
            d = defer.Deferred()
            pending.append(d)
            return d
        first = self.client.request(b"GET", b"/slow")
        second = self.client.request(b"GET", b"/slow")
        first.close()
        pending[0].callback(b"done")
        self.assertEqual(second.response().body, b"done")
        self.assertEqual(second.response().cacheStatus, b"nevowcache; fwd=uri-miss; collapsed")
        self.assertEqual(self.client.get(b"/slow").cacheStatus, b"nevowcache; hit; ttl=60")
        self.assertEqual(len(pending), 1)



class UnsafeTests(KleinTestsBase):
    """
    Read-your-writes for Klein apps: a successful unsafe request
    invalidates what it changed.
    """

    def page(self, path="/post/<int:pid>", **kwargs):
        """
        A cached GET route counting its calls, at C{path}.
        """
        calls = self.calls

        @self.app.route(path, endpoint="post", **kwargs)
        @self.cached()
        def post(request, pid):
            if request.method == b"POST":
                return b"posted"
            calls.append(pid)
            return u"post %d #%d" % (pid, len(calls))


    def test_postToTheCachedRoute(self):
        """
        A POST to the cached route itself bypasses the cache and
        invalidates its path once answered.
        """
        self.page(methods=["GET", "POST"])
        self.client.get(b"/post/1")
        self.assertEqual(self.client.post(b"/post/1").cacheStatus, b"nevowcache; fwd=method")
        self.assertEqual(self.client.get(b"/post/1").body, b"post 1 #2")


    def test_postRouteOnInvalidatingSite(self):
        """
        Served on an L{InvalidatingSite}, a POST to another route (an
        uncached form handler) invalidates its path and its redirect's
        target, on every host.
        """
        self.page()

        @self.app.route("/post/<int:pid>/edit", methods=["POST"])
        def edit(request, pid):
            request.redirect(b"/post/%d" % (pid,))
            return b""
        self.root = lambda: web.InvalidatingSite(
            self.app.resource(), pageCaches=[self.cache], reactor=self.clock)
        self.client.get(b"/post/1")
        self.client.get(b"/post/1", host=b"localhost")
        self.assertEqual(self.client.post(b"/post/1/edit").code, 302)
        self.assertEqual(self.client.get(b"/post/1").body, b"post 1 #3")
        self.assertEqual(self.client.get(b"/post/1", host=b"localhost").body, b"post 1 #4")


    def test_invalidateRoute(self):
        """
        L{invalidateRoute} invalidates a route by its endpoint and
        arguments, on every host, in the route's cache, hard by default;
        other arguments are left alone.
        """
        from nevowcache.klein import invalidateRoute
        self.page()

        @self.app.route("/post/<int:pid>/edit", methods=["POST"])
        def edit(request, pid):
            invalidateRoute(self.app, "post", pid=pid)
            return b"saved"
        for host in (b"example.com", b"localhost"):
            self.client.get(b"/post/1", host=host)
        self.client.get(b"/post/2")
        self.assertEqual(self.client.post(b"/post/1/edit").body, b"saved")
        self.assertEqual(self.client.get(b"/post/1").cacheStatus,
                         b"nevowcache; fwd=uri-miss; ttl=60; stored")
        self.assertEqual(self.client.get(b"/post/1", host=b"localhost").cacheStatus,
                         b"nevowcache; fwd=uri-miss; ttl=60; stored")
        self.assertEqual(self.client.get(b"/post/2").cacheStatus, b"nevowcache; hit; ttl=60")
        invalidateRoute(self.app, "post", pid=2, hard=False)
        self.assertTrue(
            self.client.get(b"/post/2").cacheStatus.startswith(b"nevowcache; hit; ttl=-"))


    def test_invalidateRouteMounted(self):
        """
        Given the request, L{invalidateRoute} finds where the app is
        mounted; without it, the path is from the root.
        """
        from nevowcache.klein import invalidateRoute
        self.page()

        @self.app.route("/post/<int:pid>/edit", methods=["POST"])
        def edit(request, pid):
            invalidateRoute(self.app, "post", pid=pid, request=request)
            return b"saved"
        root = Resource()
        root.putChild(b"blog", self.app.resource())
        self.root = lambda: root
        self.client.get(b"/blog/post/1")
        invalidateRoute(self.app, "post", pid=1)
        self.assertEqual(self.client.get(b"/blog/post/1").cacheStatus, b"nevowcache; hit; ttl=60")
        self.client.post(b"/blog/post/1/edit")
        self.assertEqual(self.client.get(b"/blog/post/1").cacheStatus,
                         b"nevowcache; fwd=uri-miss; ttl=60; stored")


    def test_invalidateRouteErrors(self):
        """
        An endpoint that does not exist, or arguments that do not fit it,
        raise werkzeug's C{BuildError}.
        """
        from werkzeug.routing import BuildError
        from nevowcache.klein import invalidateRoute
        self.page()
        self.assertRaises(BuildError, invalidateRoute, self.app, "nope")
        self.assertRaises(BuildError, invalidateRoute, self.app, "post")



class ImportTests(SynchronousTestCase):
    """
    Importing L{nevowcache.klein} without Klein says what to install.
    """

    def test_withoutKlein(self):
        """
        In a fresh interpreter where Klein cannot be imported (Python 2.7;
        on Python 3, as if it were not installed), the import fails with
        the command that installs it.
        """
        program = ("import sys; sys.modules['klein'] = None\n"
                   "try:\n"
                   "    import nevowcache.klein\n"
                   "except ImportError as e:\n"
                   "    print(e)\n")
        env = dict(os.environ, PYTHONPATH=ROOT)
        process = subprocess.Popen([sys.executable, "-c", program], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = process.communicate()[0].decode("utf-8", "replace")
        self.assertIn("nevowcache.klein needs Klein", out)
        self.assertIn("pip install 'nevowcache[klein]'", out)



class WebCachedDecoratorTests(SynchronousTestCase):
    """
    L{nevowcache.web.cached} used as a decorator fails with a message naming
    what to use.
    """

    def test_onAFunction(self):
        def route(request):
            return b"x"
        for attempt in (lambda: web.cached(route),
                        lambda: web.cached(cacheTimeout=60)(route)):
            e = self.assertRaises(TypeError, attempt)
            self.assertIn("nevowcache.klein.cached", str(e))
            self.assertIn("route", str(e))


    def test_onAClass(self):
        class Home(Resource):
            pass
        for attempt in (lambda: web.cached(Home),
                        lambda: web.cached(cacheTimeout=60)(Home)):
            e = self.assertRaises(TypeError, attempt)
            self.assertIn("cached(Home())", str(e))
            self.assertIn("CachedResource", str(e))


    def test_curried(self):
        """
        Without a resource, C{cached(...)} returns a function caching one
        with those settings.
        """
        wrapped = web.cached(cacheTimeout=7, cacheGrace=3)(_Counting())
        self.assertEqual((wrapped.cacheTimeout, wrapped.cacheGrace), (7, 3))
        client = MemoryClient(wrapped, task.Clock())
        self.assertEqual(client.get(b"/").cacheStatus, b"nevowcache; fwd=uri-miss; ttl=7; stored")
