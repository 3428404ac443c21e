# -*- test-case-name: tests.test_behaviour,tests.test_reliability -*-
"""
How a L{PageCache} is put together: L{CacheWiring}, its constructor, which
makes its collaborators (one concept each, see docs/design.md) and hands
them the same L{Clocks} and counters, and its settings, each held by the
collaborator it rules.
"""

from __future__ import absolute_import, division

from nevowcache._engine.clocks import Clocks
from nevowcache._engine.entrywriter import EntryWriter
from nevowcache._engine.flights import FlightTable
from nevowcache._engine.freshhits import FreshHits
from nevowcache._engine.freshness import FreshnessJudge
from nevowcache._engine.invalidation import Invalidator
from nevowcache._engine.leases import LeaseCoordinator
from nevowcache._engine.misses import Misses
from nevowcache._engine.records import Fingerprints
from nevowcache._engine.refresh import RefreshScheduler
from nevowcache._engine.rendering import Renderer
from nevowcache._engine.storeclient import StoreClient
from nevowcache._engine.variants import VariantLimit
from nevowcache._operations.stats import CacheStatistics
from nevowcache._stores.interfaces import ISharedStore
from nevowcache._stores.memory import MemoryStore

__all__ = ["CacheWiring"]

# The counters every collaborator of one cache adds to (PageCache.stats()).
COUNTERS = ("hits", "staleHits", "misses", "collapsed", "renders", "refreshes",
            "refreshFailures", "refreshesSkipped", "bypasses", "refusals",
            "renderFailures", "waiterTimeouts", "storeErrors", "varyOverflows",
            "unsafeInvalidations", "leaseWaits", "leaseTimeouts", "leaseBusy")



class _Setting(object):
    """
    A setting of L{PageCache} kept by the collaborator it rules: read and
    set on the cache as before, held in one place.
    """

    def __init__(self, collaborator, name):
        self.collaborator = collaborator
        self.name = name


    def __get__(self, cache, owner):
        if cache is None:
            return self
        return getattr(getattr(cache, self.collaborator), self.name)


    def __set__(self, cache, value):
        setattr(getattr(cache, self.collaborator), self.name, value)



