# -*- test-case-name: tests.test_webkeys -*-
"""
Tests for L{nevowcache._adapters.webkeys}: the keys the twisted.web front
remembers give every request the key it would be given the long way,
whatever changed since, and are used when nothing did.
"""

from __future__ import absolute_import, division

import gc

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from twisted.web import resource, server

from nevowcache import MemoryStore, PageCache
from nevowcache._adapters import webfront as _webfront
from nevowcache._adapters.webkeys import KnownKeys
from nevowcache._adapters.webfront import _ResourceFront
from nevowcache.web import CachedResource, cached

from tests._http import Exchange



class _Forgetful(object):
    """
    A L{KnownKeys} that knows nothing: every key is made the long way.
    """

    def known(self, page, cache, request):
        return None


    def learn(self, page, cache, request, keyed):
        pass



class _Checked(CachedResource):
    """
    A leaf that checks, for each request, the key the front gives it
    against the key made the long way (no remembered keys), and counts the
    keys that came from the front's memory.
    """
    isLeaf = True
    cacheTimeout = 60

    def __init__(self, test, cache):
        CachedResource.__init__(self)
        self.test = test
        self.pageCache = cache
        self.remembered = 0


    def _frontKey(self, cache, request, where, policy=None):
        known = _webfront._knownKeys
        if policy is None and known.known(self, cache, request) is not None:
            self.remembered += 1
        keyed = CachedResource._frontKey(self, cache, request, where, policy)
        self.test.patch(_webfront, "_knownKeys", _Forgetful())
        try:
            longWay = CachedResource._frontKey(self, cache, request, where, policy)
        finally:
            _webfront._knownKeys = known
        self.test.assertEqual(keyed[:3], longWay[:3])
        self.test.assertEqual(keyed[3][0].values, longWay[3][0].values)
        self.test.keys.append(keyed[0])
        return keyed


    def render_GET(self, request):
        return b"<p>" + request.uri + b"</p>"



class _Rewriting(resource.Resource):
    """
    A parent that changes the request during traversal, as a header tells
    it (as a virtual-host or proxy resource does): its arguments, its
    path, its scheme, its components.
    """

    def __init__(self, child):
        resource.Resource.__init__(self)
        self.child = child


    def getChild(self, name, request):
        how = request.getHeader(b"x-rewrite")
        if how == b"args":
            request.args[b"added"] = [b"1"]
        elif how == b"prepath":
            request.prepath.insert(0, b"vhost")
        elif how == b"postpath":
            request.postpath.append(b"more")
        elif how == b"secure":
            request._forceSSL = True
        elif how == b"component":
            request.setComponent(_IMarker, object())
        return self.child



from zope.interface import Interface


class _IMarker(Interface):
    """
    A component a parent sets on the request.
    """



