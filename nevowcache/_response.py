# -*- test-case-name: tests.test_capture,tests.test_direct -*-
"""
Capturing a render, deciding whether it may be shared, and replaying it.

Both adapters render a page against a L{CaptureRequest}: a stand-in for
the real request (or for a snapshot of it, for background refreshes) that
offers what L{OFFERED} lists of twisted.web's request, notes the reads that
make a response personal, and records every part of the response: nothing a
render does reaches the live request.  What the capture saw decides whether
the response may be stored (L{refusalOf}); L{replay} writes a stored or
captured response onto a live request.
"""

from __future__ import absolute_import, division

import copy
from io import BytesIO
from time import time as _time

from twisted.internet import defer
from twisted.python import components, reflect
from twisted.python.failure import Failure
from twisted.web import http, server
from zope.interface import providedBy
# Not through the module: current Twisted wraps it in a (slow) proxy.
from twisted.web.http import NOT_MODIFIED, OK, HTTPChannel, datetimeToString

from nevowcache._compat import intToBytes, textType
from nevowcache._headers import (
    NAME_FORMS, hasAnyHeader, headerTable, headerValues, nameForms, oneLine, wireName)
from nevowcache._footprint import footprint
from nevowcache._key import hostKey
from nevowcache._memo import remember
from nevowcache._validators import (
    NOT_MODIFIED_HEADERS, codedETag, dateSeconds, notModified, parseHTTPDate)

__all__ = ["CacheEntry", "CaptureRequest", "OFFERED", "RenderAborted", "refusalOf",
           "replay", "writeDirect", "HOP_BY_HOP"]

# Response headers never stored: hop-by-hop headers, headers Twisted
# computes for each response, and the cache's own.
HOP_BY_HOP = frozenset([
    b"connection", b"keep-alive", b"transfer-encoding", b"te", b"trailer",
    b"upgrade", b"proxy-authenticate", b"proxy-authorization",
    b"content-length", b"date", b"server", b"age", b"cache-status",
    # Kept apart, in CacheEntry.etag and .lastModified.
    b"etag", b"last-modified",
])

# Request headers a render may read without making its output depend on
# anything the key does not hold: the Host is in the key.
_KEYED_HEADERS = frozenset([b"host"])

# Request headers a render may read because requests with them do not use
# the cache (PageCache.bypassReason): a render on a capture finds none
# (static.File reads Range).
_ABSENT_HEADERS = frozenset([b"range", b"upgrade"])



def _lowerBytes(name):
    if isinstance(name, textType):
        name = name.encode("ascii", "replace")
    return name.lower()



class CacheEntry(object):
    """
    One stored response.

    @ivar key: The L{CacheKey} it was stored under; stores check it on read.
    @ivar code: The status code (always 200 for stored entries).
    @ivar message: The reason phrase, L{bytes}.
    @ivar headers: A L{tuple} of C{(name, (value, ...))}, L{bytes}.
    @ivar body: The body, L{bytes}.
    @ivar created: When the render finished, in the cache's clock seconds.
    @ivar generation: The invalidation generation the render started under.
    @ivar lastModified: When the body last changed (seconds since the
        epoch), or L{None}.
    @ivar etag: The entity tag, quoted L{bytes}, or L{None}.
    """
    __slots__ = ("key", "code", "message", "headers", "body", "created",
                 "generation", "lastModified", "etag", "_size", "_headerBlock")

    def __init__(self, key, code, message, headers, body, created,
                 generation=None, lastModified=None, etag=None):
        self.key = key
        self.code = code
        self.message = message
        self.headers = headers
        self.body = body
        self.created = created
        self.generation = generation
        self.lastModified = lastModified
        self.etag = etag
        self._headerBlock = None
        self._size = None


    @property
    def size(self):
        """
        The bytes this entry holds in this process's memory: itself, its
        key, body, headers, validators and stamp, as the allocator counts
        them (L{footprint}), with the header block L{writeDirect} sends
        (made now if not yet: the first hit would).  Measured once, when
        first asked: a L{MemoryStore} asks when it stores the entry, off
        the hit path.
        """
        if self._size is None:
            self.headerBlock()
            size = footprint(self)
            self._size = size + footprint(size)
        return self._size


    def __repr__(self):
        # Not measured for a repr: only if a store measured it.
        size = "?" if self._size is None else "%d" % (self._size,)
        return "<CacheEntry %r %d, %s bytes>" % (self.key, self.code, size)


    def replayHeaders(self):
        """
        The headers a full (not C{304}) replay sets: the stored ones, the
        validators and C{Content-Length}.  Made anew for each call, not kept:
        hits are written with L{headerBlock}, made from these once, and the
        replays that need these are the few requests L{writeDirect} leaves
        (C{HEAD}, conditional, encoded).

        @return: A L{list} of C{(name, [value, ...])}, L{bytes}.
        """
        # Lists: Twisted before 21 takes nothing else (and copies them).
        headers = [(name, list(values)) for name, values in self.headers]
        if self.etag is not None:
            headers.append((b"etag", [self.etag]))
        if self.lastModified is not None:
            headers.append((b"last-modified", [datetimeToString(self.lastModified)]))
        headers.append((b"content-length", [intToBytes(len(self.body))]))
        return headers


    def headerBlock(self):
        """
        The status line's end and the headers of a full replay
        (L{replayHeaders}) as they go on the wire, formatted once per
        entry for L{writeDirect}.

        @return: C{(status, block, names)}: C{b" 200 OK\\r\\n"}, the
            header lines (L{bytes}, each ending in CRLF), and the lower-cased
            names they set (a L{frozenset}).
        """
        if self._headerBlock is None:
            lines = []
            names = set()
            for name, values in self.replayHeaders():
                names.add(name.lower())
                written = wireName(name)
                for value in values:
                    lines.append(written + b": " + oneLine(value) + b"\r\n")
            self._headerBlock = (
                b" " + intToBytes(self.code) + b" " + oneLine(self.message) + b"\r\n",
                b"".join(lines), frozenset(names))
        return self._headerBlock



