# -*- test-case-name: tests.test_wire -*-
"""
The byte format of a L{CacheEntry} in a shared store.

Nothing here unpickles: a value is a fixed sequence of typed,
length-prefixed fields, decoded by slicing.  Whatever a store hands back
(another key's value, a truncated or tampered one, a pickle someone else's
client wrote, random bytes) decodes to an entry of the key asked for, or to
nothing, with a log line; decoding never raises.

Layout (all integers big-endian)::

    version     1 byte    1, or 2 (FORMAT_VERSION) if the generation
                          stamp has scopes
    flags       1 byte    bit 0: an HMAC-SHA256 of everything before it
                          ends the value
    key         u32 length + bytes    CacheKey.encoded()
    code        u16
    message     u32 length + bytes
    headers     u32 count, then per header:
                    u32 length + name, u32 count, then per value:
                    u32 length + value
    body        u32 length + bytes
    created     f64
    generation  0x00, or 0x01 + two s64 (clearGeneration, urlGeneration),
                or (version 2 only) 0x02 + two s64 + u32 count, then per
                scope: u32 length + scope tag + s64 generation
    modified    "n", or "i" + s64, or "f" + f64
    etag        "n", or "b" + u32 length + bytes, or "u" + u32 length + UTF-8
    mac         32 bytes, if flag bit 0
"""

from __future__ import absolute_import, division

import hashlib
import hmac
import struct

from twisted.logger import Logger

from nevowcache._compat import integerTypes, textType
from nevowcache._http.entry import CacheEntry

__all__ = ["FORMAT_VERSION", "encodeEntry", "decodeEntry"]

FORMAT_VERSION = 2

# Values without scopes are still written as version 1, which processes
# that predate scopes read.
_VERSIONS = (1, 2)

_FLAG_MAC = 0x01
_MAC_SIZE = 32

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_S64 = struct.Struct(">q")
_F64 = struct.Struct(">d")
_TWO_S64 = struct.Struct(">qq")

_S64_MIN = -2 ** 63
_S64_MAX = 2 ** 63 - 1

_log = Logger()



class MalformedValue(ValueError):
    """
    A stored value is not an entry of the key it was read for.
    """



def _bytesField(data):
    return _U32.pack(len(data)) + data



def _s64(value):
    if isinstance(value, bool) or not isinstance(value, integerTypes):
        raise TypeError("not an integer: %r" % (value,))
    if not _S64_MIN <= value <= _S64_MAX:
        raise ValueError("integer out of range: %r" % (value,))
    return _S64.pack(value)



def encodeEntry(entry, secret=None):
    """
    Encode an entry for a shared store.

    @param entry: A L{CacheEntry}.
    @param secret: If given (L{bytes}), the value ends with an HMAC-SHA256
        of the rest, keyed with it.
    @return: L{bytes}.
    @raise TypeError: If a field has a type the format does not hold.
    @raise ValueError: If a field is out of the format's range.
    """
    out = [b"\x00"]
    out.append(_bytesField(entry.key.encoded()))
    if not 0 <= entry.code <= 0xffff:
        raise ValueError("status code out of range: %r" % (entry.code,))
    out.append(_U16.pack(entry.code))
    out.append(_bytesField(_checkBytes(entry.message)))
    out.append(_U32.pack(len(entry.headers)))
    for name, values in entry.headers:
        out.append(_bytesField(_checkBytes(name)))
        out.append(_U32.pack(len(values)))
        for value in values:
            out.append(_bytesField(_checkBytes(value)))
    out.append(_bytesField(_checkBytes(entry.body)))
    out.append(_F64.pack(float(entry.created)))
    version = 1
    if entry.generation is None:
        out.append(b"\x00")
    elif len(entry.generation) == 2:
        clearGeneration, urlGeneration = entry.generation
        out.append(b"\x01" + _s64(clearGeneration) + _s64(urlGeneration))
    else:
        clearGeneration, urlGeneration, scopes = entry.generation
        version = FORMAT_VERSION
        out.append(b"\x02" + _s64(clearGeneration) + _s64(urlGeneration)
                   + _U32.pack(len(scopes)))
        for scopeTag, generation in scopes:
            out.append(_bytesField(_checkBytes(scopeTag)) + _s64(generation))
    modified = entry.lastModified
    if modified is None:
        out.append(b"n")
    elif isinstance(modified, integerTypes) and not isinstance(modified, bool):
        out.append(b"i" + _s64(modified))
    elif isinstance(modified, float):
        out.append(b"f" + _F64.pack(modified))
    else:
        raise TypeError("lastModified must be a number: %r" % (modified,))
    etag = entry.etag
    if etag is None:
        out.append(b"n")
    elif isinstance(etag, bytes):
        out.append(b"b" + _bytesField(etag))
    elif isinstance(etag, textType):
        out.append(b"u" + _bytesField(etag.encode("utf-8")))
    else:
        raise TypeError("etag must be bytes or text: %r" % (etag,))
    flags = 0
    if secret is not None:
        flags |= _FLAG_MAC
    out[0] = struct.pack(">BB", version, flags)
    data = b"".join(out)
    if secret is not None:
        data += _mac(secret, data)
    return data



