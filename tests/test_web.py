"""
What only the twisted.web adapter has to handle: wrapping an existing
resource, C{NOT_DONE_YET}, template elements, producers, clients that go
away, the snapshot a background refresh renders with, and answering like
the Nevow adapter.
"""

from __future__ import absolute_import, division

from twisted.internet import defer
from twisted.internet.interfaces import IPullProducer, IPushProducer
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from twisted.web import resource, server, static
from twisted.web.error import FlattenerError
from twisted.web.http_headers import Headers
from twisted.web.resource import EncodingResourceWrapper, IResource
from twisted.web.server import GzipEncoderFactory
from twisted.web.template import Element, XMLString, renderer, tags
from zope.interface import Interface, implementer
from zope.interface.verify import verifyObject

import nevowcache
from nevowcache import MemoryStore, PageCache, web
from nevowcache._adapters import webfront as _webfront
from nevowcache._adapters import webresource as _webresource
from nevowcache._adapters import website as _website
from nevowcache._http.capture import CaptureRequest

from tests._http import Exchange, WebTestsBase

try:
    from nevow import appserver, loaders, rend
except ImportError:
    appserver = None



class Counting(resource.Resource):
    """
    A plain twisted.web resource that counts its renders.
    """
    isLeaf = True

    def __init__(self, body=b"plain"):
        resource.Resource.__init__(self)
        self.body = body
        self.renders = 0


    def render_GET(self, request):
        self.renders += 1
        return self.body + b" #" + str(self.renders).encode("ascii")



class ExportTests(SynchronousTestCase):
    """
    The public names of L{nevowcache.web}.
    """

    def test_names(self):
        """
        L{nevowcache.web} exports the adapter's objects, and nothing else.
        """
        self.assertEqual(sorted(web.__all__), ["CachedResource", "ElementResource",
                                               "InvalidatingRequest", "InvalidatingSite",
                                               "cached", "renderElementCached"])
        for name in web.__all__:
            self.assertIs(getattr(web, name), getattr(
                _website if name.startswith("Invalidating") else _webresource, name))


    def test_isResource(self):
        """
        A L{web.CachedResource} and what L{web.cached} returns provide
        L{IResource}.
        """
        self.assertTrue(verifyObject(IResource, web.CachedResource()))
        self.assertTrue(verifyObject(IResource, web.cached(Counting())))



