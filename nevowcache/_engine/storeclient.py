# -*- test-case-name: tests.test_reliability,tests.test_stores -*-
"""
The engine's side of the store: what the store can do (decided once, by
the interfaces it provides), a deadline on every call, and what a failed
call costs (counted, logged, then a miss, or a store not made).
"""

from __future__ import absolute_import, division

from twisted.internet import defer
from twisted.logger import Logger

from nevowcache._stores.interfaces import (
    IChargedStore, ILeaseStore, INearStore, IPeekableStore, IScopedStore,
    StoreUnavailable)

__all__ = ["StoreClient"]

_NOTHING = (None, None)



class StoreClient(object):
    """
    Calls to one L{IPageStore}, each with a deadline, their failures
    accounted for.

    @ivar store: The L{IPageStore}; replace it with L{use}.
    @ivar timeout: Seconds a call may take before the request goes on
        without it (C{storeTimeout}); L{None} for no deadline.
    @ivar scoped: Whether it provides L{IScopedStore}.
    @ivar peekable: Whether it provides L{IPeekableStore}.
    @ivar leasing: Whether it provides L{ILeaseStore}.
    @ivar writeMark: A near tier's C{bound} (L{INearStore}): how long a
        client that wrote bypasses the cache; else L{None}.
    """
    _log = Logger()

    def __init__(self, store, clocks, counters, timeout):
        """
        @param clocks: The engine's L{Clocks} (its reactor times calls).
        @param counters: The engine's counters (C{storeErrors}).
        """
        self._clocks = clocks
        self._counters = counters
        self.timeout = timeout
        self.use(store)


    def use(self, store):
        """
        Make C{store} the store, and decide once what it can do (providedBy
        costs more than the hit path should pay per request).
        """
        self.store = store
        self.scoped = IScopedStore.providedBy(store)
        self.peekable = IPeekableStore.providedBy(store)
        self.leasing = ILeaseStore.providedBy(store)
        # A near tier's bound: unsafe requests mark their client, whose
        # requests then bypass the cache for that long (_yourwrites).
        self.writeMark = store.bound if INearStore.providedBy(store) else None
        self.name = getattr(store, "name", None) or store


    def charging(self):
        """
        @return: C{(charge, maxBytes)} of a store that counts the engine's
            records against its bound (L{IChargedStore}), else C{(None,
            None)}.
        """
        store = self.store
        if IChargedStore.providedBy(store):
            return store.charge, store.maxBytes
        return None, None


    def call(self, method, *args):
        """
        Call a method of the store, with a deadline of C{timeout} seconds
        unless it answered at once.

        @return: A L{Deferred} with the method's result, or failing with
            L{defer.TimeoutError}.
        """
        d = defer.maybeDeferred(method, *args)
        if self.timeout is not None and not d.called:
            d.addTimeout(self.timeout, self._clocks.reactor)
        return d


    def failed(self, failure, operation, result=_NOTHING):
        """
        Account for a failed call: counted in C{storeErrors}, logged (once
        by the store if it gave up: L{StoreUnavailable}).

        @return: C{result}, what the request goes on with.
        """
        self._counters["storeErrors"] += 1
        if failure.check(StoreUnavailable):
            self._log.debug(u"Store {store} unavailable during {operation}: "
                            u"{error}", store=self.name, operation=operation,
                            error=failure.getErrorMessage())
        else:
            self._log.failure(u"Store {store} failed during {operation}; serving "
                              u"uncached", failure, store=self.name, operation=operation)
        return result


    def scopesOf(self, key, policy):
        """
        The arguments of a store's C{lookup} (or C{peek}) of C{key}: with the
        scopes of its entry (L{CachePolicy.scopesFor}) if the store has
        scopes; stores without them judge by URL and clear generations only.
        """
        if not self.scoped:
            return (key,)
        return (key, policy.scopesFor(key))


    def lookup(self, key, policy):
        """
        @return: A L{Deferred} firing with C{(entry, generation)}; C{(None,
            None)} if the store failed.
        """
        d = self.call(self.store.lookup, *self.scopesOf(key, policy))
        return d.addErrback(self.failed, u"lookup")


    def put(self, key, entry):
        """
        @return: A L{Deferred} firing with whether C{entry} was stored.
        """
        d = self.call(self.store.store, key, entry)
        return d.addErrback(self.failed, u"store", False)


    def acquireLease(self, key, timeout):
        """
        @return: A L{Deferred} firing with a lease token, or L{None} if
            another holds it; failing if the store failed.
        """
        return self.call(self.store.acquireLease, key, timeout)


    def releaseLease(self, result, key, token):
        """
        Release a lease (failures accounted for); pass C{result} on.
        """
        d = self.call(self.store.releaseLease, key, token)
        d.addErrback(self.failed, u"releaseLease", None)
        return result