class _RecordingHeaders(object):
    """
    A view of request headers that records which names are read.  A render
    that changes them changes a copy: the request's own stay as they came.
    """

    def __init__(self, headers, capture):
        self._headers = headers
        self._capture = capture
        self._copied = False


    def getRawHeaders(self, name, default=None):
        self._capture._readHeader(name)
        return self._headers.getRawHeaders(name, default)


    def hasHeader(self, name):
        self._capture._readHeader(name)
        return self._headers.hasHeader(name)


    def getAllRawHeaders(self):
        self._capture._readHeader(b"*")
        return self._headers.getAllRawHeaders()


    def copy(self):
        self._capture._readHeader(b"*")
        return self._headers.copy()


    def _own(self):
        if not self._copied:
            self._headers = self._headers.copy()
            self._copied = True
        return self._headers


    def setRawHeaders(self, name, values):
        self._own().setRawHeaders(name, values)


    def addRawHeader(self, name, value):
        self._own().addRawHeader(name, value)


    def removeHeader(self, name):
        self._own().removeHeader(name)


    def __getattr__(self, name):
        if name == "_rawHeaders":
            # Twisted's table itself would be read unrecorded: headerTable
            # answers None, and its callers use getRawHeaders.
            raise AttributeError(name)
        return getattr(self._headers, name)



# How a CaptureRequest offers each public name of twisted.web's Request
# (http.Request and server.Request, on Twisted 20.3 and current Twisted):
# nothing else is offered, so that nothing a render does reaches the live
# request (tests.test_capture checks the list against Twisted's).
#
# - CAPTURED: implemented by the capture: it records the response, and notes
#   (CaptureRequest.refuse) the reads that reveal what the key does not hold.
# - KEYED: the request's own value, read as is: what the key holds (method,
#   URI, scheme, host, port), or the site's configuration.
# - COPIED: a copy of the request's, taken when first read: the render may
#   change it (traversal moves prepath and postpath) without changing the
#   live request's.
# - UNSUPPORTED: the request's machinery (parsing, connection, PB copying),
#   which no render may use on a capture: reading the name refuses storage
#   (detail=unsupported-NAME), calling it raises.
CAPTURED = "captured"
KEYED = "keyed"
COPIED = "copied"
UNSUPPORTED = "unsupported"

