# -*- test-case-name: tests.test_behaviour,tests.test_reliability -*-
"""
The framework-neutral engine: L{PageCache}, a facade over small
collaborators, one concept each (see docs/design.md).

Adapters (Nevow's L{CachedPageMixin}, the twisted.web L{CachedResource}) do
three things: build the key (L{PageCache.keyFor}), hand L{PageCache.serve}
a way to render the page for the live request and a way to make a
background refresher, and put the L{Answer} on the live request
(L{Answer.replay}).  Every rule about what is served when lives behind
L{PageCache}, in the collaborators its constructor makes
(L{CacheWiring}, C{wiring}):

  - C{StoreClient} (C{storeclient}): what the store can do, deadlines on
    its calls, its failures accounted for;
  - C{FreshnessJudge} (C{freshness}): fresh, stale within grace, or a miss;
  - C{FlightTable} (C{flights}): one render of a key at a time;
  - C{LeaseCoordinator} (C{leases}): one render of a key across processes;
  - C{Misses} (C{misses}): wait, queue or lead a render;
  - C{EntryWriter} (C{entrywriter}) and C{VariantLimit} (C{variants}):
    how a render is written, for first renders and refreshes alike;
  - C{RefreshScheduler} (C{refresh}): background refreshes, their cap and
    back-off;
  - C{Invalidator} (C{invalidation}): invalidation, after unsafe requests
    too (what applications and operators call is L{CacheManagement}'s,
    C{management});
  - C{Clocks} (C{clocks}): every source of time;
  - C{cachestatus}: every C{Cache-Status} value.

One request's state travels through them as one L{Lookup}.  The cache of
pages that name none is C{sitecaches.defaultPageCache}.
"""

from __future__ import absolute_import, division

from twisted.internet.defer import succeed
from twisted.logger import Logger

from nevowcache._engine import cachestatus as cacheStatus
from nevowcache._engine.answer import Answer
from nevowcache._engine.cachestatus import hit as hitStatus
from nevowcache._engine.freshness import EXPIRED, FRESH, GONE, INVALIDATED
from nevowcache._engine.lookup import Lookup
from nevowcache._engine.management import CacheManagement
from nevowcache._engine.policy import CachePolicy
from nevowcache._engine.requestrules import RequestRules
from nevowcache._engine.wiring import CacheWiring

__all__ = ["PageCache", "CachePolicy", "Answer", "refreshHeaders"]

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



