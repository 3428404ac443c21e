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

__all__ = ["bodyETag", "notModified", "parseHTTPDate", "NOT_MODIFIED_HEADERS",
           "dateSeconds", "codedETag", "hasExplicitFreshness"]

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



# The last Date value dateSeconds parsed, and its seconds: a response's
# Date changes once a second.
_lastDate = [None, None]



def dateSeconds(value):
    """
    The seconds since the epoch of a C{Date} value, remembering the last
    one parsed (hits in one second share it).

    @param value: An HTTP date, L{bytes}.
    @return: An L{int}, or L{None} if C{value} is no HTTP date.
    """
    if value == _lastDate[0]:
        return _lastDate[1]
    seconds = parseHTTPDate(value)
    _lastDate[:] = [value, seconds]
    return seconds



def codedETag(etag, coding):
    """
    The entity tag of a content-coded representation (C{gzip} through
    C{EncodingResourceWrapper}) of a response whose tag is C{etag}: another
    tag, as RFC 9110 section 8.8.3 asks of another representation, derived
    from it (C{"abc"} coded with C{gzip} is C{"abc-gzip"}; a weak tag stays
    weak).

    @param etag: A quoted entity tag, L{bytes}.
    @param coding: The C{Content-Encoding} value, L{bytes}.
    @rtype: L{bytes}
    """
    suffix = b"-" + b"".join(
        c for c in (coding.lower()[i:i + 1] for i in range(len(coding)))
        if c.isalnum() or c in b".-_")
    if etag.endswith(b'"') and len(etag) >= 2:
        return etag[:-1] + suffix + b'"'
    return etag



# Cache-Control directives and headers that give a response an explicit
# freshness lifetime, or forbid reuse without revalidation.
_EXPLICIT = frozenset([b"max-age", b"s-maxage", b"no-cache", b"no-store"])



def hasExplicitFreshness(headers):
    """
    Whether stored response headers say how long the response is fresh
    (C{max-age}, C{s-maxage}, C{Expires}) or forbid reuse without asking
    (C{no-cache}, C{no-store}): if not, RFC 9111 section 4.2.2 lets caches
    downstream choose a lifetime of their own (heuristic freshness).

    @param headers: C{((name, (value, ...)), ...)}, lower-cased names.
    @rtype: L{bool}
    """
    for name, values in headers:
        if name == b"expires":
            return True
        if name == b"cache-control":
            for value in values:
                for part in value.split(b","):
                    if part.split(b"=", 1)[0].strip().lower() in _EXPLICIT:
                        return True
    return False



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
