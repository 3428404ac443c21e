# -*- test-case-name: tests.test_klein -*-
"""
The Klein adapter: L{cached}, a cache in front of one Klein route, and
L{invalidateRoute} (Python 3; Klein is an optional dependency).

One L{_RouteFront} per call of a cached route holds the route's settings
and the arguments Klein matched, and drives the one front every adapter
drives (L{nevowcache._adapters.front.CacheFront}) through the twisted.web
adapter's hooks (L{nevowcache._adapters.webfront._ResourceFront}: keys,
captures, refreshes on a snapshot of the request).  What differs is where
the outcome goes: it is returned to Klein (a resource answering with the
cache's L{Answer}, or what the route returned when the request does not
use the cache), so that a route's failure reaches the application's own
error handlers (C{@app.handle_errors}) and Klein's answers to
C{HTTPException}s on the live request, exactly as it would uncached (the
writing as Klein writes: L{nevowcache._adapters.kleinresult}).
"""

from __future__ import absolute_import, division

import functools
from inspect import iscoroutine

from klein.interfaces import IKleinRequest
from twisted.internet import defer
from twisted.python.reflect import qual
from twisted.web.iweb import IRequest
from twisted.web.server import NOT_DONE_YET

from nevowcache._adapters.kleinresult import _Answered, _failed, _process
from nevowcache._http.capture import RenderAborted
from nevowcache._engine.sitecaches import defaultPageCache
from nevowcache._http.remembered import NOTHING, Remembered
from nevowcache._engine.settings import checkedSettings
from nevowcache._adapters.webfront import _ResourceFront, _componentsOf

__all__ = ["cached", "invalidateRoute"]

# The component Klein sets on every request it routes (the URL mapper
# bound to the request's host, path and method, and a branch route's
# remaining segments): made from what the key holds, so it is not a value
# the application remembered outside the render.
_KLEIN_REQUEST = qual(IKleinRequest)

# What a cached route's function carries (and Klein's endpoint function
# copies, with functools.wraps): its L{_CachedRoute}.
_ROUTE_ATTRIBUTE = "__nevowcache_route__"



class _CachedRoute(object):
    """
    A cached route's function and settings, shared by every call.
    """

    def __init__(self, function, pageCache, cacheTimeout, cacheGrace, cacheVary,
                 cacheControl, cacheTags, cacheKey):
        self.function = function
        self.pageCache = pageCache
        self.cacheTimeout = cacheTimeout
        self.cacheGrace = cacheGrace
        self.cacheVary = cacheVary
        self.cacheControl = cacheControl
        self.cacheTags = cacheTags
        self.cacheKey = cacheKey
        self.name = "%s.%s" % (
            getattr(function, "__module__", None),
            getattr(function, "__qualname__", getattr(function, "__name__", repr(function))))


    def __repr__(self):
        return "<cached route %s>" % (self.name,)


    def cache(self):
        """
        @return: The route's L{PageCache}.
        """
        return self.pageCache if self.pageCache is not None else defaultPageCache


    def call(self, instance, request, args, kwargs):
        """
        Call the route's function as Klein would: with the instance its app
        is bound to first, if any (or if the function is C{bindable}).
        """
        if instance is not None or getattr(self.function, "__klein_bound__", False):
            args = (instance, request) + args
        else:
            args = (request,) + args
        result = self.function(*args, **kwargs)
        if iscoroutine(result):
            result = defer.ensureDeferred(result)
        return result



