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
"""

from __future__ import absolute_import, division

import copy
from io import BytesIO

from twisted.internet import defer
from twisted.python import components, reflect
from twisted.python.failure import Failure
from twisted.web import http, server
from zope.interface import providedBy

from nevowcache._compat import textType
from nevowcache._http.entry import HOP_BY_HOP
from nevowcache._http.offered import (
    COPIED, KEYED, OFFERED, UNSUPPORTED, CaptureSite, RecordingHeaders, Unwired)
from nevowcache._http.validators import parseHTTPDate

__all__ = ["CaptureRequest", "OFFERED", "RenderAborted", "takeBody"]



def _lowerBytes(name):
    if isinstance(name, textType):
        name = name.encode("ascii", "replace")
    return name.lower()



def _function(cls, name):
    """
    @return: The plain function C{cls} has under C{name} (on Python 2 a
        class gives an unbound method).
    """
    value = getattr(cls, name)
    return getattr(value, "__func__", value)



class RenderAborted(Exception):
    """
    A render called C{loseConnection} on its (captured) request.
    """



class CaptureRequest(object):
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
    request; so are rendering failures (L{processingFailed}, and an error
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
        self.code = http.OK
        self.code_message = http.RESPONSES[http.OK]
        if responseHeaders is None:
            responseHeaders = http.Headers()
        self.responseHeaders = responseHeaders
        self.requestHeaders = RecordingHeaders(underlying.requestHeaders, self)
        self.body = []
        self.cookies = []
        self.lastModified = None
        self.etag = None
        self.headersRead = set()
        self.refusals = []
        self.finished = False
        self.startedWriting = False
        self._notifications = []
        self._failure = None
        self.producer = None
        self._producerStreaming = None


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


    # Reads that make a response personal

    def _readHeader(self, name):
        self.headersRead.add(_lowerBytes(name))


    def getHeader(self, key):
        self._readHeader(key)
        return self.requestHeaders._headers.getRawHeaders(key, [None])[-1]


    def getAllHeaders(self):
        self._readHeader(b"*")
        return self._underlying.getAllHeaders()


    def getCookie(self, key):
        self.refuse(b"cookie-read")
        return self._underlying.getCookie(key)


    @property
    def received_cookies(self):
        self.refuse(b"cookie-read")
        return self._underlying.received_cookies


    def getSession(self, *args, **kwargs):
        self.refuse(b"session")
        return self._underlying.getSession(*args, **kwargs)


    @property
    def session(self):
        self.refuse(b"session")
        return self._underlying.session


    def getClientIP(self):
        self.refuse(b"client-address")
        return self._underlying.getClientIP()


    def getClientAddress(self):
        self.refuse(b"client-address")
        return self._underlying.getClientAddress()


    @property
    def client(self):
        self.refuse(b"client-address")
        return self._underlying.client


    def getUser(self):
        self.refuse(b"authorization")
        return self._underlying.getUser()


    def getPassword(self):
        self.refuse(b"authorization")
        return self._underlying.getPassword()


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
        return _function(self._underlying.__class__, "URLPath")(self)


    def childLink(self, name):
        return _function(server.Request, "childLink")(self, name)


    def sibLink(self, name):
        return _function(server.Request, "sibLink")(self, name)


    def rememberRootURL(self, url=None):
        if url is None:
            url = self._prePathURL(self.prepath[:-1])
        self.appRootURL = url


    def getRootURL(self):
        return self.appRootURL


    # Components: the request's as the render started, and the render's own

    def __conform__(self, interface):
        if interface.providedBy(self._underlying):
            # The capture stands for the request.
            return self
        return self.getComponent(interface)


    @property
    def _adapterCache(self):
        cache = self.__dict__.get("_components")
        if cache is None:
            cache = dict(getattr(self._underlying, "_adapterCache", None) or {})
            self.__dict__["_components"] = cache
        return cache


    def getComponent(self, interface, default=None):
        """
        As L{Componentized.getComponent}, with the adapters registered for
        the request's class, made for the capture.
        """
        name = reflect.qual(interface)
        cache = self._adapterCache
        if name in cache:
            return cache[name]
        factory = components.getAdapterFactory(
            self._underlying.__class__, interface, None)
        if factory is None:
            return default
        adapter = factory(self)
        if adapter is None:
            return default
        if not getattr(adapter, "temporaryAdapter", False):
            cache[name] = adapter
        return adapter


    def setComponent(self, interfaceClass, component):
        self._adapterCache[reflect.qual(interfaceClass)] = component


    def addComponent(self, component, ignoreClass=0):
        for interface in providedBy(component):
            if ignoreClass or components.getAdapterFactory(
                    self._underlying.__class__, interface, None) == component.__class__:
                self.setComponent(interface, component)


    def unsetComponent(self, interfaceClass):
        del self._adapterCache[reflect.qual(interfaceClass)]


    def removeComponent(self, component):
        cache = self._adapterCache
        removed = []
        for name, value in list(cache.items()):
            if value is component:
                del cache[name]
                removed.append(name)
        return removed


    def setAdapter(self, interfaceClass, adapterClass):
        self.setComponent(interfaceClass, adapterClass(self))


    def addAdapter(self, adapterClass, ignoreClass=0):
        adapter = adapterClass(self)
        self.addComponent(adapter, ignoreClass)
        return adapter


    # The response

    def write(self, data):
        if self.finished:
            raise RuntimeError(
                "Request.write called on a request after Request.finish")
        if not isinstance(data, bytes):
            raise TypeError("Data must be bytes, not %r" % (type(data),))
        self.startedWriting = True
        if data:
            self.body.append(data)


    def writeSequence(self, data):
        for chunk in data:
            self.write(chunk)


    @property
    def sentLength(self):
        return sum(len(chunk) for chunk in self.body)


    def setHeader(self, name, value):
        self.responseHeaders.setRawHeaders(name, [value])


    def setResponseCode(self, code, message=None):
        if not isinstance(code, int):
            raise TypeError("HTTP response code must be int or long")
        self.code = code
        if message is None:
            message = http.RESPONSES.get(code, b"Unknown Status")
        if isinstance(message, textType):
            message = message.encode("ascii")
        self.code_message = message


    def redirect(self, url):
        self.setResponseCode(http.FOUND)
        self.setHeader(b"location", url)


    def addCookie(self, *args, **kwargs):
        self.cookies.append((args, kwargs))


    def setLastModified(self, when):
        """
        Record the validator.  Never C{http.CACHED}: the whole response is
        captured; the entry answers preconditions when replayed.
        """
        if self.lastModified is None or when > self.lastModified:
            self.lastModified = when
        return None


    def setETag(self, etag):
        """
        Record the validator.  Never C{http.CACHED}, as L{setLastModified}.
        """
        self.etag = etag
        return None


    def registerProducer(self, producer, streaming):
        """
        Take a producer's output as body.  A pull producer is pulled until
        it unregisters or the response is finished.
        """
        self.producer = producer
        self._producerStreaming = streaming
        if not streaming:
            while self.producer is producer and not self.finished:
                producer.resumeProducing()


    def unregisterProducer(self):
        self.producer = None


    @property
    def notifications(self):
        return self._notifications


    def notifyFinish(self):
        """
        @return: A L{Deferred} that fires with L{None} when the response is
            finished, or fails with the reason passed to
            L{processingFailed}.
        """
        d = defer.Deferred()
        if self._failure is not None:
            d.errback(self._failure)
        elif self.finished:
            d.callback(None)
        else:
            self._notifications.append(d)
        return d


    def finish(self):
        if self.finished:
            raise RuntimeError(
                "Request.finish called on a request after its connection "
                "was lost.")
        self.finished = True
        notifications, self._notifications[:] = self._notifications[:], []
        for d in notifications:
            d.callback(None)


    def processingFailed(self, reason):
        """
        The render gave up, as twisted.web code does with
        C{d.addErrback(request.processingFailed)}: instead of answering an
        error page on the real request, the capture ends and
        L{notifyFinish} fails with C{reason}, so that the render counts as
        failed and nothing is stored.

        @param reason: A L{Failure}.
        @return: C{reason}, as L{twisted.web.server.Request.processingFailed}
            does.
        """
        self.refuse(b"render-error")
        if self._failure is None and not self.finished:
            self._failure = reason
            self.finished = True
            notifications, self._notifications[:] = self._notifications[:], []
            for d in notifications:
                d.errback(reason)
        return reason


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


    # Twisted's PB view of a request (twisted.web.distrib), on the capture.

    def view_write(self, issuer, data):
        self.write(data)


    def view_finish(self, issuer):
        self.finish()


    def view_addCookie(self, issuer, k, v, **kwargs):
        self.addCookie(k, v, **kwargs)


    def view_setHeader(self, issuer, k, v):
        self.setHeader(k, v)


    def view_setLastModified(self, issuer, when):
        self.setLastModified(when)


    def view_setETag(self, issuer, tag):
        self.setETag(tag)


    def view_setResponseCode(self, issuer, code, message=None):
        self.setResponseCode(code, message)


    def view_registerProducer(self, issuer, producer, streaming):
        self.registerProducer(producer, streaming)


    def view_unregisterProducer(self, issuer):
        self.unregisterProducer()


    def value(self):
        """
        @return: The body written so far.
        @rtype: L{bytes}
        """
        return b"".join(self.body)


    def validators(self):
        """
        @return: C{(etag, lastModified)} as the page set them (with
            C{setETag}/C{setLastModified} or as headers), each L{None} if
            not.
        """
        etag = self.etag
        if etag is None:
            etag = self.responseHeaders.getRawHeaders(b"etag", [None])[-1]
        lastModified = self.lastModified
        if lastModified is None:
            header = self.responseHeaders.getRawHeaders(b"last-modified", [None])[-1]
            if header is not None:
                lastModified = parseHTTPDate(header)
        return etag, lastModified


    def storedHeaders(self):
        """
        @return: The response headers to store: all but hop-by-hop and
            per-response ones, as C{((name, (value, ...)), ...)} sorted by
            name.
        """
        out = []
        for name, values in self.responseHeaders.getAllRawHeaders():
            lower = name.lower()
            if lower not in HOP_BY_HOP:
                out.append((lower, tuple(values)))
        out.sort()
        return tuple(out)



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
