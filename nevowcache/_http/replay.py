# -*- test-case-name: tests.test_direct -*-
"""
Writing a stored (or captured) response on a live request: L{replay}, which
sets its status and headers (answering preconditions with a C{304}), and
L{writeDirect}, which sends a fresh hit in one write; the C{Date} and
C{Age} of a response from an entry (L{generatedDate}).
"""

from __future__ import absolute_import, division

from time import time as _time
from weakref import ref

from twisted.web import http, server
# Not through the module: current Twisted wraps it in a (slow) proxy.
from twisted.web.http import NOT_MODIFIED, OK, HTTPChannel, datetimeToString

from nevowcache._compat import intToBytes
from nevowcache._http.headers import (
    NAME_FORMS, hasAnyHeader, headerTable, headerValues, nameForms, oneLine, spellingsOf)
from nevowcache._engine.memo import remember
from nevowcache._http.validators import NOT_MODIFIED_HEADERS, codedETag, dateSeconds, notModified

__all__ = ["generatedDate", "replay", "writeDirect"]



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
                contentType=None, wallClock=None):
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
    @param wallClock: As for L{replay}.
    @return: C{True} if the response was written, C{False} if nothing was
        done.
    """
    cls = request.__class__
    if (not (_directClasses.get(cls) or _writesAsTwisted(cls))
            or not isinstance(request.channel, HTTPChannel)
            or request.method != b"GET" or request.startedWriting or request.finished
            or request._disconnected or getattr(request, "_lostConnection", False)
            or request.cookies or request.etag is not None
            or request.lastModified is not None
            or getattr(request, "_encoder", None) is not None
            or getattr(request, "_inFakeHead", False)):
        return False
    # hasAnyHeader's and headerTable's, written here: the hit path.
    asked = getattr(request.requestHeaders, "_rawHeaders", None)
    if type(asked) is dict:
        if not _CONDITIONAL_NAMES.isdisjoint(asked):
            return False
    elif hasAnyHeader(request.requestHeaders, _CONDITIONAL):
        return False
    responseHeaders = request.responseHeaders
    table = getattr(responseHeaders, "_rawHeaders", None)
    if type(table) is not dict:
        table = _rawTable(responseHeaders)
    # Everything the head is made of, besides the entry and the headers the
    # request has so far.
    inputs = (status, None if age is None else int(age),
              int(_time() if wallClock is None else wallClock.seconds()), cacheControl,
              request.clientproto, leading, contentType,
              getattr(request, "defaultContentType", None))
    known = _heads.get(id(entry))
    if known is not None and known[0]() is entry and known[1] == inputs and known[2] == table:
        head = known[3]
    else:
        head = _directHead(request, entry, inputs, table)
        if head is None:
            return False
        if len(head) <= _MOST_HEAD_BYTES:
            remember(_heads, id(entry), (
                ref(entry), inputs, dict((name, list(values)) for name, values in table.items()),
                head), _MOST_HEADS)
    request.setResponseCode(entry.code, entry.message)
    request.startedWriting = 1
    request.sentLength = len(entry.body)
    request.channel.writeSequence([head, entry.body])
    return True

# The heads writeDirect wrote lately, by the entry's id (the entry itself
# held weakly), with what each was made of: a hit on an entry already sent
# in this second, to a request with the same headers so far, sends the
# same bytes without making them again.  Bounded: forgotten all at once
# when full, and never kept for a head longer than _MOST_HEAD_BYTES.
_heads = {}
_MOST_HEADS = 512
_MOST_HEAD_BYTES = 2048

_CONDITIONAL_NAMES = spellingsOf(_CONDITIONAL)



def _directHead(request, entry, inputs, table):
    """
    The status line and headers L{writeDirect} sends (up to the blank line
    after them), made from C{inputs} (its) and the headers C{table} the
    request has so far; or L{None} if they cannot be sent that way.
    """
    status, age, now, cacheControl, clientproto, leading, contentType, defaultType = inputs
    statusLine, block, names = entry.headerBlock()
    if cacheControl is not None and b"cache-control" in names:
        return None
    own = _CACHE_HEADERS if cacheControl is None else _CACHE_CONTROL
    # The status and Cache-Control values are the engine's own: one line.
    lines = [clientproto, statusLine, leading, b"Cache-Status: ", status, b"\r\n"]
    generated = date = None
    if age is not None:
        # Age, then the Date of when the entry was generated, not the
        # request's own (see generatedDate and replay).
        date, generated = _generatedAt(now, age)
        lines.extend((b"Age: ", intToBytes(age), b"\r\nDate: ", generated, b"\r\n"))
    if cacheControl is not None:
        lines.extend((b"Cache-Control: ", cacheControl, b"\r\n"))
    typed = b"content-type" in names
    lastModified = entry.lastModified
    if date is not None and lastModified is not None and lastModified > date:
        # Sent as the Date by replay.
        return None
    for name, values in table.items():
        wire, lower = NAME_FORMS.get(name) or nameForms(name)
        if lower == b"date":
            if generated is not None:
                continue
            if lastModified is not None:
                when = dateSeconds(values[-1])
                if when is None or lastModified > when:
                    # Sent as the Date by replay.
                    return None
        if lower in names:
            if lower == b"vary":
                # Given before the render: replay merges it.
                return None
            continue
        if lower in own:
            continue
        typed = typed or lower == b"content-type"
        for value in values:
            lines.extend((wire, b": ", value, b"\r\n"))
    if not typed and entry.body:
        # As twisted.web does: a default type, but not for an empty body.
        contentType = contentType or defaultType
        if contentType is not None:
            lines.extend((b"Content-Type: ", oneLine(contentType), b"\r\n"))
    lines.extend((block, b"\r\n"))
    return b"".join(lines)
