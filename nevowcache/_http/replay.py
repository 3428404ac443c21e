# -*- test-case-name: tests.test_direct -*-
"""
Writing a stored (or captured) response on a live request: L{replay}, which
sets its status and headers (answering preconditions with a C{304}); the
C{Date} and C{Age} of a response from an entry (L{generatedDate}).  A fresh
hit is sent in one write by L{nevowcache._http.direct.writeDirect} instead,
when it can be.
"""

from __future__ import absolute_import, division

from time import time as _time

from twisted.web import http
# Not through the module: current Twisted wraps it in a (slow) proxy.
from twisted.web.http import NOT_MODIFIED, OK, datetimeToString

from nevowcache._compat import intToBytes
from nevowcache._http.headers import headerValues
from nevowcache._engine.memo import remember
from nevowcache._http.validators import NOT_MODIFIED_HEADERS, codedETag, dateSeconds, notModified

__all__ = ["generatedDate", "replay"]



def _dateOf(headers, wallClock=None):
    """
    The seconds of the C{Date} a response has been given so far, or of now.

    @param wallClock: What C{seconds()} is the time of day, or L{None} for
        the real one (L{_now}).
    """
    values = headerValues(headers, b"date")
    when = dateSeconds(values[-1]) if values else None
    if when is None:
        when = _now(wallClock)
    return when



def _now(wallClock):
    """
    @param wallClock: What C{seconds()} is the time of day (the answering
        cache's, L{nevowcache._engine.clocks.Clocks.wallClock}), or L{None}
        for the real time of day.
    @return: The whole seconds of now, by C{wallClock}.
    """
    return int(_time() if wallClock is None else wallClock.seconds())



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



def generatedDate(age, wallClock=None):
    """
    The C{Date} of a response from an entry C{age} seconds old: when it was
    generated (RFC 9110 section 6.6.1), as a cache sends a stored response's
    C{Date} with its C{Age} (RFC 9111 section 5.1), so that C{Date} plus
    C{Age} is now.

    @param wallClock: What C{seconds()} tells now: the answering cache's
        wall clock (L{nevowcache._engine.clocks.Clocks.wallClock}), or
        L{None} for the real time of day.
    @return: C{(seconds, value)}: an L{int} and the header value, L{bytes}.
    """
    return _generatedAt(_now(wallClock), int(age))



def _generatedAt(now, age):
    """
    L{generatedDate}'s answer for C{now}, whole seconds of the time of day,
    and C{age}, whole seconds.
    """
    seconds = now - age
    return seconds, _DATES.get(seconds) or _dateValue(seconds)



def _dateValue(seconds):
    """
    @return: The C{Date} value of C{seconds}, kept in L{_DATES}.
    """
    return remember(_DATES, seconds, datetimeToString(seconds), 4096)



def _setAge(headers, age, wallClock):
    """
    Set C{Age}, and the C{Date} of when the entry was generated
    (L{generatedDate}), after it: some readers (REDbot's httplint) take a
    C{Date} read before the C{Age} for the time of sending.
    """
    headers.setRawHeaders(b"age", [intToBytes(int(age))])
    headers.removeHeader(b"date")
    headers.setRawHeaders(b"date", [generatedDate(age, wallClock)[1]])



def replay(request, response, cacheStatus, age=None, cacheControl=None, wallClock=None):
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
    @param wallClock: What C{seconds()} is the time of day for the C{Date}
        (L{generatedDate}): the answering cache's wall clock, or L{None} for
        the real one.
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
            _setAge(headers, age, wallClock)
        request.setResponseCode(NOT_MODIFIED)
        for name, values in response.headers:
            if name in NOT_MODIFIED_HEADERS:
                if name == b"vary":
                    values = _mergedVary(headers, values)
                headers.setRawHeaders(name, list(values))
        if etag is not None:
            headers.setRawHeaders(b"etag", [etag])
        elif lastModified is not None:
            lastModified = min(int(lastModified), _dateOf(headers, wallClock))
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
        _setAge(headers, age, wallClock)
    request.setResponseCode(response.code, response.message)
    for name, values in response.replayHeaders():
        if name == b"vary":
            values = _mergedVary(headers, values)
        elif name == b"last-modified":
            date = _dateOf(headers, wallClock)
            if response.lastModified > date:
                values = [http.datetimeToString(date)]
        elif name == b"etag":
            values = [etag]
        headers.setRawHeaders(name, values)
    if cacheControl is not None:
        headers.setRawHeaders(b"cache-control", [cacheControl])
    return response.body