class _RouteFront(_ResourceFront):
    """
    The cache in front of one call of a cached route: its settings, and the
    arguments Klein matched, which a background refresh calls the route
    with again.  Its hooks return to Klein what the route function
    returns.
    """

    def __init__(self, route, instance, args, kwargs):
        self._route = route
        self._instance = instance
        self._args = args
        self._kwargs = kwargs
        self.pageCache = route.pageCache
        self.cacheTimeout = route.cacheTimeout
        self.cacheGrace = route.cacheGrace
        self.cacheVary = route.cacheVary
        self.cacheControl = route.cacheControl
        tags = route.cacheTags
        if callable(tags):
            self.cacheTags = lambda request: tags(request, *args, **kwargs)
        else:
            self.cacheTags = tags


    def __repr__(self):
        return "<cached route %s %r>" % (self._route.name, self._kwargs)


    def cacheKey(self, request):
        if self._route.cacheKey is None:
            return None
        return self._route.cacheKey(request, *self._args, **self._kwargs)


    def _cachedName(self):
        return self._route.name


    def _rememberedClass(self):
        # The lookups of remembered values are learnt per route.
        return self._route


    def _requestComponents(self, request):
        """
        The components the twisted.web adapter keys on, but for Klein's own
        component, which is not a value the application remembered.
        """
        return _withoutKlein(_componentsOf(request))


    def _renderUncached(self, request):
        """
        Call the route on a capture (of the live request, or of a background
        refresh's snapshot) and write what it returned, as Klein does; a
        failure fails the capture (L{CaptureRequest.processingFailed}), and
        so reaches Klein's error handling on the live request.
        """
        underlying = getattr(request, "_underlying", None)
        klein = getattr(underlying, "_adapterCache", {}).get(_KLEIN_REQUEST)
        if klein is not None and _KLEIN_REQUEST not in request._adapterCache:
            # Klein's own component, left out of the remembered values.
            dict.__setitem__(request._adapterCache, _KLEIN_REQUEST, klein)
        d = defer.maybeDeferred(
            self._route.call, self._instance, request, self._args, self._kwargs)
        d.addCallback(_process, request)
        d.addErrback(_failed, request)
        return NOT_DONE_YET


    def _frontPassOn(self, request, where):
        """
        The request does not use the cache: call the route on it, and give
        Klein what it returned.
        """
        return self._route.call(self._instance, request, self._args, self._kwargs)


    def _frontAnswer(self, answer, request, where):
        """
        A hit, decided at once: the route is not called.
        """
        return _Answered(answer)


    def _frontMiss(self, request, where):
        """
        Nothing to learn: a route's response is not negotiated by an
        encoder around it.
        """


    def _frontAnswerLater(self, answered, request, where):
        """
        Give Klein a L{Deferred} of the answer, or of the route's failure.

        A new one: Klein cancels what a route returned when its client goes
        away, which must never cancel the render other requests share.
        """
        result = defer.Deferred()

        def answer(answer):
            if not result.called:
                result.callback(_Answered(answer))

        def failed(reason):
            if result.called:
                return None
            if reason.check(RenderAborted):
                # The route dropped its client, as it would have uncached.
                request.loseConnection()
                result.callback(_Answered(None))
            else:
                result.errback(reason)
        answered.addCallbacks(answer, failed)
        return result


    def respond(self, request):
        """
        Answer a call of the route: from the cache, or by calling the route
        and maybe storing what it answered (L{nevowcache._adapters.front.CacheFront._frontRender}).

        @param request: The live request Klein routed.
        @return: What the route function returns to Klein: what the route
            returned, when the request does not use the cache; else an
            L{twisted.web.resource.IResource} writing the cache's answer
            (L{_Answered}), or a L{Deferred} of one, or failing with the
            route's failure.
        """
        return self._frontRender(request)



def _withoutKlein(remembered):
    """
    @return: C{remembered} without Klein's own component.
    """
    values = remembered.values
    if _KLEIN_REQUEST not in values:
        return remembered
    values = dict(values)
    del values[_KLEIN_REQUEST]
    return Remembered(values) if values else NOTHING



