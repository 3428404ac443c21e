# -*- test-case-name: tests.test_capture -*-
"""
The storage rules: whether a captured response may be shared
(L{refusalOf}), from what the capture saw the render read and what the
response says of itself (status, cookies, C{Cache-Control}, C{Vary},
producers).
"""

from __future__ import absolute_import, division

from twisted.web import http

from nevowcache._compat import intToBytes
from nevowcache._http.host import hostKey

__all__ = ["refusalOf"]

# Request headers a render may read without making its output depend on
# anything the key does not hold: the Host is in the key.
_KEYED_HEADERS = frozenset([b"host"])

# Request headers a render may read because requests with them do not use
# the cache (PageCache.bypassReason): a render on a capture finds none
# (static.File reads Range).
_ABSENT_HEADERS = frozenset([b"range", b"upgrade"])



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
