"""
Tests for cache keys: what goes in, what stays apart, and their encoding.
"""

from __future__ import absolute_import, division

from hypothesis import given, strategies as st
from twisted.internet.interfaces import ISSLTransport
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from twisted.web import http, resource, server
from zope.interface import directlyProvides

try:
    from twisted.internet.testing import StringTransport
except ImportError:  # Twisted < 21.2
    from twisted.test.proto_helpers import StringTransport

from nevowcache import CacheKey
from nevowcache._http.host import hostKey, validHost
from nevowcache._http.identity import urlIdentity, urlIdentityFromString
from nevowcache._http.keyencoding import encodeKey
from nevowcache._http.scopes import (
    MAX_PREFIX_DEPTH, isPath, pathScopeFromString, prefixScopeFromString, prefixScopes,
    tagScope, urlScopes)
from nevowcache._http.secure import isSecure

from tests._http import Exchange


class _Recorder(resource.Resource):
    """
    Records the URL identity of every request it renders.
    """
    isLeaf = True

    def __init__(self):
        resource.Resource.__init__(self)
        self.seen = []

    def render_GET(self, request):
        self.seen.append(urlIdentity(request))
        return b"ok"



class UrlIdentityTests(SynchronousTestCase):
    """
    L{urlIdentity} of a request and L{urlIdentityFromString} of its URL
    agree, and hold what a render can observe.
    """

    def identify(self, path, host=b"example.com", port=8080):
        recorder = _Recorder()
        Exchange(server.Site(recorder, reactor=Clock()), path=path, host=host, port=port)
        return recorder.seen[-1]


    def test_stringMatchesRequest(self):
        """
        Invalidating by URL string names the same identity as a request for
        it, for assorted paths and queries.
        """
        for path in [b"/", b"/p", b"/p/", b"/a/b?x=1", b"/p?b=2&a=1", b"/p?a=1;b=2",
                     b"/%70?x=a+b", b"/a%2Fb", b"/p?x", b"/p?a=&b=1&a=2"]:
            self.assertEqual(self.identify(path),
                             urlIdentityFromString(b"http://example.com:8080" + path),
                             path)


    def test_defaultPorts(self):
        """
        Without a port, http is 80 and https 443.
        """
        self.assertEqual(urlIdentityFromString(u"http://example.com/")[2], 80)
        self.assertEqual(urlIdentityFromString(u"https://example.com/")[:3],
                         (b"https", b"example.com", 443))


    def test_hostLowerCasedWithoutPort(self):
        """
        The host is lower-cased and its port dropped; IPv6 brackets stay.
        """
        self.assertEqual(self.identify(b"/", host=b"EXAMPLE.com:9999")[1], b"example.com")
        self.assertEqual(self.identify(b"/", host=b"[::1]:8080")[1], b"[::1]")
        self.assertEqual(urlIdentityFromString(u"http://[::1]:8080/")[1:3], (b"[::1]", 8080))


    def test_hostAnswersRememberedBounded(self):
        """
        L{hostKey} and L{validHost} remember their answers for recent C{Host}
        values, at most C{_MAX_KNOWN_HOSTS} of them and none longer than a
        DNS name, and answer the same the second time.
        """
        from nevowcache._http import host as _host
        self.patch(_host, "_hostKeys", {})
        self.patch(_host, "_validHosts", {})
        self.patch(_host, "_MAX_KNOWN_HOSTS", 10)
        for i in range(25):
            host = b"Host%d.example:80" % (i,)
            for _ in range(2):
                self.assertEqual(hostKey(host), b"host%d.example" % (i,))
                self.assertTrue(validHost(host))
            self.assertFalse(validHost(b"h%d:1@evil.example" % (i,)))
            self.assertFalse(validHost(b"h%d:1@evil.example" % (i,)))
        self.assertLessEqual(len(_host._hostKeys), 10)
        self.assertLessEqual(len(_host._validHosts), 10)
        long = b"a" * 1000
        self.assertEqual(hostKey(long + b":80"), long)
        self.assertTrue(validHost(long))
        self.assertNotIn(long, _host._validHosts)
        self.assertNotIn(long + b":80", _host._hostKeys)


    def test_encodedSlashIsNotASlash(self):
        """
        C{/a%2Fb} (one segment) and C{/a/b} (two) differ.
        """
        self.assertNotEqual(self.identify(b"/a%2Fb"), self.identify(b"/a/b"))


    def test_unparsedQueryPiecesInKey(self):
        """
        Query pieces Twisted does not parse (no C{=}) still tell URLs apart:
        a page echoing C{request.uri} sees them.
        """
        self.assertNotEqual(self.identify(b"/p?<script>"), self.identify(b"/p"))


    def test_badUrls(self):
        """
        Anything but an absolute http(s) URL is a C{ValueError}.
        """
        for bad in [u"/p", u"ftp://example.com/", u"http:///p", u"http://h:port/"]:
            self.assertRaises(ValueError, urlIdentityFromString, bad)



