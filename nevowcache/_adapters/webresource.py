# -*- test-case-name: tests.test_web -*-
"""
The twisted.web adapter: L{CachedResource}, L{cached}, L{ElementResource}
and L{renderElementCached} (Python 2.7 with Twisted 20.3, and Python 3).

The hooks of the L{CacheFront} (L{nevowcache._adapters.front}) for twisted.web: it
builds the key from the traversed request, renders the resource against a
L{CaptureRequest} of the live request, and for a background refresh
against a L{CaptureRequest} of a snapshot of that request
(L{_SnapshotRequest}) taken while it was alive.  The answer goes on the
live request after the resource returned C{NOT_DONE_YET}, unless its
client has gone.
"""

from __future__ import absolute_import, division

import functools
import sys
import types

from twisted.logger import Logger
from twisted.python.components import Componentized, proxyForInterface
from twisted.web import http, server
from twisted.web.server import NOT_DONE_YET
from twisted.web.error import UnsupportedMethod
from twisted.web.http_headers import Headers
from twisted.web.resource import IResource, Resource
from twisted.web.resource import _IEncodingResource
from twisted.web.template import flattenString

from nevowcache._adapters.bypass import watchUnsafe
from nevowcache._http.capture import CaptureRequest, RenderAborted, takeBody
from nevowcache._compat import intToBytes
from nevowcache._engine.pagecache import CachePolicy
from nevowcache._adapters.front import CacheFront, Refresher, noSession
from nevowcache._http.remembered import (
    NOTHING, Lookups, Remembered, Watched, rememberedKey)
from nevowcache._engine.settings import checkedSettings, pageName

__all__ = ["CachedResource", "ElementResource", "cached", "renderElementCached"]

_log = Logger()

# What Nevow sends for its pages; flattened templates are UTF-8.
_HTML = b"text/html; charset=UTF-8"

# What a resource behind an EncodingResourceWrapper is negotiated on.
_ENCODING_NEGOTIATED = (b"accept-encoding",)



def _behindEncoder(caller):
    """
    Whether a resource's C{render} was called by twisted.web's
    C{Request.render} for an L{_IEncodingResource} (an
    C{EncodingResourceWrapper}, which hands C{render} to the resource it
    wraps): then every response of it is negotiated on C{Accept-Encoding},
    those that go out uncoded too.

    @param caller: The frame that called C{render}, or L{None}.
    """
    if caller is None:
        return False
    try:
        resrc = caller.f_locals.get("resrc")
    except Exception:
        return False
    return resrc is not None and _IEncodingResource.providedBy(resrc)



