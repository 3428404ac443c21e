# -*- test-case-name: tests.test_key -*-
"""
The injective byte encoding of cache keys (L{encodeKey}): nested tuples of
bytes, text, integers, booleans and C{None}, each item with its type and
length, so that no two distinct keys, records or names share an encoding.
"""

from __future__ import absolute_import, division

import struct

from nevowcache._compat import integerTypes, textType

__all__ = ["encodeKey"]



def encodeKey(value):
    """
    Encode nested tuples of bytes, text, integers, booleans and C{None}
    injectively: every item carries its type and length, so no two distinct
    values share an encoding, whatever bytes they contain.

    @raise TypeError: For any other type (floats and arbitrary objects have
        no canonical encoding).
    @rtype: L{bytes}
    """
    out = []
    _encodeInto(value, out)
    return b"".join(out)



def _encodeInto(value, out):
    if isinstance(value, bytes):
        out.append(b"b" + struct.pack(">I", len(value)) + value)
    elif isinstance(value, textType):
        data = value.encode("utf-8")
        out.append(b"u" + struct.pack(">I", len(data)) + data)
    elif value is None:
        out.append(b"n")
    elif value is True or value is False:
        out.append(b"T" if value else b"F")
    elif isinstance(value, integerTypes):
        data = str(value).encode("ascii")
        out.append(b"i" + struct.pack(">I", len(data)) + data)
    elif isinstance(value, (tuple, list)):
        out.append(b"t" + struct.pack(">I", len(value)))
        for item in value:
            _encodeInto(item, out)
    else:
        raise TypeError("cannot use %r in a cache key" % (value,))