class CachedWrapperTests(WebTestsBase):
    """
    L{web.cached} puts the cache in front of an existing resource.
    """

    def test_wrappedRenderCached(self):
        """
        The wrapped resource renders once; the second request is a hit, with
        the same body.
        """
        legacy = Counting()
        self.root.putChild(b"p", web.cached(legacy, cacheTimeout=30, pageCache=self.cache))
        miss = self.get()
        hit = self.get()
        self.assertEqual(miss.cacheStatus, b"nevowcache; fwd=uri-miss; ttl=30; stored")
        self.assertEqual(hit.cacheStatus, b"nevowcache; hit; ttl=30")
        self.assertEqual(hit.body, b"plain #1")
        self.assertEqual(hit.header(b"content-length"), b"8")
        self.assertEqual(legacy.renders, 1)


    def test_defaultPageCache(self):
        """
        Without C{pageCache}, the wrapper uses L{nevowcache.defaultPageCache}.
        """
        wrapper = web.cached(Counting())
        self.assertIs(wrapper._cache(), nevowcache.defaultPageCache)


    def test_childrenNotCached(self):
        """
        Children of a wrapped resource are found on it as before, and are
        not cached, unless they are cached themselves.
        """
        parent = resource.Resource()
        plain, cachedChild = Counting(b"child"), Counting(b"cached child")
        parent.putChild(b"c", plain)
        parent.putChild(b"d", web.cached(cachedChild, pageCache=self.cache))
        parent.putChild(b"", Counting(b"index"))
        wrapper = web.cached(parent, pageCache=self.cache)
        self.root.putChild(b"w", wrapper)
        for _ in range(2):
            child = self.get(b"/w/c")
            self.assertIsNone(child.cacheStatus)
            self.get(b"/w/d")
        self.assertEqual(plain.renders, 2)
        self.assertEqual(child.body, b"child #2")
        self.assertEqual(cachedChild.renders, 1)
        self.assertEqual(self.get(b"/w/").body, b"index #1")
        self.assertFalse(wrapper.isLeaf)


    def test_cacheTags(self):
        """
        C{cacheTags} tags the wrapper's entries for
        L{PageCache.invalidateTag}: a sequence, or a callable of the
        request (an application wrapped whole, tagged by route).  A soft
        invalidation makes the tagged entries stale (served at once, then
        refreshed); a hard one drops them; untagged entries stay fresh.
        """
        class App(resource.Resource):
            isLeaf = True

            def __init__(self):
                resource.Resource.__init__(self)
                self.renders = {}

            def render_GET(self, request):
                count = self.renders[request.path] = self.renders.get(request.path, 0) + 1
                return request.path + b" #" + str(count).encode("ascii")

        def tagsOf(request):
            if request.path.startswith(b"/app/post/"):
                return (u"posts",)
            return (u"other",)
        app, front = App(), Counting(b"front")
        self.root.putChild(b"app", web.cached(app, cacheTimeout=30, pageCache=self.cache,
                                              cacheTags=tagsOf))
        self.root.putChild(b"f", web.cached(front, cacheTimeout=30, pageCache=self.cache,
                                            cacheTags=[u"front", u"posts"]))
        for path in (b"/app/post/1", b"/app/about", b"/f"):
            self.get(path)

        self.cache.invalidateTag(u"posts")
        for path, body in ((b"/app/post/1", b"/app/post/1 #1"), (b"/f", b"front #1")):
            stale = self.get(path)
            self.assertEqual(stale.cacheStatus,
                             b"nevowcache; hit; ttl=-1; detail=invalidated", path)
            self.assertEqual(stale.body, body)
        self.assertEqual(self.get(b"/app/about").cacheStatus, b"nevowcache; hit; ttl=30")
        self.clock.advance(0)
        self.assertEqual(self.get(b"/app/post/1").body, b"/app/post/1 #2")
        self.assertEqual(self.get(b"/f").body, b"front #2")

        self.cache.invalidateTag(u"posts", hard=True)
        fresh = self.get(b"/app/post/1")
        self.assertEqual(fresh.cacheStatus, b"nevowcache; fwd=uri-miss; ttl=30; stored")
        self.assertEqual(fresh.body, b"/app/post/1 #3")
        self.assertEqual(self.get(b"/f").body, b"front #3")
        about = self.get(b"/app/about")
        self.assertEqual(about.cacheStatus, b"nevowcache; hit; ttl=30")
        self.assertEqual(about.body, b"/app/about #1")
        self.assertEqual(app.renders, {b"/app/post/1": 3, b"/app/about": 1})


    def test_cacheTagsChecked(self):
        """
        C{cacheTags} given as a sequence is checked at once: a tag that is
        not text is refused.
        """
        error = self.assertRaises(TypeError, web.cached, Counting(),
                                  cacheTags=[object()])
        self.assertIn("a cache tag must be text or bytes", str(error))


    def test_cacheKeyFunction(self):
        """
        C{cacheKey} adds to the key of each request.
        """
        legacy = Counting()

        def tenant(request):
            return (request.getHeader(b"x-tenant"),)
        self.root.putChild(b"p", web.cached(legacy, pageCache=self.cache, cacheKey=tenant))
        self.assertEqual(self.get(headers=[b"X-Tenant: a"]).body, b"plain #1")
        self.assertEqual(self.get(headers=[b"X-Tenant: b"]).body, b"plain #2")
        self.assertEqual(self.get(headers=[b"X-Tenant: a"]).body, b"plain #1")


    def test_timeoutNone(self):
        """
        With C{cacheTimeout=None} the wrapper only passes requests on.
        """
        legacy = Counting()
        self.root.putChild(b"p", web.cached(legacy, cacheTimeout=None))
        self.get()
        response = self.get()
        self.assertEqual(response.body, b"plain #2")
        self.assertIsNone(response.cacheStatus)


    def test_badPolicy(self):
        """
        A negative timeout or grace is refused when wrapping.
        """
        self.assertRaises(ValueError, web.cached, Counting(), cacheTimeout=-1)
        self.assertRaises(ValueError, web.cached, Counting(), cacheGrace=-1)
        self.assertRaises(ValueError, web.cached, Counting(), cacheControl="private")


    def test_cacheControl(self):
        """
        C{cacheControl="public"} lets downstream caches keep stored
        responses.
        """
        self.root.putChild(b"p", web.cached(Counting(), pageCache=self.cache,
                                            cacheControl="public"))
        for response in (self.get(), self.get()):
            self.assertTrue(response.header(b"cache-control").startswith(b"public, max-age="))


    def test_unsupportedMethod(self):
        """
        A wrapped resource without C{render_GET} answers a GET with C{405}
        and its allowed methods, as twisted.web does.
        """
        class PostOnly(resource.Resource):
            isLeaf = True

            def render_POST(self, request):
                return b"posted"
        self.root.putChild(b"p", web.cached(PostOnly(), pageCache=self.cache))
        response = self.get()
        self.assertEqual(response.code, 405)
        self.assertIn(b"POST", response.header(b"allow"))
        self.assertEqual(int(response.header(b"content-length")), len(response.body))
        self.assertEqual(self.get(method=b"POST").body, b"posted")
        self.assertEqual(self.cache.stats()["entries"], 0)


    def test_underEncodingWrapper(self):
        """
        Under L{EncodingResourceWrapper}, hits are compressed per request:
        the stored body is not.
        """
        legacy = Counting(b"x" * 1000)
        self.root.putChild(b"p", EncodingResourceWrapper(
            web.cached(legacy, pageCache=self.cache), [GzipEncoderFactory()]))
        gzipped = self.get(headers=[b"Accept-Encoding: gzip"])
        plain = self.get()
        again = self.get(headers=[b"Accept-Encoding: gzip"])
        self.assertEqual(gzipped.header(b"content-encoding"), b"gzip")
        self.assertEqual(again.header(b"content-encoding"), b"gzip")
        self.assertIsNone(plain.header(b"content-encoding"))
        self.assertEqual(plain.body, b"x" * 1000 + b" #1")
        self.assertEqual(plain.cacheStatus, b"nevowcache; hit; ttl=60")
        self.assertEqual(legacy.renders, 1)


    def encoded(self, first=None):
        """
        A cached resource at C{/p} under L{EncodingResourceWrapper}; the
        first request with C{first} as its headers.
        """
        legacy = Counting(b"x" * 1000)
        self.root.putChild(b"p", EncodingResourceWrapper(
            web.cached(legacy, pageCache=self.cache), [GzipEncoderFactory()]))
        if first is not None:
            self.get(headers=first)
        return legacy


    def test_encodedRepresentationsDiffer(self):
        """
        Behind L{EncodingResourceWrapper} the gzip and identity
        representations have different entity tags (RFC 9110 section
        8.8.3), and both say C{Vary: Accept-Encoding}, whichever request
        stored the entry and whichever way the hit is written.
        """
        for first in ([b"Accept-Encoding: gzip"], []):
            self.freshSite()
            legacy = self.encoded(first)
            gzipped = self.get(headers=[b"Accept-Encoding: gzip"])
            plain = self.get()
            self.assertEqual(legacy.renders, 1)
            self.assertEqual(gzipped.header(b"content-encoding"), b"gzip")
            self.assertIsNone(plain.header(b"content-encoding"))
            for response in (gzipped, plain):
                self.assertEqual(response.header(b"vary"), b"accept-encoding")
                self.assertIn(b"hit", response.cacheStatus)
            tag = plain.header(b"etag")
            self.assertEqual(gzipped.header(b"etag"), tag[:-1] + b'-gzip"')


    def test_encodedNotModified(self):
        """
        A conditional gzip request is evaluated against the gzip
        representation's tag; its C{304} carries that tag and no
        C{Content-Encoding} (it describes no content).
        """
        self.encoded([])
        tag = self.get().header(b"etag")
        gzipTag = tag[:-1] + b'-gzip"'
        notModified = self.get(headers=[b"Accept-Encoding: gzip",
                                         b"If-None-Match: " + gzipTag])
        self.assertEqual(notModified.code, 304)
        self.assertEqual(notModified.header(b"etag"), gzipTag)
        self.assertEqual(notModified.header(b"vary"), b"accept-encoding")
        self.assertIsNone(notModified.header(b"content-encoding"))
        self.assertEqual(notModified.body, b"")
        # The other representation's tag does not match.
        other = self.get(headers=[b"Accept-Encoding: gzip", b"If-None-Match: " + tag])
        self.assertEqual(other.code, 200)
        self.assertEqual(other.header(b"content-encoding"), b"gzip")
        plain = self.get(headers=[b"If-None-Match: " + gzipTag])
        self.assertEqual(plain.code, 200)
        self.assertEqual(self.get(headers=[b"If-None-Match: " + tag]).code, 304)


    def test_encodedAfterRefresh(self):
        """
        A background refresh, which is not rendered through the wrapper,
        stores an entry that still says C{Vary: Accept-Encoding}.
        """
        legacy = self.encoded([])
        self.clock.advance(61)
        self.assertIn(b"ttl=-1", self.get().cacheStatus)
        self.clock.advance(0)
        self.assertEqual(legacy.renders, 2)
        fresh = self.get()
        self.assertEqual(fresh.cacheStatus, b"nevowcache; hit; ttl=60")
        self.assertEqual(fresh.header(b"vary"), b"accept-encoding")


    def test_encodedPassThrough(self):
        """
        A response not stored, behind the wrapper, says C{Vary:
        Accept-Encoding} too.
        """
        def render(request):
            request.getSession()
            return b"personal"
        page = self.cachedResource(render)
        self.root.putChild(b"p", EncodingResourceWrapper(page, [GzipEncoderFactory()]))
        for headers in ([b"Accept-Encoding: gzip"], []):
            response = self.get(headers=headers)
            self.assertIn(b"detail=session", response.cacheStatus)
            self.assertEqual(response.header(b"vary"), b"accept-encoding")


    def test_varyGivenBeforeRender(self):
        """
        A C{Vary} the request was given before the cached resource rendered
        (by a parent, say) is kept, with the entry's own, on misses and on
        hits written either way.
        """
        page = self.cachedResource(lambda request: b"ok", cacheVary=("x-theme",))

        class Parent(resource.Resource):
            def getChild(self, name, request):
                request.setHeader(b"vary", b"X-Parent")
                return page
        self.root.putChild(b"parent", Parent())
        for _ in range(2):
            response = self.get(b"/parent/p")
            self.assertEqual(response.headers.getRawHeaders(b"vary"),
                             [b"X-Parent, x-theme"])
        self.assertIn(b"hit", response.cacheStatus)