class PageCache(CacheWiring, RequestRules, CacheManagement):
    """
    A page cache: one store, one set of rules, any number of pages.

    What the adapters and the sites call for each request is here: the
    bypass rules (L{RequestRules.bypassReason}, L{RequestRules.bypassed}),
    the key (L{RequestRules.keyFor}, L{RequestRules.pageKey}) and
    invalidation after unsafe requests (L{RequestRules.invalidateAfter}),
    which are L{RequestRules}', and the answer (L{answerAtOnce}, L{serve},
    L{lookUpEarly}), which is its own.  Its constructor and its
    settings (C{waitTimeout}, C{renderTimeout}, C{store}, ...) are
    L{CacheWiring}'s; what applications and operators call
    (L{CacheManagement.invalidate}, L{CacheManagement.invalidatePrefix},
    L{CacheManagement.invalidateTag}, L{CacheManagement.clear},
    L{CacheManagement.stats}) is L{CacheManagement}'s.
    """
    _log = Logger()


    # Serving

    def serve(self, request, key, policy, render, makeRefresher):
        """
        Answer a cacheable request.

        @param request: The live request (its method decides HEAD handling).
        @param key: The L{nevowcache.CacheKey} from L{RequestRules.keyFor}.
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
        early = getattr(request, "_nevowcacheFound", None)
        if early is not None and early[0] == key and early[1] == policy:
            # What lookUpEarly found for this request, in this turn of the
            # reactor: the store is not asked again.
            del request._nevowcacheFound
            d = succeed(early[2])
        else:
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
            answer = self._answerFound(entry, generation, key, lookup.policy,
                                       lookup.makeRefresher, lookup)
            if answer is not None:
                return answer
        return self._misses.miss(lookup, head)


    def answerAtOnce(self, key, policy, makeRefresher=None):
        """
        Answer a request at once if its entry can be served now and the
        store can say so synchronously (it provides L{IPeekableStore}, as
        L{MemoryStore} does): a fresh hit; with C{makeRefresher}, a stale hit within
        C{cacheGrace} too, scheduling its background refresh.

        These are the decisions L{serve} makes for hits, without a
        L{Deferred}: adapters call this first, and L{serve} when it answers
        L{None} (L{CachingSite} calls it before traversal, for fresh hits,
        then L{lookUpEarly} for a store that answers asynchronously).

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
        return self._answerFound(entry, generation, key, policy, makeRefresher)


    def _answerFound(self, entry, generation, key, policy, makeRefresher, lookup=None):
        """
        Answer with an entry found for C{key}, if it may be served now (the
        hit decisions of L{serve} and L{answerAtOnce}, made here once): a
        fresh hit; with C{makeRefresher}, a stale hit within C{cacheGrace}
        too, scheduling its background refresh.

        @param generation: The L{Generation} read with the entry.
        @param lookup: The request's L{Lookup} (L{serve}), or L{None}
            (L{answerAtOnce}: made only for a stale hit).  An entry it
            cannot serve, but a new render replaces, is noted on it as
            C{previous}, and the miss as C{stale}.
        @return: An L{Answer}, or L{None} for a miss.
        """
        known = self._freshHits.known(entry, generation, policy)
        if known is not None:
            # This entry's last fresh hit, in the same second of its age
            # under the same store state and policy: its answer again.
            answer, now = known
            self.statistics.hit(entry.key, now)
            return answer
        judge = self._judge
        state, age, now = judge.judge(entry, generation, policy)
        if state is FRESH:
            answer = self._hit(entry, age, now, policy)
            self._freshHits.learn(entry, generation, policy, judge.freshFor(policy), age,
                                  answer)
            return answer
        if state is GONE:
            return None
        if state is not EXPIRED and makeRefresher is not None:
            if lookup is None:
                lookup = Lookup(key, policy, makeRefresher=makeRefresher,
                                generation=generation)
            return self._staleHit(entry, state, age, now, lookup)
        if lookup is not None:
            lookup.previous = entry
            lookup.missKind = b"stale"
        return None


    def lookUpEarly(self, request, key, policy, answer, passOn):
        """
        Before traversal, for a site that answers fresh hits early
        (L{nevowcache.CachingSite}): look C{key} up in a store that answers
        asynchronously (a shared store; L{answerAtOnce} decides for the
        others, synchronously).

        A fresh hit is answered: C{answer(Answer)}.  Anything else (stale,
        invalidated, missing, another key's entry, a failed or timed-out
        lookup) is passed on: C{passOn()}, the request's normal way, which
        refreshes, renders, leases and counts as before; a L{serve} of the
        same key and policy for this request during that call (traversal
        reaching the page in the same turn of the reactor) decides from
        what was found instead of asking the store again.  A request whose
        client went away meanwhile is neither answered nor passed on.

        @param request: The live request, before traversal.
        @param answer: Called with the L{Answer} of a fresh hit.
        @param passOn: Called with no arguments.
        @return: L{None} if the store answers synchronously (nothing was
            looked up: L{answerAtOnce} has said all there is), else a
            L{Deferred} firing with what C{answer} or C{passOn} returned.
        """
        if self._client.peekable:
            return None
        d = self._client.lookup(key, policy)
        return d.addCallback(self._early, request, key, policy, answer, passOn)


    def _early(self, found, request, key, policy, answer, passOn):
        if getattr(request, "_disconnected", False):
            return None
        entry, generation = found
        if entry is not None and entry.key == key:
            # A fresh hit only (no refresher: a stale entry is passed on).
            hit = self._answerFound(entry, generation, key, policy, None)
            if hit is not None:
                return answer(hit)
        request._nevowcacheFound = (key, policy, found)
        try:
            return passOn()
        finally:
            # Only for serve calls in this turn: later ones look up anew.
            request.__dict__.pop("_nevowcacheFound", None)


    def _hit(self, entry, age, now, policy):
        """
        Answer with a fresh entry.
        """
        # Counted in the counters by the statistics (CacheStatistics.hit).
        self.statistics.hit(entry.key, now)
        # Positionally (entry, capture, status, age, cacheControl,
        # wallClock): the hit path.
        return Answer(entry, None, hitStatus(policy.timeout, age), age,
                      policy.downstream(age, False), self._wallClock)


    def _staleHit(self, entry, state, age, now, lookup):
        """
        Answer with a stale entry (past C{cacheTimeout}, or invalidated
        softly, within C{cacheGrace}), and refresh it in the background
        (L{RefreshScheduler}).

        @param lookup: The L{Lookup}, with the C{generation} read and a
            C{makeRefresher}.
        """
        # Counted in the counters by the statistics.
        self.statistics.staleHit(entry.key, now)
        lookup.previous = entry
        self._refreshes.schedule(lookup)
        policy = lookup.policy
        return Answer(entry, status=cacheStatus.staleHit(policy.timeout, age,
                                                         state is INVALIDATED),
                      age=age, cacheControl=policy.downstream(age, True),
                      wallClock=self._wallClock)
