# -*- test-case-name: tests.test_wire -*-
"""
Tests for L{nevowcache._stores.wire}: the byte format of entries in shared stores.
"""

from __future__ import absolute_import, division

import os
import pickle
import struct

from hypothesis import given, settings, strategies as st
from twisted.internet.testing import EventLoggingObserver
from twisted.logger import globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase

from nevowcache import CacheEntry, CacheKey
from nevowcache._stores.wire import FORMAT_VERSION, decodeEntry, encodeEntry

from tests.test_stores import makeEntry, makeKey

_executed = []



def _execute(what):
    _executed.append(what)



class _Exploit(object):
    """
    Unpickling this runs code.
    """

    def __reduce__(self):
        return (_execute, ("executed",))



class WireFormatTests(SynchronousTestCase):
    """
    L{encodeEntry} and L{decodeEntry} round-trip entries; anything else
    decodes to a logged miss, never an exception.
    """

    def setUp(self):
        self.events = EventLoggingObserver.createWithCleanup(self, globalLogPublisher)


    def assertMiss(self, data, key=None, secret=None, reason=None):
        """
        C{data} decodes to L{None}, with a log line.
        """
        key = key or makeKey()
        before = len(self.events)
        self.assertIsNone(decodeEntry(data, key, secret))
        self.assertEqual(len(self.events), before + 1)
        if reason is not None:
            self.assertIn(reason, self.events[-1]["reason"])


    def assertSameEntry(self, got, entry):
        for name in ("key", "code", "message", "headers", "body", "created",
                     "generation", "lastModified", "etag"):
            self.assertEqual(getattr(got, name), getattr(entry, name), name)


    def test_roundTrip(self):
        """
        Every field comes back, with its type.
        """
        key = makeKey()
        entry = CacheEntry(key, 203, b"Non-Authoritative", ((b"a", ()), (b"b", (b"1", b""))),
                           b"\x00\r\n\xff" * 50, 1234.25, (2 ** 62, 0), 99, u"\u00e9t\u00e9")
        got = decodeEntry(encodeEntry(entry), key)
        self.assertSameEntry(got, entry)
        self.assertIsInstance(got.lastModified, int)
        self.assertEqual(len(self.events), 0)


    def test_optionalFields(self):
        """
        A generation, a C{Last-Modified} and an ETag may each be absent;
        C{Last-Modified} may be a float.
        """
        key = makeKey()
        for generation, modified, etag in [(None, None, None), ((1, 2), 1.5, b'"x"')]:
            entry = CacheEntry(key, 200, b"OK", (), b"", 0.0, generation, modified, etag)
            self.assertSameEntry(decodeEntry(encodeEntry(entry), key), entry)


    def test_startsWithVersion(self):
        """
        The first byte is the format version: 1 (what processes that
        predate scopes read) for an entry whose stamp has no scopes,
        L{FORMAT_VERSION} (2) for one whose stamp has; another version is a
        miss.
        """
        key = makeKey()
        data = encodeEntry(CacheEntry(key, 200, b"OK", (), b"", 0.0, (1, 2), None,
                                      None))
        self.assertEqual(ord(data[:1]), 1)
        scoped = encodeEntry(CacheEntry(key, 200, b"OK", (), b"", 0.0,
                                        (1, 2, ((b"a" * 64, 3),)), None, None))
        self.assertEqual(ord(scoped[:1]), FORMAT_VERSION)
        self.assertEqual(FORMAT_VERSION, 2)
        self.assertMiss(struct.pack(">B", FORMAT_VERSION + 1) + data[1:],
                        reason="version")


    def test_scopedGenerationRoundTrips(self):
        """
        A stamp with scopes (C{(clear, url, ((scopeTag, generation), ...))})
        round-trips, as the plain two-generation stamp does, signed or not.
        """
        key = makeKey()
        for generation in [(1, 2), (1, 2, ((b"a" * 64, 3), (b"b" * 64, 2 ** 62)))]:
            entry = CacheEntry(key, 200, b"OK", (), b"body", 0.0, generation,
                               None, b'"x"')
            decoded = decodeEntry(encodeEntry(entry, b"s"), key, b"s")
            self.assertSameEntry(decoded, entry)


    def test_scopesOnlyInVersionTwo(self):
        """
        A version 1 value carrying a scoped generation is malformed: a miss.
        """
        key = makeKey()
        scoped = encodeEntry(CacheEntry(key, 200, b"OK", (), b"", 0.0,
                                        (1, 2, ((b"a" * 64, 3),)), None, None))
        self.assertMiss(b"\x01" + scoped[1:], reason="generation")


    def test_anotherKeyIsAMiss(self):
        """
        A value holding another key's entry is a miss, even for keys whose
        parts differ only in where their bytes fall.
        """
        self.assertMiss(encodeEntry(makeEntry(makeKey(b"a", ":bx"))),
                        makeKey(b"a:b", "x"), reason="another key")


    def test_noneIsAQuietMiss(self):
        """
        No value is a miss, and nothing to log.
        """
        self.assertIsNone(decodeEntry(None, makeKey()))
        self.assertEqual(len(self.events), 0)


    def test_pickleIsAMissNotExecuted(self):
        """
        A pickle under a valid name is never unpickled.
        """
        del _executed[:]
        for protocol in (0, 2):
            data = pickle.dumps(_Exploit(), protocol)
            self.assertMiss(data)
        self.assertEqual(_executed, [])
        pickle.loads(data)
        self.assertEqual(_executed, ["executed"])


    def test_truncatedIsAMiss(self):
        """
        Every prefix of a value is a miss.
        """
        key = makeKey()
        data = encodeEntry(makeEntry(key))
        for end in range(len(data)):
            self.assertIsNone(decodeEntry(data[:end], key))


    def test_trailingBytesAreAMiss(self):
        """
        A value with bytes after its last field is a miss.
        """
        self.assertMiss(encodeEntry(makeEntry(makeKey())) + b"\x00", reason="trailing")


    def test_hugeCountsAreAMiss(self):
        """
        A header count larger than the value could hold is refused before
        anything is allocated.
        """
        key = makeKey()
        data = encodeEntry(CacheEntry(key, 200, b"OK", (), b"", 0.0))
        offset = 2 + 4 + len(key.encoded()) + 2 + 4 + 2
        tampered = data[:offset] + struct.pack(">I", 2 ** 32 - 1) + data[offset + 4:]
        self.assertMiss(tampered, key, reason="count")


    def test_garbageIsAMiss(self):
        """
        Random bytes, and text, are misses.
        """
        for _ in range(200):
            self.assertIsNone(decodeEntry(os.urandom(ord(os.urandom(1))), makeKey()))
        self.assertIsNone(decodeEntry(u"text", makeKey()))


    def test_hmac(self):
        """
        With a secret, a value carries an HMAC; one with another secret, a
        flipped bit, or none at all is a miss; without a secret, a signed
        value is a miss too (the configurations disagree).
        """
        key = makeKey()
        entry = makeEntry(key)
        signed = encodeEntry(entry, b"secret")
        self.assertSameEntry(decodeEntry(signed, key, b"secret"), entry)
        self.assertMiss(signed, key, b"other", reason="HMAC")
        body = signed.index(entry.body)
        flipped = signed[:body] + b"B" + signed[body + 1:]
        self.assertMiss(flipped, key, b"secret", reason="HMAC")
        self.assertMiss(encodeEntry(entry), key, b"secret", reason="no HMAC")
        self.assertMiss(signed, key, None, reason="HMAC")


    def test_unencodableRefused(self):
        """
        Encoding refuses what the format cannot hold, with an exception
        (the store then reports a failed write).
        """
        key = makeKey()
        for entry in [CacheEntry(key, 200, u"OK", (), b"", 0.0),
                      CacheEntry(key, 200, b"OK", (), b"", 0.0, (2 ** 64, 0)),
                      CacheEntry(key, 200, b"OK", (), b"", 0.0, lastModified="now"),
                      CacheEntry(key, 70000, b"OK", (), b"", 0.0)]:
            self.assertRaises((TypeError, ValueError), encodeEntry, entry)


    @settings(max_examples=200, deadline=None)
    @given(st.binary(min_size=1, max_size=300), st.integers(min_value=0))
    def test_tamperingNeverRaises(self, noise, position):
        """
        Overwriting any part of a value with any bytes gives a miss or a
        well-formed entry of the same key, never an exception.
        """
        key = CacheKey((b"http", b"h", 80, (b"p",), (), ()), ("P", (), None))
        data = encodeEntry(makeEntry(key))
        position %= len(data)
        tampered = data[:position] + noise + data[position + len(noise):]
        entry = decodeEntry(tampered, key)
        if entry is not None:
            self.assertEqual(entry.key, key)