class CachedResourceTests(WebTestsBase):
    """
    L{web.CachedResource} is a resource like any other.
    """

    def test_children(self):
        """
        A L{web.CachedResource} has children like any resource; they are
        not cached unless they are cached resources themselves.
        """
        page = self.cachedResource(lambda request: b"parent", isLeaf=False)
        child = Counting(b"child")
        page.putChild(b"c", child)
        self.assertEqual(self.get(b"/p").body, b"parent")
        for _ in range(2):
            response = self.get(b"/p/c")
        self.assertEqual(response.body, b"child #2")
        self.assertIsNone(response.cacheStatus)


    def test_noRenderGet(self):
        """
        A cached resource without C{render_GET} answers C{405}.
        """
        self.root.putChild(b"p", type("Page", (web.CachedResource,),
                                      dict(pageCache=self.cache, isLeaf=True))())
        self.assertEqual(self.get().code, 405)
        self.assertEqual(self.get(method=b"POST").code, 405)



class NotDoneYetTests(WebTestsBase):
    """
    Resources that return C{NOT_DONE_YET} and write later.
    """

    def test_writeLater(self):
        """
        A body written in pieces after C{NOT_DONE_YET} is answered whole,
        with its length, and stored.
        """
        pending = []

        def render(request):
            request.setHeader(b"x-early", b"1")
            request.write(b"<p>")
            d = defer.Deferred()
            pending.append(d)

            def later(text):
                request.write(text)
                request.setHeader(b"x-late", b"1")
                request.write(b"</p>")
                request.finish()
            d.addCallback(later)
            return server.NOT_DONE_YET
        self.cachedResource(render)
        ex = self.exchange()
        self.assertEqual(ex.transport.value(), b"")
        pending[0].callback(b"late")
        miss = ex.response()
        hit = self.get()
        for response in (miss, hit):
            self.assertEqual(response.body, b"<p>late</p>")
            self.assertEqual(response.header(b"content-length"), b"11")
            self.assertEqual(response.header(b"x-early"), b"1")
            self.assertEqual(response.header(b"x-late"), b"1")
        self.assertEqual(hit.cacheStatus, b"nevowcache; hit; ttl=60")


    def test_finishedBeforeReturning(self):
        """
        A render may write and finish before it returns C{NOT_DONE_YET}.
        """
        def render(request):
            request.write(b"done")
            request.finish()
            return server.NOT_DONE_YET
        self.cachedResource(render)
        self.assertEqual(self.get().body, b"done")
        self.assertEqual(self.get().cacheStatus, b"nevowcache; hit; ttl=60")


    def test_processingFailedLater(self):
        """
        A render that gives its failure to C{request.processingFailed} is
        answered with a C{500} on the real request and not stored.
        """
        pending = []

        def render(request):
            d = defer.Deferred()
            pending.append(d)
            d.addErrback(request.processingFailed)
            d.addErrback(lambda failure: None)
            return server.NOT_DONE_YET
        self.cachedResource(render)
        ex = self.exchange()
        pending[0].errback(ZeroDivisionError())
        self.assertEqual(ex.response().code, 500)
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 1)
        self.assertEqual(self.cache.stats()["entries"], 0)


    def test_notBytes(self):
        """
        A render returning text is a failure, as in twisted.web.
        """
        self.cachedResource(lambda request: u"text")
        self.assertEqual(self.get().code, 500)
        self.assertEqual(len(self.flushLoggedErrors(TypeError)), 1)
        self.assertEqual(self.cache.stats()["entries"], 0)



