# -*- test-case-name: tests.test_behaviour,tests.test_direct -*-
"""
What a lookup gives an adapter: an L{Answer}, a stored entry or the
request's own render, and the C{Cache-Status} to send with it.
"""

from __future__ import absolute_import, division

from nevowcache._engine.cachestatus import withForwardStatus
from nevowcache._http.entry import CacheEntry
from nevowcache._engine.entrywriter import negotiatedHeaders, withVary
from nevowcache._http.key import CacheKey
from nevowcache._http.direct import writeDirect
from nevowcache._http.replay import replay

__all__ = ["Answer"]



class Answer(object):
    """
    What to send for one request: a stored L{CacheEntry}, or the request's
    own captured render passed through.

    @ivar entry: The L{CacheEntry} to replay, or L{None}.
    @ivar capture: The L{CaptureRequest} to pass through, or L{None}.
    @ivar status: The C{Cache-Status} header value.
    @ivar age: Seconds since C{entry} was rendered, for C{Age}; or L{None}.
    @ivar cacheControl: A C{Cache-Control} value to send instead of the
        entry's, or L{None}.
    @ivar wallClock: What C{seconds()} is the time of day for the C{Date}
        sent with C{age} (the answering cache's, L{Clocks.wallClock}), or
        L{None} for the real time of day.
    """
    __slots__ = ("entry", "capture", "status", "age", "cacheControl", "wallClock")

    def __init__(self, entry=None, capture=None, status=b"", age=None,
                 cacheControl=None, wallClock=None):
        self.entry = entry
        self.capture = capture
        self.status = status
        self.age = age
        self.cacheControl = cacheControl
        self.wallClock = wallClock


    def replay(self, request):
        """
        Put this answer on the live request.

        @return: The body to send (L{bytes}; empty for a C{304}).
        """
        if self.entry is not None:
            return replay(request, self.entry, self.status, self.age, self.cacheControl,
                          self.wallClock)
        capture = self.capture
        for args, kwargs in capture.cookies:
            request.addCookie(*args, **kwargs)
        etag, lastModified = capture.validators()
        # In the form of a stored entry's (what entryFrom starts from).
        headers = capture.storedHeaders()
        negotiated = negotiatedHeaders(capture)
        if negotiated:
            headers = withVary(headers, negotiated)
        passed = CacheEntry(
            _PASSTHROUGH_KEY, capture.code, capture.code_message,
            headers, capture.value(), None,
            lastModified=lastModified, etag=etag)
        # With what the render answered (RFC 9211 section 2.3).
        return replay(request, passed, withForwardStatus(self.status, capture.code),
                      wallClock=self.wallClock)


    def respond(self, request, leading=b"", contentType=None):
        """
        Put this answer on the live request: straight to the connection
        when L{writeDirect} can, else replayed on the request.

        @param leading: As for L{writeDirect}.
        @param contentType: As for L{writeDirect}.
        @return: L{None} if the whole response was written (the caller only
            finishes the request); else the body for the caller to write,
            after the headers L{replay} set.
        """
        entry = self.entry
        if entry is not None and writeDirect(request, entry, self.status, self.age,
                                             self.cacheControl, leading, contentType,
                                             self.wallClock):
            return None
        return self.replay(request)


    def writeDirect(self, request, leading=b"", contentType=None):
        """
        Send this answer's stored entry straight to the connection, if
        L{nevowcache._http.direct.writeDirect} can (the caller then finishes
        the request); else do nothing.

        @return: Whether it was sent.
        """
        if self.entry is None:
            return False
        return writeDirect(request, self.entry, self.status, self.age,
                           self.cacheControl, leading, contentType, self.wallClock)



# The key of a passed-through render's entry: never stored.
_PASSTHROUGH_KEY = CacheKey(())
