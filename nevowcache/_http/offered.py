# -*- test-case-name: tests.test_capture -*-
"""
What a render sees of its request: how a L{nevowcache._http.capture.CaptureRequest}
offers each name of twisted.web's request (L{OFFERED}), and the stand-ins
it hands out for the request's parts: its headers (L{RecordingHeaders}),
its site (L{CaptureSite}) and its connection (L{Unwired}), each noting
the reads that make a response personal.
"""

from __future__ import absolute_import, division

__all__ = ["OFFERED", "CAPTURED", "KEYED", "COPIED", "UNSUPPORTED", "RecordingHeaders",
           "CaptureSite", "Unwired"]



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



class RecordingHeaders(object):
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



class CaptureSite(object):
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



class Unwired(object):
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
