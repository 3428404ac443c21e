# -*- test-case-name: tests.test_nevow -*-
"""
The Nevow adapter: L{CachedPageMixin} and L{CachedPage} (Python 2.7, Nevow
0.14.5).

A thin layer over L{PageCache}: it builds the key from the traversed
request (and what the application remembered on the context,
L{nevowcache._adapters.nevowcontext}), renders the page into a L{CaptureRequest}
in a copy of the request's contexts whose request is the capture, and for
background refreshes re-traverses the site from its root on a synthetic
request (L{nevowcache._adapters.nevowrefresh}), whose render is flattened
in slices (L{nevowcache._adapters.nevowflatten}).
"""

from __future__ import absolute_import, division

import sys

from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer

from nevow import appserver, inevow, rend

from nevowcache._engine.bypass import answerableEarly, nevowBypassReason, watchUnsafe
from nevowcache._http.capture import CaptureRequest
from nevowcache._engine.pagecache import CachePolicy
from nevowcache._adapters.formless import markAction
from nevowcache._adapters.front import CacheFront
from nevowcache._engine.memo import remember
from nevowcache._adapters.nevowcontext import Outside, captureContext
from nevowcache._adapters.nevowflatten import SlicedFlattening
from nevowcache._adapters.nevowrefresh import _TraversingRefresher
from nevowcache._http.offered import CAPTURED, KEYED, OFFERED, UNSUPPORTED
from nevowcache._http.remembered import rememberedKey
from nevowcache._engine.settings import pageName

__all__ = ["CachedPageMixin", "CachedPage"]

_log = Logger()

# Where the mixin was entered: its own renderHTTP, or rend.Page's
# _renderHTTP (a page calling rend.Page.renderHTTP(self, ctx) itself).
_RENDER_HTTP = "renderHTTP"
_UNDER_RENDER_HTTP = "_renderHTTP"



class _NevowCapture(CaptureRequest):
    """
    A L{CaptureRequest} that also offers what Nevow's C{NevowRequest} adds
    to twisted.web's request.

    @ivar nevowResult: What the page's C{renderHTTP} returned when it was not
        a string (a URL, another resource): passed on to Nevow.
    """
    offered = dict(OFFERED, fields=KEYED, headers=CAPTURED, received_headers=CAPTURED,
                   deferred=CAPTURED, finishRequest=CAPTURED, gotPageContext=UNSUPPORTED,
                   # The cache's own marks on the request.
                   nevowcacheRefresh=KEYED, nevowcacheRoutes=KEYED)
    _lostConnection = False

    def __init__(self, underlying, responseHeaders=None):
        CaptureRequest.__init__(self, underlying, responseHeaders)
        # Fired when the render finishes the request, as Nevow's is:
        # OldResourceAdapter waits on it for NOT_DONE_YET.
        self.deferred = defer.Deferred()


    def finish(self):
        CaptureRequest.finish(self)
        self.deferred.callback("")


    def finishRequest(self, success):
        if not self.finished:
            self.finish()


    @property
    def headers(self):
        return appserver._DictHeaders(self.responseHeaders)


    @property
    def received_headers(self):
        return appserver._DictHeaders(self.requestHeaders)



@implementer(inevow.ICanHandleException)
class _ExceptionRecorder(object):
    """
    Stands in front of the site's exception handler during a captured render:
    an error rendered inline (Nevow answers those with C{200}) makes the
    response unshareable.
    """

    def __init__(self, capture, handler):
        self._capture = capture
        self._handler = handler


    def renderHTTP_exception(self, ctx, reason):
        self._capture.refuse(b"render-error")
        return self._handler.renderHTTP_exception(ctx, reason)


    def renderInlineException(self, ctx, reason):
        self._capture.refuse(b"render-error")
        return self._handler.renderInlineException(ctx, reason)

    renderInlineError = renderInlineException



def _isLivePage(page):
    athena = sys.modules.get("nevow.athena")
    return athena is not None and isinstance(page, athena.LivePage)




