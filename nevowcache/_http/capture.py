# -*- test-case-name: tests.test_capture -*-
"""
Capturing a render.

Both adapters render a page against a L{CaptureRequest}: a stand-in for
the real request (or for a snapshot of it, for background refreshes) that
offers what L{OFFERED} lists of twisted.web's request, notes the reads that
make a response personal, and records every part of the response: nothing a
render does reaches the live request.  What the capture saw decides whether
the response may be stored (L{nevowcache._http.refusal.refusalOf});
L{nevowcache._http.replay.replay} writes a stored or captured response onto a
live request.

L{CaptureRequest} is made of named parts: L{PersonalReads}
(L{nevowcache._http.personal}: the reads noted), L{CapturedComponents}
(L{nevowcache._http.components}), L{ResponseRecorder} and L{DistribViews}
(L{nevowcache._http.recording}: the response recorded); it holds what
joins them (the names of L{OFFERED}, the refusals, the request's URLs and
surroundings, giving up and rendering another resource).
"""

from __future__ import absolute_import, division

import copy
from io import BytesIO

from twisted.python.failure import Failure
from twisted.web import server

from nevowcache._compat import functionOf
from nevowcache._http.components import CapturedComponents
from nevowcache._http.offered import (
    COPIED, KEYED, OFFERED, UNSUPPORTED, CaptureSite, RecordingHeaders, Unwired)
from nevowcache._http.personal import PersonalReads
from nevowcache._http.recording import DistribViews, ResponseRecorder

__all__ = ["CaptureRequest", "OFFERED", "RenderAborted", "takeBody"]



class RenderAborted(Exception):
    """
    A render called C{loseConnection} on its (captured) request.
    """



