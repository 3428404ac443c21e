# -*- test-case-name: tests.test_behaviour -*-
"""
What a cached page declares, whichever adapter serves it: the settings both
L{nevowcache.CachedPageMixin} and L{nevowcache.web.CachedResource} read, with
their defaults (each documents them for its own users).
"""

from __future__ import absolute_import, division

from nevowcache._engine import defaultPageCache
from nevowcache._memo import remember

__all__ = ["CacheSettings", "pageName"]



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
