# -*- test-case-name: tests.test_nevowsite -*-
"""
L{CachingSite}: a C{NevowSite} that answers fresh hits before traversal.

Nevow spends about half of a request in its own set-up and traversal; a page
cache behind that can never be faster than those.  A L{CachingSite} learns,
from requests that reached a cached page, which page (and which cache and
rules) answers each URL, and answers later requests for that URL from the
cache before Nevow traverses anything, when that cannot change the outcome:

  - only GET and HEAD requests without C{Cookie} or C{Authorization} are
    answered early (traversal may depend on the session: C{nevow.guard}
    gives logged-in users another tree);
  - only for URLs whose page was reached by such a request, with no
    C{cacheKey} additions and no guard session (so the key depends on
    nothing but the URL and the declared C{cacheVary} headers);
  - only fresh hits, from a store that answers synchronously
    (L{MemoryStore}); stale entries, misses and everything else take the
    normal path, which also refreshes.

The one assumption: for anonymous requests, traversal depends only on the
URL.  A site whose C{locateChild} reads other request headers, or whose tree
changes at run time, should use C{NevowSite} (or invalidate the URLs whose
page moved).
"""

from __future__ import absolute_import, division

from collections import OrderedDict

from nevow import appserver
from twisted.web import server

from nevowcache._key import CacheKey, urlIdentity, varyValue

try:
    from urllib import unquote
except ImportError:
    from urllib.parse import unquote_to_bytes as unquote

__all__ = ["CachingSite"]



class _Routes(object):
    """
    What a L{CachingSite} learnt: for each URL identity, the cache, page
    name and policy that answer it.
    """

    def __init__(self, maxRoutes):
        self._maxRoutes = maxRoutes
        self._routes = OrderedDict()


    def learn(self, url, cache, pageName, policy):
        self._routes.pop(url, None)
        self._routes[url] = (cache, pageName, policy)
        while len(self._routes) > self._maxRoutes:
            self._routes.popitem(last=False)


    def get(self, url):
        return self._routes.get(url)


    def __len__(self):
        return len(self._routes)



class _CachingRequest(appserver.NevowRequest):
    """
    A C{NevowRequest} that first tries to answer from the cache.
    """

    @property
    def nevowcacheRoutes(self):
        return self.channel.site.nevowcacheRoutes


    def process(self):
        if not self._answerEarly():
            return appserver.NevowRequest.process(self)


    def _answerEarly(self):
        if self.method not in (b"GET", b"HEAD"):
            return False
        headers = self.requestHeaders
        if headers.hasHeader(b"cookie") or headers.hasHeader(b"authorization"):
            return False
        site = self.channel.site
        # As NevowRequest.process does.
        self.prepath = []
        self.postpath = [unquote(s) for s in self.path[1:].split(b"/")]
        url = urlIdentity(self)
        route = site.nevowcacheRoutes.get(url)
        if route is None:
            return False
        cache, pageName, policy = route
        if cache.bypassReason(self) is not None:
            return False
        vary = tuple(varyValue(h, headers.getRawHeaders(h)) for h in policy.vary)
        answer = cache.freshAnswer(CacheKey(url, (pageName, vary, None)), policy)
        if answer is None:
            return False
        self.site = site
        # The headers NevowRequest.process gives every response.
        self.setHeader(b"server", server.version)
        self.setHeader(b"date", server.http.datetimeToString())
        self.setHeader(b"content-type", b"text/html; charset=UTF-8")
        body = answer.replay(self)
        if body:
            self.write(body)
        self.finishRequest(True)
        return True



class CachingSite(appserver.NevowSite):
    """
    A drop-in for C{nevow.appserver.NevowSite} whose requests look in the
    cache before traversal; see the module documentation for when.

    @ivar nevowcacheRoutes: What the site learnt about its URLs.
    """
    requestFactory = _CachingRequest

    def __init__(self, *args, **kwargs):
        """
        Take C{NevowSite}'s arguments, and C{maxRoutes} (default 100,000):
        the most URLs remembered, least recently learnt forgotten first.
        """
        maxRoutes = kwargs.pop("maxRoutes", 100000)
        appserver.NevowSite.__init__(self, *args, **kwargs)
        self.nevowcacheRoutes = _Routes(maxRoutes)