class _ResourceFront(CacheFront):
    """
    The twisted.web adapter's hooks of the L{CacheFront} in front of a
    resource's own render (C{_renderUncached}): what L{CachedResource} and
    the wrapper made by L{cached} share.  Its C{where} is the frame that
    called C{render} (L{_behindEncoder}).
    """

    def cacheKey(self, request):
        """
        Add to, or replace, the key of this request.

        @param request: The live request after traversal, or the snapshot a
            background refresh renders with.
        @return: L{None} for the default key; a tuple of bytes, text,
            integers and L{None} to add to it; or a whole L{CacheKey} to use
            instead (which L{PageCache.invalidate} then no longer reaches by
            URL unless its C{url} is the request's).
        """
        return None


    def _renderUncached(self, request):
        """
        Render without the cache, as C{IResource.render} does.
        """
        raise NotImplementedError()


    def _cachedName(self):
        """
        @return: The page name in the key.
        """
        return pageName(self)


    def _rememberedClass(self):
        """
        @return: The class whose renders' lookups of remembered values are
            learnt together (L{nevowcache._http.remembered.learned}).
        """
        return type(self)


    def _frontKey(self, cache, request, where, policy=None):
        """
        The key of this request: the engine's, with what the application
        set on the request as components before the render
        (L{nevowcache._http.remembered}); the render needs those, and the names
        of those whose values the key holds.
        """
        if policy is None:
            policy = CachePolicy.fromPage(self, request)
        remembered = self._requestComponents(request)
        key, keyed, unkeyable = rememberedKey(
            cache, request, self._cachedName(), self._rememberedClass(), policy,
            self.cacheKey(request), remembered)
        return key, policy, unkeyable, (remembered, keyed)


    def _requestComponents(self, request):
        """
        @return: The components set on C{request} that the key may hold, as
            a L{Remembered} (L{_componentsOf}).
        """
        return _componentsOf(request)


    def _frontPassOn(self, request, where):
        return self._renderUncached(request)


    def _frontAnswer(self, answer, request, where):
        _send(answer, request)
        return NOT_DONE_YET


    def _frontMiss(self, request, where):
        """
        Learn, once, whether this resource is behind an
        C{EncodingResourceWrapper} (L{_behindEncoder}): the entries stored
        from now on say so, and so do refreshes, which are not rendered
        through it.
        """
        if (not getattr(self, "_nevowcacheNegotiated", False)
                and _behindEncoder(where)):
            self._nevowcacheNegotiated = True


    def _frontAnswerLater(self, answered, request, where):
        """
        Put the answer on the live request after the resource returned
        C{NOT_DONE_YET}, unless its client has gone (L{_LiveRequest}).
        """
        live = _LiveRequest(request)
        answered.addCallbacks(live.answer, live.failed)
        answered.addErrback(live.broken)
        return NOT_DONE_YET


    def _frontCapture(self, underlying, where, state):
        """
        Render into a capture of C{underlying}, whether the render returns
        its body or C{NOT_DONE_YET} and writes it later.

        @param state: C{(remembered, keyed)}: the components C{underlying}
            had before the render (L{_componentsOf}), and the names of those
            whose values the key holds: a render looking up any other is
            not stored.
        @return: A L{Deferred} firing with the finished L{CaptureRequest},
            or failing with the render's failure.
        """
        remembered, keyed = state
        if getattr(self, "_nevowcacheNegotiated", False):
            underlying.nevowcacheNegotiated = _ENCODING_NEGOTIATED
        capture = CaptureRequest(underlying)
        lookups = Lookups()
        if remembered.values:
            # The capture's table of components, as it would copy it from
            # the request, with the render's lookups of those noted.
            capture.__dict__["_components"] = Watched.of(
                remembered.values.items(), remembered.values, lookups)

        def judged(_):
            lookups.judge(capture, self._rememberedClass(), remembered, keyed)
            return capture
        finished = capture.notifyFinish()
        try:
            takeBody(capture, self._renderUncached(capture), self)
        except BaseException:
            # Whatever failure the capture got too is this one.
            finished.addErrback(lambda failure: None)
            raise
        return finished.addCallback(judged)


    def _frontRefresher(self, cache, request, where, key, policy):
        return Refresher(self, cache, request, key, policy)


    def _frontSnapshot(self, inputs):
        return _SnapshotRequest(inputs)



def _componentsOf(request):
    """
    @return: The components the application set on C{request} (or that
        adapters made from it) before the render, as a L{Remembered}.
    """
    table = getattr(request, "_adapterCache", None)
    if not table:
        return NOTHING
    return Remembered(dict(table))



