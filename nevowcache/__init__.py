# -*- test-case-name: tests.test_exports -*-
"""
nevowcache: page-output caching for Nevow and twisted.web::

    from nevowcache import CachedPage

    class Home(CachedPage):
        cacheTimeout = 60
        docFactory = loaders.xmlfile("home.html")

Only the names in C{__all__} are public; C{_}-prefixed modules may change.
C{CachePolicy}, C{CaptureRequest} and C{Answer}, public in 0.1.0, are what
the adapters and the engine pass each other: still importable from here
for code written against 0.1.0, but no longer public.
C{CachedPage} and C{CachedPageMixin} need Nevow (Python 2.7); the
twisted.web adapter is in L{nevowcache.web}.
"""

from __future__ import absolute_import, division

from nevowcache._http.capture import CaptureRequest
from nevowcache._engine.pagecache import Answer, CachePolicy, PageCache
from nevowcache._engine.sitecaches import defaultPageCache
from nevowcache._http.entry import CacheEntry
from nevowcache._stores.interfaces import (
    Generation, IChargedStore, ILeaseStore, INearStore, IPageStore, IPeekableStore,
    IScopedStore, ISharedStore)
from nevowcache._http.key import CacheKey
from nevowcache._stores.memcachedstore import MemcachedStore
from nevowcache._stores.memory import MemoryStore
from nevowcache._stores.near import NearStore
from nevowcache._stores.redisstore import RedisStore

__version__ = "0.1.0"

__all__ = [
    "CachedPage",
    "CachedPageMixin",
    "CachingSite",
    "PageCache",
    "MemoryStore",
    "MemcachedStore",
    "RedisStore",
    "NearStore",
    "defaultPageCache",
    "IPageStore",
    "IScopedStore",
    "IPeekableStore",
    "IChargedStore",
    "ISharedStore",
    "ILeaseStore",
    "INearStore",
    "CacheKey",
    "CacheEntry",
    "Generation",
]

_NEVOW_NAMES = ("CachedPage", "CachedPageMixin", "CachingSite")


def _nevowMissing(name):
    return ImportError(
        "nevowcache.%s needs Nevow, which runs only on Python 2.7; on "
        "Python 3 use nevowcache.web.CachedResource" % (name,))


try:
    import nevow  # noqa: F401
except ImportError:
    # "from nevowcache import *" imports what there is.
    __all__ = [name for name in __all__ if name not in _NEVOW_NAMES]

    def __getattr__(name):
        # Python 3.7+: a clear error instead of a bare AttributeError.
        if name in _NEVOW_NAMES:
            raise _nevowMissing(name)
        raise AttributeError("module 'nevowcache' has no attribute %r" % (name,))
else:
    from nevowcache._adapters.nevowpage import CachedPage, CachedPageMixin  # noqa: F401
    from nevowcache._adapters.nevowsite import CachingSite  # noqa: F401