class Greeting(Element):
    """
    A template element with a slot, a loop and a renderer that may fail.
    """
    # A native string: Twisted 20.3's XMLString takes no text on Python 2.
    loader = XMLString(
        '<html xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1">'
        '<head><title>Home</title></head><body>'
        '<p t:render="greeting">Hello, <t:slot name="who" />!</p>'
        '<ul t:render="items" /></body></html>')

    def __init__(self, who=u"w<o>rld & co", fail=False, pending=None):
        Element.__init__(self)
        self.who = who
        self.fail = fail
        self.pending = pending


    @renderer
    def greeting(self, request, tag):
        if self.fail:
            raise ValueError("template broke")
        if self.pending is not None:
            d = defer.Deferred()
            self.pending.append(d)
            return d.addCallback(lambda _: tag.fillSlots(who=self.who))
        return tag.fillSlots(who=self.who)


    @renderer
    def items(self, request, tag):
        return tag([tags.li(str(i)) for i in range(3)])



_GREETING = (b"<html><head><title>Home</title></head><body>"
             b"<p>Hello, w&lt;o&gt;rld &amp; co!</p>"
             b"<ul><li>0</li><li>1</li><li>2</li></ul></body></html>")



class TemplateTests(WebTestsBase):
    """
    L{web.ElementResource} and L{web.renderElementCached}.
    """

    def elementPage(self, **kwargs):
        """
        An L{web.ElementResource} at C{/p} rendering L{Greeting}s.
        """
        renders = []

        class Page(web.ElementResource):
            pageCache = self.cache
            isLeaf = True

            def element(self, request):
                renders.append(request.uri)
                return Greeting(**kwargs)
        self.root.putChild(b"p", Page())
        return renders


    def test_elementStored(self):
        """
        An element is flattened after the doctype, answered as UTF-8 HTML,
        and stored.
        """
        renders = self.elementPage()
        miss = self.get()
        hit = self.get()
        for response in (miss, hit):
            self.assertEqual(response.code, 200)
            self.assertEqual(response.body, b"<!DOCTYPE html>\n" + _GREETING)
            self.assertEqual(response.header(b"content-type"), b"text/html; charset=UTF-8")
        self.assertEqual(hit.cacheStatus, b"nevowcache; hit; ttl=60")
        self.assertEqual(len(renders), 1)


    def test_asynchronousRenderer(self):
        """
        A renderer returning a L{Deferred} is waited for.
        """
        pending = []
        self.elementPage(pending=pending)
        ex = self.exchange()
        self.assertFalse(ex.done())
        pending[0].callback(None)
        self.assertEqual(ex.response().body, b"<!DOCTYPE html>\n" + _GREETING)
        self.assertEqual(self.get().cacheStatus, b"nevowcache; hit; ttl=60")


    def test_flattenErrorIs500(self):
        """
        A renderer that raises makes the page a C{500}, never stored, where
        C{renderElement} would answer C{200} with an error C{<div>}.
        """
        renders = self.elementPage(fail=True)
        first = self.get()
        second = self.get()
        self.assertEqual(first.code, 500)
        self.assertEqual(second.code, 500)
        self.assertNotIn(b"<title>Home", second.body)
        self.assertEqual(len(renders), 2)
        self.assertEqual(self.cache.stats()["entries"], 0)
        self.assertEqual(self.cache.stats()["renderFailures"], 2)
        self.assertEqual(len(self.flushLoggedErrors(FlattenerError)), 2)


    def test_pageContentType(self):
        """
        A C{Content-Type} the render sets is kept; C{doctype = None} writes
        no doctype.
        """
        class Page(web.ElementResource):
            pageCache = self.cache
            isLeaf = True
            doctype = None

            def element(self, request):
                request.setHeader(b"content-type", b"application/xhtml+xml")
                return Greeting()
        self.root.putChild(b"p", Page())
        for _ in range(2):
            response = self.get()
            self.assertEqual(response.body, _GREETING)
            self.assertEqual(response.header(b"content-type"), b"application/xhtml+xml")


    def test_elementRequired(self):
        """
        An L{web.ElementResource} without C{element} fails.
        """
        self.root.putChild(b"p", type("Page", (web.ElementResource,),
                                      dict(pageCache=self.cache, isLeaf=True))())
        self.assertEqual(self.get().code, 500)
        self.assertEqual(len(self.flushLoggedErrors(NotImplementedError)), 1)


    def test_helperWithoutCache(self):
        """
        On a request that does not use the cache, the helper answers the
        live request, and an error with a C{500}.
        """
        class Page(resource.Resource):
            isLeaf = True
            fail = False

            def render_GET(self, request):
                return web.renderElementCached(request, Greeting(fail=self.fail))
        page = Page()
        self.root.putChild(b"p", page)
        response = self.get()
        self.assertEqual(response.body, b"<!DOCTYPE html>\n" + _GREETING)
        page.fail = True
        self.assertEqual(self.get().code, 500)
        self.assertEqual(len(self.flushLoggedErrors(FlattenerError)), 1)


    def test_helperClientGone(self):
        """
        Used on a live request whose client goes away while a renderer
        waits, the helper writes nothing and raises nothing.
        """
        pending = []

        class Page(resource.Resource):
            isLeaf = True

            def render_GET(self, request):
                return web.renderElementCached(request, Greeting(pending=pending))
        self.root.putChild(b"p", Page())
        ex = self.exchange()
        ex.disconnect()
        pending[0].callback(None)
        self.assertEqual(ex.transport.value(), b"")
        self.assertEqual(self.flushLoggedErrors(), [])



