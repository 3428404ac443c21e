# -*- test-case-name: tests.test_behaviour,tests.test_reliability -*-
"""
The framework-neutral engine: L{PageCache}, a facade over small
collaborators, one concept each (see docs/design.md).

Adapters (Nevow's L{CachedPageMixin}, the twisted.web L{CachedResource}) do
three things: build the key (L{PageCache.keyFor}), hand L{PageCache.serve}
a way to render the page for the live request and a way to make a
background refresher, and put the L{Answer} on the live request
(L{Answer.replay}).  Every rule about what is served when lives behind
L{PageCache}:

  - L{StoreClient} (C{_storeclient}): what the store can do, deadlines on
    its calls, its failures accounted for;
  - L{FreshnessJudge} (C{_freshness}): fresh, stale within grace, or a miss;
  - L{FlightTable} (C{_flights}): one render of a key at a time;
  - L{LeaseCoordinator} (C{_leases}): one render of a key across processes;
  - L{Misses} (C{_misses}): wait, queue or lead a render;
  - L{EntryWriter} (C{_entrywriter}) and L{VariantLimit} (C{_variants}):
    how a render is written, for first renders and refreshes alike;
  - L{RefreshScheduler} (C{_refresh}): background refreshes, their cap and
    back-off;
  - L{Invalidator} (C{_invalidation}): invalidation, after unsafe requests
    too;
  - L{Clocks} (C{_clocks}): every source of time;
  - C{_cachestatus}: every C{Cache-Status} value.

One request's state travels through them as one L{Lookup}.
"""

from __future__ import absolute_import, division

from twisted.logger import Logger

from nevowcache._adapters import bypass as _bypass
from nevowcache._engine import cachestatus as cacheStatus
from nevowcache._engine.answer import Answer
from nevowcache._adapters.bypass import actsAnyway
from nevowcache._engine.cachestatus import hit as hitStatus
from nevowcache._engine.cachestatus import withDetail
from nevowcache._engine.clocks import Clocks
from nevowcache._engine.entrywriter import EntryWriter
from nevowcache._engine.flights import FlightTable
from nevowcache._engine.freshness import EXPIRED, FRESH, GONE, INVALIDATED, FreshnessJudge
from nevowcache._stores.interfaces import ISharedStore
from nevowcache._engine.invalidation import Invalidator
from nevowcache._http.identity import keyParts
from nevowcache._http.key import CacheKey
from nevowcache._http.vary import varyValues
from nevowcache._engine.leases import LeaseCoordinator
from nevowcache._engine.lookup import Lookup
from nevowcache._stores.memory import MemoryStore
from nevowcache._engine.misses import Misses
from nevowcache._engine.policy import CachePolicy
from nevowcache._engine.records import Fingerprints
from nevowcache._engine.refresh import RefreshScheduler, _Refused
from nevowcache._engine.rendering import Renderer
from nevowcache._operations.stats import CacheStatistics
from nevowcache._engine.storeclient import StoreClient
from nevowcache._engine.variants import VariantLimit
from nevowcache._engine.yourwrites import markedWriter

__all__ = ["PageCache", "CachePolicy", "Answer", "refreshHeaders"]

# Imported from here by adapters and tests.
_reexported = (actsAnyway, withDetail, _Refused)

_STATS = ("hits", "staleHits", "misses", "collapsed", "renders", "refreshes",
          "refreshFailures", "refreshesSkipped", "bypasses", "refusals",
          "renderFailures", "waiterTimeouts", "storeErrors", "varyOverflows",
          "unsafeInvalidations", "leaseWaits", "leaseTimeouts", "leaseBusy")

# Request headers a background refresh never carries, besides every If-*.
_PRIVATE_HEADERS = frozenset([b"cookie", b"authorization", b"proxy-authorization"])



def refreshHeaders(headers):
    """
    Choose the request headers a background refresh renders with: all of the
    triggering request's but its cookies, its credentials and its
    conditionals (C{If-*}), so that the refresh renders the whole page and
    nothing personal.

    @param headers: The live request's L{twisted.web.http_headers.Headers}.
    @return: C{[(name, [value, ...]), ...]}, names as L{bytes}.
    """
    kept = []
    for name, values in headers.getAllRawHeaders():
        lower = name.lower()
        if lower not in _PRIVATE_HEADERS and not lower.startswith(b"if-"):
            kept.append((name, list(values)))
    return kept



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



