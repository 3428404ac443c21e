# -*- test-case-name: tests.test_admin -*-
"""
The operator's resource for a L{nevowcache.PageCache}: statistics and
purging.  Works under twisted.web and Nevow alike::

    root.putChild(b"_cache", AdminResource(cache, token=os.environ["CACHE_TOKEN"]))
"""

from __future__ import absolute_import, division

from nevowcache._operations.admin import AdminResource

__all__ = ["AdminResource"]