OFFERED = {}
for _kind, _names in [
        (CAPTURED, """
            write writeSequence finish finished startedWriting sentLength
            notifyFinish notifications processingFailed render loseConnection
            setResponseCode code code_message setHeader responseHeaders
            redirect addCookie cookies setLastModified lastModified setETag
            etag registerProducer unregisterProducer producer
            requestHeaders getHeader getAllHeaders getCookie received_cookies
            getSession session getClientIP getClientAddress client getUser
            getPassword channel transport site content queued chunked
            prePathURL URLPath childLink sibLink getRootURL rememberRootURL
            getComponent setComponent addComponent unsetComponent
            removeComponent setAdapter addAdapter
            view_write view_finish view_addCookie view_setHeader
            view_setResponseCode view_setLastModified view_setETag
            view_registerProducer view_unregisterProducer"""),
        (KEYED, """
            method uri path clientproto isSecure getRequestHostname getHost
            host defaultContentType appRootURL locateAdapterClass
            persistenceVersion"""),
        (COPIED, "args prepath postpath sitepath"),
        (UNSUPPORTED, """
            process requestReceived gotLength handleContentChunk
            parseCookies connectionLost noLongerQueued setHost
            getStateFor getStateToCopy getStateToCopyFor getTypeToCopy
            getTypeToCopyFor jellyFor processUniqueID""")]:
    for _name in _names.split():
        OFFERED[_name] = _kind
del _kind, _names, _name



def _function(cls, name):
    """
    @return: The plain function C{cls} has under C{name} (on Python 2 a
        class gives an unbound method).
    """
    value = getattr(cls, name)
    return getattr(value, "__func__", value)



class _CaptureSite(object):
    """
    The site, as a capture offers it: the request's site, except that
    reading C{displayTracebacks} notes a rendering failure.

    twisted.web reads C{displayTracebacks} only to render an error for the
    request whose site it is: L{twisted.web.template.renderElement}, whose
    answer to a failed flattening is a C{200} with an error C{<div>} (or
    Twisted's traceback page), and L{twisted.web.server.Request.
    processingFailed}.  So does Klein, through them.  A render that asked
    is an error page, never stored (C{detail=render-error}).
    """

    def __init__(self, site, capture):
        self.__dict__["_site"] = site
        self.__dict__["_capture"] = capture


    @property
    def displayTracebacks(self):
        self._capture.refuse(b"render-error")
        return self._site.displayTracebacks


    def __getattr__(self, name):
        return getattr(self._site, name)


    def __setattr__(self, name, value):
        setattr(self._site, name, value)



class _Unwired(object):
    """
    A capture's C{channel} and C{transport}: the addresses, but no way to the
    live connection.  A render that needs the connection itself (to write
    on it, to take it over) cannot be captured: the attribute it asks for is
    missing, and the render fails (never stored).
    """

    def __init__(self, capture, what):
        self._capture = capture
        self._what = what


    def getPeer(self):
        self._capture.refuse(b"client-address")
        return self._capture._underlying.getClientAddress()


    def getHost(self):
        return self._capture._underlying.getHost()


    def isSecure(self):
        return self._capture._underlying.isSecure()


    @property
    def site(self):
        return self._capture.site


    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        self._capture.refuse(b"unsupported-" + self._what)
        raise AttributeError(
            "%s of a cached render has no %r: a render that uses its request's "
            "connection cannot be cached (leave it out of the cache, or send "
            "such requests around it)" % (self._what.decode("ascii"), name))



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
    # nevowcache._nevowpage).
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
        self.requestHeaders = _RecordingHeaders(underlying.requestHeaders, self)
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
            "nevowcache._response.OFFERED (twisted.web's request) or set on "
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
        return _Unwired(self, b"channel")


    @property
    def transport(self):
        return _Unwired(self, b"transport")


    @property
    def site(self):
        site = self.__dict__.get("_site")
        if site is None:
            site = getattr(self._underlying, "site", None)
            if site is not None:
                site = self.__dict__["_site"] = _CaptureSite(site, self)
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
            body = resource.render(self)
            if body is server.NOT_DONE_YET:
                return
            if not isinstance(body, bytes):
                raise TypeError("%r rendered %r, not bytes or NOT_DONE_YET"
                                % (resource, body))
            self.write(body)
            self.finish()
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



def _tokens(values):
    """
    Split comma-separated header values into lower-cased directive names.
    """
    names = []
    for value in values:
        for part in value.split(b","):
            name = part.split(b"=", 1)[0].strip().lower()
            if name:
                names.append(name)
    return names



