# -*- test-case-name: tests.test_sharedwire,tests.test_sentinel -*-
"""
L{ReplyReader}: Redis's replies (RESP, version 2) read off a byte stream,
as a L{RedisStore}'s connection reads them.
"""

from __future__ import absolute_import, division

__all__ = ["ProtocolError", "QUEUED", "ReplyReader"]



class ProtocolError(Exception):
    """
    What came from the server is not RESP.
    """



class _Incomplete(Exception):
    """
    A reply is not all there yet: C{args[0]} bytes of the buffer are needed
    before it can be.
    """



_CRLF = b"\r\n"
_QUEUED_LINE = b"+QUEUED\r\n"
# What the reply to a command queued in a transaction is read as.
QUEUED = object()
_NATIVE_BYTES = str is bytes



def _text(data):
    """
    A status or error line as txredisapi hands it on: a native string.
    """
    if _NATIVE_BYTES:
        return data
    return data.decode("utf-8", "replace")



class ReplyReader(object):
    """
    Read RESP (version 2) replies off a byte stream, in the types
    C{txredisapi}'s C{BaseRedisProtocol} gives them (with C{charset=None}
    and C{convertNumbers=False}, as L{RedisStore} makes it): a status as a
    native string; an error as C{ResponseError} of its line; an integer as an L{int}; a bulk value as L{bytes}, or
    L{None}; an array as a L{list}, or L{None}.

    What arrives in pieces is kept as pieces, and joined only once enough
    is there for the reply it holds: a large value read in many pieces is
    not copied again for each of them.
    """

    def __init__(self, maxLine, responseError=Exception):
        """
        @param maxLine: The longest line (status, error, number, length)
            accepted; more without a line end is L{ProtocolError}.
        @param responseError: The exception class errors are given as.
        """
        self._maxLine = maxLine
        self._error = responseError
        self._pieces = []
        self._size = 0
        # How many bytes the first reply still in the buffer needs at least.
        self._needed = 0


    def feed(self, data):
        """
        Take the next bytes of the stream.

        @return: The replies they complete, a L{list}.
        @raise ProtocolError: If the stream is not RESP.
        """
        self._pieces.append(data)
        self._size += len(data)
        if self._size < self._needed:
            return []
        pieces = self._pieces
        buffer = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        replies = []
        position = 0
        end = len(buffer)
        parse = self._parse
        try:
            while position < end:
                if buffer.startswith(_QUEUED_LINE, position):
                    # A command queued in a transaction (not a status
                    # value that reads "QUEUED").
                    replies.append(QUEUED)
                    position += len(_QUEUED_LINE)
                    continue
                reply, position = parse(buffer, position)
                replies.append(reply)
        except _Incomplete as e:
            self._needed = e.args[0] - position
        else:
            self._needed = 0
        rest = buffer[position:]
        self._pieces = [rest] if rest else []
        self._size = len(rest)
        return replies


    def _parse(self, buffer, position):
        """
        @return: C{(the reply at position, where the next one starts)}.
        @raise _Incomplete: If it is not all there.
        """
        lineEnd = buffer.find(_CRLF, position)
        if lineEnd < 0:
            if len(buffer) - position > self._maxLine:
                raise ProtocolError("a line longer than %d bytes" % (self._maxLine,))
            raise _Incomplete(len(buffer) + 1)
        kind = buffer[position:position + 1]
        line = buffer[position + 1:lineEnd]
        position = lineEnd + 2
        if kind == b"$":
            size = int(line)
            if size < 0:
                return None, position
            stop = position + size
            if len(buffer) < stop + 2:
                raise _Incomplete(stop + 2)
            if buffer[stop:stop + 2] != _CRLF:
                raise ProtocolError("a bulk value not ended by CRLF")
            return buffer[position:stop], stop + 2
        if kind == b"*":
            count = int(line)
            if count < 0:
                return None, position
            items = []
            parse = self._parse
            for _ in range(count):
                item, position = parse(buffer, position)
                items.append(item)
            return items, position
        if kind == b":":
            return int(line), position
        if kind == b"+":
            return _text(line), position
        if kind == b"-":
            return self._error(_text(line)), position
        raise ProtocolError("unknown reply type %r" % (kind,))
