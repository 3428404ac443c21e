# -*- test-case-name: tests.test_testing -*-
"""
Helpers for an application's own tests of its cached pages, without a
network or a real reactor: a L{PageCache} on a
L{task.Clock <twisted.internet.task.Clock>} (L{cacheOnClock}), a client
that sends requests to a resource tree in memory (L{MemoryClient}), and a
store that fails on demand (L{FailingStore})::

    from twisted.internet import task
    from twisted.trial.unittest import SynchronousTestCase
    from twisted.web.resource import Resource
    from nevowcache.testing import MemoryClient, cacheOnClock
    from myapp import Articles              # a CachedResource, cacheTimeout = 60

    class ArticlesTests(SynchronousTestCase):
        def test_cachedThenInvalidatedByPost(self):
            clock = task.Clock()
            cache = cacheOnClock(clock)
            root = Resource()
            root.putChild(b"articles", Articles(pageCache=cache))
            client = MemoryClient(root, clock)

            first = client.get(b"/articles")
            self.assertEqual(first.cacheStatus, b"nevowcache; fwd=uri-miss; ttl=60; stored")
            clock.advance(5)
            second = client.get(b"/articles")
            self.assertEqual(second.cacheStatus, b"nevowcache; hit; ttl=55")
            self.assertEqual(second.age, 5)
            self.assertEqual(second.body, first.body)

            self.assertEqual(client.post(b"/articles", body=b"title=New").code, 200)
            self.assertEqual(cache.stats()["unsafeInvalidations"], 1)
            client.get(b"/articles")        # a new render is under way, or done
            clock.advance(1)
            self.assertIn(b"New", client.get(b"/articles").body)

Works with twisted.web resources on Python 2.7 and 3, and with Nevow pages
(a C{NevowSite}) on Python 2.7.

@since: 0.2.0
"""

from __future__ import absolute_import, division

from nevowcache._engine.pagecache import PageCache
from nevowcache._stores.memory import MemoryStore
from nevowcache._testing.failingstore import FailingStore, StoreFailure
from nevowcache._testing.memoryclient import (
    MemoryClient, MemoryResponse, NotAnswered, PendingRequest)

__all__ = ["cacheOnClock", "MemoryClient", "MemoryResponse", "PendingRequest",
           "NotAnswered", "FailingStore", "StoreFailure"]



def cacheOnClock(clock, store=None, **kwargs):
    """
    A L{PageCache} whose time is a L{task.Clock <twisted.internet.task.Clock>}:
    freshness, grace, timeouts and background refreshes happen when the
    test advances the clock, never by themselves.

    @param clock: The clock.
    @type clock: L{task.Clock <twisted.internet.task.Clock>}
    @param store: The store; a new L{MemoryStore} if omitted.
    @param kwargs: More arguments for L{PageCache} (C{waitTimeout},
        C{renderTimeout}, ...).
    @return: The L{PageCache}.
    """
    if store is None:
        store = MemoryStore()
    return PageCache(store, reactor=clock, **kwargs)