@implementer(IPullProducer)
class ChunkProducer(object):
    """
    A pull producer writing a few chunks, then finishing the request, as
    C{static.File}'s producers do.
    """

    def __init__(self, request, chunks):
        self.request = request
        self.chunks = list(chunks)


    def resumeProducing(self):
        if self.chunks:
            self.request.write(self.chunks.pop(0))
        else:
            self.request.unregisterProducer()
            self.request.finish()


    def stopProducing(self):
        self.chunks = []



@implementer(IPushProducer)
class ClockProducer(object):
    """
    A push producer writing one chunk per clock tick, then finishing.
    """

    def __init__(self, request, chunks, clock):
        self.request = request
        self.chunks = list(chunks)
        self.clock = clock
        self.clock.callLater(1, self.tick)


    def tick(self):
        if self.chunks:
            self.request.write(self.chunks.pop(0))
            self.clock.callLater(1, self.tick)
        else:
            self.request.unregisterProducer()
            self.request.finish()


    def pauseProducing(self):
        pass


    def resumeProducing(self):
        pass


    def stopProducing(self):
        self.chunks = []



class ProducerTests(WebTestsBase):
    """
    Resources that answer through a producer.
    """

    def test_pullProducer(self):
        """
        A pull producer is pulled to the end; its output is answered with a
        length and stored.
        """
        def render(request):
            request.registerProducer(ChunkProducer(request, [b"a" * 10, b"b" * 10, b"c"]),
                                     False)
            return server.NOT_DONE_YET
        self.cachedResource(render)
        miss = self.get()
        hit = self.get()
        for response in (miss, hit):
            self.assertEqual(response.body, b"a" * 10 + b"b" * 10 + b"c")
            self.assertEqual(response.header(b"content-length"), b"21")
        self.assertEqual(hit.cacheStatus, b"nevowcache; hit; ttl=60")


    def test_pushProducer(self):
        """
        A push producer that unregisters before finishing is stored.
        """
        def render(request):
            request.registerProducer(ClockProducer(request, [b"x", b"y"], self.clock), True)
            return server.NOT_DONE_YET
        self.cachedResource(render)
        ex = self.exchange()
        self.clock.advance(1)
        self.clock.advance(1)
        self.assertFalse(ex.done())
        self.clock.advance(1)
        self.assertEqual(ex.response().body, b"xy")
        self.assertEqual(self.get().cacheStatus, b"nevowcache; hit; ttl=60")


    def test_staticFile(self):
        """
        C{static.File} is stored and served as hits (it reads the C{Range}
        header, which requests that use the cache never have); a request
        with C{Range} goes around the cache to the file, which answers the
        part asked for, and leaves the entry as it was.
        """
        path = self.mktemp()
        with open(path, "wb") as f:
            f.write(b"0123456789" * 10000)
        self.root.putChild(b"p", web.cached(static.File(path), pageCache=self.cache))
        response = self.get()
        self.assertEqual(response.body, b"0123456789" * 10000)
        self.assertEqual(response.cacheStatus, b"nevowcache; fwd=uri-miss; ttl=60; stored")
        hit = self.get()
        self.assertEqual(hit.cacheStatus, b"nevowcache; hit; ttl=60")
        self.assertEqual(hit.body, b"0123456789" * 10000)
        self.assertEqual(hit.header(b"content-length"), b"100000")
        self.assertEqual(hit.header(b"accept-ranges"), b"bytes")
        ex = self.exchange(headers=[b"Range: bytes=0-3"])
        for _ in range(10):
            if ex.done():
                break
            # The file's own producer, uncached: pulled here, as the
            # transport (Twisted 20.3: through a cooperator) would.
            producer = ex.transport.producer
            pull = getattr(getattr(producer, "_requestProducer", None), "_producer", None)
            (pull or producer).resumeProducing()
        ranged = ex.response()
        self.assertEqual((ranged.code, ranged.body), (206, b"0123"))
        self.assertEqual(ranged.cacheStatus, b"nevowcache; fwd=bypass; detail=range")
        self.assertEqual(self.get().cacheStatus, b"nevowcache; hit; ttl=60")



