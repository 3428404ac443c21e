# -*- test-case-name: tests.test_stores,tests.test_sharedwire -*-
"""
L{DecodedEntries}: the memo of a shared store's hot keys, the entries the
values read for them decode to, so that a hot entry is decoded, and its
header block formatted, once.
"""

from __future__ import absolute_import, division

from nevowcache._stores.wire import decodeEntry

__all__ = ["DecodedEntries"]

# How many values a store keeps decoded, and how many bytes of them at most
# (each counted twice: the value, and the entry decoded from it); values
# larger than a sixteenth of that are decoded for each hit.
_DECODED_KEPT = 1024
_DECODED_BYTES = 8 * 1024 * 1024



class DecodedEntries(object):
    """
    The entries the values last read for the hot keys decode to, by key,
    with the value.
    """

    def __init__(self, secret, counts):
        """
        @param secret: What entries are signed under, or L{None}
            (L{decodeEntry}).
        @param counts: The store's counts: C{badValues} counts the values
            that are not an entry of their key.
        """
        self._secret = secret
        self._counts = counts
        self._decoded = {}
        self._decodedBytes = 0


    def decode(self, data, key):
        """
        The entry of C{key} a value read for it holds (L{decodeEntry}): the
        one decoded before if the value is the same, byte for byte (so a
        hot entry is decoded, and its header block formatted, once), else
        decoded now.
        """
        if data is None:
            return None
        known = self._decoded.get(key)
        if known is not None and known[0] == data:
            return known[1]
        entry = decodeEntry(data, key, self._secret)
        if entry is None:
            self._counts["badValues"] += 1
            return None
        size = 2 * len(data)
        if size <= _DECODED_BYTES // 16:
            if known is not None:
                self._decodedBytes -= 2 * len(known[0])
            if (len(self._decoded) >= _DECODED_KEPT
                    or self._decodedBytes + size > _DECODED_BYTES):
                self._decoded.clear()
                self._decodedBytes = 0
            self._decoded[key] = (data, entry)
            self._decodedBytes += size
        return entry
