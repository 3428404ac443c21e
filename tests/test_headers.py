# -*- test-case-name: tests.test_headers -*-
"""
Tests for L{nevowcache._http.headers}: header fast paths.
"""

from __future__ import absolute_import, division

from twisted.trial.unittest import SynchronousTestCase

from nevowcache._http import headers as _headers



class HeaderValuesTests(SynchronousTestCase):
    """
    L{_headers.headerValues} answers as C{getRawHeaders} does, reading
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
        self.assertIsNotNone(_headers.headerTable(headers))
        for name in (b"host", b"if-none-match", b"etag", b"www-authenticate",
                     b"x-custom", b"if-modified-since", b"cookie"):
            self.assertEqual(_headers.headerValues(headers, name),
                             headers.getRawHeaders(name), name)


    def test_hasAnyHeader(self):
        """
        L{_headers.hasAnyHeader} tells what C{hasHeader} tells of any of the
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
                self.assertEqual(_headers.hasAnyHeader(view, names), expected, names)


    def test_wireName(self):
        """
        Names are written as Twisted writes them.
        """
        for name, written in ((b"content-type", b"Content-Type"), (b"etag", b"ETag"),
                              (b"www-authenticate", b"WWW-Authenticate"), (b"x-a\nb", b"X-A b")):
            self.assertEqual(_headers.wireName(name), written)


    def test_nameForms(self):
        """
        L{_headers.nameForms} gives a name as written and lower-cased, from
        either spelling, and the second time the same answer from its memo.
        """
        for name in (b"content-type", b"Content-Type", b"ETAG"):
            forms = _headers.nameForms(name)
            self.assertEqual(forms, (_headers.wireName(name), name.lower()))
            self.assertIs(_headers.nameForms(name), forms)