class CachedResource(_ResourceFront, Resource):
    """
    A L{twisted.web.resource.Resource} with a cache in front.

    Write C{render_GET} as usual: return the body as L{bytes}, or
    C{NOT_DONE_YET} and C{write}/C{finish} the request later.  It renders
    into a capture, which decides whether the response may be stored (no
    session, no cookies, no undeclared request header read, C{200}, ...);
    the answer is then written on the real request, with a
    C{Content-Length}.  Cached resources therefore behave as if buffered.
    Children are not cached unless they are cached resources themselves.

    A background refresh renders this same resource object again, on a
    snapshot of the request that found the entry stale: load the page's
    data in C{render_GET}, not when the resource is made (in a parent's
    C{getChild}, say), or refreshes will render the old data.

    @cvar pageCache: The L{PageCache} this resource's entries live in; by
        default (L{None}), L{nevowcache.defaultPageCache}.
    @cvar cacheTimeout: How many seconds an entry stays fresh: C{0} until
        it is invalidated; L{None} for no caching at all.
    @cvar cacheGrace: How many seconds past C{cacheTimeout} a stale entry is
        still served at once, while one background render refreshes it; by
        default (L{None}), always.
    @cvar cacheVary: Names of the request headers the resource reads; their
        values join the key.  A render that reads any other request header
        is not stored.
    @cvar cacheControl: L{None} (the default) to send only the resource's
        own C{Cache-Control}; C{"public"} to let browsers and shared caches
        keep stored responses as long as they are fresh here.
    @cvar cacheTags: Tags (text) for L{PageCache.invalidateTag}, or a method
        taking the request and returning them (known before rendering; they
        must depend only on what the resource's key holds).
    """

    def __init__(self):
        # Explicitly: on Python 2 Resource is a classic class, and
        # object.__init__ comes before it in this class's MRO.
        Resource.__init__(self)


    def render(self, request):
        """
        Answer from the cache, or render and maybe store.
        """
        return self._frontRender(request, sys._getframe(1))


    def _renderUncached(self, request):
        return Resource.render(self, request)


    def getChildWithDefault(self, name, request):
        """
        Look a child up as L{Resource} does; an unsafe request for one
        invalidates what it may have changed once answered
        (L{PageCache.invalidateAfter}, in this resource's cache).
        """
        watchUnsafe((self._cache(),), request)
        return Resource.getChildWithDefault(self, name, request)



class _CachedWrapper(_ResourceFront, proxyForInterface(IResource, "_wrapped")):
    """
    A cache in front of another L{IResource}; see L{cached}.
    """

    def __init__(self, wrapped, pageCache, cacheTimeout, cacheGrace, cacheVary,
                 cacheControl, cacheKey, cacheTags=()):
        super(_CachedWrapper, self).__init__(wrapped)
        self.pageCache = pageCache
        self.cacheTimeout = cacheTimeout
        self.cacheGrace = cacheGrace
        self.cacheVary = cacheVary
        self.cacheControl = cacheControl
        self._cacheKeyFunction = cacheKey
        # A sequence, or a callable of the request, as CachedResource's
        # attribute or method (CachePolicy.fromPage calls it).
        self.cacheTags = cacheTags


    def __repr__(self):
        return "<cached %r>" % (self._wrapped,)


    def cacheKey(self, request):
        if self._cacheKeyFunction is None:
            return None
        return self._cacheKeyFunction(request)


    def render(self, request):
        """
        Answer from the cache, or render the wrapped resource and maybe
        store.
        """
        return self._frontRender(request, sys._getframe(1))


    def _renderUncached(self, request):
        return self._wrapped.render(request)


    def getChildWithDefault(self, name, request):
        """
        Look a child up on the wrapped resource; an unsafe request for one
        invalidates what it may have changed once answered
        (L{PageCache.invalidateAfter}, in this wrapper's cache).
        """
        watchUnsafe((self._cache(),), request)
        return self._wrapped.getChildWithDefault(name, request)


    def _cachedName(self):
        return pageName(self._wrapped)


    def _rememberedClass(self):
        # Not type(): on Python 2 an old-style resource's is "instance".
        return self._wrapped.__class__



