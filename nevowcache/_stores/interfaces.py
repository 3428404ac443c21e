# -*- test-case-name: tests.test_stores -*-
"""
The store interface: where L{PageCache} keeps entries and invalidation
generations.
"""

from __future__ import absolute_import, division

from zope.interface import Attribute, Interface

__all__ = ["IPageStore", "IScopedStore", "IPeekableStore", "IChargedStore",
           "ISharedStore", "ILeaseStore", "INearStore", "Generation", "StoreUnavailable"]



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

    This is all a store must provide.  What more it can do it declares by
    providing more interfaces, which L{PageCache} checks (with
    C{providedBy}, once per store) instead of looking for methods by name:
    L{IScopedStore} (prefixes, tags, a path on every host),
    L{IPeekableStore} (hits answered synchronously), L{IChargedStore} (the
    cache's own records counted within the store's bound) and
    L{ISharedStore} (entries shared by processes, aged by the time of day).
    """

    name = Attribute(
        "A short name for logs, stats and the status page, e.g. "
        "C{'memory'}: a L{str}.")

    def lookup(key, scopes=()):
        """
        Read an entry and the invalidation state of its URL in one step.

        @param key: A L{nevowcache.CacheKey}.
        @param scopes: The scopes the entry belongs to besides its URL
            (L{nevowcache._http.scopes.prefixScopes}, L{nevowcache._http.scopes.tagScope}):
            their records are read too, into the L{Generation}, and stamped
            into an entry rendered under it, so that L{store} fences by them
            as well.  Callers pass scopes only to stores that provide
            L{IScopedStore}.
        @return: A L{Deferred} firing with C{(entry, generation)}: the
            L{CacheEntry} stored under C{key} (L{None} if there is none) and
            the current L{Generation} of C{key.url} (and of C{scopes}: an
            entry stamped with it names the scopes, and L{store} fences by
            them too).  An entry is only
            returned if its own key equals C{key}.  A store hands out
            another generation object whenever what it records of C{key}'s
            invalidations changed: the engine answers a hit from memory
            under the same generation object
            (L{nevowcache._engine.freshhits}).
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



class IScopedStore(IPageStore):
    """
    A store that keeps invalidation records for scopes besides URLs: path
    prefixes (L{PageCache.invalidatePrefix}, a path on every host after an
    unsafe request) and tags (L{PageCache.invalidateTag}).

    L{PageCache} passes such a store the scopes of an entry in
    L{IPageStore.lookup}; a store without this interface is looked up by key
    alone, an unsafe request invalidates only its own URL on its own host,
    and L{PageCache.invalidatePrefix} and L{PageCache.invalidateTag} fail
    with L{TypeError}.
    """

    def invalidateScope(scope, hard):
        """
        Invalidate every entry that was looked up with C{scope} among its
        scopes (a path prefix, a tag).

        @param scope: A scope, as L{IPageStore.lookup} takes them.
        @param hard: If true, the entries are gone; else they are stale.
        @return: A L{Deferred} firing with L{None}.
        """



class IPeekableStore(IPageStore):
    """
    A store that can answer a lookup synchronously (it keeps its entries in
    this process), so that L{PageCache.answerAtOnce} serves a hit without a
    L{Deferred}.  A store without this interface is always read through
    L{IPageStore.lookup}.
    """

    def peek(key, scopes=()):
        """
        L{IPageStore.lookup}, answered at once.

        @param key: A L{nevowcache.CacheKey}.
        @param scopes: As for L{IPageStore.lookup} (given only when the
            store also provides L{IScopedStore} and L{needsScopes} is true).
        @return: C{(entry, generation)}, as L{IPageStore.lookup}'s
            L{Deferred} fires with, not a L{Deferred}.
        """

    def needsScopes():
        """
        Whether L{peek} must be given an entry's scopes to judge it (for
        example, only once some scope was invalidated: until then a lookup
        without them answers the same, and the hit path skips computing
        them).

        @return: L{bool}.
        """



class IChargedStore(IPageStore):
    """
    A store bounded in this process's memory, that counts the cache's own
    bookkeeping (its per-URL records of variants and of refresh back-offs)
    within its bound, evicting entries to make room.  L{PageCache} sizes
    those records at a fraction of C{maxBytes} and charges them with
    L{charge}; for a store without this interface they have fixed budgets
    of their own.
    """

    maxBytes = Attribute(
        "The most bytes of this process's memory the store takes, with what "
        "is charged to it: an L{int}.")

    def charge(size):
        """
        Count C{size} more bytes (fewer, if negative) within C{maxBytes}.

        @param size: Bytes, an L{int}.
        @return: L{None}.
        """



class ISharedStore(IPageStore):
    """
    A store whose entries are shared by several processes, perhaps on
    several hosts (memcached, Redis).  A marker: it adds no methods.

    A L{PageCache} over such a store ages entries by the time of day
    (C{time.time}) unless given a C{clock}, since a monotonic clock means
    nothing in another process.  Such a store should provide
    L{ILeaseStore} too, so that processes do not render the same page at
    the same time.
    """



class INearStore(IPageStore):
    """
    A shared store with a near tier in this process
    (L{nevowcache.NearStore}): the near tier may lag the shared store by
    up to C{bound} seconds for changes made by other processes.

    A L{PageCache} over such a store marks the client of a successful
    unsafe request (a cookie that lasts C{bound} and a little more), and
    renders that client's requests anew while it is marked: whichever
    process answers, the client never gets the page as it was before its
    own write (read-your-writes across processes).
    """

    shared = Attribute("The shared store behind the near tier.")

    bound = Attribute(
        "Seconds within which a change made by another process reaches the "
        "near tier: a L{float}.")



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