class KnownKeysTests(SynchronousTestCase):
    """
    L{KnownKeys}, through L{_ResourceFront._frontKey}.
    """

    def setUp(self):
        self.patch(_webfront, "_knownKeys", KnownKeys(_ResourceFront))
        self.keys = []
        self.clock = Clock()
        self.cache = PageCache(MemoryStore(), reactor=self.clock)
        self.page = _Checked(self, self.cache)
        root = resource.Resource()
        root.putChild(b"p", self.page)
        root.putChild(b"r", _Rewriting(self.page))
        self.site = server.Site(root, reactor=self.clock)


    def get(self, path=b"/p", **kwargs):
        ex = Exchange(self.site, path=path, **kwargs)
        self.addCleanup(ex.disconnect)
        self.assertTrue(ex.done())
        return ex.response()


    def test_sameRequestRemembered(self):
        """
        A request made of what an earlier one was made of is keyed from
        memory, with the very key the earlier one had.
        """
        self.get()
        self.assertEqual(self.page.remembered, 0)
        self.get()
        self.get()
        self.assertEqual(self.page.remembered, 2)
        self.assertIs(self.keys[1], self.keys[0])
        self.assertIs(self.keys[2], self.keys[0])


    def test_everyRequestInput(self):
        """
        Each thing a request's key is made of, changed after the request
        before it was remembered with the same target and C{Host}, gives
        the key the long way gives (checked by L{_Checked} on every
        request), and not the one remembered.
        """
        self.get(b"/r/p")
        for how in (b"args", b"prepath", b"postpath", b"secure", b"component"):
            self.get(b"/r/p", headers=[b"X-Rewrite: " + how])
            self.assertNotEqual(self.keys[-1], self.keys[0], how)
            self.get(b"/r/p")
            self.assertEqual(self.keys[-1], self.keys[0], how)
        self.get(b"/r/p", port=8081)
        self.assertNotEqual(self.keys[-1], self.keys[0])


    def test_everyPageSetting(self):
        """
        A page whose settings changed since its key was remembered gets the
        key and policy of its new settings.
        """
        self.get()
        first = self.keys[-1]
        for name, value in [("cacheTimeout", 30), ("cacheGrace", 5),
                            ("cacheControl", "public"), ("cacheTags", ("t",)),
                            ("cacheVary", (b"accept-language",))]:
            setattr(self.page, name, value)
            self.get()
            self.get()
        self.assertNotEqual(self.keys[-1], first)
        self.assertEqual(self.page.remembered, 4)


    def test_pageClass(self):
        """
        A page whose class changed is keyed under its new class's name.
        """
        self.get()
        class Other(_Checked):
            pass
        self.page.__class__ = Other
        self.get()
        self.assertNotEqual(self.keys[-1], self.keys[0])
        self.assertIn("Other", self.keys[-1].variant[0])


    def test_otherPage(self):
        """
        Another page at the same target and C{Host} is not given the first
        page's key.
        """
        self.get()
        other = _Checked(self, self.cache)
        self.site.resource.putChild(b"p", other)
        self.get()
        self.assertEqual(other.remembered, 0)


    def test_notRemembered(self):
        """
        Keys that depend on what cannot be compared without calling the
        application are never remembered: a page with a C{cacheKey} of its
        own, a C{cacheTags} method or a C{cacheVary}; nor are those of a
        request without a C{Host}, or with a long target or C{Host}.
        """
        class Keyed(_Checked):
            def cacheKey(self, request):
                return (request.getHeader(b"x-who"),)

        class Tagged(_Checked):
            def cacheTags(self, request):
                return ("t",)

        class Varied(_Checked):
            cacheVary = (b"accept-language",)

        for cls in (Keyed, Tagged, Varied):
            page = cls(self, self.cache)
            self.site.resource.putChild(b"x", page)
            self.get(b"/x")
            self.get(b"/x", headers=[b"X-Who: b", b"Accept-Language: fr"])
            self.assertEqual(page.remembered, 0, cls)
            if cls is not Tagged:
                # The header joins the key.
                self.assertNotEqual(self.keys[-1], self.keys[-2], cls)
        self.get(b"/p", host=None)
        self.get(b"/p", host=None)
        long = b"/p?" + b"x" * 300
        self.get(long)
        self.get(long)
        longHost = b"a" * 400 + b".example"
        self.get(host=longHost)
        self.get(host=longHost)
        self.assertEqual(self.page.remembered, 0)


    def test_hooksOfItsOwn(self):
        """
        A page given key hooks of its own as attributes, or served from a
        cache whose class makes keys its own way, is keyed the long way,
        also after a key of it was remembered.
        """
        def who(request):
            return (request.getHeader(b"x-who"),)
        self.get(headers=[b"X-Who: a"])
        self.page.cacheKey = who
        self.get(headers=[b"X-Who: a"])
        self.get(headers=[b"X-Who: b"])
        self.assertNotEqual(self.keys[-1], self.keys[-2])
        del self.page.cacheKey
        self.page._cachedName = lambda: "named"
        self.get()
        self.assertEqual(self.keys[-1].variant[0], "named")

        class OwnKeys(PageCache):
            def keyFor(self, request, pageName, vary=(), extra=None):
                return PageCache.keyFor(self, request, pageName, vary, who(request))
        del self.page._cachedName
        self.get(headers=[b"X-Who: a"])
        self.page.pageCache = OwnKeys(MemoryStore(), reactor=self.clock)
        self.get(headers=[b"X-Who: a"])
        self.get(headers=[b"X-Who: b"])
        self.assertNotEqual(self.keys[-1], self.keys[-2])
        self.assertEqual(self.page.remembered, 1)


    def test_settingsChangedInPlace(self):
        """
        A page whose C{cacheTags} or C{cacheVary} is a list, changed in
        place after a request, gets the key and policy of what it holds
        now.
        """
        self.page.cacheTags = ["a"]
        self.get()
        self.page.cacheTags.append("b")
        self.get()
        self.page.cacheTags = ()
        self.page.cacheVary = []
        self.get(headers=[b"Accept-Language: fr"])
        self.page.cacheVary.append(b"accept-language")
        self.get(headers=[b"Accept-Language: en"])
        self.assertNotEqual(self.keys[-1], self.keys[-2])
        self.assertEqual(self.page.remembered, 0)


    def test_cachedWrapper(self):
        """
        A resource wrapped by L{cached} (whose key hooks are its own) is
        keyed the long way.
        """
        inner = resource.Resource()
        inner.isLeaf = True
        inner.render_GET = lambda request: b"x"
        wrapper = cached(inner, pageCache=self.cache)
        known = _webfront._knownKeys
        self.site.resource.putChild(b"w", wrapper)
        self.get(b"/w")
        self.get(b"/w")
        self.assertEqual(known._known, {})


    def test_refreshNotRemembered(self):
        """
        A background refresh's keying (with the policy its entry was found
        with) neither reads nor adds to the memory.
        """
        keyed = []
        original = _webfront._knownKeys.learn
        self.patch(_webfront._knownKeys, "learn",
                   lambda page, cache, request, result: (
                       keyed.append(result), original(page, cache, request, result)))
        self.page.cacheTimeout = 1
        self.get()
        self.clock.advance(2)
        self.get()
        self.clock.advance(0)
        self.assertEqual(len(keyed), 1)


    def test_bounded(self):
        """
        The memory holds at most C{most} keys, and holds pages weakly.
        """
        known = KnownKeys(_ResourceFront, most=3)
        self.patch(_webfront, "_knownKeys", known)
        for n in range(10):
            self.get(b"/p?n=" + str(n).encode("ascii"))
            self.assertTrue(len(known._known) <= 3)
        page = _Checked(self, self.cache)
        self.site.resource.putChild(b"q", page)
        self.get(b"/q")
        del self.site.resource.children[b"q"], page
        gc.collect()
        dead = [record for record in known._known.values() if record[0]() is None]
        self.assertEqual(len(dead), 1)
