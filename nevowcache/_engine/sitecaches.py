# -*- test-case-name: tests.test_unsafe,tests.test_exports -*-
"""
Which caches pages and sites use when they name none
(L{defaultPageCache}), and the caches a site's requests invalidate in
(L{sitePageCaches}, L{invalidateAfterEach}).
"""

from __future__ import absolute_import, division

from nevowcache._engine.pagecache import PageCache

__all__ = ["defaultPageCache", "sitePageCaches", "invalidateAfterEach"]



defaultPageCache = PageCache()
"""
The L{PageCache} of every page that names no other: an in-memory store of
64 MiB and 10,000 entries at most.
"""



def sitePageCaches(pageCaches):
    """
    The caches a site's unsafe requests invalidate in, from its
    C{pageCaches} argument: by default L{defaultPageCache} alone.
    """
    if pageCaches is None:
        return (defaultPageCache,)
    return tuple(pageCaches)



def invalidateAfterEach(caches, request):
    """
    Have each of C{caches} invalidate what C{request} may have changed once
    it is answered (L{PageCache.invalidateAfter}): what a site
    (L{nevowcache.CachingSite}, L{nevowcache.web.InvalidatingSite}) does
    for every request it does not know to be safe, wherever it goes.
    """
    for cache in caches:
        cache.invalidateAfter(request)