class CaptureRequest(PersonalReads, CapturedComponents, DistribViews, ResponseRecorder):
    """
    A stand-in for a request that records the response instead of sending
    it.

    It offers the names of twisted.web's request listed in L{OFFERED}, and
    nothing else: whatever a render does with it stays in the capture
    (writes, status, headers, cookies, validators, producers, traversal of
    its own copies of C{prepath} and C{postpath}, components, and
    C{render} of another resource), so that no render can write on the live
    request or keep its capture from finishing.  Reads that make a response
    personal are noted: a request header, a cookie, the session, the
    client's address, credentials, and attributes an application set on the
    request; so are rendering failures
    (L{processingFailed<ResponseRecorder.processingFailed>}, and an error
    page rendered by L{twisted.web.template.renderElement}).

    Conditional and range requests: C{setLastModified} and C{setETag} never
    answer C{http.CACHED} (the capture renders the whole response, and the
    stored entry answers preconditions on replay); requests with C{Range}
    do not use the cache at all (L{PageCache.bypassReason}), so a render on
    a capture may read C{Range} and finds none.

    @ivar refusals: Why the response may not be shared, in the order noticed
        (L{bytes} tokens such as C{b"session"}); see L{refusalOf} for the
        rest.
    @ivar headersRead: Lower-cased names of the request headers read.
    """

    # Names a subclass adds for its own framework's request (see
    # nevowcache._adapters.nevowpage).
    offered = OFFERED

    queued = 0
    chunked = 0
    _inFakeHead = False
    _encoder = None
    _disconnected = False

    def __init__(self, underlying, responseHeaders=None):
        self._underlying = underlying
        ResponseRecorder.__init__(self, responseHeaders)
        self.requestHeaders = RecordingHeaders(underlying.requestHeaders, self)
        self.headersRead = set()
        self.refusals = []


    def __getattr__(self, name):
        # Only for names not found on the capture itself.
        kind = self.offered.get(name)
        if kind == KEYED:
            return getattr(self._underlying, name)
        if kind == COPIED:
            value = getattr(self._underlying, name)
            if value is not None:
                value = copy.deepcopy(value) if isinstance(value, dict) else list(value)
            self.__dict__[name] = value
            return value
        if kind == UNSUPPORTED:
            return self._unsupported(name)
        if not name.startswith("_"):
            own = getattr(self._underlying, "__dict__", {})
            if name in own:
                # Set on the request by the application (while traversing,
                # say): it may be anything the key does not hold.
                self.refuse(b"request-attribute")
                return own[name]
        raise AttributeError(
            "%r: a cached render's request offers %r only if it is in "
            "nevowcache._http.offered.OFFERED (twisted.web's request) or set on "
            "the request before the render" % (self, name))


    def _unsupported(self, name):
        self.refuse(b"unsupported-" + name.lower().encode("ascii"))

        def unsupported(*args, **kwargs):
            raise NotImplementedError(
                "%s is not offered by the request of a cached render" % (name,))
        return unsupported


    def __repr__(self):
        return "<CaptureRequest of %r>" % (self._underlying,)


    def refuse(self, reason):
        """
        Note that this response must not be shared.

        @param reason: A short token, L{bytes}.
        """
        if reason not in self.refusals:
            self.refusals.append(reason)


    # The request's surroundings: its connection, its site, its body

    @property
    def channel(self):
        return Unwired(self, b"channel")


    @property
    def transport(self):
        return Unwired(self, b"transport")


    @property
    def site(self):
        site = self.__dict__.get("_site")
        if site is None:
            site = getattr(self._underlying, "site", None)
            if site is not None:
                site = self.__dict__["_site"] = CaptureSite(site, self)
        return site


    @property
    def content(self):
        """
        A copy of the request body (requests with a body do not use the
        cache: this is empty but for background refreshes' snapshots).
        """
        content = self.__dict__.get("_content")
        if content is None:
            original = getattr(self._underlying, "content", None)
            getvalue = getattr(original, "getvalue", None)
            content = BytesIO(getvalue() if getvalue is not None else b"")
            self.__dict__["_content"] = content
        return content


    # URLs, from the capture's own prepath

    def _prePathURL(self, prepath):
        return self._underlying._prePathURL(prepath)


    def prePathURL(self):
        return self._prePathURL(self.prepath)


    def URLPath(self):
        return functionOf(self._underlying.__class__, "URLPath")(self)


    def childLink(self, name):
        return functionOf(server.Request, "childLink")(self, name)


    def sibLink(self, name):
        return functionOf(server.Request, "sibLink")(self, name)


    def rememberRootURL(self, url=None):
        if url is None:
            url = self._prePathURL(self.prepath[:-1])
        self.appRootURL = url


    def getRootURL(self):
        return self.appRootURL


    # Giving up, and rendering another resource

    def loseConnection(self):
        """
        The render gives up on its client: the capture fails with
        L{RenderAborted} (never stored), and the adapter drops the live
        request's connection.
        """
        self.refuse(b"aborted")
        self.processingFailed(Failure(RenderAborted("loseConnection during a render")))


    def render(self, resource):
        """
        Render another resource on this capture, as
        L{twisted.web.server.Request.render} does on a request
        (L{twisted.web.util.DeferredResource}, Klein for a route that
        returns a resource): its answer is this capture's.  A failure, or a
        method the resource does not allow, fails the capture (never
        stored); the adapter answers the live request as twisted.web would.
        """
        try:
            takeBody(self, resource.render(self), resource)
        except Exception:
            self.processingFailed(Failure())



def takeBody(request, body, resource):
    """
    Do with what a resource's C{render} returned what
    L{twisted.web.server.Request.render} does: for C{NOT_DONE_YET}, nothing
    (the resource writes and finishes later); for L{bytes}, write them and
    finish C{request}.

    @param resource: The resource that rendered, for the error.
    @raise TypeError: If C{body} is neither.
    """
    if body is server.NOT_DONE_YET:
        return
    if not isinstance(body, bytes):
        raise TypeError("%r rendered %r, not bytes or NOT_DONE_YET" % (resource, body))
    request.write(body)
    request.finish()