def _hostAsKeyed(capture):
    """
    Whether the request's raw C{Host} header, as a render reading it sees
    it, is exactly what the key holds: lower-case, without a port.
    """
    values = capture._underlying.requestHeaders.getRawHeaders(b"host")
    if values is None:
        return True
    return len(values) == 1 and hostKey(values[0]) == values[0]



def refusalOf(capture, vary=()):
    """
    Decide whether a captured response may be shared.

    @param capture: A finished L{CaptureRequest}.
    @param vary: The lower-cased request header names (L{bytes}) the page
        declared in C{cacheVary}; they are in the key, so reading them is
        allowed.
    @return: L{None} if the response may be stored, else a short reason
        (L{bytes}).
    """
    if capture.refusals:
        return capture.refusals[0]
    if capture.code != http.OK:
        return b"status-" + intToBytes(capture.code)
    if (capture.cookies or capture.responseHeaders.hasHeader(b"set-cookie")
            or capture.responseHeaders.hasHeader(b"set-cookie2")):
        return b"set-cookie"
    directives = _tokens(capture.responseHeaders.getRawHeaders(b"cache-control", []))
    for name in (b"no-store", b"private", b"no-cache"):
        if name in directives:
            return b"cache-control-" + name
    varied = _tokens(capture.responseHeaders.getRawHeaders(b"vary", []))
    if b"*" in varied:
        return b"vary-star"
    allowed = set(vary) | _KEYED_HEADERS
    if set(varied) - allowed:
        return b"vary-undeclared"
    if b"host" not in vary and not _hostAsKeyed(capture):
        # The render read the raw Host header, and it says more than the
        # key holds (a port, upper case): another Host would share it.
        allowed.discard(b"host")
    read = capture.headersRead - allowed - _ABSENT_HEADERS
    if read:
        return b"header-read-" + sorted(read)[0]
    if capture.producer is not None:
        return b"producer"
    return None



def _dateOf(headers):
    """
    The seconds of the C{Date} a response has been given so far, or of now.
    """
    values = headerValues(headers, b"date")
    when = dateSeconds(values[-1]) if values else None
    if when is None:
        when = int(_time())
    return when



def _mergedVary(headers, values):
    """
    The C{Vary} of a replay: the stored one, after whatever the live
    request was given before the page rendered (by a parent, say), without
    repeats.
    """
    before = headerValues(headers, b"vary")
    if not before:
        return list(values)
    names, seen = [], set()
    for value in list(before) + list(values):
        for name in value.split(b","):
            name = name.strip()
            if name and name.lower() not in seen:
                seen.add(name.lower())
                names.append(name)
    return [b", ".join(names)]



# Date values by their seconds: the seconds entries were generated in
# lately.
_DATES = {}



def generatedDate(age):
    """
    The C{Date} of a response from an entry C{age} seconds old: when it was
    generated (RFC 9110 section 6.6.1), as a cache sends a stored response's
    C{Date} with its C{Age} (RFC 9111 section 5.1), so that C{Date} plus
    C{Age} is now.

    @return: C{(seconds, value)}: an L{int} and the header value, L{bytes}.
    """
    seconds = int(_time()) - int(age)
    return seconds, _DATES.get(seconds) or _dateValue(seconds)



def _dateValue(seconds):
    """
    @return: The C{Date} value of C{seconds}, kept in L{_DATES}.
    """
    return remember(_DATES, seconds, datetimeToString(seconds), 4096)



def _setAge(headers, age):
    """
    Set C{Age}, and the C{Date} of when the entry was generated
    (L{generatedDate}), after it: some readers (REDbot's httplint) take a
    C{Date} read before the C{Age} for the time of sending.
    """
    headers.setRawHeaders(b"age", [intToBytes(int(age))])
    headers.removeHeader(b"date")
    headers.setRawHeaders(b"date", [generatedDate(age)[1]])



