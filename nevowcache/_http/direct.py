# -*- test-case-name: tests.test_direct -*-
"""
Sending a fresh hit in one write (L{writeDirect}): the status line, the
headers and the body of a stored entry, straight to the connection, with
the bytes L{nevowcache._http.replay.replay} followed by C{request.write}
would send.  The head of each entry sent lately is remembered for the
second it was sent in (C{_heads}).
"""

from __future__ import absolute_import, division

from time import time as _time
from weakref import ref

from twisted.web import http, server
# Not through the module: current Twisted wraps it in a (slow) proxy.
from twisted.web.http import HTTPChannel

from nevowcache._compat import intToBytes
from nevowcache._engine.memo import remember
from nevowcache._http.headers import (
    NAME_FORMS, hasAnyHeader, headerTable, nameForms, oneLine, spellingsOf)
from nevowcache._http.replay import _generatedAt
from nevowcache._http.validators import dateSeconds

__all__ = ["writeDirect"]



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
    if (known is not None and known[0]() is entry and known[1] == inputs
            and known[2] == table and known[3] == tuple(table)):
        # The same headers, set in the same order (the head's).
        head = known[4]
    else:
        head = _directHead(entry, inputs, table)
        if head is None:
            return False
        if len(head) <= _MOST_HEAD_BYTES:
            remember(_heads, id(entry), (
                ref(entry), inputs, dict((name, list(values)) for name, values in table.items()),
                tuple(table), head), _MOST_HEADS)
    request.setResponseCode(entry.code, entry.message)
    request.startedWriting = 1
    request.sentLength = len(entry.body)
    request.channel.writeSequence([head, entry.body])
    return True

# The heads writeDirect wrote lately, by the entry's id (the entry itself
# held weakly), with what each was made of: a hit on an entry already sent
# in this second, to a request with the same headers so far (in the same
# order), sends the same bytes without making them again.  Bounded: forgotten all at once
# when full, and never kept for a head longer than _MOST_HEAD_BYTES.
_heads = {}
_MOST_HEADS = 512
_MOST_HEAD_BYTES = 2048

_CONDITIONAL_NAMES = spellingsOf(_CONDITIONAL)



def _directHead(entry, inputs, table):
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
