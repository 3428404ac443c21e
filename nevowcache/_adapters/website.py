# -*- test-case-name: tests.test_web -*-
"""
L{InvalidatingSite}: a twisted.web C{Site} whose every unsafe request
invalidates, in the caches it is given, what it may have changed.
"""

from __future__ import absolute_import, division

from twisted.web import server

from nevowcache._engine.bypass import mayChange
from nevowcache._engine.sitecaches import (
    defaultPageCache, invalidateAfterEach, sitePageCaches)

__all__ = ["InvalidatingSite", "InvalidatingRequest"]



class InvalidatingRequest(server.Request):
    """
    A L{twisted.web.server.Request} that, when its method is not known to
    be safe, has the caches of its site (C{site.pageCaches}, or
    L{nevowcache.defaultPageCache}) invalidate once it is answered
    successfully (L{nevowcache.PageCache.invalidateAfter}), wherever in
    the tree it goes.  The C{requestFactory} of L{InvalidatingSite}; use it
    as the C{requestFactory} of another C{Site} subclass.
    """

    def process(self):
        if mayChange(self):
            site = getattr(self.channel, "site", None)
            invalidateAfterEach(getattr(site, "pageCaches", (defaultPageCache,)), self)
        return server.Request.process(self)



class InvalidatingSite(server.Site):
    """
    A drop-in for L{twisted.web.server.Site}: every unsafe request (a
    C{POST}, C{PUT}, C{DELETE}, C{PATCH}, any method not known to be safe),
    whether or not it reaches a cached resource, invalidates in
    C{pageCaches}, once answered successfully, its target path and the
    same-origin paths of its C{Location} and C{Content-Location}, on every
    host (L{nevowcache.PageCache.invalidateAfter}).

    Cached resources (L{nevowcache.web.CachedResource}, L{nevowcache.web.cached}) do so
    themselves for the requests that reach them or their children; this
    site does it for the rest: a form posted to an uncached resource
    elsewhere that redirects to a cached page.

    @ivar pageCaches: The L{nevowcache.PageCache}s unsafe requests
        invalidate.
    """
    requestFactory = InvalidatingRequest

    def __init__(self, resource, *args, **kwargs):
        """
        Take C{Site}'s arguments, and C{pageCaches}: the
        L{nevowcache.PageCache}s to invalidate (by default
        L{nevowcache.defaultPageCache} alone: name every cache the site's
        resources use).
        """
        pageCaches = kwargs.pop("pageCaches", None)
        server.Site.__init__(self, resource, *args, **kwargs)
        self.pageCaches = sitePageCaches(pageCaches)