def replay(request, response, cacheStatus, age=None, cacheControl=None):
    """
    Put a stored (or captured) response on a live request.

    Status and headers are set, with the validators; if the request's
    preconditions match them (L{notModified}), the answer is C{304 Not
    Modified} with the headers RFC 9110 asks of one, and no body.

    What reaches the client describes the representation it gets: content
    coded by twisted.web's C{EncodingResourceWrapper} (the request has an
    encoder) has an entity tag of its own (L{codedETag}), and preconditions
    are evaluated against it; a C{304} has no C{Content-Encoding}.  A
    C{Last-Modified} is never later than the response's C{Date} (RFC 9110
    section 8.8.2.1): it is sent as that C{Date} then.  A C{Vary} the live
    request was given before the render is kept, with the stored one.

    @param request: The live L{twisted.web.server.Request}.
    @param response: A L{CacheEntry}.
    @param cacheStatus: The C{Cache-Status} header value, L{bytes}.
    @param age: Seconds since the entry was rendered, or L{None} to send no
        C{Age}.
    @param cacheControl: A C{Cache-Control} value replacing the entry's, or
        L{None}.
    @return: The body to send: L{bytes}, empty for a C{304}.
    """
    headers = request.responseHeaders
    etag, lastModified = response.etag, response.lastModified
    if etag is not None and getattr(request, "_encoder", None) is not None:
        coding = headers.getRawHeaders(b"content-encoding")
        if coding:
            etag = codedETag(etag, coding[-1])
    if (response.code == OK and request.method in (b"GET", b"HEAD")
            and (etag is not None or lastModified is not None)
            and notModified(request, etag, lastModified)):
        if b"fwd=" in cacheStatus:
            # Forwarded, and answered 304 from the render's 200.
            cacheStatus += b"; fwd-status=" + intToBytes(response.code)
        headers.setRawHeaders(b"cache-status", [cacheStatus])
        if age is not None:
            _setAge(headers, age)
        request.setResponseCode(NOT_MODIFIED)
        for name, values in response.headers:
            if name in NOT_MODIFIED_HEADERS:
                if name == b"vary":
                    values = _mergedVary(headers, values)
                headers.setRawHeaders(name, list(values))
        if etag is not None:
            headers.setRawHeaders(b"etag", [etag])
        elif lastModified is not None:
            lastModified = min(int(lastModified), _dateOf(headers))
            headers.setRawHeaders(b"last-modified", [http.datetimeToString(lastModified)])
        if cacheControl is not None:
            headers.setRawHeaders(b"cache-control", [cacheControl])
        # Nevow sets a default Content-Type on every request; an encoder,
        # its Content-Encoding.  A 304 describes no content.
        headers.removeHeader(b"content-type")
        if getattr(request, "_encoder", None) is not None:
            headers.removeHeader(b"content-encoding")
            # Its finish() would write a gzip trailer as the 304's body.
            request._encoder = None
        return b""
    headers.setRawHeaders(b"cache-status", [cacheStatus])
    if age is not None:
        _setAge(headers, age)
    request.setResponseCode(response.code, response.message)
    for name, values in response.replayHeaders():
        if name == b"vary":
            values = _mergedVary(headers, values)
        elif name == b"last-modified":
            date = _dateOf(headers)
            if response.lastModified > date:
                values = [http.datetimeToString(date)]
        elif name == b"etag":
            values = [etag]
        headers.setRawHeaders(name, values)
    if cacheControl is not None:
        headers.setRawHeaders(b"cache-control", [cacheControl])
    return response.body



def _writeOf(cls):
    write = cls.write
    return getattr(write, "__func__", write)

# The first writes whose effect writeDirect reproduces (NevowRequest and
# twisted.web's Request do not override them).
_KNOWN_WRITES = frozenset([_writeOf(server.Request), _writeOf(http.Request)])

# Request classes, by whether they write as twisted.web does.
_directClasses = {}



def _writesAsTwisted(cls):
    known = _directClasses.get(cls)
    if known is None:
        known = remember(_directClasses, cls, _writeOf(cls) in _KNOWN_WRITES, 256)
    return known



def _rawTable(headers):
    """
    The headers set on a request so far, as a L{dict} of their names as
    Twisted's L{Headers} holds them to their values: its own table
    (L{headerTable}), else one made through C{getAllRawHeaders}.
    """
    table = headerTable(headers)
    return dict(headers.getAllRawHeaders()) if table is None else table



# Preconditions are answered by replay (a 304 is not a full replay).
_CONDITIONAL = (b"if-none-match", b"if-modified-since")

# What writeDirect sends in place of the request's own.
_CACHE_HEADERS = frozenset([b"cache-status", b"age"])
_CACHE_CONTROL = frozenset([b"cache-status", b"age", b"cache-control"])



