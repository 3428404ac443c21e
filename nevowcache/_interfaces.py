# -*- test-case-name: tests.test_stores -*-
"""
The store interface: where L{PageCache} keeps entries and invalidation
generations.
"""

from __future__ import absolute_import, division

from zope.interface import Attribute, Interface

__all__ = ["IPageStore", "ILeaseStore", "Generation", "StoreUnavailable"]



class StoreUnavailable(Exception):
    """
    A store knows it cannot answer now (it is closed, or its circuit breaker
    is open after repeated failures), and did not try.  L{PageCache} serves
    uncached, as for any store failure, but logs these quietly.
    """



class Generation(tuple):
    """
    The invalidation state of one URL when it was read: C{(clearGeneration,
    clearHardFloor, urlGeneration, urlHardFloor)}, followed by C{scopes}
    when there are any: a tuple of C{(scopeName, generation, floor)}, the records of the
    other scopes the entry belongs to (its URL's path prefixes, its page's
    tags), as named by the store that read them.

    Each L{PageCache.clear} (everything), L{PageCache.invalidate} (one URL),
    L{PageCache.invalidatePrefix} or L{PageCache.invalidateTag} (one scope)
    bumps a generation; a hard one also raises the floor to it.  An entry
    remembers the generations it was rendered under (L{stamp}): if they
    differ from the current ones, the entry was invalidated since, softly
    (it is stale) or, below a floor, hard (it is gone).  A scope missing
    from a stamp counts as generation C{0}.
    """
    __slots__ = ()

    def __new__(cls, clearGeneration=0, clearFloor=0, urlGeneration=0, urlFloor=0,
                scopes=()):
        if scopes:
            return tuple.__new__(cls, (clearGeneration, clearFloor, urlGeneration,
                                       urlFloor, tuple(scopes)))
        # Without scopes, the four generations as before.
        return tuple.__new__(cls, (clearGeneration, clearFloor, urlGeneration,
                                   urlFloor))


    @property
    def scopes(self):
        """
        C{((scopeName, generation, floor), ...)}: the scope records read.
        """
        return self[4] if len(self) > 4 else ()


    def stamp(self):
        """
        @return: What an entry rendered now records: C{(clearGeneration,
            urlGeneration)}, or, when it has scopes, C{(clearGeneration,
            urlGeneration, ((scopeName, generation), ...))}.
        """
        if len(self) > 4:
            return (self[0], self[2],
                    tuple((name, generation) for name, generation, _ in self[4]))
        return (self[0], self[2])


    def judge(self, stamp):
        """
        Compare an entry's stamp with this state.

        @return: C{"valid"}, C{"stale"} (invalidated softly since the
            render started) or C{"gone"} (invalidated hard).
        """
        if stamp is None:
            return "valid"
        clearGen, urlGen = stamp[0], stamp[1]
        if len(self) == 4 and len(stamp) == 2 and clearGen == self[0] and urlGen == self[2]:
            # The common case, decided at once: nothing invalidated since.
            # (A generation is never below its floor.)
            return "valid"
        if clearGen < self[1] or urlGen < self[3]:
            return "gone"
        verdict = "valid"
        if clearGen != self[0] or urlGen != self[2]:
            verdict = "stale"
        if len(self) > 4 or len(stamp) > 2:
            stamped = dict(stamp[2]) if len(stamp) > 2 else {}
            for name, generation, floor in self.scopes:
                old = stamped.pop(name, 0)
                if old < floor:
                    return "gone"
                if old != generation:
                    verdict = "stale"
            if any(stamped.values()):
                # Stamped under a scope record that is no longer there
                # (forgotten, or the page's tags changed): never fresh.
                verdict = "stale"
        return verdict



class IPageStore(Interface):
    """
    Storage for cached pages.

    Every method but L{stats} returns a L{Deferred}.  A miss is not an
    error: a L{Deferred} fails only when the store itself cannot be used,
    and L{PageCache} then serves uncached (fails open).
    """

    name = Attribute("A short name for logs and stats, e.g. C{'memory'}.")

    def lookup(key, scopes=()):
        """
        Read an entry and the invalidation state of its URL in one step.

        @param key: A L{nevowcache.CacheKey}.
        @param scopes: The scopes the entry belongs to besides its URL
            (L{nevowcache._key.prefixScopes}, L{nevowcache._key.tagScope}):
            their records are read too, into the L{Generation}, and stamped
            into an entry rendered under it, so that L{store} fences by them
            as well.  Callers pass scopes only to stores with
            L{invalidateScope}.
        @return: A L{Deferred} firing with C{(entry, generation)}: the
            L{CacheEntry} stored under C{key} (L{None} if there is none) and
            the current L{Generation} of C{key.url} (and of C{scopes}: an
            entry stamped with it names the scopes, and L{store} fences by
            them too).  An entry is only
            returned if its own key equals C{key}.
        """

    def store(key, entry):
        """
        Store an entry, unless the URL was invalidated since its render
        started (C{entry.generation} is not the current stamp): a render
        that began before an invalidation is never stored after it.

        @return: A L{Deferred} firing with C{True} if stored, C{False} if
            fenced off.
        """

    def delete(key):
        """
        Forget one entry.  Deleting a missing key is not an error.

        @return: A L{Deferred} firing with L{None}.
        """

    def invalidate(url, hard):
        """
        Invalidate every entry of one URL identity, whatever page or variant
        stored it.

        @param url: A URL identity, as L{nevowcache.CacheKey.url}.
        @param hard: If true, the entries are gone; else they are stale.
        @return: A L{Deferred} firing with L{None}.
        """

    def invalidateScope(scope, hard):
        """
        Invalidate every entry that was looked up with C{scope} among its
        scopes (a path prefix, a tag).

        @param scope: A scope, as L{lookup} takes them.
        @param hard: If true, the entries are gone; else they are stale.
        @return: A L{Deferred} firing with L{None}.
        """

    def clear(hard):
        """
        Invalidate every entry.

        @return: A L{Deferred} firing with L{None}.
        """

    def stats():
        """
        @return: A L{dict} with at least C{entries}, C{bytes} and
            C{evictions}, as this process knows them (synchronously).
        """



class ILeaseStore(Interface):
    """
    Leases on keys, for single-flight renders across processes.

    A store shared by several processes provides this as well as
    L{IPageStore}: before a process renders a missing or stale key it takes
    the key's lease, and while one process holds it the others serve stale,
    or wait for its entry.  A lease only saves renders: entries are fenced
    by generation (L{IPageStore.store}), not by lease, so an expired lease
    costs at most one more render.
    """

    def acquireLease(key, ttl):
        """
        Take the lease of one key, unless another holder has it.

        @param key: A L{nevowcache.CacheKey}.
        @param ttl: Seconds after which the lease lapses by itself, so that
            a holder that dies does not block the key for longer.
        @return: A L{Deferred} firing with a token (L{bytes}) to release the
            lease with, or with L{None} if another holder has it.
        """

    def releaseLease(key, token):
        """
        Give a lease back, if it is still the one C{token} took.

        @return: A L{Deferred} firing with C{True} if it was released,
            C{False} if it had lapsed (and may now be another's).
        """
