# -*- test-case-name: tests.test_behaviour,tests.test_reliability -*-
"""
The framework-neutral engine: freshness, single-flight renders, background
refreshes, invalidation and statistics.

Adapters (Nevow's L{CachedPageMixin}, the twisted.web L{CachedResource}) do
three things: build the key (L{PageCache.keyFor}), hand L{PageCache.serve}
a way to render the page for the live request and a way to make a
background refresher, and put the L{Answer} on the live request
(L{Answer.replay}).  Every rule about what is served when lives here.
"""

from __future__ import absolute_import, division

from twisted.internet import defer, task
from twisted.logger import Logger
from twisted.python import runtime
from twisted.python.failure import Failure

from nevowcache import _bypass
from nevowcache import _cachestatus as cacheStatus
from nevowcache._answer import Answer
from nevowcache._bypass import actsAnyway
from nevowcache._cachestatus import withDetail
from nevowcache._clocks import monotonicClock, workClock
from nevowcache._clocks import wallClock as _wallClock
from nevowcache._entry import CacheEntry
from nevowcache._entrywriter import entryFrom
from nevowcache._interfaces import (
    IChargedStore, ILeaseStore, INearStore, IPeekableStore, IScopedStore, ISharedStore,
    StoreUnavailable)
from nevowcache._key import (
    CacheKey, encodeKey, isPath, keyParts, pathScopeFromString, pathScopes,
    prefixScopeFromString, requestUrlIdentity, tagScope, unsafeTargets,
    urlIdentityFromString, varyValues)
from nevowcache._memory import MemoryStore
from nevowcache._policy import CachePolicy
from nevowcache._records import Fingerprints, Records
from nevowcache._refusal import refusalOf
from nevowcache._slicing import callAfterOutput
from nevowcache._stats import CacheStatistics
from nevowcache._yourwrites import markWriter, markedWriter

__all__ = ["PageCache", "CachePolicy", "Answer", "refreshHeaders"]



_STATS = ("hits", "staleHits", "misses", "collapsed", "renders", "refreshes",
          "refreshFailures", "refreshesSkipped", "bypasses", "refusals",
          "renderFailures", "waiterTimeouts", "storeErrors", "varyOverflows",
          "unsafeInvalidations", "leaseWaits", "leaseTimeouts", "leaseBusy")

# How many URLs the variant counts are kept for, and in how many bytes at
# most (a sixteenth of a store's byte bound at most, charged to it).
_MAX_VARIANT_URLS = 10000
_MAX_VARIANT_BYTES = 2 * 1024 * 1024

# How many keys the refresh back-off is remembered for, and in how many
# bytes at most (a sixty-fourth of a store's byte bound at most, charged to
# it).
_MAX_BACKOFF_KEYS = 10000
_MAX_BACKOFF_BYTES = 512 * 1024

# The methods RFC 9110 defines as safe: any other invalidates (RFC 9111 4.4).
_KNOWN_SAFE = frozenset([b"GET", b"HEAD", b"OPTIONS", b"TRACE"])

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



# The stamp of a flight whose render has not started yet.
_PENDING = object()



