# -*- test-case-name: tests.test_nevow -*-
"""
The Nevow adapter: L{CachedPageMixin} and L{CachedPage} (Python 2.7, Nevow
0.14.5).

A thin layer over L{PageCache}: it builds the key from the traversed
request (and what the application remembered on the context,
L{nevowcache._adapters.nevowcontext}), renders the page into a L{CaptureRequest}
in a copy of the request's contexts whose request is the capture, and for
background refreshes re-traverses the site from its root on a synthetic
request.
"""

from __future__ import absolute_import, division

import sys

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

import types

from nevow import appserver, context, inevow, rend, tags
from nevow.flat import ten

from nevowcache._adapters.bypass import answerableEarly, nevowBypassReason, watchUnsafe
from nevowcache._http.capture import CaptureRequest
from nevowcache._compat import textType
from nevowcache._engine.pagecache import CachePolicy
from nevowcache._adapters.formless import markAction
from nevowcache._adapters.front import (
    CacheFront, RefreshKeyChanged, Refresher, RequestInputs, noSession)
from nevowcache._engine.memo import remember
from nevowcache._adapters.nevowcontext import Outside, captureContext
from nevowcache._http.offered import CAPTURED, KEYED, OFFERED, UNSUPPORTED
from nevowcache._http.remembered import rememberedKey
from nevowcache._engine.settings import pageName
from nevowcache._engine.slicing import Slicer, callAfterOutput

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




