"""
What a render sees of its request through the cache: L{CaptureRequest}
offers each name of twisted.web's request that it decided to offer
(L{nevowcache._http.offered.OFFERED}), and nothing a render does reaches the
live request; renders that escaped the capture (C{request.render},
L{DeferredResource}, static files, Klein) are cached or refused, never left
hanging; error pages are never stored.
"""

from __future__ import absolute_import, division

from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.python import components
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from twisted.web import http, resource, server, static, util
from twisted.web.template import Element, XMLString, renderElement, renderer
from zope.interface import Interface, implementer

from nevowcache import web
from nevowcache._http.capture import CaptureRequest
from nevowcache._http.offered import CAPTURED, COPIED, KEYED, OFFERED, UNSUPPORTED

from tests._http import Exchange, WebTestsBase

try:
    from nevow import appserver
except ImportError:
    appserver = None

try:
    import klein
except ImportError:
    klein = None



def _publicNames(request):
    return set(name for name in dir(request) if not name.startswith("_"))



class _Recorder(resource.Resource):
    """
    Records the public names of the request it renders, after traversal.
    """
    isLeaf = True

    def __init__(self):
        resource.Resource.__init__(self)
        self.names = None


    def render_GET(self, request):
        self.names = _publicNames(request) | set(
            name for name in vars(request) if not name.startswith("_"))
        return b"ok"



def twistedRequestNames():
    """
    The public names of twisted.web's request, as a resource sees it while
    rendering: its class's and those set on it by the time it renders.
    """
    recorder = _Recorder()
    root = resource.Resource()
    root.putChild(b"p", recorder)
    # On a Clock: the connection's timeout must not be left on the reactor.
    Exchange(server.Site(root, reactor=Clock()), path=b"/p")
    return recorder.names | _publicNames(server.Request) | _publicNames(http.Request)



class OfferedTests(SynchronousTestCase):
    """
    L{OFFERED} decides, for each public name of twisted.web's request, how a
    capture offers it.
    """

    def test_everyNameOfTwistedsRequest(self):
        """
        Every public name of twisted.web's request (on the Twisted this runs
        on: 20.3 on Python 2.7, current on Python 3) is in L{OFFERED}: a
        name Twisted adds fails here until it is decided.
        """
        missing = sorted(twistedRequestNames() - set(OFFERED))
        self.assertEqual(missing, [])


    def test_kinds(self):
        """
        Each name has one of the four kinds, and each captured name is
        implemented by L{CaptureRequest} itself.
        """
        self.assertEqual(set(OFFERED.values()) - set([CAPTURED, KEYED, COPIED, UNSUPPORTED]),
                         set())
        capture = CaptureRequest(server.Request(_Channel(), False))
        for name, kind in OFFERED.items():
            if kind == CAPTURED:
                self.assertTrue(name in vars(CaptureRequest) or name in vars(capture)
                                or any(name in vars(cls) for cls in CaptureRequest.__mro__),
                                name)


    def test_everyNameHasAUse(self):
        """
        Each offered name has its test in L{UsesTests}.
        """
        self.assertEqual(sorted(set(OFFERED) - set(USES)), [])
        self.assertEqual(sorted(set(USES) - set(OFFERED)), [])


    def test_nothingElse(self):
        """
        A name that is not offered, and that the application did not set on
        the request, is missing.
        """
        capture = CaptureRequest(server.Request(_Channel(), False))
        self.assertRaises(AttributeError, getattr, capture, "fooBar")
        self.assertRaises(AttributeError, getattr, capture, "_cleanup")
        self.assertEqual(capture.refusals, [])


    def test_nevowRequestNames(self):
        """
        Every public name of Nevow's request is offered by the capture of
        the Nevow adapter.
        """
        if appserver is None:
            raise self.skipTest("Nevow runs only on Python 2.7")
        from nevowcache._adapters.nevowpage import _NevowCapture
        names = _publicNames(appserver.NevowRequest) | twistedRequestNames()
        self.assertEqual(sorted(names - set(_NevowCapture.offered)), [])



class _Channel(object):
    """
    Enough of a channel for a request made in a test.
    """
    site = server.Site(resource.Resource())
    transport = None

    def getPeer(self):
        from twisted.internet.address import IPv4Address
        return IPv4Address("TCP", "10.0.0.1", 1234)

    getHost = getPeer

    def isSecure(self):
        return False