class DisconnectTests(WebTestsBase):
    """
    Clients that go away while their page renders.
    """

    def pendingPage(self):
        """
        A page at C{/p} that writes what its L{Deferred} (in the list
        returned) fires with.
        """
        pending = []

        def render(request):
            d = defer.Deferred()
            pending.append(d)

            def write(body):
                request.write(body)
                request.finish()
            d.addCallbacks(write, request.processingFailed)
            d.addErrback(lambda failure: None)
            return server.NOT_DONE_YET
        self.cachedResource(render)
        return pending


    def test_leaderGone(self):
        """
        The render goes on when its client goes away; its response is
        stored, and nothing is written to the closed connection.
        """
        pending = self.pendingPage()
        ex = self.exchange()
        ex.disconnect()
        pending[0].callback(b"finished anyway")
        self.assertEqual(ex.transport.value(), b"")
        self.assertEqual(self.flushLoggedErrors(), [])
        self.assertEqual(self.cache.stats()["entries"], 1)
        hit = self.get()
        self.assertEqual(hit.body, b"finished anyway")
        self.assertEqual(len(pending), 1)


    def test_waiterGone(self):
        """
        A waiter whose client went away gets nothing; the others get the
        response.
        """
        pending = self.pendingPage()
        leader, gone, waiter = self.exchange(), self.exchange(), self.exchange()
        gone.disconnect()
        pending[0].callback(b"shared")
        self.assertEqual(leader.response().body, b"shared")
        self.assertEqual(waiter.response().body, b"shared")
        self.assertEqual(gone.transport.value(), b"")
        self.assertEqual(self.flushLoggedErrors(), [])


    def test_failureAfterClientGone(self):
        """
        A render failing after its client went away is logged, and nothing
        is written.
        """
        pending = self.pendingPage()
        ex = self.exchange()
        ex.disconnect()
        pending[0].errback(ZeroDivisionError())
        self.assertEqual(ex.transport.value(), b"")
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 1)


    def test_staleHitThenGone(self):
        """
        A client that goes away after a stale hit leaves the background
        refresh to run.
        """
        renders = []

        def render(request):
            renders.append(request)
            return b"render " + str(len(renders)).encode("ascii")
        self.cachedResource(render)
        self.get()
        self.clock.advance(61)
        ex = self.exchange()
        ex.disconnect()
        self.clock.advance(0)
        self.assertEqual(self.get().body, b"render 2")



