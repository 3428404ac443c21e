"""
Tests for L{nevowcache._compat}.
"""

from __future__ import absolute_import, division

import time

from twisted.trial.unittest import SynchronousTestCase

from nevowcache import _compat


class MonotonicClockTests(SynchronousTestCase):
    """
    The default clock that ages entries.
    """

    def test_followsRealTimeNotTheTimeOfDay(self):
        """
        It advances with real time, and setting the time of day back an hour
        does not move it.
        """
        for clock in (_compat.monotonicClock(), _compat._SecondsClock(_compat._linuxMonotonic())):
            before = clock.seconds()
            self.patch(time, "time", lambda: 0.0)
            time.sleep(0.01)
            after = clock.seconds()
            self.assertTrue(0.005 < after - before < 5, (before, after))



class HeaderValuesTests(SynchronousTestCase):
    """
    L{_compat.headerValues} answers as C{getRawHeaders} does, reading
    Twisted's table under whichever spelling this Twisted files names by.
    """

    def test_asGetRawHeaders(self):
        """
        For names Twisted spells plainly and specially (C{ETag},
        C{WWW-Authenticate}), set in any case, and for absent ones.
        """
        from twisted.web.http_headers import Headers
        headers = Headers()
        for name in (b"Host", b"if-none-match", b"ETAG", b"www-authenticate", b"X-Custom"):
            headers.addRawHeader(name, b"v-" + name)
        headers.addRawHeader(b"host", b"second")
        self.assertIsNotNone(_compat.headerTable(headers))
        for name in (b"host", b"if-none-match", b"etag", b"www-authenticate",
                     b"x-custom", b"if-modified-since", b"cookie"):
            self.assertEqual(_compat.headerValues(headers, name),
                             headers.getRawHeaders(name), name)


    def test_hasAnyHeader(self):
        """
        L{_compat.hasAnyHeader} tells what C{hasHeader} tells of any of the
        names, from the table or, for another kind of headers, through
        C{hasHeader}.
        """
        from twisted.web.http_headers import Headers
        headers = Headers()
        headers.addRawHeader(b"If-Modified-Since", b"x")
        headers.addRawHeader(b"etag", b"y")

        class Public(object):
            def hasHeader(self, name):
                return headers.hasHeader(name)
        for view in (headers, Public()):
            for names, expected in (((b"cookie",), False),
                                    ((b"if-none-match", b"if-modified-since"), True),
                                    ((b"etag",), True), ((), False)):
                self.assertEqual(_compat.hasAnyHeader(view, names), expected, names)


    def test_wireName(self):
        """
        Names are written as Twisted writes them.
        """
        for name, written in ((b"content-type", b"Content-Type"), (b"etag", b"ETag"),
                              (b"www-authenticate", b"WWW-Authenticate"), (b"x-a\nb", b"X-A b")):
            self.assertEqual(_compat.wireName(name), written)


    def test_nameForms(self):
        """
        L{_compat.nameForms} gives a name as written and lower-cased, from
        either spelling, and the second time the same answer from its memo.
        """
        for name in (b"content-type", b"Content-Type", b"ETAG"):
            forms = _compat.nameForms(name)
            self.assertEqual(forms, (_compat.wireName(name), name.lower()))
            self.assertIs(_compat.nameForms(name), forms)



class RememberTests(SynchronousTestCase):
    """
    L{_compat.remember}, the bounded memo of the hit path.
    """

    def test_keepsThenForgetsAll(self):
        """
        A value is kept and returned; once the table holds C{most}, it is
        emptied before the next is kept.
        """
        table = {}
        self.assertEqual(_compat.remember(table, 1, "a", 2), "a")
        _compat.remember(table, 2, "b", 2)
        self.assertEqual(table, {1: "a", 2: "b"})
        self.assertEqual(_compat.remember(table, 3, "c", 2), "c")
        self.assertEqual(table, {3: "c"})