def cached(resource=None, cacheTimeout=60, cacheGrace=None, cacheVary=(),
           cacheControl=None, pageCache=None, cacheKey=None, cacheTags=()):
    """
    Put a cache in front of an existing resource, as in
    C{Site(cached(legacyResource, cacheTimeout=30))}.

    It takes a resource object: used as a decorator on a class, or on a
    function (a Klein route's, which L{nevowcache.klein.cached} caches), it
    raises a L{TypeError} naming what to use instead.

    Only the resource's own render is cached: its children are looked up
    on it as before and are not cached unless they are cached resources
    themselves.

    @param resource: An L{IResource}.  Without it, C{cached(...)} returns
        a function taking it, with the same settings.
    @param cacheTimeout: As L{CachedResource.cacheTimeout}.
    @param cacheGrace: As L{CachedResource.cacheGrace}.
    @param cacheVary: As L{CachedResource.cacheVary}.
    @param cacheControl: As L{CachedResource.cacheControl}.
    @param pageCache: A L{PageCache}, or L{None} for
        L{nevowcache.defaultPageCache}.
    @param cacheKey: L{None}, or a callable taking the request and returning
        what L{CachedResource.cacheKey} returns.
    @param cacheTags: As L{CachedResource.cacheTags}: tags (text) for
        L{PageCache.invalidateTag}, or a callable taking the request and
        returning them (known before rendering; they must depend only on
        what the key holds), so that an application wrapped whole (a Klein
        app's C{app.resource()}) can tag its pages by route.
    @return: An L{IResource} that renders C{resource} through the cache.
    @raise ValueError: If the timeout or grace is negative, or
        C{cacheControl} is not L{None} or C{"public"}.
    @raise TypeError: If C{resource} is a class or a function.
    """
    if resource is None:
        return lambda resource: cached(
            resource, cacheTimeout, cacheGrace, cacheVary, cacheControl, pageCache,
            cacheKey, cacheTags)
    _checkResource(resource)
    cacheVary, cacheTags = checkedSettings(
        cacheTimeout, cacheGrace, cacheVary, cacheControl, cacheTags)
    return _CachedWrapper(resource, pageCache, cacheTimeout, cacheGrace,
                          cacheVary, cacheControl, cacheKey, cacheTags)



def _checkResource(resource):
    """
    Refuse what L{cached} is wrongly given as a decorator, naming what to
    use instead.

    @raise TypeError: If C{resource} is a class or a function.
    """
    if isinstance(resource, (type, _ClassType)):
        raise TypeError(
            "nevowcache.web.cached puts a cache in front of a resource object, "
            "not of the class %s: write cached(%s()), or make the class a "
            "nevowcache.web.CachedResource (with cacheTimeout and the other "
            "settings as class attributes)" % (resource.__name__, resource.__name__))
    if isinstance(resource, _FUNCTION_TYPES):
        raise TypeError(
            "nevowcache.web.cached takes a resource, not the function %s: to "
            "cache a Klein route, decorate its function with "
            "nevowcache.klein.cached, below @app.route" % (
                getattr(resource, "__name__", repr(resource)),))

_FUNCTION_TYPES = (types.FunctionType, types.MethodType, types.BuiltinFunctionType,
                   functools.partial)
# Python 2's old-style classes (twisted.web's Resource on Twisted 20.3).
_ClassType = getattr(types, "ClassType", type)



def renderElementCached(request, element, doctype=b"<!DOCTYPE html>"):
    """
    Render a L{twisted.web.template} element as a whole page, the way a
    cached page must: unlike L{twisted.web.template.renderElement}, which
    answers an error with status C{200} and an error C{<div>}, a flattening
    error goes to C{request.processingFailed}, so the page is answered with
    a C{500} and never stored.

    The page is flattened in memory, then written at once.  The
    C{Content-Type} is C{text/html; charset=UTF-8} unless the render set
    another.

    @param request: The request (in a L{CachedResource}, its capture).
    @param element: An L{IRenderable}, such as a
        L{twisted.web.template.Element}.
    @param doctype: The first line of the page, L{bytes}; L{None} for none.
    @return: C{NOT_DONE_YET}.
    """
    gone = []
    request.notifyFinish().addBoth(gone.append)
    d = flattenString(request, element)

    def flattened(body):
        if gone:
            return
        if not request.responseHeaders.hasHeader(b"content-type"):
            request.setHeader(b"content-type", _HTML)
        if doctype is not None:
            body = doctype + b"\n" + body
        request.write(body)
        request.finish()

    def failed(reason):
        if gone:
            _log.failure(u"Rendering {element!r} failed after its client went away",
                         reason, element=element)
        else:
            request.processingFailed(reason)
    d.addCallbacks(flattened, failed)
    d.addErrback(lambda reason: _log.failure(
        u"Could not answer with {element!r}", reason, element=element))
    return NOT_DONE_YET