class SnapshotTests(WebTestsBase):
    """
    A background refresh renders with a snapshot of the request that found
    the entry stale.
    """

    def staleThenRefresh(self, render, **kwargs):
        """
        Render, go stale, trigger and run a refresh.

        @return: The first and the refreshed response.
        """
        self.cachedResource(render)
        first = self.get(**kwargs)
        self.clock.advance(61)
        self.get(**kwargs)
        self.clock.advance(0)
        return first, self.get(**kwargs)


    def test_sameUrl(self):
        """
        The snapshot computes the same URLs, host, addresses and path as the
        live request.
        """
        requests = []

        def render(request):
            requests.append(request)
            return b" ".join([
                request.prePathURL(), str(request.URLPath().child(b"x")).encode("ascii"),
                request.getRequestHostname(), str(request.getHost().port).encode("ascii"),
                str(request.isSecure()).encode("ascii"), request.uri, request.path,
                b"/".join(request.prepath), b"/".join(request.postpath),
                b",".join(request.args[b"a"]), request.clientproto, request.method])
        first, refreshed = self.staleThenRefresh(render, path=b"/p?a=1&a=2",
                                                 host=b"www.example.com:8080")
        self.assertEqual(len(requests), 2)
        self.assertEqual(first.body, refreshed.body)
        self.assertIn(b"http://www.example.com:8080/p ", first.body)
        self.assertIsInstance(requests[1]._underlying, _webfront._SnapshotRequest)


    def test_headMakesGetRefresh(self):
        """
        A stale HEAD request refreshes with a GET.
        """
        methods = []

        def render(request):
            methods.append(request.method)
            return b"body"
        self.cachedResource(render)
        self.get()
        self.clock.advance(61)
        self.assertEqual(self.get(method=b"HEAD").body, b"")
        self.clock.advance(0)
        self.assertEqual(methods, [b"GET", b"GET"])


    def test_noSession(self):
        """
        A refresh has no session: a render asking for one fails, and the
        stale entry stays.
        """
        renders = []

        def render(request):
            renders.append(request)
            if len(renders) > 1:
                request.getSession()
            return b"public"
        self.cachedResource(render)
        self.get()
        self.clock.advance(61)
        self.get()
        self.clock.advance(0)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        self.assertEqual(self.cache.stats()["refreshFailures"], 1)
        self.assertEqual(self.get().body, b"public")


    def test_keyChanged(self):
        """
        If the snapshot falls under another key (here, a C{cacheKey} reading
        a cookie a refresh does not carry), the refresh fails.
        """
        def render(request):
            return b"page"

        def cacheKey(self, request):
            return (request.getCookie(b"lang"),)
        self.cachedResource(render, cacheKey=cacheKey)
        self.get(headers=[b"Cookie: lang=fr"])
        self.clock.advance(61)
        self.assertEqual(self.get(headers=[b"Cookie: lang=fr"]).body, b"page")
        self.clock.advance(0)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        self.assertEqual(self.cache.stats()["refreshFailures"], 1)



class IUserName(Interface):
    """
    What a parent resource sets on the request for its children.
    """



class ComponentTests(WebTestsBase):
    """
    What a parent's C{getChild} set on the request as a component (the
    twisted.web analog of Nevow's C{ctx.remember}) may come from a cookie:
    a render that looks it up is stored only under a key holding its value
    (L{nevowcache._http.remembered}), the render sees it as uncached, and a
    background refresh renders with it again.
    """

    def setUp(self):
        WebTestsBase.setUp(self)
        self.renders = []
        test = self

        class Personal(resource.Resource):
            isLeaf = True

            def render_GET(self, request):
                test.renders.append(1)
                name = request.getComponent(IUserName)
                if request.args.get(b"object"):
                    name = name.name
                return b"hello " + (name or b"stranger") + b" #%d" % (len(test.renders),)

        class Parent(resource.Resource):
            def getChild(self, name, request):
                user = request.getCookie(b"user")
                if user is not None:
                    if request.args.get(b"object"):
                        user = type("User", (object,), {"name": user})()
                    request.setComponent(IUserName, user)
                return test.page
        self.page = web.cached(Personal(), cacheTimeout=60, pageCache=self.cache)
        self.root.putChild(b"u", Parent())


    def test_keyedByValue(self):
        """
        Each user gets their own page, never another's nor the anonymous
        one; the first render that looks the name up is not stored.
        """
        alice, bob = [b"Cookie: user=alice"], [b"Cookie: user=bob"]
        response = self.get(b"/u/p")
        self.assertEqual((response.body, response.cacheStatus),
                         (b"hello stranger #1", b"nevowcache; fwd=uri-miss; ttl=60; stored"))
        response = self.get(b"/u/p", headers=alice)
        self.assertEqual((response.body, response.cacheStatus),
                         (b"hello alice #2", b"nevowcache; fwd=uri-miss; detail=context"))
        self.assertEqual(self.get(b"/u/p", headers=alice).body, b"hello alice #3")
        self.assertEqual(self.get(b"/u/p", headers=bob).body, b"hello bob #4")
        for _ in range(2):
            self.assertEqual(self.get(b"/u/p", headers=alice).body, b"hello alice #3")
            self.assertEqual(self.get(b"/u/p", headers=bob).body, b"hello bob #4")
            self.assertEqual(self.get(b"/u/p").body, b"hello stranger #1")


    def test_refreshRendersWithTheValue(self):
        """
        A background refresh renders with the component the request that
        found the entry stale had, as its key holds it.
        """
        alice = [b"Cookie: user=alice"]
        self.get(b"/u/p", headers=alice)
        self.assertEqual(self.get(b"/u/p", headers=alice).body, b"hello alice #2")
        self.clock.advance(61)
        self.assertEqual(self.get(b"/u/p", headers=alice).body, b"hello alice #2")
        self.clock.advance(0)
        self.assertEqual(self.cache.stats()["refreshFailures"], 0)
        response = self.get(b"/u/p", headers=alice)
        self.assertEqual((response.body, response.cacheStatus),
                         (b"hello alice #3", b"nevowcache; hit; ttl=60"))


    def test_pageNameOfOldStyleResources(self):
        """
        Keys name the class of a wrapped resource, also of an old-style one
        (twisted.web's C{Resource} on Python 2), whose C{type} is
        C{instance}.
        """
        from nevowcache._engine.settings import pageName
        self.assertEqual(pageName(Counting()), "tests.test_web.Counting")
        self.assertEqual(pageName(self.page._wrapped),
                         "tests.test_web.Personal")


    def test_objectsRefused(self):
        """
        A component that is not plain data cannot be keyed: not stored, and
        such requests then bypass the cache.
        """
        alice = [b"Cookie: user=alice"]
        self.assertEqual(self.get(b"/u/p?object=1", headers=alice).cacheStatus,
                         b"nevowcache; fwd=uri-miss; detail=context")
        response = self.get(b"/u/p?object=1", headers=alice)
        self.assertEqual((response.body, response.cacheStatus),
                         (b"hello alice #2", b"nevowcache; fwd=bypass; detail=context"))
        self.assertEqual(self.cache.stats()["entries"], 0)