class _Flight(object):
    """
    One render in progress for a key: its waiters get the entry it made
    (stored or not), or L{None} to render on their own.

    @ivar stamp: The invalidation state its render started under (a
        L{Generation} stamp); L{_PENDING} until it starts; L{None} if
        unknown (the lookup failed).
    """
    __slots__ = ("waiters", "refresh", "superseded", "stamp")

    def __init__(self, refresh=False, stamp=_PENDING):
        self.waiters = []
        self.refresh = refresh
        # Given up on at renderTimeout, and a newer flight of the key began:
        # if this render ends after all, it must not replace that one's entry.
        self.superseded = False
        self.stamp = stamp


    def current(self, generation):
        """
        Whether a request that read C{generation} may share this render:
        unless the render started before an invalidation of its key that
        the request came after (it may show what an unsafe request the
        client made since has changed).
        """
        stamp = self.stamp
        if stamp is _PENDING or stamp is None or generation is None:
            return True
        return generation.judge(stamp) == "valid"



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
        # A real reactor's seconds() is the time of day.
        fakeReactor = (reactor is not None
                       and getattr(reactor, "seconds", None) is not runtime.seconds)
        if clock is None:
            if fakeReactor:
                clock = reactor
            elif ISharedStore.providedBy(store):
                clock = _wallClock()
            else:
                clock = monotonicClock()
        if wallClock is None:
            wallClock = reactor if reactor is not None else _wallClock()
        if sliceClock is None:
            sliceClock = reactor if fakeReactor else workClock()
        self.store = store
        self._learnStore()
        self._wallClock = wallClock
        self._reactor = reactor
        self._clock = clock
        self.sliceClock = sliceClock
        self.waitTimeout = waitTimeout
        self.renderTimeout = renderTimeout
        self.refreshBackoff = refreshBackoff
        self.maxRefreshBackoff = maxRefreshBackoff
        self.maxRefreshes = maxRefreshes
        self.maxVariants = maxVariants
        self.leaseTimeout = renderTimeout if leaseTimeout is None else leaseTimeout
        self.leasePoll = leasePoll
        self.storeTimeout = storeTimeout
        self.invalidateOnUnsafe = True
        # Per-URL and per-key records, named by fingerprints: within a byte
        # budget, charged to the store's bound when it counts such things.
        if IChargedStore.providedBy(store):
            charge, bound = store.charge, store.maxBytes
        else:
            charge = bound = None
        self._fingerprint = Fingerprints()
        self._variants = Records(_MAX_VARIANT_BYTES if bound is None
                                 else min(_MAX_VARIANT_BYTES, bound // 16), charge)
        self._failures = Records(_MAX_BACKOFF_BYTES if bound is None
                                 else min(_MAX_BACKOFF_BYTES, bound // 64), charge)
        self._flights = {}
        self._late = {}
        self._refreshing = 0
        self._stats = dict.fromkeys(_STATS, 0)
        # Per page class, per minute, top pages, refresh failures.
        self.statistics = CacheStatistics(self._clock, self._stats)


    def _learnStore(self):
        """
        Decide once what C{store} can do, by the interfaces it provides
        (C{providedBy} costs more than the hit path should pay per request):
        again whenever C{store} is replaced (see L{_capable}).
        """
        store = self.store
        self._learned = store
        self._scoped = IScopedStore.providedBy(store)
        self._peekable = IPeekableStore.providedBy(store)
        self._leasing = ILeaseStore.providedBy(store)
        # A near tier's bound: unsafe requests mark their client, whose
        # requests then bypass the cache for that long (_yourwrites).
        self._writeMark = store.bound if INearStore.providedBy(store) else None
        self._storeName = getattr(store, "name", None) or store


    def _capable(self):
        """
        @return: C{self.store}, its capabilities decided (L{_learnStore}).
        """
        store = self.store
        if store is not self._learned:
            self._learnStore()
        return store


    @property
    def reactor(self):
        if self._reactor is None:
            from twisted.internet import reactor
            self._reactor = reactor
        return self._reactor


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
        if (reason is None and self._writeMark is not None
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
        if not self.invalidateOnUnsafe or (
                request.method in _KNOWN_SAFE and not actsAnyway(request)):
            return
        watching = getattr(request, "_nevowcacheUnsafe", None)
        if watching is None:
            watching = request._nevowcacheUnsafe = []
        elif self in watching:
            return
        watching.append(self)
        if self._writeMark is not None:
            markWriter(request, self._writeMark, self._wallClock.seconds())
        request.notifyFinish().addBoth(self._unsafeAnswered, request)


    def _unsafeAnswered(self, ignored, request):
        """
        An unsafe request was answered (or its client went away, after
        which what it did may still have been done): invalidate.
        """
        if not 200 <= request.code < 400:
            return
        self._stats["unsafeInvalidations"] += 1
        paths = unsafeTargets(request)
        self._capable()
        if not self._scoped:
            # A store without scopes: the target URL on its own host only.
            calls = [(self.store.invalidate, requestUrlIdentity(request))]
        else:
            calls = [(self.store.invalidateScope, pathScopes(segments))
                     for segments in paths]
        for method, name in calls:
            self._callStore(method, name, True).addErrback(
                self._storeFailed, u"invalidate", None)


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
        d = self._callStore(self.store.lookup, *self._lookupArgs(key, policy))
        d.addErrback(self._storeFailed, u"lookup")
        d.addCallback(self._decide, request.method == b"HEAD", key, policy,
                      render, makeRefresher)
        return d


    def _lookupArgs(self, key, policy):
        """
        The arguments of a store's C{lookup} (or C{peek}) of C{key}: with the
        scopes of its entry (L{CachePolicy.scopesFor}) if the store has
        scopes (L{IScopedStore}); stores without them judge by URL and
        clear generations only.
        """
        self._capable()
        if not self._scoped:
            return (key,)
        return (key, policy.scopesFor(key))


    def _callStore(self, method, *args):
        """
        Call a method of the store, with a deadline of C{storeTimeout}
        seconds unless it answered at once.

        @return: A L{Deferred} with the method's result, or failing with
            L{defer.TimeoutError}.
        """
        d = defer.maybeDeferred(method, *args)
        if self.storeTimeout is not None and not d.called:
            d.addTimeout(self.storeTimeout, self.reactor)
        return d


    def _storeFailed(self, failure, operation, result=(None, None)):
        self._stats["storeErrors"] += 1
        self._capable()
        store = self._storeName
        if failure.check(StoreUnavailable):
            # Said once by the store when it gave up; not once per request.
            self._log.debug(u"Store {store} unavailable during {operation}: "
                            u"{error}", store=store, operation=operation,
                            error=failure.getErrorMessage())
        else:
            self._log.failure(u"Store {store} failed during {operation}; serving "
                              u"uncached", failure, store=store, operation=operation)
        return result


    def _decide(self, found, head, key, policy, render, makeRefresher):
        entry, generation = found
        if entry is not None and entry.key != key:
            # The store broke its promise (a desynchronised connection, a
            # corrupted slot): never serve another key's page.
            self._stats["storeErrors"] += 1
            self._log.error(u"Store {store} answered {key!r} with the entry of "
                            u"{other!r}; treated as a miss",
                            store=self._storeName, key=key,
                            other=entry.key)
            entry = None
        verdict = "valid"
        if entry is not None and generation is not None:
            verdict = generation.judge(entry.generation)
            if verdict == "gone":
                entry = None
        missKind = b"uri-miss"
        previous = entry
        if entry is not None:
            answer = self._answerEntry(entry, verdict, key, policy, generation,
                                       makeRefresher)
            if answer is not None:
                return answer
            missKind = b"stale"
        self.statistics.miss(key)
        self._stats["misses"] += 1
        if head:
            # HEAD never populates the cache: Nevow's unbuffered pages leak
            # bodies on HEAD, and a HEAD render may differ.
            self.statistics.uncacheable(key)
            return self._renderAlone(render, policy, withDetail(
                cacheStatus.forwarded(missKind), b"head"), key, False)
        flight = self._flights.get(key)
        if flight is not None:
            if flight.current(generation):
                return self._wait(flight, render, policy, key)
            # Rendering since before an invalidation this request came
            # after: render again, once that render is over (one render of
            # a key at a time, however many invalidations).
            return self._queue(key, policy, render, missKind, previous, flight)
        return self._lead(key, policy, render, generation, missKind, previous)


    def _answerEntry(self, entry, verdict, key, policy, generation, makeRefresher):
        """
        Answer from an entry found for C{key}, if it can be served now:
        fresh, or stale (past C{cacheTimeout}, or invalidated softly) within
        C{cacheGrace}, which schedules a background refresh.

        @param verdict: The store's judgement of the entry's stamp:
            C{"valid"} or C{"stale"}.
        @param makeRefresher: As for L{serve}; L{None} to answer fresh
            entries only.
        @return: An L{Answer}, or L{None} if the entry cannot be served.
        """
        now = self._clock.seconds()
        age = max(0, now - entry.created)
        timeout = policy.timeout
        if verdict == "valid" and (timeout == 0 or age < timeout):
            self.statistics.hit(entry.key, now)
            return self._hit(entry, age, policy)
        if makeRefresher is None or not (
                policy.grace is None or age < timeout + policy.grace):
            return None
        self.statistics.staleHit(entry.key, now)
        self._stats["staleHits"] += 1
        self._scheduleRefresh(key, policy, makeRefresher, generation, entry)
        return Answer(entry, status=cacheStatus.staleHit(timeout, age, verdict == "stale"),
                      age=age,
                      cacheControl=policy.downstream(age, True))


    def _hit(self, entry, age, policy):
        self._stats["hits"] += 1
        return Answer(entry, status=cacheStatus.hit(policy.timeout, age), age=age,
                      cacheControl=policy.downstream(age, False))


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
        store = self.store
        if store is not self._learned:
            self._learnStore()
        if not self._peekable:
            return None
        if self._scoped and store.needsScopes():
            entry, generation = store.peek(key, policy.scopesFor(key))
        else:
            entry, generation = store.peek(key)
        if entry is None:
            return None
        verdict = generation.judge(entry.generation)
        if verdict == "gone":
            return None
        return self._answerEntry(entry, verdict, key, policy, generation, makeRefresher)


    def _render(self, render, key=None):
        self._stats["renders"] += 1
        started = self._clock.seconds()

        def rendered(capture):
            if key is not None:
                self.statistics.rendered(key, self._clock.seconds() - started)
            return capture
        d = defer.maybeDeferred(render)
        d.addCallbacks(rendered, self._renderFailed)
        return d


    def _renderFailed(self, failure):
        self._stats["renderFailures"] += 1
        return failure


    def _renderAlone(self, render, policy, status, key=None, countRefusal=True):
        """
        Render for one request only, never storing the result.

        @param key: The key rendered, for the statistics.
        @param countRefusal: Whether a response the storage rules refuse
            counts as uncacheable (a HEAD miss was counted already).
        """
        def done(capture):
            reason = refusalOf(capture, policy.vary)
            if reason is not None and countRefusal and key is not None:
                self.statistics.uncacheable(key)
            return Answer(capture=capture, status=status if reason is None
                          else withDetail(status, reason))
        return self._render(render, key).addCallback(done)


    def _queue(self, key, policy, render, missKind, previous, after):
        """
        Render C{key} once the outdated flight C{after} has landed, for this
        request and for every request arriving meanwhile (they join this
        flight, which has not started, whatever is invalidated before it
        does).
        """
        flight = self._startFlight(key, _Flight())
        gate = defer.Deferred()
        after.waiters.append(gate)

        def start(ignored):
            d = self._callStore(self.store.lookup, *self._lookupArgs(key, policy))
            d.addErrback(self._storeFailed, u"lookup")
            return d.addCallback(looked)

        def looked(found):
            entry, generation = found
            if self._fresh(key, entry, generation, policy):
                # Another process rendered it meanwhile.
                self._land(key, flight, entry)
                age = max(0, self._clock.seconds() - entry.created)
                return Answer(entry, status=cacheStatus.collapsed(
                                  cacheStatus.forwarded(missKind)),
                              age=age, cacheControl=policy.downstream(age, False))
            return self._lead(key, policy, render, generation, missKind, previous,
                              flight)
        return gate.addCallback(start)


    def _lead(self, key, policy, render, generation, missKind, previous, flight=None):
        """
        Render C{key} for this request and the requests that join its
        flight, and store it.

        @param flight: The flight to render for, already the key's (queued
            by L{_queue}); L{None} for a new one.
        """
        if flight is None:
            flight = self._startFlight(key, _Flight())
        flight.stamp = generation.stamp() if generation is not None else None
        deadline = self.reactor.callLater(self.renderTimeout, self._abandon, key, flight)
        status = cacheStatus.forwarded(missKind)

        def finished(result):
            if deadline.active():
                deadline.cancel()
            return result
        self._capable()
        if generation is None or not self._leasing:
            d = self._leadRender(key, policy, render, generation, previous, flight,
                                 status, None)
        else:
            d = self._takeLease(key, policy, generation)
            d.addCallback(self._leased, key, policy, render, previous, flight, status)
        return d.addBoth(finished)


    def _leadRender(self, key, policy, render, generation, previous, flight, status,
                    token):
        """
        Render for a flight and store the result; then release the lease
        C{token}, if any.
        """
        def rendered(capture):
            reason = refusalOf(capture, policy.vary)
            if reason is None and flight.superseded:
                reason = b"superseded"
            if reason is None and generation is None:
                # The lookup failed: nothing tells which invalidations this
                # render saw, so nothing fences its write.  Serve, don't store.
                self._land(key, flight, None)
                return Answer(capture=capture, status=withDetail(status, b"store-error"))
            reason = reason or self._admitVariant(key)
            if reason is not None:
                self._stats["refusals"] += 1
                if reason != b"superseded":
                    self.statistics.uncacheable(key)
                self._log.debug(u"Not storing {key!r}: {reason}", key=key,
                                reason=reason)
                self._land(key, flight, None)
                return Answer(capture=capture, status=withDetail(status, reason))
            entry = self._entryFrom(key, policy, capture, generation, previous, started)
            d = self._store(key, entry)

            def stored(ok):
                # Shared with the waiters even if not stored (an
                # invalidation since it began fenced it): they joined
                # while no invalidation since its start had happened.
                self._land(key, flight, entry)
                return Answer(entry, status=cacheStatus.stored(status, policy.timeout) if ok
                              else status, age=0,
                              cacheControl=policy.downstream(0, False) if ok else None)
            return d.addCallback(stored)

        def failed(failure):
            self._land(key, flight, None)
            return failure
        started = self._wallClock.seconds()
        d = self._render(render, key).addCallbacks(rendered, failed)
        if token is not None:
            d.addBoth(self._releaseLease, key, token)
        return d


    # Single flight across processes

    def _fresh(self, key, entry, generation, policy):
        """
        Whether an entry read for C{key} is a hit now.
        """
        if entry is None or entry.key != key:
            return False
        if generation is not None and generation.judge(entry.generation) != "valid":
            return False
        return (policy.timeout == 0
                or self._clock.seconds() - entry.created < policy.timeout)


    @defer.inlineCallbacks
    def _takeLease(self, key, policy, generation):
        """
        Take the lease of a missing key before rendering it.  While another
        process holds it, look for its entry every C{leasePoll} seconds, for
        C{waitTimeout} seconds at most.

        @return: A L{Deferred} firing with C{(kind, value, generation)}:
            C{("lead", token, generation)} to render and store (C{token} is
            L{None} if the store could not give one), C{("entry", entry,
            generation)} when another process stored it meanwhile, or
            C{("timeout", None, generation)} to render without storing.
        """
        giveUp = self.reactor.seconds() + self.waitTimeout
        waited = False
        while True:
            try:
                token = yield self._callStore(self.store.acquireLease, key,
                                              self.leaseTimeout)
            except Exception:
                self._storeFailed(Failure(), u"acquireLease", None)
                defer.returnValue(("lead", None, generation))
            if token is not None:
                # The holder may have stored and released since the last
                # look: look once more before rendering.
                try:
                    entry, generation = yield self._callStore(
                        self.store.lookup, *self._lookupArgs(key, policy))
                except Exception:
                    self._storeFailed(Failure(), u"lookup", None)
                    self._releaseLease(None, key, token)
                    defer.returnValue(("lead", None, None))
                if self._fresh(key, entry, generation, policy):
                    self._releaseLease(None, key, token)
                    defer.returnValue(("entry", entry, generation))
                defer.returnValue(("lead", token, generation))
            if self.reactor.seconds() >= giveUp:
                self._stats["leaseTimeouts"] += 1
                defer.returnValue(("timeout", None, generation))
            if not waited:
                waited = True
                self._stats["leaseWaits"] += 1
            yield task.deferLater(self.reactor, self.leasePoll, lambda: None)
            try:
                entry, generation = yield self._callStore(
                        self.store.lookup, *self._lookupArgs(key, policy))
            except Exception:
                self._storeFailed(Failure(), u"lookup", None)
                defer.returnValue(("lead", None, None))
            if self._fresh(key, entry, generation, policy):
                defer.returnValue(("entry", entry, generation))


    def _leased(self, outcome, key, policy, render, previous, flight, status):
        kind, value, generation = outcome
        if kind == "entry":
            self._land(key, flight, value)
            age = max(0, self._clock.seconds() - value.created)
            return Answer(value, status=cacheStatus.collapsed(status), age=age,
                          cacheControl=policy.downstream(age, False))
        if kind == "timeout":
            self._land(key, flight, None)
            return self._renderAlone(render, policy, withDetail(status, b"lease-timeout"),
                                     key)
        return self._leadRender(key, policy, render, generation, previous, flight,
                                status, value)


    def _refreshLease(self, key):
        """
        Take the lease of a stale key before refreshing it.

        @return: A L{Deferred} firing with a token, L{None} (no lease to
            release: the store has none, or failed), or L{_BUSY}.
        """
        self._capable()
        if not self._leasing:
            return defer.succeed(None)
        d = self._callStore(self.store.acquireLease, key, self.leaseTimeout)
        return d.addCallbacks(lambda token: _BUSY if token is None else token,
                              self._storeFailed, errbackArgs=(u"acquireLease", None))


    def _releaseLease(self, result, key, token):
        d = self._callStore(self.store.releaseLease, key, token)
        d.addErrback(self._storeFailed, u"releaseLease", None)
        return result


    def _entryFrom(self, key, policy, capture, generation, previous, started):
        return entryFrom(key, policy, capture,
                         generation.stamp() if generation is not None else None,
                         previous, started, self._clock.seconds())


    def _admitVariant(self, key):
        """
        Count the variants stored for a URL; refuse one too many.

        @return: L{None} to store, or the reason not to.
        """
        # Fingerprints, not the keys: a URL may be 16 KiB long, and these
        # records outlive the entries the store evicts.  One variant (the
        # common case) is one integer; more, a tuple of them.
        url = self._fingerprint(encodeKey(key.url))
        # Not the spelling (variant[3], after the page, the cacheVary values
        # and the cacheKey additions; the Nevow adapter may add more):
        # spellings of a URL are entries of their own, as other URLs are,
        # bounded by the store alone; else a few odd spellings would use up
        # a URL's variants.
        variant = self._fingerprint(encodeKey(key.variant[:3] + key.variant[4:]))
        known = self._variants.get(url)
        if known is None:
            variants = ()
        elif isinstance(known, tuple):
            variants = known
        else:
            variants = (known,)
        if variant in variants:
            self._variants.put(url, known, _MAX_VARIANT_URLS)
            return None
        if len(variants) >= self.maxVariants:
            self._variants.put(url, known, _MAX_VARIANT_URLS)
            self._stats["varyOverflows"] += 1
            self._log.warn(u"More than {max} variants of {url!r}; not storing {variant!r}",
                           max=self.maxVariants, url=key.url, variant=key.variant)
            return b"too-many-variants"
        self._variants.put(url, variants + (variant,) if variants else variant,
                           _MAX_VARIANT_URLS)
        return None


    def _store(self, key, entry):
        d = self._callStore(self.store.store, key, entry)
        d.addErrback(self._storeFailed, u"store", False)
        return d


    def _land(self, key, flight, entry):
        """
        End a flight: forget it, and hand its waiters the entry (or L{None}:
        render on your own).
        """
        if self._flights.get(key) is flight:
            del self._flights[key]
        if self._late.get(key) is flight:
            del self._late[key]
        waiters, flight.waiters = flight.waiters, []
        for waiter in waiters:
            waiter.callback(entry)


    def _abandon(self, key, flight):
        self._log.warn(u"Render of {key!r} exceeded {timeout}s; its waiters "
                       u"render on their own", key=key, timeout=self.renderTimeout)
        self._land(key, flight, None)
        self._late[key] = flight


    def _startFlight(self, key, flight):
        """
        Make C{flight} the one flight of C{key}; a render of the key given up
        on earlier, if still running, is superseded by it.
        """
        late = self._late.pop(key, None)
        if late is not None:
            late.superseded = True
        self._flights[key] = flight
        return flight


    def _wait(self, flight, render, policy, key=None):
        self._stats["collapsed"] += 1
        waiter = defer.Deferred()
        flight.waiters.append(waiter)

        def timedOut():
            if waiter in flight.waiters:
                flight.waiters.remove(waiter)
                self._stats["waiterTimeouts"] += 1
                waiter.callback(b"timeout")
        timer = self.reactor.callLater(self.waitTimeout, timedOut)

        def landed(entry):
            if timer.active():
                timer.cancel()
            if isinstance(entry, CacheEntry):
                age = max(0, self._clock.seconds() - entry.created)
                return Answer(entry, status=cacheStatus.collapsed(
                                  cacheStatus.forwarded(b"uri-miss")),
                              age=age, cacheControl=policy.downstream(age, False))
            detail = b"leader-timeout" if entry == b"timeout" else b"leader-not-stored"
            return self._renderAlone(render, policy, withDetail(
                cacheStatus.forwarded(b"uri-miss"), detail), key)
        return waiter.addCallback(landed)


    # Background refresh

    def _scheduleRefresh(self, key, policy, makeRefresher, generation, previous):
        if key in self._flights:
            return
        failures = self._backOffOf(key)
        if failures is not None and self._clock.seconds() < failures[1]:
            return
        if self._refreshing >= self.maxRefreshes:
            self._stats["refreshesSkipped"] += 1
            return
        refresher = makeRefresher()
        flight = self._startFlight(key, _Flight(
            refresh=True, stamp=generation.stamp() if generation is not None else None))
        self._refreshing += 1
        # Run once the stale response has been sent, not before: written,
        # it waits in the transport for the reactor's next turn.
        callAfterOutput(self.reactor, 0, lambda: self._refresh(
            key, policy, refresher, flight, generation, previous))


    def _refresh(self, key, policy, refresher, flight, generation, previous):
        outcome = defer.Deferred()

        def giveUp():
            outcome.errback(defer.TimeoutError(
                "background refresh took over %ss" % (self.renderTimeout,)))
            self._late[key] = flight
        deadline = self.reactor.callLater(self.renderTimeout, giveUp)

        def rendered(capture):
            if flight.superseded:
                raise _Refused(b"superseded")
            reason = refusalOf(capture, policy.vary) or self._admitVariant(key)
            if reason is not None:
                raise _Refused(reason)
            entry = self._entryFrom(key, policy, capture, generation, previous,
                                    started[0])
            return self._store(key, entry).addCallback(
                lambda ok: entry if ok else None)

        def settle(result):
            if deadline.active():
                deadline.cancel()
            if self._late.get(key) is flight:
                del self._late[key]
            if not outcome.called:
                outcome.callback(result)

        started = []

        def start(token):
            if token is _BUSY:
                return _BUSY
            self._stats["refreshes"] += 1
            started.append(self._wallClock.seconds())
            # Not timed for the statistics: a refresh gives way to requests,
            # so its time is not what a reader would have waited.
            d = self._render(refresher).addCallback(rendered)
            if token is not None:
                d.addBoth(self._releaseLease, key, token)
            return d
        self._refreshLease(key).addCallback(start).addBoth(settle)

        def succeeded(entry):
            if entry is _BUSY:
                # Another process is refreshing it: serve stale, ask later.
                self._stats["leaseBusy"] += 1
                count = (self._backOffOf(key) or (0, 0))[0]
                self._backOff(key, count, self.refreshBackoff)
                return None
            if len(self._failures):
                self._failures.pop(self._backOffName(key))
            return entry

        def failed(failure):
            self._stats["refreshFailures"] += 1
            self.statistics.refreshFailed(key, failure)
            count = (self._backOffOf(key) or (0, 0))[0] + 1
            delay = min(self.maxRefreshBackoff, self.refreshBackoff * 2 ** (count - 1))
            self._backOff(key, count, delay)
            self._log.failure(u"Background refresh of {key!r} failed ({count} in a "
                              u"row); serving stale, retry in {delay}s", failure,
                              key=key, count=count, delay=delay)
            return None

        def done(entry):
            self._refreshing -= 1
            self._land(key, flight, entry)
        outcome.addCallbacks(succeeded, failed).addCallback(done)
        return outcome


    def _backOff(self, key, count, delay):
        """
        Remember that C{key} failed to refresh C{count} times in a row and
        waits C{delay} seconds; for the most recent keys only, so that an
        outage with a flood of URLs does not grow memory without bound.
        """
        self._failures.put(self._backOffName(key),
                           (count, self._clock.seconds() + delay), _MAX_BACKOFF_KEYS)


    def _backOffName(self, key):
        """
        @return: What names the back-off record of C{key}: a fingerprint,
            not the key, which a flood of long URLs would make large.
        """
        return self._fingerprint(encodeKey((key.url, key.variant)))


    def _backOffOf(self, key):
        """
        @return: C{(failures, retryAt)} for C{key}, or L{None}; at no cost
            while no refresh is failing.
        """
        if not len(self._failures):
            return None
        return self._failures.get(self._backOffName(key))


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
        if isPath(url):
            return self._invalidateScope(pathScopeFromString(url), hard)
        return defer.maybeDeferred(self.store.invalidate, urlIdentityFromString(url), hard)


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
        return self._invalidateScope(prefixScopeFromString(urlPrefix), hard)


    def _invalidateScope(self, scope, hard):
        store = self._capable()
        if not self._scoped:
            return defer.fail(TypeError(
                "%r cannot invalidate a prefix, a tag or a path on every host "
                "(it does not provide IScopedStore)" % (store,)))
        return defer.maybeDeferred(store.invalidateScope, scope, hard)


    def invalidateTag(self, tag, hard=False):
        """
        Invalidate every entry of the pages tagged C{tag} (C{cacheTags}), in
        every process sharing the store.

        @param tag: Text, or UTF-8 L{bytes}.
        @param hard: As for L{invalidate}.
        @return: A L{Deferred} that fires when the store has it.
        """
        return self._invalidateScope(tagScope(tag), hard)


    def clear(self, hard=True):
        """
        Invalidate every entry.

        @param hard: If true (the default), every entry is gone; if false,
            all are stale.
        @return: A L{Deferred} that fires when the store has it.
        """
        return defer.maybeDeferred(self.store.clear, hard)


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
        result["refreshesRunning"] = self._refreshing
        return result



class _Refused(Exception):
    """
    A background render produced a response that may not be shared.
    """



class _Busy(object):
    """
    The type of L{_BUSY}.
    """

    def __repr__(self):
        return "<lease held elsewhere>"

_BUSY = _Busy()



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