class ElementResource(CachedResource):
    """
    A cached page that renders a L{twisted.web.template.Element}: define
    L{element}.  See L{renderElementCached}.

    @cvar doctype: The first line of the page, L{bytes}; L{None} for none.
    """
    doctype = b"<!DOCTYPE html>"

    def element(self, request):
        """
        @param request: The request (its capture, when rendering through
            the cache).
        @return: The element to render for C{request}.
        """
        raise NotImplementedError("%s must define element(request)" % (pageName(self),))


    def render_GET(self, request):
        """
        Render L{element} through L{renderElementCached}.
        """
        return renderElementCached(request, self.element(request), self.doctype)



class _LiveRequest(object):
    """
    Puts an answer on the live request, unless its client has gone.
    """

    def __init__(self, request):
        self._request = request
        self._gone = False
        request.notifyFinish().addErrback(self._lost)


    def _lost(self, reason):
        self._gone = True


    def gone(self):
        """
        @return: Whether the client went away (nothing can be written).
        """
        return self._gone or getattr(self._request, "_disconnected", False)


    def answer(self, answer):
        """
        Write an L{Answer} and finish the request.
        """
        if self.gone():
            return
        _send(answer, self._request)


    def failed(self, reason):
        """
        The render failed: answer with an error, as twisted.web does.
        """
        if self.gone():
            _log.failure(u"Rendering {uri} failed after its client went away", reason,
                         uri=self._request.uri)
            return
        if reason.check(UnsupportedMethod):
            _notAllowed(self._request, reason.value.allowedMethods)
        elif reason.check(RenderAborted):
            # The render dropped its client, as it would have uncached.
            self._request.loseConnection()
        else:
            self._request.processingFailed(reason)


    def broken(self, reason):
        _log.failure(u"Could not answer {uri}", reason, uri=self._request.uri)



def _send(answer, request):
    """
    Write an L{Answer} on a live request (L{Answer.respond}) and finish it.
    """
    body = answer.respond(request)
    if body is not None:
        request.write(body)
    request.finish()



def _notAllowed(request, allowedMethods):
    """
    Answer C{405 Method Not Allowed}, as L{twisted.web.server.Request.render}
    does for a resource without C{render_GET}.
    """
    body = (b"<html><head><title>405 - Method Not Allowed</title></head><body>"
            b"<h1>Method Not Allowed</h1></body></html>")
    request.setResponseCode(http.NOT_ALLOWED)
    request.setHeader(b"allow", b", ".join(allowedMethods))
    request.setHeader(b"content-type", b"text/html; charset=utf-8")
    request.setHeader(b"content-length", intToBytes(len(body)))
    request.write(body)
    request.finish()



class _SnapshotRequest(server.Request):
    """
    What a background refresh renders with: a request made from the
    L{RequestInputs} of a live request, taken while it was alive.

    It has the request's method-independent inputs (URI, path, arguments,
    C{prepath} and C{postpath}, protocol, Host, scheme, addresses and
    request headers, minus cookies, credentials and conditionals; see
    L{nevowcache._engine.pagecache.refreshHeaders}) and no connection.  Everything
    L{twisted.web.server.Request} computes from those (C{prePathURL},
    C{URLPath}, C{getRequestHostname}, C{getHeader}, ...) works as on the
    live request.  It is only ever rendered through a L{CaptureRequest},
    which records the response; it has no session.
    """
    getSession = noSession

    def __init__(self, inputs):
        # Not server.Request.__init__: there is no channel.
        Componentized.__init__(self)
        self.channel = None
        self.transport = None
        self.notifications = []
        self.queued = False
        self.site = inputs.site
        self.sitepath = list(inputs.sitepath)
        self.appRootURL = inputs.appRootURL
        self.prepath = list(inputs.prepath)
        self.postpath = list(inputs.postpath)
        self.requestHeaders = Headers()
        self.responseHeaders = Headers()
        self.received_cookies = {}
        self.cookies = []
        self.client = inputs.peer
        self.host = inputs.host
        self._forceSSL = inputs.secure
        self._adapterCache = dict(inputs.components)
        inputs.fill(self)