class CaptureFailureTests(SynchronousTestCase):
    """
    L{CaptureRequest.processingFailed}: a render giving up fails its
    capture instead of answering.
    """

    def setUp(self):
        request = type("Request", (object,), dict(requestHeaders=Headers()))()
        self.capture = CaptureRequest(request)


    def test_notifyFinishFails(self):
        """
        Waiters on C{notifyFinish}, before or after, get the failure; the
        response may not be shared.
        """
        before = self.capture.notifyFinish()
        reason = Failure(ZeroDivisionError())
        self.assertIs(self.capture.processingFailed(reason), reason)
        self.assertIs(self.failureResultOf(before), reason)
        self.assertIs(self.failureResultOf(self.capture.notifyFinish()), reason)
        self.assertEqual(self.capture.refusals, [b"render-error"])
        self.assertTrue(self.capture.finished)


    def test_afterFinish(self):
        """
        Once finished, a capture stays successful.
        """
        self.capture.finish()
        self.capture.processingFailed(Failure(ZeroDivisionError()))
        self.assertIsNone(self.successResultOf(self.capture.notifyFinish()))



_NEVOW_TEMPLATE = (
    '<html xmlns:n="http://nevow.com/ns/nevow/0.1">'
    '<head><title>Home</title></head><body>'
    '<p n:render="greeting">Hello, <n:slot name="who" />!</p>'
    '<ul n:render="items" /></body></html>')



class NevowPortTests(SynchronousTestCase):
    """
    A Nevow page and its twisted.web.template port, both cached, answer
    alike.
    """
    if appserver is None:
        skip = "Nevow runs only on Python 2.7: there is nothing to compare with"

    def setUp(self):
        self.clock = Clock()


    def nevowSite(self):
        """
        A Nevow site with a cached page at C{/p}.
        """
        from nevow import tags as T
        from nevowcache import CachedPage
        cache = PageCache(MemoryStore(), reactor=self.clock)

        class Home(CachedPage):
            pageCache = cache
            docFactory = loaders.xmlstr(_NEVOW_TEMPLATE)

            def render_greeting(self, ctx, data):
                ctx.fillSlots("who", u"w<o>rld & co")
                return ctx.tag

            def render_items(self, ctx, data):
                return ctx.tag[[T.li[str(i)] for i in range(3)]]
        root = rend.Page()
        root.putChild("p", Home())
        site = appserver.NevowSite(root, reactor=self.clock)
        return site, cache


    def webSite(self):
        """
        A twisted.web site with the port at C{/p}.
        """
        cache = PageCache(MemoryStore(), reactor=self.clock)

        class Home(web.ElementResource):
            pageCache = cache
            doctype = None

            def element(self, request):
                return Greeting()
        root = resource.Resource()
        root.putChild(b"p", Home())
        return server.Site(root, reactor=self.clock), cache


    def test_sameAnswers(self):
        """
        Misses, hits, stale hits, HEAD and conditional requests get the same
        status, body and headers (but C{Date}) from both.
        """
        sites = [self.nevowSite(), self.webSite()]
        requests = [(0, {}), (5, {}), (0, {"method": b"HEAD"}), (60, {}),
                    (0, {}), (0, {"headers": [b"Cookie: a=b"]}),
                    (0, {"headers": [b'If-None-Match: "x"']}),
                    (0, {"headers": [b"Authorization: Basic dTpw"]})]
        answers = [[], []]
        for delay, kwargs in requests:
            self.clock.advance(delay)
            for (site, cache), out in zip(sites, answers):
                response = Exchange(site, path=b"/p", **kwargs).response()
                headers = sorted((name.lower(), values)
                                 for name, values in response.headers.getAllRawHeaders()
                                 if name.lower() != b"date")
                out.append((response.code, response.body, headers))
        nevowAnswers, webAnswers = answers
        self.assertEqual(nevowAnswers[0][1], _GREETING)
        for nevowAnswer, webAnswer, request in zip(nevowAnswers, webAnswers, requests):
            self.assertEqual(nevowAnswer, webAnswer, request)
        self.assertEqual(sites[0][1].stats(), sites[1][1].stats())