_parts = st.recursive(
    st.none() | st.booleans() | st.integers() | st.binary(max_size=8)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4).map(tuple), max_leaves=12)



class EncodingTests(SynchronousTestCase):
    """
    Key encoding is injective.
    """

    @given(_parts, _parts)
    def test_injective(self, a, b):
        """
        Two values encode alike only if they are equal (and of the same
        types).
        """
        if encodeKey(a) == encodeKey(b):
            self.assertEqual(repr(a), repr(b))


    def test_delimiterCollisions(self):
        """
        Values whose concatenation would be equal encode differently.
        """
        self.assertNotEqual(encodeKey((b"en", b"dark")), encodeKey((b"end", b"ark")))
        self.assertNotEqual(encodeKey((b"a", None)), encodeKey((b"a",)))
        self.assertNotEqual(encodeKey(b"1"), encodeKey(1))
        self.assertNotEqual(encodeKey(u"a"), encodeKey(b"a"))


    def test_rejectsOtherTypes(self):
        """
        Floats and arbitrary objects have no canonical encoding.
        """
        self.assertRaises(TypeError, encodeKey, 1.5)
        self.assertRaises(TypeError, encodeKey, (object(),))


    def test_keyEquality(self):
        """
        Keys are equal and hash alike exactly when their parts are equal.
        """
        a = CacheKey((b"http",), (u"P", (), None))
        self.assertEqual(a, CacheKey((b"http",), (u"P", (), None)))
        self.assertEqual(hash(a), hash(CacheKey((b"http",), (u"P", (), None))))
        self.assertNotEqual(a, CacheKey((b"https",), (u"P", (), None)))
        self.assertEqual(len(a.digest()), 64)