class CacheWiring(object):
    """
    The collaborators of a L{PageCache}, made by its constructor, and its
    settings, read and set on the cache, each held by the collaborator it
    rules.  The cache's methods use the collaborators directly (C{_client},
    C{_judge}, C{_flights}, C{_misses}, C{_refreshes}, C{_invalidation}, the
    counters C{_stats}, C{statistics}).

    @ivar store: The L{IPageStore} provider holding the entries.
    @ivar waitTimeout: Seconds a request waits for another request's render
        of the same key before rendering on its own (and not storing).
    @ivar renderTimeout: Seconds after which a render in flight is given up
        on: its waiters render on their own, and a background refresh counts
        as failed.
    @ivar refreshBackoff: Seconds to wait before retrying a failed
        background refresh; doubled after each further failure, up to
        C{maxRefreshBackoff}.
    @ivar maxRefreshes: The most background refreshes running at once.
    @ivar maxVariants: The most variants (other C{cacheVary} values, other
        pages, other C{cacheKey} additions) stored for one URL; more are
        served uncached, counted in C{stats()["varyOverflows"]} and logged.
    @ivar invalidateOnUnsafe: Whether a successful POST, PUT, DELETE,
        PATCH (any method not known to be safe) invalidates what it may have
        changed (L{PageCache.invalidateAfter}; default true).
    @ivar leaseTimeout: With a store shared by processes (an
        L{ILeaseStore}): seconds a process may hold the lease of a key it
        renders before the lease lapses and another may render it.
    @ivar leasePoll: Seconds between two looks at the store while another
        process holds the lease of a missing key; such a request waits at
        most C{waitTimeout}, then renders on its own and does not store.
    @ivar storeTimeout: Seconds a lookup or a store may take before the
        request goes on without it (a lookup is then a miss, a store not
        made): a store that never answers must not hang the site.  A
        backstop for stores without deadlines of their own; L{None} for
        none.
    @ivar sliceClock: What measures, with its C{seconds()}, the work of a
        background refresh cut into slices (see C{__init__}).
    """

    def __init__(self, store=None, reactor=None, clock=None, waitTimeout=30.0,
                 renderTimeout=60.0, refreshBackoff=1.0, maxRefreshBackoff=300.0,
                 maxRefreshes=4, wallClock=None, maxVariants=32,
                 leaseTimeout=None, leasePoll=0.05, storeTimeout=5.0,
                 sliceClock=None):
        """
        @param store: An L{IPageStore}; by default a L{MemoryStore}.
        @param reactor: An L{IReactorTime} for scheduling; by default the
            global reactor.
        @param clock: What C{seconds()} ages entries.  By default the
            C{reactor} when one is given and is not a real reactor (a
            L{task.Clock} in tests), else a
            monotonic clock, so that wall-clock jumps do not change
            freshness; but the time of day for a store that provides
            L{ISharedStore}, since other processes, on other hosts, age
            its entries too.
        @param wallClock: What C{seconds()} dates C{Last-Modified}: by
            default the C{reactor} when one is given, else C{time.time}.
        @param sliceClock: What C{seconds()} measures the work of a
            background refresh cut into slices (the Nevow adapter's
            C{cacheRefreshSlice}).  By default the C{reactor} when one is
            given and is not a real reactor (a L{task.Clock} in tests: no
            work takes time, the slices end where the test says, not where
            the machine's load puts them), else a real clock
            (L{timeit.default_timer}).
        """
        if store is None:
            store = MemoryStore()
        clocks = self.clocks = Clocks(reactor, clock, wallClock, sliceClock,
                                      shared=ISharedStore.providedBy(store))
        self._clock = clocks.clock
        self._wallClock = clocks.wallClock
        counters = self._stats = dict.fromkeys(COUNTERS, 0)
        # Per page class, per minute, top pages, refresh failures.
        self.statistics = statistics = CacheStatistics(
            self._clock, counters, now=clocks.wallClock.seconds)
        client = self._client = StoreClient(store, clocks, counters, storeTimeout)
        judge = self._judge = FreshnessJudge(self._clock)
        self._freshHits = FreshHits(self._clock)
        flights = self._flights = FlightTable(clocks, counters, waitTimeout, renderTimeout)
        leases = self._leases = LeaseCoordinator(
            client, judge, flights, clocks, counters,
            renderTimeout if leaseTimeout is None else leaseTimeout, leasePoll)
        # Per-URL and per-key records, named by fingerprints: within a byte
        # budget, charged to the store's bound when it counts such things.
        charge, bound = client.charging()
        fingerprint = Fingerprints()
        self._variants = VariantLimit(fingerprint, counters, maxVariants, charge, bound)
        writer = EntryWriter(client, self._variants, self._clock)
        renderer = Renderer(self._clock, counters, statistics)
        self._misses = Misses(client, judge, flights, leases, writer, renderer, clocks,
                              counters, statistics)
        self._refreshes = RefreshScheduler(
            flights, leases, writer, renderer, clocks, counters, statistics, fingerprint,
            refreshBackoff, maxRefreshBackoff, maxRefreshes, charge, bound)
        self._invalidation = Invalidator(client, clocks, counters)


    storeTimeout = _Setting("_client", "timeout")

    @property
    def store(self):
        """
        The L{IPageStore} holding the entries; what it can do is decided
        again when it is replaced (L{StoreClient.use}).
        """
        return self._client.store


    @store.setter
    def store(self, store):
        self._client.use(store)


    waitTimeout = _Setting("_flights", "waitTimeout")
    renderTimeout = _Setting("_flights", "renderTimeout")
    leaseTimeout = _Setting("_leases", "timeout")
    leasePoll = _Setting("_leases", "poll")
    maxVariants = _Setting("_variants", "maxVariants")
    refreshBackoff = _Setting("_refreshes", "refreshBackoff")
    maxRefreshBackoff = _Setting("_refreshes", "maxRefreshBackoff")
    maxRefreshes = _Setting("_refreshes", "maxRefreshes")
    invalidateOnUnsafe = _Setting("_invalidation", "onUnsafe")
    sliceClock = _Setting("clocks", "sliceClock")
    reactor = _Setting("clocks", "reactor")
