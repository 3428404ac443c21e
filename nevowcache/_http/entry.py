# -*- test-case-name: tests.test_direct -*-
"""
L{CacheEntry}: one stored response, and the response headers no entry
stores (L{HOP_BY_HOP}).
"""

from __future__ import absolute_import, division

# Not through the module: current Twisted wraps it in a (slow) proxy.
from twisted.web.http import datetimeToString

from nevowcache._compat import intToBytes
from nevowcache._stores.footprint import footprint
from nevowcache._http.headers import oneLine, wireName

__all__ = ["CacheEntry", "HOP_BY_HOP"]

# Response headers never stored: hop-by-hop headers, headers Twisted
# computes for each response, and the cache's own.
HOP_BY_HOP = frozenset([
    b"connection", b"keep-alive", b"transfer-encoding", b"te", b"trailer",
    b"upgrade", b"proxy-authenticate", b"proxy-authorization",
    b"content-length", b"date", b"server", b"age", b"cache-status",
    # Kept apart, in CacheEntry.etag and .lastModified.
    b"etag", b"last-modified",
])



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
                 "generation", "lastModified", "etag", "_size", "_headerBlock",
                 "__weakref__")

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
        them (L{footprint}), with the header block L{nevowcache._http.direct.writeDirect} sends
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
        replays that need these are the few requests L{nevowcache._http.direct.writeDirect} leaves
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
        entry for L{nevowcache._http.direct.writeDirect}.

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
