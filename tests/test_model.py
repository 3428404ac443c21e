"""
A stateful model of L{PageCache}: Hypothesis drives requests, clock
advances, invalidations, renders that succeed, fail, answer errors or
personal responses, or hang, and store evictions, through
L{PageCache.serve} with fake captures; a reference model checks every
answer against what may be served.
"""

from __future__ import absolute_import, division

import os

from hypothesis import settings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test)
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.http_headers import Headers

from nevowcache import CacheKey, MemoryStore, PageCache
from nevowcache._http.capture import CaptureRequest
from nevowcache._engine.pagecache import CachePolicy
from nevowcache._engine.refresh import _Refused
from nevowcache._http.identity import urlIdentityFromString

WAIT_TIMEOUT = 4
RENDER_TIMEOUT = 8
MAX_BYTES = 2000

URLS = [u"http://example.com/a", u"http://example.com/b"]
# Two pages (variants) of the first URL, one of the other.
KEYS = [(0, u"A"), (0, u"B"), (1, u"A")]

OUTCOMES = ["ok", "ok", "ok", "cookie", "status", "errorPage", "fail"]

# Examples in a normal test run; set NEVOWCACHE_MODEL_EXAMPLES for a deeper
# one (a render hung past renderTimeout, then overtaken, shows up in about
# one run of 1,500).
EXAMPLES = int(os.environ.get("NEVOWCACHE_MODEL_EXAMPLES", "150"))



class RenderFailed(Exception):
    """
    A modelled render failed.
    """



class _Underlying(object):
    """
    What a capture proxies in the model: request headers, and nothing else.
    """

    def __init__(self):
        self.requestHeaders = Headers()



class _Request(object):
    """
    A modelled request: the engine only looks at its method.
    """

    def __init__(self, number, key, method, arrived, seq):
        self.number = number
        self.key = key
        self.method = method
        self.arrived = arrived
        self.seq = seq
        self.answer = None



class _Render(object):
    """
    A modelled render.

    @ivar kind: C{"leader"} (a request's render that may be stored),
        C{"alone"} (a request's render that may not: HEAD, or a waiter on
        its own), or C{"refresh"}.
    @ivar request: The L{_Request} it renders for, or L{None} (refresh).
    @ivar readSeq: When the generation it is stored under was read.
    """

    def __init__(self, number, key, kind, request, started, seq, readSeq):
        self.number = number
        self.key = key
        self.kind = kind
        self.request = request
        self.started = started
        self.seq = seq
        self.readSeq = readSeq
        self.deferred = defer.Deferred()
        self.state = "pending"
        self.outcome = None
        self.finished = None


    def body(self):
        return b"render=" + str(self.number).encode("ascii") + b"|" + b"x" * (self.number % 7 * 40)



class _RecordingStore(MemoryStore):
    """
    A small L{MemoryStore} telling the model what it stores.
    """

    def __init__(self, model):
        # Room for the invalidation records of every URL and scope the
        # model uses: a record forgotten leaves entries stamped before its
        # first invalidation valid (see MemoryStore.maxUrls).
        MemoryStore.__init__(self, maxBytes=MAX_BYTES, maxEntries=2,
                             maxUrlBytes=MAX_BYTES)
        self.model = model


    def store(self, key, entry):
        d = MemoryStore.store(self, key, entry)
        return d.addCallback(self.model.stored, key, entry)