class CachedPageMixin(SlicedFlattening, CacheFront):
    """
    Put a cache in front of a C{nevow.rend.Page}: mix in before it, as in
    C{class Home(CachedPageMixin, MyBasePage)}.

    Hits are answered without rendering, so C{beforeRender} and
    C{afterRender} run only when the page is really rendered.  Cached pages
    behave as C{buffered = True}.  A page whose C{renderHTTP} calls
    C{rend.Page.renderHTTP(self, ctx)} itself, past this mixin's, is cached
    from C{_renderHTTP} (unless it has a C{beforeRender}).

    The render sees what the application remembered on the context as
    uncached; what a parent or the page's C{renderHTTP} remembered joins
    the key when the render looks it up (see L{nevowcache._adapters.nevowcontext}).

    @cvar pageCache: The L{PageCache} to use; L{None} for
        L{nevowcache.defaultPageCache}.
    @cvar cacheTimeout: Seconds an entry stays fresh; C{0} for fresh until
        invalidated; L{None} to not cache at all.
    @cvar cacheGrace: Seconds past C{cacheTimeout} that a stale entry is
        still served at once while one background render refreshes it;
        L{None} (the default) for always.  Past it, requests wait for a fresh
        render.
    @cvar cacheVary: Names of the request headers the page reads; their
        values (normalised) join the key, and stored responses say so in
        C{Vary}.  A render that reads any other request header is not
        stored.
    @cvar cacheRefreshSlice: How background refreshes flatten the page (see
        L{SlicedFlattening}).
    @cvar cacheControl: L{None} (the default) to send only the page's own
        C{Cache-Control}; C{"public"} to let browsers and shared caches keep
        stored responses as long as they are fresh here.
    @cvar cacheTags: Tags (text) for L{PageCache.invalidateTag}, or a method
        taking the context and returning them (known before rendering; they
        must depend only on what the page's key holds).
    """

    def cacheKey(self, ctx):
        """
        Add to, or replace, the key of this request.

        @return: L{None} for the default key; a tuple of bytes, text,
            integers and L{None} to add to it; or a whole L{CacheKey} to use
            instead (which L{PageCache.invalidate} then no longer reaches by
            URL unless its C{url} is the request's).
        """
        return None


    def locateChild(self, ctx, segments):
        """
        Look children up as the page does; an unsafe request for one (a
        form's C{freeform_post!!...}, and a C{GET} of such a formless
        action too, L{nevowcache._adapters.formless}) invalidates, once answered,
        what it may have changed (L{PageCache.invalidateAfter}, in this
        page's cache): the page it redirects to, typically this one.
        """
        request = inevow.IRequest(ctx)
        markAction(request)
        watchUnsafe((self._cache(),), request)
        return super(CachedPageMixin, self).locateChild(ctx, segments)


    def renderHTTP(self, ctx):
        """
        Answer from the cache, or render into a capture (see the class
        documentation).
        """
        return self._cacheRender(ctx, _RENDER_HTTP)


    def _renderHTTP(self, ctx):
        """
        Nevow's C{rend.Page.renderHTTP} calls this once C{beforeRender} is
        done.  In a captured render, or when this mixin's C{renderHTTP}
        passed the request on, render; otherwise the page called
        C{rend.Page.renderHTTP(self, ctx)} itself, past this mixin's
        C{renderHTTP} (as Nevow's examples do): use the cache here.
        """
        request = inevow.IRequest(ctx)
        if (isinstance(request, CaptureRequest)
                or getattr(request, "nevowcachePassed", None) is self):
            return super(CachedPageMixin, self)._renderHTTP(ctx)
        return self._cacheRender(ctx, _UNDER_RENDER_HTTP)


    def _cacheRender(self, ctx, entry):
        """
        Answer through the cache (L{CacheFront._frontRender}), unless a
        background refresh's traversal reached this page: then render it
        for the refresh.

        @param entry: Where the mixin was entered (C{renderHTTP} or
            C{_renderHTTP}): the render goes on from there.
        """
        request = inevow.IRequest(ctx)
        refresh = getattr(request, "nevowcacheRefresh", None)
        if refresh is not None:
            return refresh.reached(self, ctx, entry)
        if self.cacheTimeout is not None:
            markAction(request)
        return self._frontRender(request, (ctx, entry))


    # The front's hooks; where is (ctx, entry).

    def _frontBypass(self, request, where):
        return self._nevowBypassReason(request, where[1])


    def _frontKey(self, cache, request, where, policy=None):
        """
        The key of this request: the engine's, with what the application
        remembered on the context outside the render (see
        L{nevowcache._adapters.nevowcontext}); the render needs those, and the names
        of the remembered interfaces whose values the key holds.

        A L{nevowcache.CachingSite}'s request that the site may answer
        before traversal next time teaches it the route.
        """
        ctx = where[0]
        if policy is None:
            policy = CachePolicy.fromPage(self, ctx)
        extra = self.cacheKey(ctx)
        outside = Outside.of(ctx, request)
        key, keyed, unkeyable = rememberedKey(
            cache, request, pageName(self), type(self), policy, extra, outside)
        if unkeyable is None:
            routes = getattr(request, "nevowcacheRoutes", None)
            if (routes is not None and extra is None and not outside.values
                    and answerableEarly(request)):
                routes.learn(request, cache, key, policy)
        return key, policy, unkeyable, (outside, keyed)


    def _frontPassOn(self, request, where):
        """
        Render for the live request, uncaptured.
        """
        ctx, entry = where
        if entry is _UNDER_RENDER_HTTP:
            return super(CachedPageMixin, self)._renderHTTP(ctx)
        request.nevowcachePassed = self
        return super(CachedPageMixin, self).renderHTTP(ctx)


    def _frontAnswer(self, answer, request, where):
        body = answer.respond(request)
        if body is None:
            # Sent whole; Nevow writes nothing more, and finishes.
            return b""
        capture = answer.capture
        result = getattr(capture, "nevowResult", None)
        if result is not None:
            # The page answered with a resource or URL for Nevow to render.
            request.responseHeaders.removeHeader(b"content-length")
            if body:
                request.write(body)
            return result
        return body


    def _frontAnswerLater(self, answered, request, where):
        return answered.addCallback(self._frontAnswer, request, where)


    def _frontRefresher(self, cache, request, where, key, policy):
        return _TraversingRefresher(self, cache, request, key)


    def _nevowBypassReason(self, request, entry=_RENDER_HTTP):
        reason = nevowBypassReason(request, _isLivePage(self))
        if reason is not None:
            return reason
        if entry is _UNDER_RENDER_HTTP and self.beforeRender is not None:
            # Its beforeRender already ran on the live request, unseen.
            cls = type(self)
            if cls not in _warned:
                remember(_warned, cls, True, 4096)
                _log.warn(
                    u"{page} calls rend.Page.renderHTTP(self, ctx) and has a "
                    u"beforeRender: not cached; call super({name}, self)."
                    u"renderHTTP(ctx) instead", page=pageName(self),
                    name=cls.__name__)
            return b"before-render"
        return None


    def _frontCapture(self, underlying, where, state):
        """
        Render this page into a capture of C{underlying}, in a copy of the
        contexts of C{ctx} whose request is the capture (see
        L{captureContext}).

        @param where: C{(ctx, entry)}: the page's context, and where the
            mixin was entered (C{renderHTTP} or C{_renderHTTP}): the render
            goes on from there.
        @param state: C{(outside, keyed)}: what the application remembered
            outside the render, and the names of the remembered interfaces
            whose values the key holds: a render looking up any other is
            not stored.

        @return: A L{Deferred} firing with the finished L{_NevowCapture}.
        """
        ctx, entry = where
        outside, keyed = state
        capture = _NevowCapture(underlying, underlying.responseHeaders.copy())
        pageContext, lookups = captureContext(ctx, capture, underlying)
        pageContext.remember(
            _ExceptionRecorder(capture, inevow.ICanHandleException(ctx)),
            inevow.ICanHandleException)
        if entry is _UNDER_RENDER_HTTP:
            render = super(CachedPageMixin, self)._renderHTTP
        else:
            render = super(CachedPageMixin, self).renderHTTP
        d = defer.maybeDeferred(render, pageContext)

        def rendered(result):
            if isinstance(result, bytes):
                if result:
                    capture.write(result)
            else:
                capture.refuse(b"result")
                capture.nevowResult = result
            lookups.judge(capture, type(self), outside, keyed)
            if not capture.finished:
                capture.finish()
            return capture
        return d.addCallback(rendered)



# The classes that were told, once, that they are not cached (bounded:
# classes may be made at run time; forgetting only logs again).
_warned = {}



class CachedPage(CachedPageMixin, rend.Page):
    """
    A C{nevow.rend.Page} with a cache in front.  See L{CachedPageMixin}.
    """