class ScopeTests(SynchronousTestCase):
    """
    The path-prefix and tag scopes of L{PageCache.invalidatePrefix} and
    L{PageCache.invalidateTag}.
    """

    def test_prefixesOfUrl(self):
        """
        A URL's prefix scopes are its ancestor paths, the host's root first
        and its own path last; its query plays no part.
        """
        url = urlIdentityFromString(u"http://Example.com:8080/blog/x?y=1")
        self.assertEqual(prefixScopes(url), tuple(
            (b"p", b"http", b"example.com", 8080, segments)
            for segments in [(), (b"blog",), (b"blog", b"x")]))


    def test_prefixOnSegmentBoundaries(self):
        """
        A prefix, with or without its trailing slash and whatever its query,
        is among the prefix scopes of the URLs under it, and not of C{/blogs}.
        """
        for prefix in [u"http://example.com:8080/blog", b"http://example.com:8080/blog/",
                       u"http://example.com:8080/blog?z=1"]:
            scope = prefixScopeFromString(prefix)
            for url in [u"http://example.com:8080/blog", u"http://example.com:8080/blog/",
                        u"http://example.com:8080/blog/x?y=1"]:
                self.assertIn(scope, prefixScopes(urlIdentityFromString(url)))
            for url in [u"http://example.com:8080/blogs", u"http://example.com/blog",
                        u"https://example.com:8080/blog"]:
                self.assertNotIn(scope, prefixScopes(urlIdentityFromString(url)))
        root = prefixScopeFromString(u"http://example.com:8080/")
        self.assertIn(root, prefixScopes(urlIdentityFromString(
            u"http://example.com:8080/a/b")))
        self.assertRaises(ValueError, prefixScopeFromString, u"blog")


    def test_everyHostScopes(self):
        """
        A path alone names a prefix (L{prefixScopeFromString}) or a path
        (L{pathScopeFromString}) on every scheme, host and port: among the
        scopes (L{urlScopes}) of the URLs under it on any host, whatever
        their query, and not of another path.
        """
        prefix = prefixScopeFromString(u"/blog/")
        self.assertEqual(prefix, prefixScopeFromString(b"/blog?x=1"))
        path = pathScopeFromString(u"/blog")
        self.assertEqual(path, pathScopeFromString(b"/blog?x=1"))
        self.assertNotEqual(path, pathScopeFromString(b"/blog/"))
        self.assertEqual(pathScopeFromString(u"/caf%C3%A9/a%2Fb"),
                         pathScopeFromString(b"/caf\xc3\xa9/a%2fb"))
        for url in [u"http://example.com:8080/blog", u"https://localhost/blog?y=2",
                    u"http://127.0.0.1:9/blog?a=1&b=2"]:
            scopes = urlScopes(urlIdentityFromString(url))
            self.assertIn(prefix, scopes)
            self.assertIn(path, scopes)
            self.assertIn(prefixScopeFromString(u"/"), scopes)
            self.assertTrue(set(prefixScopes(urlIdentityFromString(url))) <= set(scopes))
        for url in [u"http://example.com:8080/blogs", u"http://example.com:8080/"]:
            scopes = urlScopes(urlIdentityFromString(url))
            self.assertNotIn(prefix, scopes)
            self.assertNotIn(path, scopes)
        under = urlScopes(urlIdentityFromString(u"http://example.com/blog/x"))
        self.assertIn(prefix, under)
        self.assertNotIn(path, under)
        self.assertEqual(isPath(u"/"), True)
        self.assertEqual(isPath(b"http://example.com/"), False)
        self.assertRaises(ValueError, pathScopeFromString, u"blog")


    def test_prefixDepthBounded(self):
        """
        A URL has at most C{MAX_PREFIX_DEPTH + 1} prefix scopes, however
        long its path, and a deeper prefix is refused: a prefix that is
        accepted is always among the scopes of the URLs under it.
        """
        deep = u"http://example.com/" + u"/".join([u"s"] * 100)
        scopes = prefixScopes(urlIdentityFromString(deep))
        self.assertEqual(len(scopes), MAX_PREFIX_DEPTH + 1)
        limit = u"http://example.com/" + u"/".join([u"s"] * MAX_PREFIX_DEPTH)
        self.assertEqual(prefixScopeFromString(limit), scopes[-1])
        self.assertRaises(ValueError, prefixScopeFromString, limit + u"/s")


    def test_tags(self):
        """
        A tag scope holds the tag as text, from text or UTF-8 bytes; other
        types are refused.
        """
        self.assertEqual(tagScope(b"caf\xc3\xa9"), (b"t", u"caf\u00e9"))
        self.assertEqual(tagScope(u"news"), (b"t", u"news"))
        self.assertRaises(TypeError, tagScope, 1)



class IsSecureTests(SynchronousTestCase):
    """
    L{isSecure} answers as C{request.isSecure()}, without adapting the
    transport again for every request.
    """

    def request(self, transport=None, requestClass=server.Request,
                channelClass=http.HTTPChannel):
        channel = channelClass()
        channel.site = server.Site(resource.Resource())
        channel.makeConnection(transport or StringTransport())
        return requestClass(channel)


    def test_plain(self):
        """
        A request over a transport that is not TLS is not secure.
        """
        request = self.request()
        self.assertIs(isSecure(request), False)
        self.assertIs(isSecure(request), request.isSecure())


    def test_transportProvidesTLS(self):
        """
        A request over a transport that provides L{ISSLTransport} (as a TLS
        one does, from the start or once C{startTLS} made it one) is secure,
        even after one of the same class that was not.
        """
        self.assertIs(isSecure(self.request(StringTransport())), False)
        transport = StringTransport()
        directlyProvides(transport, ISSLTransport)
        # What HTTPChannel asks of a TCP transport.
        transport.setTcpNoDelay = lambda enabled: None
        request = self.request(transport)
        self.assertIs(isSecure(request), True)
        self.assertIs(isSecure(request), request.isSecure())


    def test_forced(self):
        """
        A request made secure with C{setHost(..., ssl=True)} is secure.
        """
        request = self.request()
        request.setHost(b"example.com", 443, ssl=True)
        self.assertIs(isSecure(request), True)


    def test_ownIsSecure(self):
        """
        A request (or a channel) with an C{isSecure} of its own is asked.
        """
        class Secure(server.Request):
            def isSecure(self):
                return True
        self.assertIs(isSecure(self.request(requestClass=Secure)), True)

        class SecureChannel(http.HTTPChannel):
            def isSecure(self):
                return True
        self.assertIs(isSecure(self.request(channelClass=SecureChannel)), True)