class CacheModel(RuleBasedStateMachine):
    """
    The engine against a reference model of what it may serve.

    What may be served to a request for key K: a render of K made for this
    request, whatever it was; a shareable render of K that it joined, stored
    or not, if nothing was invalidated between the render's reading its
    generation and the request's arrival; or an entry of K that the store accepted,
    rendered by a leader or refresh that succeeded with a shareable
    response, no older than the page's timeout plus grace, not invalidated
    hard since it read its generation, and served as fresh only if not
    invalidated at all and younger than the timeout.  A render's failure
    goes only to the request it rendered for.  At most one render that may
    be stored runs for a key at once (until the engine gives up on it at
    C{renderTimeout}); an entry never replaces one from a render that
    started later.  When every render has ended, every request is answered.
    """

    def __init__(self):
        super(CacheModel, self).__init__()
        self.clock = Clock()
        self.store = _RecordingStore(self)
        self.cache = PageCache(self.store, reactor=self.clock, waitTimeout=WAIT_TIMEOUT,
                               renderTimeout=RENDER_TIMEOUT, refreshBackoff=1,
                               maxRefreshBackoff=8, maxRefreshes=2)
        self.keys = [CacheKey(urlIdentityFromString(URLS[url]), (page, (), None))
                     for url, page in KEYS]
        self.seq = 0
        self.requests = []
        self.renders = []
        self.policies = None
        self.invalidations = []
        self.lastStored = {}
        self.storedRenders = set()
        self.serving = None
        self.violations = []
        # Renders the engine starts for a flight it leads, on a later turn
        # than the request (a request queued behind a render that began
        # before an invalidation it came after) are leaders too, and read
        # their generation when they start.
        self.leading = 0
        leadRender = self.cache._misses.leadRender

        def leading(*args, **kwargs):
            self.leading += 1
            try:
                return leadRender(*args, **kwargs)
            finally:
                self.leading -= 1
        self.cache._misses.leadRender = leading


    def tick(self):
        self.seq += 1
        return self.seq


    @initialize(policies=st.lists(
        st.tuples(st.sampled_from([0, 3, 10]), st.sampled_from([None, 0, 4])),
        min_size=len(KEYS), max_size=len(KEYS)))
    def choosePolicies(self, policies):
        """
        Give each key a timeout and grace.
        """
        self.policies = [CachePolicy(timeout, grace) for timeout, grace in policies]


    # Renders

    def startRender(self, key, kind, request, readSeq):
        render = _Render(len(self.renders) + 1, key, kind, request,
                         self.clock.seconds(), self.tick(), readSeq)
        if kind != "alone":
            live = [r for r in self.renders if r.key == key and r.kind != "alone"
                    and r.state == "pending" and self.alive(r)]
            if live:
                self.violations.append("two renders of %r at once: %r and %r" % (
                    key, [r.number for r in live], render.number))
        self.renders.append(render)
        return render.deferred


    def alive(self, render):
        """
        Whether the engine still waits for a render (it gives up at
        C{renderTimeout}).
        """
        return self.clock.seconds() < render.started + RENDER_TIMEOUT


    def renderFor(self, request):
        def render():
            readSeq = request.seq
            if self.serving is request and request.method == b"GET":
                kind = "leader"
            elif self.leading and request.method == b"GET":
                kind = "leader"
                readSeq = self.seq
            else:
                kind = "alone"
            return self.startRender(request.key, kind, request, readSeq)
        return render


    def refresherFor(self, request):
        readSeq = self.seq

        def makeRefresher():
            return lambda: self.startRender(request.key, "refresh", None, readSeq)
        return makeRefresher


    def renderOf(self, body):
        assert body.startswith(b"render="), body
        return self.renders[int(body[7:body.index(b"|")]) - 1]


    # Rules

    @rule(k=st.integers(0, len(KEYS) - 1), head=st.sampled_from([False, False, False, True]))
    def request(self, k, head):
        """
        A GET (or HEAD) for a key.
        """
        key = self.keys[k]
        request = _Request(len(self.requests) + 1, key, b"HEAD" if head else b"GET",
                           self.clock.seconds(), self.tick())
        request.policy = self.policies[k]
        self.requests.append(request)
        self.serving = request
        try:
            d = self.cache.serve(request, key, request.policy, self.renderFor(request),
                                 self.refresherFor(request))
        finally:
            self.serving = None
        d.addCallbacks(self.answered, self.failed, callbackArgs=(request,),
                       errbackArgs=(request,))
        # The failure was checked; the request's answer is what it is.
        d.addErrback(lambda failure: None)


    @rule(k=st.integers(0, len(KEYS) - 1), outcome=st.sampled_from(OUTCOMES))
    def quickRequest(self, k, outcome):
        """
        A GET whose render, if it starts one, ends at once; then any
        refresh due runs, and ends the same way.
        """
        before = len(self.renders)
        self.request(k, False)
        for render in self.renders[before:]:
            if render.state == "pending":
                self.finish(render, outcome)
        before = len(self.renders)
        self.clock.advance(0)
        for render in self.renders[before:]:
            if render.state == "pending":
                self.finish(render, outcome)


    @rule(data=st.data(), outcome=st.sampled_from(OUTCOMES))
    def finishRender(self, data, outcome):
        """
        A pending render ends: with a shareable page, a personal one (a
        cookie), an error status, an error page (Nevow's 200), or a failure.
        """
        pending = [r for r in self.renders if r.state == "pending"]
        if not pending:
            return
        self.finish(data.draw(st.sampled_from(pending)), outcome)


    def finish(self, render, outcome):
        render.outcome = outcome
        render.finished = self.clock.seconds()
        self.tick()
        if outcome == "fail":
            render.state = "failed"
            render.deferred.errback(RenderFailed(render.number))
            return
        render.state = "ok"
        capture = CaptureRequest(_Underlying())
        capture.write(render.body())
        if outcome == "cookie":
            capture.addCookie(b"sid", str(render.number).encode("ascii"))
        elif outcome == "status":
            capture.setResponseCode(500)
        elif outcome == "errorPage":
            capture.refuse(b"render-error")
        capture.finish()
        render.deferred.callback(capture)


    @rule(dt=st.sampled_from([0, 0, 0.5, 1, 2, 3, 5, 9]))
    def advance(self, dt):
        """
        Time passes (refreshes scheduled for now run at C{0}).
        """
        self.tick()
        self.clock.advance(dt)


    @rule(url=st.integers(0, len(URLS) - 1), hard=st.booleans())
    def invalidate(self, url, hard):
        """
        Invalidate every entry of a URL.
        """
        self.invalidations.append((self.tick(), urlIdentityFromString(URLS[url]), hard))
        self.cache.invalidate(URLS[url], hard=hard)


    @rule(hard=st.booleans())
    def clear(self, hard):
        """
        Invalidate everything.
        """
        self.invalidations.append((self.tick(), None, hard))
        self.cache.clear(hard=hard)


    @rule(k=st.integers(0, len(KEYS) - 1))
    def evict(self, k):
        """
        The store loses an entry.
        """
        self.tick()
        self.store.delete(self.keys[k])


    # What the engine does

    def checking(check):
        """
        Run a check from a callback of the engine's, keeping its violations
        for L{noViolations} (raised in a callback, they would only be
        logged).
        """
        def checked(self, result, *args):
            try:
                check(self, result, *args)
            except AssertionError as e:
                self.violations.append(str(e))
            return result
        checked.__name__ = check.__name__
        checked.__doc__ = check.__doc__
        return checked


    @checking
    def stored(self, ok, key, entry):
        """
        An entry was offered to the store: if it took it, the render must
        be a successful, shareable one of this key, not fenced off by an
        invalidation, and no older than the entry it replaces.
        """
        if not ok:
            return
        render = self.renderOf(entry.body)
        assert render.key == key, (render.key, key)
        assert render.kind in ("leader", "refresh"), render.kind
        assert render.state == "ok" and render.outcome == "ok", render.outcome
        assert not self.invalidatedSince(key, render.readSeq, self.seq), \
            "render %d stored after an invalidation" % (render.number,)
        last = self.lastStored.get(key)
        assert last is None or render.seq > last.seq, \
            "render %d (older) replaced the entry of render %d" % (render.number, last.number)
        self.lastStored[key] = render
        self.storedRenders.add(render.number)


    def invalidatedSince(self, key, after, before, hardOnly=False):
        for seq, url, hard in self.invalidations:
            if after < seq <= before and (url is None or url == key.url):
                if hard or not hardOnly:
                    return True
        return False


    @checking
    def answered(self, answer, request):
        """
        A request was answered: with its own render, or with a stored entry
        that may still be served to it.
        """
        assert request.answer is None, "request %d answered twice" % (request.number,)
        request.answer = answer
        body = answer.capture.value() if answer.entry is None else answer.entry.body
        render = self.renderOf(body)
        assert render.key == request.key, "request %d got render %d of another key" % (
            request.number, render.number)
        if render.request is request:
            assert render.kind == "leader" or not answer.status.endswith(b"; stored"), \
                "render %d of kind %s stored" % (render.number, render.kind)
            return
        assert answer.entry is not None, "request %d passed render %d of request %r" % (
            request.number, render.number, render.request and render.request.number)
        if b"collapsed" in answer.status and render.number not in self.storedRenders:
            # A render is shared with the requests that joined it, stored
            # or not (an invalidation after they came fenced it, or the
            # store dropped it), if it is shareable, and no invalidation
            # happened between its reading its generation and their coming.
            assert render.kind == "leader" and render.outcome == "ok", \
                "request %d shared render %d (%s, %s)" % (
                    request.number, render.number, render.kind, render.outcome)
            assert not self.invalidatedSince(request.key, render.readSeq, request.seq), \
                "request %d shared render %d begun before an invalidation it came after" % (
                    request.number, render.number)
            return
        assert render.number in self.storedRenders, \
            "render %d served from the cache, never stored" % (render.number,)
        assert not self.invalidatedSince(request.key, render.readSeq, self.seq, hardOnly=True), \
            "served render %d after a hard invalidation" % (render.number,)
        policy = request.policy
        age = self.clock.seconds() - render.finished
        fresh = (answer.status.startswith(b"nevowcache; hit")
                 and b"ttl=-" not in answer.status) or b"collapsed" in answer.status
        if fresh:
            assert policy.timeout == 0 or age < policy.timeout, \
                "served fresh %ss old, past timeout %s" % (age, policy.timeout)
            assert not self.invalidatedSince(request.key, render.readSeq, self.seq), \
                "served render %d fresh after an invalidation" % (render.number,)
        elif policy.grace is not None:
            assert age < policy.timeout + policy.grace, \
                "served %ss old, past timeout %s + grace %s" % (age, policy.timeout, policy.grace)


    @checking
    def failed(self, failure, request):
        """
        A request's answer failed: with its own render's failure only.
        """
        assert request.answer is None, "request %d answered twice" % (request.number,)
        request.answer = failure
        assert failure.check(RenderFailed), failure
        render = self.renders[failure.value.args[0] - 1]
        assert render.request is request, "request %d got render %d's failure" % (
            request.number, render.number)


    @invariant()
    def noViolations(self):
        """
        Nothing the engine did so far broke the model.
        """
        assert not self.violations, self.violations


    @invariant()
    def bounded(self):
        """
        The store stays within its bounds.
        """
        stats = self.store.stats()
        assert stats["bytes"] <= MAX_BYTES and stats["entries"] <= 2, stats


    def teardown(self):
        """
        End every render, let every timer run: every request is answered.
        """
        for _ in range(20):
            self.clock.advance(0)
            pending = [r for r in self.renders if r.state == "pending"]
            if not pending and not self.clock.getDelayedCalls():
                break
            for render in pending:
                self.finish(render, "ok")
            self.clock.advance(RENDER_TIMEOUT + WAIT_TIMEOUT)
        self.noViolations()
        unanswered = [r.number for r in self.requests if r.answer is None]
        assert not unanswered, "never answered: %r" % (unanswered,)
        assert self.cache.stats()["inFlight"] == 0



class ModelTests(SynchronousTestCase):
    """
    Run the model.
    """

    def test_model(self):
        """
        The engine never serves what the model forbids, never runs two
        storable renders of one key at once, never serves past timeout plus
        grace, and answers every request.
        """
        run_state_machine_as_test(CacheModel, settings=settings(
            max_examples=EXAMPLES, stateful_step_count=40, deadline=None))
        self.flushLoggedErrors(RenderFailed, _Refused, defer.TimeoutError)