class CachedPageMixin(CacheFront):
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
    @cvar cacheRefreshSlice: Background refreshes flatten the page on
        later turns of the reactor than the traversal, once the responses
        written meanwhile were sent, in slices of at most about this many
        seconds of work, each followed by a pause (C{reactor.callLater}) at
        least as long as the slice took: a refresh has at most about half of
        the reactor's time.  A slice ends sooner when a request waits to be
        read, so a hit waits behind a few steps of a refresh, not a whole
        slice (unless the refresh had less than a tenth of the time since
        it started: a saturated server still finishes its refreshes; see
        L{nevowcache._engine.slicing.Slicer}).  L{None} to flatten in one go, in the
        turn of the traversal.  A single call into the page (a C{data_} or
        C{render_} method) is not cut: a long one makes its slice longer.
        The C{sequence} renderer clones its rows one at a time there, so a
        slice can end between rows (see L{render_sequence}).
    @cvar cacheControl: L{None} (the default) to send only the page's own
        C{Cache-Control}; C{"public"} to let browsers and shared caches keep
        stored responses as long as they are fresh here.
    @cvar cacheTags: Tags (text) for L{PageCache.invalidateTag}, or a method
        taking the context and returning them (known before rendering; they
        must depend only on what the page's key holds).
    """
    cacheRefreshSlice = 0.0005

    def cacheKey(self, ctx):
        """
        Add to, or replace, the key of this request.

        @return: L{None} for the default key; a tuple of bytes, text,
            integers and L{None} to add to it; or a whole L{CacheKey} to use
            instead (which L{PageCache.invalidate} then no longer reaches by
            URL unless its C{url} is the request's).
        """
        return None


    def flattenFactory(self, stan, ctx, writer, finisher):
        """
        Flatten as Nevow does, except in background refreshes when
        C{cacheRefreshSlice} is not L{None}: there, with L{_sliceFlatten},
        on later turns of the reactor, in slices of at most about
        C{cacheRefreshSlice} seconds that end sooner when a request waits,
        with a pause at least as long after each, so that a long render
        neither stalls the hits served meanwhile nor takes more than about
        half of the reactor's time.  The bytes are the same.
        """
        if not self._slicing(ctx):
            return super(CachedPageMixin, self).flattenFactory(stan, ctx, writer, finisher)
        cache = self._cache()
        return _sliceFlatten(stan, ctx, writer, cache.reactor, self.cacheRefreshSlice,
                             clock=cache.sliceClock).addCallback(finisher)


    def _slicing(self, ctx):
        """
        @return: Whether this render is a background refresh flattened in
            slices, by L{_sliceFlatten}.  Not outside a request
            (C{renderSynchronously}, C{renderString}).
        """
        return (self.cacheRefreshSlice is not None
                and getattr(inevow.IRequest(ctx, None), "nevowcacheRefresh", None) is not None)


    def render_sequence(self, ctx, data):
        """
        Nevow's C{sequence} renderer, whose rows can be cut apart in
        background refreshes.

        Nevow's clones the item and divider patterns for every row in one
        call, a step that L{_sliceFlatten} cannot cut.  When this render is
        flattened in slices, L{_lazySequence} returns the same tree with the
        rows cloned one at a time, in a generator, as the flattener reaches
        them, so that a slice can end between any two rows.  Otherwise, or
        when a class between this mixin and Nevow's defines its own
        C{render_sequence}, that one renders.
        """
        inherited = super(CachedPageMixin, self).render_sequence
        if (getattr(inherited, "__func__", None) is _nevowSequence
                and self._slicing(ctx)):
            return _lazySequence(ctx, data)
        return inherited(ctx, data)


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



# Nevow's own sequence renderer, which CachedPageMixin.render_sequence
# replaces only when nothing else has.
_nevowSequence = vars(rend.RenderFactory)["render_sequence"]



def _lazySequence(ctx, data):
    """
    Nevow 0.14.5's C{rend.sequence}, with the rows cloned as the flattener
    reaches them rather than all at once.

    As there, the header, footer and empty patterns are cloned, the item
    and divider pattern generators made, and C{data} iterated, in the call;
    the tag is cleared and filled with the same children, except that the
    rows are a generator of what would have been their list.  The patterns
    are the template's, which Nevow never changes while rendering, so the
    clones and the bytes are the same.

    @param ctx: The context of the tag to render.
    @param data: The items: any iterable.

    @return: The tag, cleared and refilled.
    """
    tag = ctx.tag
    headers = tag.allPatterns("header")
    pattern = tag.patternGenerator("item")
    divider = tag.patternGenerator("divider", default=tags.invisible)
    elements = list(data)
    if elements:
        content = _lazyRows(elements, pattern, divider)
    else:
        content = tag.allPatterns("empty")
    footers = tag.allPatterns("footer")
    return tag.clear()[headers, content, footers]



def _lazyRows(elements, pattern, divider):
    """
    The rows of L{_lazySequence}: for each element, a clone of the next
    item pattern and, between rows, of the next divider, with the element
    as their data, each made only when the flattener asks for it.

    @param elements: The items, a non-empty list.
    @param pattern: The item patterns, cycled (a Nevow C{PatternTag}).
    @param divider: The divider patterns, cycled (a Nevow C{PatternTag}).

    @return: A generator of C{(item, divider)} tuples, and the last item
        alone.
    """
    last = len(elements) - 1
    for index, element in enumerate(elements):
        if index == last:
            yield pattern(data=element)
        else:
            yield (pattern(data=element), divider(data=element))



def _slicedIterflatten(stan, ctx, writer, pause):
    """
    Nevow 0.14.5's C{iterflatten}, for L{Slicer.run}: it yields each
    L{Deferred} it meets and is sent back its result, and yields L{None}
    whenever C{pause()} says so between two pieces of work.
    """
    rest = [iter([ten.partialflatten(ctx, stan)])]
    straccum = []
    while rest:
        gen = rest.pop()
        for item in gen:
            if isinstance(item, bytes):
                straccum.append(item)
            elif isinstance(item, textType):
                straccum.append(item.encode("utf8"))
            elif isinstance(item, (list, types.GeneratorType)):
                rest.append(gen)
                rest.append(iter(item))
                if pause():
                    yield None
                break
            else:
                if straccum:
                    writer(tags.raw(b"".join(straccum)))
                    del straccum[:]
                if isinstance(item, defer.Deferred):
                    result = yield item
                    rest.append(gen)
                    # As Nevow's: the result in a list of its own.
                    rest.append(iter([[result]]))
                    break
                elif ctx.precompile:
                    writer(item)
                else:
                    rest.append(gen)
                    rest.append(iter([ten.partialflatten(ctx, item)]))
                    break
    if straccum:
        writer(tags.raw(b"".join(straccum)))



def _sliceFlatten(stan, ctx, writer, reactor, seconds, checkEvery=1, rest=1.0,
                  clock=None):
    """
    Nevow's C{deferflatten}, cooperative, for background renders: a
    L{Slicer} decides where the work stops and when it goes on, and drives
    the flattener (L{Slicer.run}).

    The flattener starts on a later turn of the reactor than the one that
    traversed to the page, once the responses written meanwhile were sent;
    it works in slices of at most about C{seconds}, which end sooner when a
    request waits to be read; after each it pauses for C{rest} times as
    long as the slice took.  So a request waits behind about one cut
    point's work of a refresh, and a refresh has at most about
    C{1 / (1 + rest)} of the reactor's time (see L{Slicer}).

    A slice also ends when the flattener waits for a L{Deferred} that has
    not fired: waiting is not work, and the slice after it starts when it
    fires.  L{Deferred}s that have already fired are passed through in a
    loop, not by recursion.  Work is cut where Nevow's C{iterflatten} meets
    a list or a generator; a single call into the page is never cut.

    @param stan: What to flatten.
    @param ctx: The context to flatten it in.
    @param writer: Called with each piece of output, as by Nevow.
    @param reactor: Provides C{callLater}, for the pauses, and
        L{IReactorFDSet}, for the output and input the slices wait for.
    @param seconds: The longest slice; C{0} to pause at every look at the
        clock.
    @param checkEvery: How many cut points to pass between two looks at the
        clock and at the input.
    @param rest: How long each pause is, as a multiple of the slice before
        it.
    @param clock: What measures the work (its C{seconds()}); by default a
        real clock.

    @return: A L{Deferred} firing with C{""} when done, or failing with
        what the flattening raised.
    """
    slicer = Slicer(reactor, seconds, rest=rest, checkEvery=checkEvery, clock=clock)
    done = slicer.run(_slicedIterflatten(stan, ctx, writer, slicer.over))
    return done.addCallback(lambda _: "")



class CachedPage(CachedPageMixin, rend.Page):
    """
    A C{nevow.rend.Page} with a cache in front.  See L{CachedPageMixin}.
    """



class _Channel(object):
    """
    The channel of a background refresh request: it carries the site and
    the addresses of the request it replaces (its L{RequestInputs}), and
    drops whatever is written to it.
    """

    def __init__(self, inputs):
        self._inputs = inputs
        self.site = inputs.site
        self.transport = self


    def getHost(self):
        return self._inputs.host


    def getPeer(self):
        return self._inputs.peer


    def isSecure(self):
        return self._inputs.secure


    def _ignore(self, *args, **kwargs):
        pass

    write = writeSequence = writeHeaders = requestDone = _ignore
    registerProducer = unregisterProducer = loseConnection = _ignore



class _RefreshRequest(appserver.NevowRequest):
    """
    A synthetic request for a background re-render: it goes through the
    site from its root like a real one, and its output goes nowhere.

    @ivar nevowcacheRefresh: The L{_TraversingRefresher} this request runs
        for; a L{CachedPageMixin} reached with it renders into the
        refresher.
    """
    getSession = noSession

    def __init__(self, channel, refresher):
        appserver.NevowRequest.__init__(self, channel)
        self.nevowcacheRefresh = refresher


    def write(self, data):
        pass


    def finishRequest(self, success):
        self.nevowcacheRefresh.finished()



class _TraversingRefresher(Refresher):
    """
    A L{Refresher} whose call re-traverses the site from its root on a
    L{_RefreshRequest} made from the snapshot (so that what the application
    remembers on the context on the way is what the render sees), and
    renders the cached page it reaches (L{reached}).
    """
    _result = None

    def __call__(self):
        self._result = defer.Deferred()
        request = _RefreshRequest(_Channel(self.inputs), self)
        self.inputs.fill(request)
        result = self._result
        request.process()
        return result


    def reached(self, page, ctx, entry):
        """
        Traversal reached a cached page: render it into a capture, if its key
        is the one being refreshed (L{Refresher.render}).

        @param entry: Where the page entered the mixin.
        """
        request = inevow.IRequest(ctx)
        result, self._result = self._result, None
        if result is None:
            return b""
        cache = page._cache()
        try:
            render = self.render(page, cache, request, (ctx, entry))
        except RefreshKeyChanged:
            result.errback(Failure())
            return b""
        if page._slicing(ctx):
            # The traversal was one uncut step; the render's set-up is
            # another, on a later turn, before its first slice.
            callAfterOutput(cache.reactor, 0, lambda: defer.maybeDeferred(
                render).chainDeferred(result))
        else:
            render().chainDeferred(result)
        return b""


    def finished(self):
        """
        The refresh request ended.  If no cached page was reached (a 404, an
        error, a redirect), the refresh failed.
        """
        result, self._result = self._result, None
        if result is not None:
            result.errback(Failure(RuntimeError(
                "background refresh of %r did not reach its page" % (self.key,))))