class IThing(Interface):
    """
    An interface the tests adapt requests to.
    """



@implementer(IThing)
class Thing(object):
    """
    An adapter from twisted.web's request to L{IThing}, as Klein registers
    one (C{IKleinRequest}).
    """

    def __init__(self, request):
        self.request = request

components.registerAdapter(Thing, server.Request, IThing)



class _Pull(object):
    """
    A pull producer writing C{b"produced"} then finishing.
    """

    def __init__(self, request):
        self.request = request

    def resumeProducing(self):
        self.request.write(b"produced")
        self.request.unregisterProducer()
        self.request.finish()

    def stopProducing(self):
        pass



class _Leaf(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        return b"leaf"



def _finishing(request):
    request.write(b"finished")
    request.finish()
    return server.NOT_DONE_YET



def _producing(request):
    request.registerProducer(_Pull(request), False)
    return server.NOT_DONE_YET



def _rendering(request):
    request.render(_Leaf())
    return server.NOT_DONE_YET



def _failing(request):
    request.processingFailed(Failure(ValueError("no")))
    return server.NOT_DONE_YET



def _aborting(request):
    request.loseConnection()
    return server.NOT_DONE_YET



def _components(request):
    thing = IThing(request)
    assert thing.request is request, thing.request
    assert request.getComponent(IThing) is thing
    request.setComponent(IThing, None)
    request.unsetComponent(IThing)
    adapted = request.addAdapter(Thing, True)
    request.removeComponent(adapted)
    request.setAdapter(IThing, Thing)
    request.addComponent(Thing(request), True)
    return b"components"



def _traversing(request):
    request.postpath.append(b"x")
    request.prepath.pop()
    request.sitepath.append(b"y")
    request.args[b"a"] = [b"changed"]
    return b"traversed"



def _view(name, *args):
    def use(request):
        getattr(request, name)(None, *args)
    return use



def _read(name):
    def use(request):
        getattr(request, name)
    return use



def _call(name, *args):
    def use(request):
        getattr(request, name)(*args)
    return use



STORED = b"stored"
FAILED = b"failed"
LOST = b"lost"

# For each offered name, a use of it in a render, and what the cache does
# with the render: STORED, FAILED (500, not stored), LOST (the connection
# dropped, not stored), or the refusal's detail.  A use returning L{None}
# is followed by the body C{b"ok"}.
USES = {
    "write": (_call("write", b"w"), STORED),
    "writeSequence": (_call("writeSequence", [b"a", b"b"]), STORED),
    "finish": (_finishing, STORED),
    "finished": (_read("finished"), STORED),
    "startedWriting": (_read("startedWriting"), STORED),
    "sentLength": (_read("sentLength"), STORED),
    "notifyFinish": (_call("notifyFinish"), STORED),
    "notifications": (_read("notifications"), STORED),
    "processingFailed": (_failing, FAILED),
    "render": (_rendering, STORED),
    "loseConnection": (_aborting, LOST),
    "setResponseCode": (_call("setResponseCode", 404), b"status-404"),
    "code": (_read("code"), STORED),
    "code_message": (_read("code_message"), STORED),
    "setHeader": (_call("setHeader", b"x-a", b"1"), STORED),
    "responseHeaders": (
        lambda r: r.responseHeaders.setRawHeaders(b"x-b", [b"2"]), STORED),
    "redirect": (_call("redirect", b"/elsewhere"), b"status-302"),
    "addCookie": (_call("addCookie", b"a", b"b"), b"set-cookie"),
    "cookies": (_read("cookies"), STORED),
    "setLastModified": (_call("setLastModified", 1000000000), STORED),
    "lastModified": (_read("lastModified"), STORED),
    "setETag": (_call("setETag", b'"t"'), STORED),
    "etag": (_read("etag"), STORED),
    "registerProducer": (_producing, STORED),
    "unregisterProducer": (_call("unregisterProducer"), STORED),
    "producer": (_read("producer"), STORED),
    "requestHeaders": (
        lambda r: r.requestHeaders.getRawHeaders(b"accept"), b"header-read-accept"),
    "getHeader": (_call("getHeader", b"accept"), b"header-read-accept"),
    "getAllHeaders": (_call("getAllHeaders"), b"header-read-*"),
    "getCookie": (_call("getCookie", b"a"), b"cookie-read"),
    "received_cookies": (_read("received_cookies"), b"cookie-read"),
    "getSession": (_call("getSession"), b"session"),
    "session": (_read("session"), b"session"),
    "getClientIP": (_call("getClientIP"), b"client-address"),
    "getClientAddress": (_call("getClientAddress"), b"client-address"),
    "client": (_read("client"), b"client-address"),
    "getUser": (_call("getUser"), b"authorization"),
    "getPassword": (_call("getPassword"), b"authorization"),
    "channel": (lambda r: r.channel.getPeer(), b"client-address"),
    "transport": (lambda r: r.transport.write(b"raw bytes"), FAILED),
    "site": (lambda r: r.site.displayTracebacks, b"render-error"),
    "content": (lambda r: r.content.read(), STORED),
    "queued": (_read("queued"), STORED),
    "chunked": (_read("chunked"), STORED),
    "prePathURL": (lambda r: r.prePathURL(), STORED),
    "URLPath": (lambda r: r.URLPath(), STORED),
    "childLink": (_call("childLink", b"c"), STORED),
    "sibLink": (_call("sibLink", b"s"), STORED),
    "getRootURL": (_call("getRootURL"), STORED),
    "rememberRootURL": (_call("rememberRootURL"), STORED),
    "getComponent": (_components, STORED),
    "setComponent": (_components, STORED),
    "addComponent": (_components, STORED),
    "unsetComponent": (_components, STORED),
    "removeComponent": (_components, STORED),
    "setAdapter": (_components, STORED),
    "addAdapter": (_components, STORED),
    "view_write": (_view("view_write", b"v"), STORED),
    "view_finish": (lambda r: r.view_finish(None) or server.NOT_DONE_YET, STORED),
    "view_addCookie": (_view("view_addCookie", b"a", b"b"), b"set-cookie"),
    "view_setHeader": (_view("view_setHeader", b"x-c", b"3"), STORED),
    "view_setResponseCode": (_view("view_setResponseCode", 410), b"status-410"),
    "view_setLastModified": (_view("view_setLastModified", 1000000000), STORED),
    "view_setETag": (_view("view_setETag", b'"v"'), STORED),
    "view_registerProducer": (
        lambda r: r.view_registerProducer(None, _Pull(r), False) or server.NOT_DONE_YET,
        STORED),
    "view_unregisterProducer": (_view("view_unregisterProducer"), STORED),
    "method": (_read("method"), STORED),
    "uri": (_read("uri"), STORED),
    "path": (_read("path"), STORED),
    "clientproto": (_read("clientproto"), STORED),
    "isSecure": (_call("isSecure"), STORED),
    "getRequestHostname": (_call("getRequestHostname"), STORED),
    "getHost": (_call("getHost"), STORED),
    "host": (_read("host"), STORED),
    "defaultContentType": (_read("defaultContentType"), STORED),
    "appRootURL": (_read("appRootURL"), STORED),
    "locateAdapterClass": (
        _call("locateAdapterClass", server.Request, IThing, None), STORED),
    "persistenceVersion": (_read("persistenceVersion"), STORED),
    "args": (_traversing, STORED),
    "prepath": (_traversing, STORED),
    "postpath": (_traversing, STORED),
    "sitepath": (_traversing, STORED),
}
for _name, _kind in OFFERED.items():
    if _kind == UNSUPPORTED:
        USES[_name] = (_read(_name), b"unsupported-" + _name.lower().encode("ascii"))
del _name, _kind



class UsesTests(WebTestsBase):
    """
    Each name of twisted.web's request, used by a cached render: cached or
    refused as L{USES} says, answered at once, and the live request left
    as traversal made it.
    """

    def setUp(self):
        WebTestsBase.setUp(self)
        self.live = []


    def use(self, name):
        use, expected = USES[name]
        live = self.live

        class Page(resource.Resource):
            isLeaf = True

            def render_GET(self, request):
                live.append((request._underlying, list(request._underlying.prepath),
                             list(request._underlying.postpath),
                             dict(request._underlying.args),
                             dict(getattr(request._underlying, "_adapterCache", {}))))
                result = use(request)
                if result is server.NOT_DONE_YET or isinstance(result, bytes):
                    return result
                return b"ok"
        self.root.putChild(b"p", web.cached(Page(), pageCache=self.cache))
        first = Exchange(self.site, path=b"/p/q?a=1")
        self.assertTrue(first.done() or expected == LOST, first.transport.value())
        raw = first.transport.value()
        self.assertEqual(raw.count(b"HTTP/1.1 "), 1 if expected != LOST else 0, raw)
        self.assertNotIn(b"raw bytes", raw)
        request, prepath, postpath, args, adapters = live[0]
        self.assertEqual((request.prepath, request.postpath, request.args),
                         (prepath, postpath, args))
        self.assertEqual(getattr(request, "_adapterCache", {}), adapters)
        second = Exchange(self.site, path=b"/p/q?a=1")
        self.assertTrue(second.done() or expected == LOST)
        if expected == LOST:
            self.assertTrue(first.transport.disconnecting)
            self.assertEqual(len(live), 2)
            return
        response, again = first.response(), second.response()
        if expected == STORED:
            self.assertEqual(response.cacheStatus, b"nevowcache; fwd=uri-miss; ttl=60; stored")
            self.assertEqual(again.cacheStatus, b"nevowcache; hit; ttl=60")
            self.assertEqual(again.body, response.body)
            self.assertEqual(len(live), 1)
        elif expected == FAILED:
            self.assertEqual((response.code, again.code), (500, 500))
            self.flushLoggedErrors()
            self.assertEqual(len(live), 2)
        else:
            status = b"nevowcache; fwd=uri-miss; detail=" + expected
            if expected.startswith(b"status-"):
                # What the render answered (RFC 9211 fwd-status).
                status += b"; fwd-status=" + expected[len(b"status-"):]
            self.assertEqual(response.cacheStatus, status)
            self.assertEqual(again.cacheStatus, response.cacheStatus)
            self.assertEqual(len(live), 2)


    def test_bodies(self):
        """
        What the URL methods answer on a capture is what they answer on the
        request; the render's own traversal moves the capture's.
        """
        seen = []

        def render(request):
            seen.append((request.prePathURL(), request._underlying.prePathURL(),
                         request.childLink(b"c"), request._underlying.childLink(b"c"),
                         str(request.URLPath()), str(request._underlying.URLPath())))
            request.prepath.append(request.postpath.pop(0))
            seen.append(request.prePathURL())
            return b"ok"

        class Page(resource.Resource):
            def render_GET(self, request):
                return render(request)
        page = Page()
        page.isLeaf = True
        self.root.putChild(b"p", web.cached(page, pageCache=self.cache))
        Exchange(self.site, path=b"/p/q")
        (ours, theirs, ourLink, theirLink, ourPath, theirPath), moved = seen
        self.assertEqual(ours, theirs)
        self.assertEqual(ours, b"http://example.com:8080/p")
        self.assertEqual(ourLink, theirLink)
        self.assertEqual(ourPath, theirPath)
        self.assertEqual(moved, b"http://example.com:8080/p/q")



def _makeUseTest(name):
    def test(self):
        self.use(name)
    test.__name__ = "test_" + name
    test.__doc__ = "C{request.%s}: %s." % (name, USES[name][1].decode("ascii"))
    return test

for _name in OFFERED:
    setattr(UsesTests, "test_" + _name, _makeUseTest(_name))
del _name



class _Fresh(resource.Resource):
    """
    Renders a new L{DeferredResource} of C{child} for each request, as an
    application that looks its page up asynchronously does.
    """
    isLeaf = True

    def __init__(self, child):
        resource.Resource.__init__(self)
        self.child = child
        self.renders = 0


    def render(self, request):
        self.renders += 1
        return util.DeferredResource(defer.succeed(self.child)).render(request)



class _Counting(resource.Resource):
    isLeaf = True

    def __init__(self):
        resource.Resource.__init__(self)
        self.renders = 0


    def render_GET(self, request):
        self.renders += 1
        return b"counted #" + str(self.renders).encode("ascii")



class _Ok(Element):
    loader = XMLString(b'<p xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1">'
                       b'<t:transparent t:render="ok" /></p>')

    @renderer
    def ok(self, request, tag):
        return u"fine"



class _Broken(Element):
    loader = XMLString(b'<p xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1">'
                       b'<t:transparent t:render="broken" /></p>')

    @renderer
    def broken(self, request, tag):
        raise ValueError("broken renderer")



class _Templated(resource.Resource):
    """
    Renders an element with L{twisted.web.template.renderElement}, as Klein
    and many applications do.
    """
    isLeaf = True

    def __init__(self, element):
        resource.Resource.__init__(self)
        self.element = element
        self.renders = 0


    def render_GET(self, request):
        self.renders += 1
        return renderElement(request, self.element())



class EscapeTests(WebTestsBase):
    """
    Renders that used to escape the capture onto the live request: its
    answer went out, the capture never finished, and every later request for
    the URL waited C{waitTimeout}.
    """

    def test_deferredResource(self):
        """
        A resource rendered through L{util.DeferredResource} (which calls
        C{request.render}) is captured, stored and served as hits.
        """
        counting = _Counting()
        self.root.putChild(b"p", web.cached(_Fresh(counting), pageCache=self.cache))
        responses = [self.get() for _ in range(3)]
        self.assertEqual([r.body for r in responses], [b"counted #1"] * 3)
        self.assertEqual([r.cacheStatus for r in responses],
                         [b"nevowcache; fwd=uri-miss; ttl=60; stored",
                          b"nevowcache; hit; ttl=60", b"nevowcache; hit; ttl=60"])
        self.assertEqual(counting.renders, 1)
        self.assertEqual(self.cache.stats()["waiterTimeouts"], 0)


    def test_deferredStaticFile(self):
        """
        A C{static.File} rendered through C{request.render} is stored and
        served whole.
        """
        path = self.mktemp()
        with open(path, "wb") as f:
            f.write(b"file body")
        self.root.putChild(b"p", web.cached(_Fresh(static.File(path)),
                                            pageCache=self.cache))
        first, second = self.get(), self.get()
        self.assertEqual((first.body, second.body), (b"file body", b"file body"))
        self.assertEqual(second.cacheStatus, b"nevowcache; hit; ttl=60")


    def test_conditionalMissOfStaticFile(self):
        """
        A conditional request that misses: C{static.File} would answer it
        C{304} with no body (its C{setLastModified} says C{http.CACHED});
        on the capture it renders the whole file, which is stored, and the
        client gets its C{304} from the entry.  The next request gets the
        whole file.
        """
        path = self.mktemp()
        with open(path, "wb") as f:
            f.write(b"file body")
        self.root.putChild(b"p", web.cached(_Fresh(static.File(path)),
                                            pageCache=self.cache))
        ex = Exchange(self.site, path=b"/p",
                      headers=[b"If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT"])
        self.assertTrue(ex.done())
        self.assertEqual((ex.response().code, ex.response().body), (304, b""))
        whole = self.get()
        self.assertEqual((whole.code, whole.body), (200, b"file body"))
        self.assertEqual(whole.cacheStatus, b"nevowcache; hit; ttl=60")


    def test_renderOfMethodNotAllowed(self):
        """
        C{request.render} of a resource without the method answers as
        twisted.web does, C{405}, and stores nothing.
        """
        class NoGet(resource.Resource):
            isLeaf = True

            def render_POST(self, request):
                return b"posted"
        self.root.putChild(b"p", web.cached(_Fresh(NoGet()), pageCache=self.cache))
        first, second = self.get(), self.get()
        self.assertEqual((first.code, second.code), (405, 405))


    def test_collapsedWaitersNotHung(self):
        """
        Requests that arrive while an escaping render runs wait for it, and
        get its entry as soon as it finishes.
        """
        pending = defer.Deferred()
        counting = _Counting()

        class Later(resource.Resource):
            isLeaf = True

            def render(self, request):
                return util.DeferredResource(pending).render(request)
        self.root.putChild(b"p", web.cached(Later(), pageCache=self.cache))
        first = Exchange(self.site, path=b"/p")
        second = Exchange(self.site, path=b"/p")
        self.assertFalse(first.done() or second.done())
        pending.callback(counting)
        self.assertTrue(first.done() and second.done())
        self.assertEqual(second.response().cacheStatus,
                         b"nevowcache; fwd=uri-miss; collapsed")
        self.assertEqual(second.response().body, b"counted #1")



class ErrorPageTests(WebTestsBase):
    """
    L{twisted.web.template.renderElement} answers a failed flattening with a
    C{200} and an error C{<div>} (or, with C{displayTracebacks}, Twisted's
    traceback page): through the cache that page is served once, as
    uncached, and never stored.
    """

    def assertNotStored(self, page, tracebacks):
        self.site.displayTracebacks = tracebacks
        first, second = self.get(), self.get()
        # Twisted logs the failure (and 20.3, with tracebacks, fails in its
        # errback: "Deferred has no attribute encode").
        self.assertTrue(self.flushLoggedErrors())
        self.assertEqual((first.code, second.code), (200, 200))
        if tracebacks:
            self.assertIn(b"broken renderer", first.body)
        else:
            self.assertIn(b"An error occurred while rendering the response.", first.body)
        for response in (first, second):
            self.assertEqual(response.cacheStatus,
                             b"nevowcache; fwd=uri-miss; detail=render-error")
        self.assertEqual(page.renders, 2)


    def test_cachedWrapper(self):
        """
        C{cached()} of a resource rendering with C{renderElement}: an error
        page is not stored, without tracebacks.
        """
        page = _Templated(_Broken)
        self.root.putChild(b"p", web.cached(page, pageCache=self.cache))
        self.assertNotStored(page, False)


    def test_cachedWrapperTracebacks(self):
        """
        Nor with the site's C{displayTracebacks}.
        """
        page = _Templated(_Broken)
        self.root.putChild(b"p", web.cached(page, pageCache=self.cache))
        self.assertNotStored(page, True)


    def test_cachedResource(self):
        """
        A L{web.CachedResource} rendering with C{renderElement}: the same,
        with and without tracebacks.
        """
        class Page(web.CachedResource):
            isLeaf = True
            pageCache = self.cache
            renders = 0

            def render_GET(self, request):
                self.renders += 1
                return renderElement(request, _Broken())
        for tracebacks in (False, True):
            page = Page()
            self.root.putChild(b"p", page)
            self.assertNotStored(page, tracebacks)


    def test_goodElementStored(self):
        """
        An element rendered without failure by C{renderElement} is stored.
        """
        page = _Templated(_Ok)
        self.root.putChild(b"p", web.cached(page, pageCache=self.cache))
        first, second = self.get(), self.get()
        self.assertIn(b"fine", first.body)
        self.assertEqual(second.cacheStatus, b"nevowcache; hit; ttl=60")
        self.assertEqual(page.renders, 1)



class KleinTests(WebTestsBase):
    """
    Klein renders a route's C{Resource} with C{request.render} and its
    C{Element} with C{renderElement}, both on the request it is given: the
    capture, through L{web.cached}.
    """

    if klein is None:
        skip = "Klein (requirements/py3.txt) is installed on Python 3 only"

    def setUp(self):
        WebTestsBase.setUp(self)
        self.counting = _Counting()
        self.renders = []
        app = klein.Klein()
        counting, renders = self.counting, self.renders

        @app.route("/resource")
        def aResource(request):
            return counting

        @app.route("/element")
        def anElement(request):
            renders.append(request.uri)
            return _Ok()

        @app.route("/broken")
        def broken(request):
            renders.append(request.uri)
            return _Broken()
        self.site = server.Site(web.cached(app.resource(), pageCache=self.cache),
                                reactor=self.clock)


    def test_resource(self):
        """
        A route returning a resource: stored, then hits.
        """
        first, second = self.get(b"/resource"), self.get(b"/resource")
        self.assertEqual((first.body, second.body), (b"counted #1", b"counted #1"))
        self.assertEqual(second.cacheStatus, b"nevowcache; hit; ttl=60")


    def test_element(self):
        """
        A route returning an element that renders: stored, then hits.
        """
        first, second = self.get(b"/element"), self.get(b"/element")
        self.assertIn(b"fine", first.body)
        self.assertEqual(second.cacheStatus, b"nevowcache; hit; ttl=60")
        self.assertEqual(len(self.renders), 1)


    def test_brokenElement(self):
        """
        A route returning an element whose renderer raises: Klein's 200
        error page, never stored, with and without C{displayTracebacks}
        (which C{Klein.run} turns on).
        """
        for tracebacks in (False, True):
            self.site.displayTracebacks = tracebacks
            first, second = self.get(b"/broken"), self.get(b"/broken")
            self.assertTrue(self.flushLoggedErrors())
            self.assertEqual((first.code, second.code), (200, 200))
            self.assertEqual(second.cacheStatus,
                             b"nevowcache; fwd=uri-miss; detail=render-error")
        self.assertEqual(len(self.renders), 4)
