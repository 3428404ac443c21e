# -*- test-case-name: tests.test_web -*-
"""
The twisted.web adapter: L{CachedResource}, L{cached}, L{ElementResource}
and L{renderElementCached} (Python 2.7 with Twisted 20.3, and Python 3).

Each puts the L{CacheFront} (L{nevowcache._adapters.front}) in front of a
resource's own render, through the twisted.web hooks of
L{nevowcache._adapters.webfront}.
"""

from __future__ import absolute_import, division

import functools
import sys
import types

from twisted.logger import Logger
from twisted.python.components import proxyForInterface
from twisted.web.server import NOT_DONE_YET
from twisted.web.resource import IResource, Resource
from twisted.web.template import flattenString

from nevowcache._engine.bypass import watchUnsafe
from nevowcache._adapters.webfront import _ResourceFront
from nevowcache._engine.settings import checkedSettings, pageName

__all__ = ["CachedResource", "ElementResource", "cached", "renderElementCached"]

_log = Logger()

# What Nevow sends for its pages; flattened templates are UTF-8.
_HTML = b"text/html; charset=UTF-8"



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
