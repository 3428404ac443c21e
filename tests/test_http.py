"""
HTTP details checked with code nobody here wrote: C{Cache-Status} values
parsed with C{http-sf} (RFC 8941, RFC 9211).

Every response a test parses with L{tests._http.Response} has its
C{Cache-Status} checked there (L{tests._http.checkCacheStatus}); on Python
2.7, which has no C{http-sf}, the values are written to
L{tests._http.CACHE_STATUS_LOG} at exit, and parsed here on Python 3.
"""

from __future__ import absolute_import, division

import os
import time

from twisted.trial.unittest import SynchronousTestCase

from nevowcache._engine.cachestatus import withDetail

from tests import _http



class CacheStatusTests(SynchronousTestCase):
    """
    The checks every test's C{Cache-Status} values go through.
    """
    skip = None if _http.http_sf is not None else "http-sf needs Python 3"

    def test_checkRejects(self):
        """
        The check fails for values that are no RFC 8941 List, or not what
        RFC 9211 says a cache sends.
        """
        for bad in (b"nevowcache; detail=a b", b"nevowcache; fwd=bypass; detail=method,",
                    b"nevowcache; fwd=nowhere", b"nevowcache", b"nevowcache; hit; fwd=stale",
                    b"nevowcache; hit; ttl=ten", b"other; hit", b"nevowcache; hit; colour=red"):
            self.assertRaises(AssertionError, _http.checkParsed, bad)
        _http.checkParsed(b"nevowcache; fwd=uri-miss; ttl=60; stored; fwd-status=200")


    def test_detailQuoted(self):
        """
        A detail that is no token goes out as a quoted string; a token as
        it is.
        """
        self.assertEqual(withDetail(b"nevowcache; fwd=bypass", b"method-override"),
                         b"nevowcache; fwd=bypass; detail=method-override")
        odd = withDetail(b"nevowcache; fwd=uri-miss", b'header-read-a b"\\\x01')
        parsed = _http.checkParsed(odd)
        self.assertEqual(parsed[0][1]["detail"], u'header-read-a b"\\?')


    def test_python27Values(self):
        """
        Every C{Cache-Status} value the Python 2.7 run of the suite saw (the
        Nevow adapter, L{CachingSite}) parses.
        """
        path = _http.CACHE_STATUS_LOG
        if not os.path.exists(path):
            raise self.skipTest("no Python 2.7 run wrote %s (./dev test runs it first)"
                                % (path,))
        if time.time() - os.path.getmtime(path) > 24 * 3600:
            raise self.skipTest("%s is older than a day" % (path,))
        with open(path, "rb") as f:
            values = [line for line in f.read().split(b"\n") if line]
        self.assertTrue(values)
        for value in values:
            _http.checkParsed(value)