def writeDirect(request, entry, status, age=None, cacheControl=None, leading=b"",
                contentType=None):
    """
    Send a stored response in full on a live request's HTTP/1.x connection,
    in one write: the status line, the headers the request already has
    (C{Server}, C{Date}, whatever traversal set), C{leading}, C{Cache-Status},
    C{Age}, C{Cache-Control}, the entry's header block (formatted once per
    entry: L{CacheEntry.headerBlock}), then the body.

    The bytes are what L{replay} followed by C{request.write} sends;
    without building, sanitizing and serializing the entry's headers again
    for every hit, which is most of a hit's cost on Twisted 20.3.  It does
    so only when nothing else could change the response: a C{GET} without
    preconditions, on a plain C{HTTPChannel} (not HTTP/2), with nothing
    written yet, no cookie, encoder (C{EncodingResourceWrapper}), C{etag}
    or C{lastModified} set on the request, not a C{HEAD} that twisted.web
    renders as a C{GET} (C{_inFakeHead}), from a request class whose
    C{write} is twisted.web's own.  Otherwise it does nothing, and the
    caller replays as usual.

    The caller finishes the request.  The cache's headers go on the wire,
    not in C{request.responseHeaders}.

    @param request: The live L{twisted.web.server.Request}.
    @param entry: The L{CacheEntry} to send.
    @param status: The C{Cache-Status} value.
    @param age: Seconds since the entry was rendered, or L{None}.
    @param cacheControl: A C{Cache-Control} value replacing the entry's, or
        L{None}.
    @param leading: Header lines (L{bytes}, each ending in CRLF) the caller
        vouches for, sent first; their names must not be in the request's
        headers.
    @param contentType: The C{Content-Type} to send if neither the entry
        nor the request has one; L{None} for the request's
        C{defaultContentType}.
    @return: C{True} if the response was written, C{False} if nothing was
        done.
    """
    if (not _writesAsTwisted(request.__class__)
            or not isinstance(request.channel, HTTPChannel)
            or request.method != b"GET" or request.startedWriting or request.finished
            or request._disconnected or getattr(request, "_lostConnection", False)
            or request.cookies or request.etag is not None
            or request.lastModified is not None
            or getattr(request, "_encoder", None) is not None
            or getattr(request, "_inFakeHead", False)):
        return False
    if hasAnyHeader(request.requestHeaders, _CONDITIONAL):
        return False
    statusLine, block, names = entry.headerBlock()
    if cacheControl is not None and b"cache-control" in names:
        return False
    own = _CACHE_HEADERS if cacheControl is None else _CACHE_CONTROL
    # The status and Cache-Control values are the engine's own: one line.
    lines = [request.clientproto, statusLine, leading, b"Cache-Status: ", status, b"\r\n"]
    generated = date = None
    if age is not None:
        # Age, then the Date of when the entry was generated, not the
        # request's own (see generatedDate and replay).
        age = int(age)
        date = int(_time()) - age
        generated = _DATES.get(date) or _dateValue(date)
        lines.extend((b"Age: ", intToBytes(age), b"\r\nDate: ", generated, b"\r\n"))
    if cacheControl is not None:
        lines.extend((b"Cache-Control: ", cacheControl, b"\r\n"))
    typed = b"content-type" in names
    lastModified = entry.lastModified
    if date is not None and lastModified is not None and lastModified > date:
        # Sent as the Date by replay.
        return False
    for name, values in _rawTable(request.responseHeaders).items():
        wire, lower = NAME_FORMS.get(name) or nameForms(name)
        if lower == b"date":
            if generated is not None:
                continue
            if lastModified is not None:
                when = dateSeconds(values[-1])
                if when is None or lastModified > when:
                    # Sent as the Date by replay.
                    return False
        if lower in names:
            if lower == b"vary":
                # Given before the render: replay merges it.
                return False
            continue
        if lower in own:
            continue
        typed = typed or lower == b"content-type"
        for value in values:
            lines.extend((wire, b": ", value, b"\r\n"))
    if not typed and entry.body:
        # As twisted.web does: a default type, but not for an empty body.
        contentType = contentType or getattr(request, "defaultContentType", None)
        if contentType is not None:
            lines.extend((b"Content-Type: ", oneLine(contentType), b"\r\n"))
    lines.extend((block, b"\r\n"))
    request.setResponseCode(entry.code, entry.message)
    request.startedWriting = 1
    request.sentLength = len(entry.body)
    request.channel.writeSequence([b"".join(lines), entry.body])
    return True
