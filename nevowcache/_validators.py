# -*- test-case-name: tests.test_behaviour -*-
"""
Validators and conditional requests (RFC 9110 section 8.8 and section 13).

Every stored entry has a strong C{ETag} and a C{Last-Modified}: the page's
own when it set them, else an C{ETag} derived from the body (stable while the
body does not change across refreshes) and the time the body last changed.
A hit whose validators match the request's C{If-None-Match} (weak
comparison, checked first) or C{If-Modified-Since} is answered
C{304 Not Modified} from the entry, without rendering.
"""

from __future__ import absolute_import, division

import hashlib

from twisted.web import http

__all__ = ["bodyETag", "notModified", "parseHTTPDate", "NOT_MODIFIED_HEADERS"]

# What a 304 carries of the stored headers (RFC 9110 section 15.4.5).
NOT_MODIFIED_HEADERS = frozenset([
    b"cache-control", b"content-location", b"expires", b"vary", b"etag",
])



def bodyETag(body):
    """
    @return: A strong entity tag derived from C{body}, quoted, L{bytes}.
    """
    return b'"' + hashlib.sha256(body).hexdigest()[:32].encode("ascii") + b'"'



def parseHTTPDate(value):
    """
    @return: Seconds since the epoch, or L{None} if C{value} is no HTTP
        date.
    """
    try:
        return http.stringToDatetime(value)
    except (ValueError, IndexError, KeyError, TypeError):
        return None



def _opaque(tag):
    """
    The opaque part of an entity tag, for weak comparison.
    """
    tag = tag.strip()
    if tag.startswith(b"W/"):
        tag = tag[2:]
    return tag



def notModified(request, etag, lastModified):
    """
    Evaluate a GET or HEAD request's preconditions against validators.

    @param etag: The response's entity tag (quoted L{bytes}) or L{None}.
    @param lastModified: The response's modification time (seconds since
        the epoch) or L{None}.
    @return: C{True} if the request may be answered C{304 Not Modified}.
    """
    ifNoneMatch = request.getHeader(b"if-none-match")
    if ifNoneMatch is not None:
        if ifNoneMatch.strip() == b"*":
            return True
        if etag is None:
            return False
        wanted = _opaque(etag)
        return any(_opaque(tag) == wanted for tag in ifNoneMatch.split(b","))
    ifModifiedSince = request.getHeader(b"if-modified-since")
    if ifModifiedSince is not None and lastModified is not None:
        since = parseHTTPDate(ifModifiedSince)
        return since is not None and int(lastModified) <= since
    return False