def _checkBytes(value):
    if not isinstance(value, bytes):
        raise TypeError("expected bytes, not %r" % (type(value),))
    return value



def _mac(secret, data):
    return hmac.new(secret, data, hashlib.sha256).digest()



class _Reader(object):
    """
    Read fields off the front of a value; any overrun is L{MalformedValue}.
    """

    def __init__(self, data):
        self._data = data
        self._offset = 0


    def take(self, size):
        end = self._offset + size
        if size < 0 or end > len(self._data):
            raise MalformedValue("truncated")
        chunk = self._data[self._offset:end]
        self._offset = end
        return chunk


    def unpack(self, packer):
        return packer.unpack(self.take(packer.size))


    def byte(self):
        return self.take(1)


    def field(self):
        (size,) = self.unpack(_U32)
        return self.take(size)


    def count(self, smallest):
        """
        A count of items at least C{smallest} bytes each: one that cannot
        fit in what is left is refused before anything is allocated.
        """
        (count,) = self.unpack(_U32)
        if count * smallest > self.left():
            raise MalformedValue("count overruns the value")
        return count


    def left(self):
        return len(self._data) - self._offset



def decodeEntry(data, key, secret=None):
    """
    Decode a value read from a shared store for C{key}.

    @param data: The stored L{bytes}, or L{None} for a miss.
    @param key: The L{CacheKey} it was read for.
    @param secret: If given, values must carry a valid HMAC keyed with it;
        if not, values must carry none.
    @return: The L{CacheEntry}, or L{None} for a miss.  Anything but a
        well-formed entry of C{key} is a miss, logged; this never raises.
    """
    if data is None:
        return None
    try:
        return _decode(data, key, secret)
    except Exception as e:
        _log.warn(u"Discarding a stored value read for {key!r}: {reason}",
                  key=key, reason=_reason(e))
        return None



def _reason(exception):
    if isinstance(exception, MalformedValue):
        return exception.args[0]
    return u"malformed (%s)" % (type(exception).__name__,)



def _decode(data, key, secret):
    if not isinstance(data, bytes):
        raise MalformedValue("not bytes")
    if len(data) < 2:
        raise MalformedValue("truncated")
    version, flags = struct.unpack(">BB", data[:2])
    if version not in _VERSIONS:
        raise MalformedValue("unknown format version %d" % (version,))
    if flags & ~_FLAG_MAC:
        raise MalformedValue("unknown flags %#x" % (flags,))
    if secret is not None:
        if not flags & _FLAG_MAC:
            raise MalformedValue("no HMAC, and a secret is configured")
        if len(data) < 2 + _MAC_SIZE:
            raise MalformedValue("truncated")
        data, mac = data[:-_MAC_SIZE], data[-_MAC_SIZE:]
        if not hmac.compare_digest(mac, _mac(secret, data)):
            raise MalformedValue("wrong HMAC")
    elif flags & _FLAG_MAC:
        raise MalformedValue("an HMAC, and no secret is configured")
    reader = _Reader(data)
    reader.take(2)
    storedKey = reader.field()
    if storedKey != key.encoded():
        raise MalformedValue("it holds another key's entry")
    (code,) = reader.unpack(_U16)
    message = reader.field()
    headers = []
    # A header is at least its two length fields; a value its one.
    for _ in range(reader.count(8)):
        name = reader.field()
        values = tuple(reader.field() for _ in range(reader.count(4)))
        headers.append((name, values))
    body = reader.field()
    (created,) = reader.unpack(_F64)
    tag = reader.byte()
    if tag == b"\x00":
        generation = None
    elif tag == b"\x01":
        generation = reader.unpack(_TWO_S64)
    elif tag == b"\x02" and version >= 2:
        clearGeneration, urlGeneration = reader.unpack(_TWO_S64)
        # A scope is at least its length field and its generation.
        scopes = []
        for _ in range(reader.count(12)):
            scopeTag = reader.field()
            (scopeGeneration,) = reader.unpack(_S64)
            scopes.append((scopeTag, scopeGeneration))
        generation = (clearGeneration, urlGeneration, tuple(scopes))
    else:
        raise MalformedValue("bad generation tag")
    tag = reader.byte()
    if tag == b"n":
        modified = None
    elif tag == b"i":
        (modified,) = reader.unpack(_S64)
    elif tag == b"f":
        (modified,) = reader.unpack(_F64)
    else:
        raise MalformedValue("bad lastModified tag")
    tag = reader.byte()
    if tag == b"n":
        etag = None
    elif tag == b"b":
        etag = reader.field()
    elif tag == b"u":
        etag = reader.field().decode("utf-8")
    else:
        raise MalformedValue("bad etag tag")
    if reader.left():
        raise MalformedValue("trailing bytes")
    if created != created or modified is not None and modified != modified:
        raise MalformedValue("NaN time")
    return CacheEntry(key, code, message, tuple(headers), body, created,
                      generation, modified, etag)
