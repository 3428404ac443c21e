# -*- test-case-name: tests.test_testing -*-
"""
A store that fails on demand (L{nevowcache.testing.FailingStore}), to test
that pages are still served while the store is down.
"""

from __future__ import absolute_import, division

from twisted.internet import defer
from zope.interface import implementer

from nevowcache._stores.interfaces import IScopedStore
from nevowcache._stores.memory import MemoryStore

__all__ = ["FailingStore", "StoreFailure"]



class StoreFailure(Exception):
    """
    A L{FailingStore} was told to fail.
    """



@implementer(IScopedStore)
class FailingStore(object):
    """
    A store (a L{MemoryStore} by default) behind a switch, to test that a
    page is still served when the store is down::

        store = FailingStore()
        cache = cacheOnClock(clock, store=store)
        store.mode = "fail"     # every call now fails with StoreFailure

    @ivar inner: The store behind the switch.
    @ivar mode: C{"ok"} (calls go to C{inner}); C{"fail"} (calls return
        failed L{Deferred <twisted.internet.defer.Deferred>}s with
        L{StoreFailure}); C{"raise"} (calls raise L{StoreFailure});
        C{"hang"} (calls return Deferreds that never fire, until the
        cache's deadline).
    @type mode: L{str}
    @ivar calls: How many calls were made, in every mode.
    @type calls: L{int}
    @ivar hung: The Deferreds handed out in C{"hang"} mode.
    @type hung: L{list}
    """
    name = "failing"

    def __init__(self, inner=None):
        """
        @param inner: The store to use while C{mode} is C{"ok"}; a new
            L{MemoryStore} if omitted.
        """
        self.inner = MemoryStore() if inner is None else inner
        self.mode = "ok"
        self.calls = 0
        self.hung = []


    def call(self, name, *args, **kwargs):
        """
        Call C{inner}'s method C{name}, or fail as C{mode} says.

        @return: What the method returned, or a failed or hanging
            L{Deferred <twisted.internet.defer.Deferred>}.
        """
        self.calls += 1
        if self.mode == "raise":
            raise StoreFailure(name)
        if self.mode == "fail":
            return defer.fail(StoreFailure(name))
        if self.mode == "hang":
            d = defer.Deferred()
            self.hung.append(d)
            return d
        return getattr(self.inner, name)(*args, **kwargs)


    def lookup(self, key, scopes=()):
        """
        L{IPageStore.lookup}, behind the switch.
        """
        return self.call("lookup", key, scopes)


    def store(self, key, entry):
        """
        L{IPageStore.store}, behind the switch.
        """
        return self.call("store", key, entry)


    def delete(self, key):
        """
        L{IPageStore.delete}, behind the switch.
        """
        return self.call("delete", key)


    def invalidate(self, url, hard):
        """
        L{IPageStore.invalidate}, behind the switch.
        """
        return self.call("invalidate", url, hard)


    def invalidateScope(self, scope, hard):
        """
        L{IScopedStore.invalidateScope}, behind the switch.
        """
        return self.call("invalidateScope", scope, hard)


    def clear(self, hard):
        """
        L{IPageStore.clear}, behind the switch.
        """
        return self.call("clear", hard)


    def stats(self):
        """
        C{inner}'s statistics (never fails).
        """
        return self.inner.stats()
