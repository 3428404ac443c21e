# -*- test-case-name: tests.test_behaviour -*-
"""
What a cached page declares, whichever adapter serves it: the settings both
L{nevowcache.CachedPageMixin} and L{nevowcache.web.CachedResource} read, with
their defaults (each documents them for its own users).
"""

from __future__ import absolute_import, division

from nevowcache._compat import textType
from nevowcache._engine.pagecache import CachePolicy
from nevowcache._engine.sitecaches import defaultPageCache
from nevowcache._engine.memo import remember

__all__ = ["CacheSettings", "pageName", "checkedSettings"]



def pageName(page):
    """
    @return: The name of C{page}'s class, as keys hold it.
    @rtype: L{str}
    """
    # Not type(): on Python 2 every old-style instance's is "instance"
    # (twisted.web's Resource is old-style on Twisted 20.3).
    cls = page.__class__
    name = _names.get(cls)
    if name is None:
        # Bounded: classes may be made at run time, without end.
        name = remember(_names, cls, "%s.%s" % (cls.__module__, cls.__name__), 4096)
    return name

_names = {}



class CacheSettings(object):
    """
    The cache settings of a page and their defaults; see
    L{nevowcache.CachedPageMixin} for what each means.
    """
    pageCache = None
    cacheTimeout = 60
    cacheGrace = None
    cacheVary = ()
    cacheControl = None
    # Tags for PageCache.invalidateTag, or a method taking the adapter's
    # context (Nevow) or request (twisted.web) and returning them.
    cacheTags = ()

    def _cache(self):
        """
        @return: The L{PageCache} of this page: C{pageCache}, or
            L{defaultPageCache}.
        """
        return self.pageCache if self.pageCache is not None else defaultPageCache



def checkedSettings(cacheTimeout, cacheGrace, cacheVary, cacheControl, cacheTags):
    """
    Check the settings given to a function that puts a cache in front of
    something (L{nevowcache.web.cached}, L{nevowcache.klein.cached}) when
    it is called, as L{CachePolicy} checks a page's, not at the first
    request.

    @return: C{(cacheVary, cacheTags)}: the header names as a L{tuple}; the
        tags as a L{tuple} (one tag given alone, as text or bytes, stays
        as it is), or the callable that returns them.
    @raise ValueError: If the timeout or grace is negative, or
        C{cacheControl} is not L{None} or C{"public"}.
    """
    if cacheTags is None:
        cacheTags = ()
    elif not callable(cacheTags) and not isinstance(cacheTags, (bytes, textType)):
        cacheTags = tuple(cacheTags)
    if cacheTimeout is not None:
        CachePolicy(cacheTimeout, cacheGrace, cacheVary, cacheControl,
                    () if callable(cacheTags) else cacheTags)
    return tuple(cacheVary), cacheTags
