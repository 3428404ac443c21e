# -*- test-case-name: tests.test_web -*-
"""
The twisted.web adapter: the same page cache for
L{twisted.web.resource.Resource} and L{twisted.web.template} pages, on
Python 2.7 (Twisted 20.3) and Python 3::

    from nevowcache.web import CachedResource, cached

    class Home(CachedResource):
        cacheTimeout = 60
        cacheGrace = 3600

        def render_GET(self, request):   # bytes, or NOT_DONE_YET
            ...

    site = InvalidatingSite(cached(legacyResource, cacheTimeout=30))

Template pages go through L{renderElementCached} (or L{ElementResource}),
which answers a rendering error with a C{500} that is never stored, where
L{twisted.web.template.renderElement} answers it with a C{200}.
"""

from __future__ import absolute_import, division

from nevowcache._adapters.webresource import (CachedResource, ElementResource, cached,
                                     renderElementCached)
from nevowcache._adapters.website import InvalidatingRequest, InvalidatingSite

__all__ = ["CachedResource", "ElementResource", "cached", "renderElementCached",
           "InvalidatingSite", "InvalidatingRequest"]