class PageCache(object):
    """
    A page cache: one store, one set of rules, any number of pages.

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
        changed (L{invalidateAfter}; default true).
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
    _log = Logger()

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
        counters = self._stats = dict.fromkeys(_STATS, 0)
        # Per page class, per minute, top pages, refresh failures.
        self.statistics = statistics = CacheStatistics(
            self._clock, counters, now=clocks.wallClock.seconds)
        client = self._client = StoreClient(store, clocks, counters, storeTimeout)
        judge = self._judge = FreshnessJudge(self._clock)
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


    # Keys and rules about requests

    def keyFor(self, request, pageName, vary=(), extra=None):
        """
        Build the key of a request for a page.

        @param request: The request, after traversal.
        @param pageName: Names the page class (text or bytes).
        @param vary: Lower-cased names (L{bytes}) of the request headers
            whose values join the key.
        @param extra: Anything else the page wants in its key: nested tuples
            of bytes, text, integers and L{None}.
        @rtype: L{CacheKey}
        """
        url, spelling = keyParts(request)
        return CacheKey(url, (pageName, varyValues(request.requestHeaders, vary), extra,
                              spelling))


    def pageKey(self, request, pageName, policy, extra=None):
        """
        Build the key of a request for a page, with what the page's
        C{cacheKey} hook returned.

        @param extra: L{None} for the default key; a tuple of bytes, text,
            integers and L{None} to add to it; or a whole L{CacheKey} to use
            instead.
        @rtype: L{CacheKey}
        """
        if isinstance(extra, CacheKey):
            return extra
        return self.keyFor(request, pageName, policy.vary, extra)


    def bypassReason(self, request):
        """
        Decide whether a request must not use the cache at all.

        @return: L{None} to use the cache, else the reason (L{bytes}).
        """
        reason = _bypass.bypassReason(request)
        writeMark = self._client.writeMark
        if (reason is None and writeMark is not None
                and markedWriter(request, self._wallClock.seconds())):
            # It wrote, perhaps through another process, whose change this
            # process's near tier may not have heard of yet.
            return b"own-write"
        return reason


    def bypassed(self, reason, request=None):
        """
        Count a request that did not use the cache.

        An unsafe request (see L{invalidateAfter}) invalidates what it may
        have changed once it is answered successfully.

        @param request: The request, for unsafe-method invalidation.
        @return: The C{Cache-Status} value for it.
        """
        self._stats["bypasses"] += 1
        if request is not None:
            self.invalidateAfter(request)
        if reason == b"method":
            # RFC 9211 has a word for it: never looked up for its method.
            return b"nevowcache; fwd=method"
        return withDetail(b"nevowcache; fwd=bypass", reason)


    def invalidateAfter(self, request):
        """
        Invalidate what an unsafe request may have changed once it is
        answered (RFC 9111 section 4.4): if its method is not known to be
        safe (C{GET}, C{HEAD}, C{OPTIONS}, C{TRACE}) and its response is a
        success (C{2xx} or C{3xx}), its target path and the same-origin
        paths of its response's C{Location} and C{Content-Location} are
        invalidated hard, on every scheme, host and port (L{invalidate}
        given a path), so that the request following a form post's
        redirect renders anew (and never shares a render that began before
        the post ended).  Unless C{invalidateOnUnsafe} is false.  A request
        an adapter marked as acting whatever its method (L{actsAnyway}:
        formless's C{GET}s of C{freeform_post!!...} URLs) is unsafe too.

        Adapters call this for every request that reaches a cached page or
        passes through one (a Nevow page's C{locateChild}, a twisted.web
        cached resource's C{getChildWithDefault}); sites call it for every
        request (L{nevowcache.CachingSite},
        L{nevowcache.web.InvalidatingSite}).  Calling it more than once
        for one request invalidates once.

        The request's own C{Host} does not choose what is invalidated: a
        request with any C{Host} invalidates the same paths (and only
        invalidates: nothing is stored from it).

        @param request: The live request (a L{twisted.web.server.Request}).
        """
        self._invalidation.after(request)


    # Serving

    def serve(self, request, key, policy, render, makeRefresher):
        """
        Answer a cacheable request.

        @param request: The live request (its method decides HEAD handling).
        @param key: The L{CacheKey} from L{keyFor}.
        @param policy: The page's L{CachePolicy}.
        @param render: Renders the page for this request: a no-argument
            callable returning a L{Deferred} that fires with a finished
            L{CaptureRequest}, or fails.
        @param makeRefresher: Called (synchronously, while the request is
            alive) only when a background refresh is due; returns a
            no-argument callable that renders the page again without the
            live request, returning a L{Deferred} that fires with a
            L{CaptureRequest}.
        @return: A L{Deferred} firing with an L{Answer}, or failing with the
            render's failure.
        """
        lookup = Lookup(key, policy, render, makeRefresher)
        d = self._client.lookup(key, policy)
        d.addCallback(self._decide, lookup, request.method == b"HEAD")
        return d


    def _decide(self, found, lookup, head):
        entry, generation = found
        key = lookup.key
        if entry is not None and entry.key != key:
            # The store broke its promise (a desynchronised connection, a
            # corrupted slot): never serve another key's page.
            self._stats["storeErrors"] += 1
            self._log.error(u"Store {store} answered {key!r} with the entry of "
                            u"{other!r}; treated as a miss",
                            store=self._client.name, key=key, other=entry.key)
            entry = None
        lookup.generation = generation
        if entry is not None:
            state, age, now = self._judge.judge(entry, generation, lookup.policy)
            if state is FRESH:
                return self._hit(entry, age, now, lookup.policy)
            if state is not GONE:
                if state is not EXPIRED and lookup.makeRefresher is not None:
                    return self._staleHit(entry, state, age, now, lookup)
                lookup.previous = entry
                lookup.missKind = b"stale"
        return self._misses.miss(lookup, head)


    def answerAtOnce(self, key, policy, makeRefresher=None):
        """
        Answer a request at once if its entry can be served now and the
        store can say so synchronously (it provides L{IPeekableStore}, as
        L{MemoryStore} does): a fresh hit; with C{makeRefresher}, a stale hit within
        C{cacheGrace} too, scheduling its background refresh.

        These are the decisions L{serve} makes for hits, without a
        L{Deferred}: adapters call this first, and L{serve} when it answers
        L{None} (L{CachingSite} calls it before traversal, for fresh hits).

        @param makeRefresher: As for L{serve}.
        @return: An L{Answer}, or L{None} to go the normal way.
        """
        # The store client's peek, written here: the hit path.
        client = self._client
        if not client.peekable:
            return None
        store = client.store
        if client.scoped and store.needsScopes():
            entry, generation = store.peek(key, policy.scopesFor(key))
        else:
            entry, generation = store.peek(key)
        if entry is None:
            return None
        state, age, now = self._judge.judge(entry, generation, policy)
        if state is FRESH:
            return self._hit(entry, age, now, policy)
        if state is GONE or state is EXPIRED or makeRefresher is None:
            return None
        return self._staleHit(entry, state, age, now, Lookup(
            key, policy, makeRefresher=makeRefresher, generation=generation))


    def _hit(self, entry, age, now, policy):
        """
        Answer with a fresh entry.
        """
        self.statistics.hit(entry.key, now)
        self._stats["hits"] += 1
        return Answer(entry, status=hitStatus(policy.timeout, age), age=age,
                      cacheControl=policy.downstream(age, False))


    def _staleHit(self, entry, state, age, now, lookup):
        """
        Answer with a stale entry (past C{cacheTimeout}, or invalidated
        softly, within C{cacheGrace}), and refresh it in the background
        (L{RefreshScheduler}).

        @param lookup: The L{Lookup}, with the C{generation} read and a
            C{makeRefresher}.
        """
        self.statistics.staleHit(entry.key, now)
        self._stats["staleHits"] += 1
        lookup.previous = entry
        self._refreshes.schedule(lookup)
        policy = lookup.policy
        return Answer(entry, status=cacheStatus.staleHit(policy.timeout, age,
                                                         state is INVALIDATED),
                      age=age, cacheControl=policy.downstream(age, True))


    # Invalidation and statistics

    def invalidate(self, url, hard=False):
        """
        Invalidate every entry stored for a URL, whatever page or variant
        stored it.

        Given a path alone (C{"/post/1"}), every entry of that path on
        every scheme, host and port, whatever its query: the usual way for
        applications, since a page is reached through every alias of the
        site (C{localhost}, C{127.0.0.1}, C{www.}...), and an application
        building the URL from the request would reach only one.  Given an
        absolute URL, that scheme, host, port, path and query only.

        @param url: A path (C{/post/1}; a query in it is ignored), or an
            absolute URL, C{http://host:port/path?query} (text or bytes;
            the port defaults to 80 for http, 443 for https).
        @param hard: If false (the default), the entries become stale: they
            are served within the page's grace while one refresh runs.  If
            true, they are gone: the next request renders.
        @return: A L{Deferred} that fires when the store has it.
        @raise ValueError: If C{url} is neither a path nor an absolute
            http(s) URL.
        """
        return self._invalidation.url(url, hard)


    def invalidatePrefix(self, urlPrefix, hard=False):
        """
        Invalidate every entry stored for the URLs under a path prefix,
        whatever page or variant stored them, in every process sharing the
        store.

        Prefixes end on path-segment boundaries and ignore the query:
        C{/blog} (or C{/blog/}) reaches C{/blog}, C{/blog/} and
        C{/blog/x?y=1}, not C{/blogs}; C{/} reaches every path.  Given a
        path alone, on every scheme, host and port; given an absolute URL
        (C{http://example.com:8080/blog}), on that scheme, host and port
        only.

        @param urlPrefix: A path, or an absolute URL, as L{invalidate}
            takes.
        @param hard: As for L{invalidate}.
        @return: A L{Deferred} that fires when the store has it.
        @raise ValueError: If C{urlPrefix} is neither a path nor an
            absolute http(s) URL, or is deeper than 32 segments.
        """
        return self._invalidation.prefix(urlPrefix, hard)


    def invalidateTag(self, tag, hard=False):
        """
        Invalidate every entry of the pages tagged C{tag} (C{cacheTags}), in
        every process sharing the store.

        @param tag: Text, or UTF-8 L{bytes}.
        @param hard: As for L{invalidate}.
        @return: A L{Deferred} that fires when the store has it.
        """
        return self._invalidation.tag(tag, hard)


    def clear(self, hard=True):
        """
        Invalidate every entry.

        @param hard: If true (the default), every entry is gone; if false,
            all are stale.
        @return: A L{Deferred} that fires when the store has it.
        """
        return self._invalidation.clear(hard)


    def stats(self):
        """
        @return: A L{dict} of counters: C{hits}, C{staleHits}, C{misses},
            C{collapsed}, C{renders}, C{refreshes}, C{refreshFailures},
            C{bypasses}, C{refusals}, ..., and the store's C{entries},
            C{bytes} and C{evictions}.
        """
        result = dict(self._stats)
        result.update(self.store.stats())
        result["inFlight"] = len(self._flights)
        result["refreshesRunning"] = self._refreshes.running
        return result



defaultPageCache = PageCache()
"""
The L{PageCache} of every page that names no other: an in-memory store of
64 MiB and 10,000 entries at most.
"""



def sitePageCaches(pageCaches):
    """
    The caches a site's unsafe requests invalidate in, from its
    C{pageCaches} argument: by default L{defaultPageCache} alone.
    """
    if pageCaches is None:
        return (defaultPageCache,)
    return tuple(pageCaches)



def invalidateAfterEach(caches, request):
    """
    Have each of C{caches} invalidate what C{request} may have changed once
    it is answered (L{PageCache.invalidateAfter}): what a site
    (L{nevowcache.CachingSite}, L{nevowcache.web.InvalidatingSite}) does
    for every request it does not know to be safe, wherever it goes.
    """
    for cache in caches:
        cache.invalidateAfter(request)
