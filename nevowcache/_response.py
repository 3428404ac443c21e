# -*- test-case-name: tests.test_response -*-
"""
Capturing a render, deciding whether it may be shared, and replaying it.

Both adapters render a page against a L{CaptureRequest}: a proxy of the real
request (or of a snapshot of it, for background refreshes) that forwards
every read and records every part of the response.  What the proxy saw
decides whether the response may be stored (L{refusalOf}); L{replay} writes
a stored or captured response onto a live request.
"""

from __future__ import absolute_import, division

from twisted.internet import defer
from twisted.web import http, server
# Not through the module: current Twisted wraps it in a (slow) proxy.
from twisted.web.http import NOT_MODIFIED, OK, HTTPChannel, datetimeToString

from nevowcache._compat import (
    NAME_FORMS, hasAnyHeader, headerTable, intToBytes, nameForms, oneLine, remember,
    textType, wireName)
from nevowcache._footprint import footprint
from nevowcache._key import hostKey
from nevowcache._validators import NOT_MODIFIED_HEADERS, notModified, parseHTTPDate

__all__ = ["CacheEntry", "CaptureRequest", "refusalOf", "replay", "writeDirect",
           "HOP_BY_HOP"]

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
    A read-only view of request headers that records which names are read.
    """

    def __init__(self, headers, capture):
        self._headers = headers
        self._capture = capture


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


    def __getattr__(self, name):
        if name == "_rawHeaders":
            # Twisted's table itself would be read unrecorded: headerTable
            # answers None, and its callers use getRawHeaders.
            raise AttributeError(name)
        return getattr(self._headers, name)



# Attributes a CaptureRequest keeps for itself; everything else is the
# underlying request's.
_OWN = frozenset([
    "_underlying", "code", "code_message", "responseHeaders", "body",
    "cookies", "lastModified", "etag", "headersRead", "refusals",
    "finished", "startedWriting", "_notifications", "producer",
    "_producerStreaming", "requestHeaders", "_failure",
])



class CaptureRequest(object):
    """
    A request proxy that records the response instead of sending it.

    Reads go to the underlying request, except that reading a request
    header, a cookie, the session or the client's address is noted: those
    make a response personal.  Writes, status, headers, cookies and
    validators are recorded.

    @ivar refusals: Why the response may not be shared, in the order noticed
        (L{bytes} tokens such as C{b"session"}); see L{refusalOf} for the
        rest.
    @ivar headersRead: Lower-cased names of the request headers read.
    """

    def __init__(self, underlying, responseHeaders=None):
        d = self.__dict__
        d["_underlying"] = underlying
        d["code"] = http.OK
        d["code_message"] = http.RESPONSES[http.OK]
        if responseHeaders is None:
            responseHeaders = http.Headers()
        d["responseHeaders"] = responseHeaders
        d["requestHeaders"] = _RecordingHeaders(underlying.requestHeaders, self)
        d["body"] = []
        d["cookies"] = []
        d["lastModified"] = None
        d["etag"] = None
        d["headersRead"] = set()
        d["refusals"] = []
        d["finished"] = False
        d["startedWriting"] = False
        d["_notifications"] = []
        d["_failure"] = None
        d["producer"] = None
        d["_producerStreaming"] = None


    def __getattr__(self, name):
        return getattr(self._underlying, name)


    def __setattr__(self, name, value):
        if name in _OWN:
            self.__dict__[name] = value
        else:
            setattr(self._underlying, name, value)


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
        return self._underlying.getHeader(key)


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


    def getClientIP(self):
        self.refuse(b"client-address")
        return self._underlying.getClientIP()


    def getClientAddress(self):
        self.refuse(b"client-address")
        return self._underlying.getClientAddress()


    def getUser(self):
        self.refuse(b"authorization")
        return self._underlying.getUser()


    def getPassword(self):
        self.refuse(b"authorization")
        return self._underlying.getPassword()


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
        if self.lastModified is None or when > self.lastModified:
            self.lastModified = when


    def setETag(self, etag):
        self.etag = etag


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
    if capture.headersRead - allowed:
        return b"header-read-" + sorted(capture.headersRead - allowed)[0]
    if capture.producer is not None:
        return b"producer"
    return None



def replay(request, response, cacheStatus, age=None, cacheControl=None):
    """
    Put a stored (or captured) response on a live request.

    Status and headers are set, with the validators; if the request's
    preconditions match them (L{notModified}), the answer is C{304 Not
    Modified} with the headers RFC 9110 asks of one, and no body.

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
    headers.setRawHeaders(b"cache-status", [cacheStatus])
    if age is not None:
        headers.setRawHeaders(b"age", [intToBytes(int(age))])
    etag, lastModified = response.etag, response.lastModified
    if (response.code == OK and request.method in (b"GET", b"HEAD")
            and (etag is not None or lastModified is not None)
            and notModified(request, etag, lastModified)):
        request.setResponseCode(NOT_MODIFIED)
        for name, values in response.headers:
            if name in NOT_MODIFIED_HEADERS:
                headers.setRawHeaders(name, list(values))
        if etag is not None:
            headers.setRawHeaders(b"etag", [etag])
        elif lastModified is not None:
            headers.setRawHeaders(b"last-modified", [http.datetimeToString(lastModified)])
        if cacheControl is not None:
            headers.setRawHeaders(b"cache-control", [cacheControl])
        # Nevow sets a default Content-Type on every request.
        headers.removeHeader(b"content-type")
        return b""
    request.setResponseCode(response.code, response.message)
    for name, values in response.replayHeaders():
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
    if age is not None:
        lines.extend((b"Age: ", intToBytes(int(age)), b"\r\n"))
    if cacheControl is not None:
        lines.extend((b"Cache-Control: ", cacheControl, b"\r\n"))
    typed = b"content-type" in names
    for name, values in _rawTable(request.responseHeaders).items():
        wire, lower = NAME_FORMS.get(name) or nameForms(name)
        if lower in names or lower in own:
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