def cached(function=None, cacheTimeout=60, cacheGrace=None, cacheVary=(),
           cacheControl=None, cacheTags=(), pageCache=None, cacheKey=None):
    """
    Put a cache in front of a Klein route, between C{@app.route} and the
    route's function::

        @app.route("/post/<int:pid>")
        @cached(cacheTimeout=60, cacheTags=lambda request, pid: ["post-%d" % pid])
        def post(request, pid):
            return PostElement(pid)

    A hit is answered without calling the function.  A miss calls it with a
    capture of the request, and stores the response when it may be shared
    (a C{200}, no session, no cookie read or set, no undeclared request
    header read, ...: the rules of every adapter); it may return what a
    Klein route returns (text, bytes, an C{Element} or other
    C{IRenderable}, a C{Resource}, a L{klein.Response}, or a L{Deferred} or
    coroutine of one).  A failure goes to Klein's error handling, as
    uncached, and is never stored.  A stale entry is refreshed by calling
    the function again, later, with a snapshot of the request and the same
    route arguments: load the page's data in the function.

    Requests that do not use the cache (unsafe methods, credentials, ...)
    call the function on the live request, and an unsafe one invalidates
    its path once answered (L{PageCache.invalidateAfter}).  So does any
    unsafe request to the app if it is served on a
    L{nevowcache.web.InvalidatingSite} (C{InvalidatingSite(app.resource())}),
    as a form handler on another route must be for read-your-writes; or
    call L{invalidateRoute} in it.

    Usable bare (C{@cached}) or with settings.

    @param function: The route's function (when used bare).
    @param cacheTimeout: Seconds an entry stays fresh; C{0} for until
        invalidated; L{None} to not cache.
    @param cacheGrace: Seconds past the timeout a stale entry is still
        served while one background call refreshes it; L{None} for always.
    @param cacheVary: Names of the request headers the route reads; their
        values join the key.
    @param cacheControl: L{None}, or C{"public"} to let browsers and shared
        caches keep stored responses while they are fresh here.
    @param cacheTags: Tags (text) for L{PageCache.invalidateTag}, or a
        callable taking the request and the route's arguments (as the
        function does, without an instance) and returning them.
    @param pageCache: The L{PageCache}; L{None} for
        L{nevowcache.defaultPageCache}.
    @param cacheKey: L{None}, or a callable taking the request and the
        route's arguments and returning what
        L{nevowcache.web.CachedResource.cacheKey} returns.
    @return: The function with a cache in front (or, without C{function},
        a decorator making one).
    @raise ValueError: If the timeout or grace is negative, or
        C{cacheControl} is not L{None} or C{"public"}.
    """
    cacheVary, cacheTags = checkedSettings(
        cacheTimeout, cacheGrace, cacheVary, cacheControl, cacheTags)
    settings = (pageCache, cacheTimeout, cacheGrace, cacheVary, cacheControl,
                cacheTags, cacheKey)

    def decorate(function):
        if isinstance(function, type) or not callable(function):
            raise TypeError(
                "nevowcache.klein.cached decorates a Klein route's function, "
                "not %r (for a twisted.web resource, use nevowcache.web.cached "
                "or CachedResource)" % (function,))
        route = _CachedRoute(function, *settings)

        @functools.wraps(function)
        def cachedRoute(instance, *args, **kwargs):
            if not args or not IRequest.providedBy(args[0]):
                raise TypeError(
                    "%r was called without the request (with %r, %r): put "
                    "@cached directly below @app.route, where Klein passes the "
                    "request (with a Requirer: requirer.require(lambda f: "
                    "app.route(...)(cached(...)(f)), ...))" % (route, args, kwargs))
            return _RouteFront(route, instance, args[1:], kwargs).respond(args[0])
        # Klein passes the instance its app is bound to (or None) first.
        cachedRoute.__klein_bound__ = True
        setattr(cachedRoute, _ROUTE_ATTRIBUTE, route)
        return cachedRoute

    if function is not None:
        return decorate(function)
    return decorate



def _routeOf(app, endpoint):
    """
    @return: The L{_CachedRoute} of an app's endpoint, or L{None}.
    """
    function = app.endpoints.get(endpoint)
    while function is not None:
        route = getattr(function, _ROUTE_ATTRIBUTE, None)
        if route is not None:
            return route
        function = getattr(function, "__original__", None)
    return None



def invalidateRoute(app, endpoint, hard=True, pageCache=None, request=None, **values):
    """
    Invalidate what a Klein route stored for the given arguments, on every
    scheme, host and port, whatever its query: what a form handler calls
    once it has changed what the route shows::

        @app.route("/post/<int:pid>", methods=["POST"])
        def edit(request, pid):
            posts.update(pid, request.args)
            invalidateRoute(app, "post", pid=pid)
            return redirect(request, b"/post/%d" % pid)

    The path is built from the app's URL map (C{app.url_map}) as Klein's
    C{url_for} builds it; a route's endpoint is its function's name unless
    it named another with C{endpoint=}.  A render that began before the
    invalidation is not stored.

    @param app: The L{klein.Klein} app.
    @param endpoint: The route's endpoint name.
    @param hard: If true (the default, as for an unsafe request's own
        invalidation), the entries are gone and the next request renders
        anew; if false, they are stale (served within the route's grace
        while one refresh runs).
    @param pageCache: The L{PageCache} to invalidate in; by default the
        route's own (or L{nevowcache.defaultPageCache} if the route is not
        cached by L{cached}).
    @param request: The request being answered, when the app is not at the
        root of its site: its Klein mapper knows where the app is mounted.
    @param values: The route's arguments.
    @return: A L{Deferred} that fires when the store has it.
    @raise werkzeug.routing.BuildError: If the endpoint does not exist or
        the arguments do not fit it.
    """
    mapper = None
    if request is not None:
        mapper = getattr(IKleinRequest(request, None), "mapper", None)
        if mapper is not None and mapper.map is not app.url_map:
            mapper = None
    if mapper is None:
        mapper = app.url_map.bind("")
    path = mapper.build(endpoint, values)
    if pageCache is None:
        route = _routeOf(app, endpoint)
        pageCache = route.cache() if route is not None else defaultPageCache
    return pageCache.invalidate(path, hard)
