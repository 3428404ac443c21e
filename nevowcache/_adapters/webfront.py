# -*- test-case-name: tests.test_web,tests.test_klein -*-
"""
The twisted.web adapter's hooks of the L{CacheFront}
(L{nevowcache._adapters.front}), and the requests they answer and refresh
with (Python 2.7 with Twisted 20.3, and Python 3): what L{CachedResource},
the wrapper made by L{nevowcache._adapters.webresource.cached} and the
Klein route front share.

L{_ResourceFront} builds the key from the traversed request, renders the
resource against a L{CaptureRequest} of the live request, and for a
background refresh against a L{CaptureRequest} of a snapshot of that
request (L{_SnapshotRequest}) taken while it was alive.  The answer goes on
the live request after the resource returned C{NOT_DONE_YET}, unless its
client has gone (L{_LiveRequest}).
"""

from __future__ import absolute_import, division

from twisted.logger import Logger
from twisted.python.components import Componentized
from twisted.web import http, server
from twisted.web.server import NOT_DONE_YET
from twisted.web.error import UnsupportedMethod
from twisted.web.http_headers import Headers
from twisted.web.resource import _IEncodingResource

from nevowcache._http.capture import CaptureRequest, RenderAborted, takeBody
from nevowcache._compat import intToBytes
from nevowcache._engine.pagecache import CachePolicy
from nevowcache._adapters.front import CacheFront, Refresher, noSession
from nevowcache._adapters.webkeys import KnownKeys
from nevowcache._http.remembered import (
    NOTHING, NO_NAMES, Lookups, Remembered, Watched, rememberedKey)
from nevowcache._engine.settings import pageName

__all__ = ["_ResourceFront", "_LiveRequest", "_SnapshotRequest", "_componentsOf", "_send"]

_log = Logger()

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
    the wrapper made by L{nevowcache._adapters.webresource.cached} share.
    Its C{where} is the frame that called C{render} (L{_behindEncoder}).
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
        live = policy is None
        if live:
            keyed = _knownKeys.known(self, cache, request)
            if keyed is not None:
                return keyed
            policy = CachePolicy.fromPage(self, request)
        remembered = self._requestComponents(request)
        if not remembered.values:
            # Nothing remembered (the usual request): the engine's key, as
            # rememberedKey makes it then, without asking which class
            # learns the lookups (nothing is learnt).
            key = cache.pageKey(request, self._cachedName(), policy, self.cacheKey(request))
            keyed = key, policy, None, (remembered, NO_NAMES)
            if live:
                _knownKeys.learn(self, cache, request, keyed)
            return keyed
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



# The keys _frontKey gave lately (KnownKeys): a hit on a page asked for again
# is keyed without making its key again.
_knownKeys = KnownKeys(_ResourceFront)



def _componentsOf(request):
    """
    @return: The components the application set on C{request} (or that
        adapters made from it) before the render, as a L{Remembered}.
    """
    table = getattr(request, "_adapterCache", None)
    if not table:
        return NOTHING
    return Remembered(dict(table))



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
