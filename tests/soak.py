"""
The soak: a site like the demo's, in memory on a L{Clock}, driven through
many requests of every kind at once (hits, misses, stale hits and refreshes,
coalesced renders, clients leaving mid-render, personal pages, sessions,
errors, HEAD, conditional requests, POSTs, credentials, fat GETs, a flood of
distinct and over-long URLs, invalidations, and a store that now and then
fails or hangs), checking every answer, the counters and the process's
memory.

The normal test run has a reduced soak (L{tests.test_soak}); the full one,
a few million requests:

    ./dev soak [--requests N] [--flood-urls N] [--seed N]

runs it under Python 2.7 (Nevow adapter) and Python 3 (twisted.web adapter);
or, for one adapter:

    PYTHONPATH=. python -m tests.soak --adapter web --requests 2000000
"""

from __future__ import absolute_import, division, print_function

import argparse
import hashlib
import random
import sys
import time
from collections import deque

from twisted.internet import defer
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.logger import globalLogBeginner
from twisted.python import log
from twisted.python.failure import Failure
from twisted.web import server

from nevowcache import PageCache
from nevowcache._engine.refresh import _Refused

from tests._adapters import ADAPTERS, PageSpec
from tests._harness import FaultyStore, StoreDown, provenanceOf, rss
from tests._http import Exchange

__all__ = ["Soak", "SoakFailure", "main"]

# Simulated seconds between two requests.
_TICK = 0.01

# How many renders' digests are kept to check answers against, at most.
_WINDOW = 50000



class _Session(server.Session):
    """
    A session that expires after a simulated minute, so that a short soak
    reaches the number of live sessions it keeps.
    """
    sessionTimeout = 60



class SoakFailure(Exception):
    """
    A page of the soak failed on purpose.
    """



class Soak(object):
    """
    One soak run against one adapter.

    @ivar errors: What went wrong, as text; empty if nothing did.
    @ivar samples: C{(requests, rss)} after each sample.
    """

    def __init__(self, adapter, requests, floodUrls=20000, seed=0, maxBytes=2 * 2 ** 20,
                 samples=20, warmUp=0.3, progress=None, memorySlack=0):
        """
        @param floodUrls: How many distinct URLs the flood cycles through
            (each of the structures keyed by URL plateaus once all were
            seen).
        @param warmUp: The part of the run after which memory may no longer
            grow.
        @param progress: Called with a line of text after each sample, or
            L{None}.
        @param memorySlack: Bytes memory may grow after warm-up even when
            that is more than 2%: noise, in a short run in a process that
            ran other tests.
        """
        self.memorySlack = memorySlack
        self.adapter = adapter
        self.requests = requests
        self.floodUrls = floodUrls
        self.rng = random.Random(seed)
        self.clock = Clock()
        self.store = FaultyStore(clock=self.clock)
        self.store.inner.maxBytes = maxBytes
        self.store.inner.maxEntries = 4000
        self.store.inner.maxUrlBytes = maxBytes // 4
        self.cache = PageCache(self.store, reactor=self.clock, waitTimeout=2,
                               renderTimeout=4, storeTimeout=0.5)
        self.sampleEvery = max(1, requests // samples)
        self.warmUp = int(requests * warmUp)
        self.progress = progress
        self.errors = []
        self.samples = []
        self.sent = 0
        self.unverified = 0
        self.kinds = {}
        self.loggedErrors = {}
        self.pending = deque()
        self.gone = deque()
        self.etags = {}
        self.sessions = []
        # About a quarter of the requests render: a window of a twentieth of
        # them is full after a fifth of the run, before the warm-up ends.
        self.window = max(1000, min(_WINDOW, requests // 20))
        self.recent = [None] * self.window
        # The store fails for 50 requests, then hangs for 10, once a period.
        self.faultEvery = max(1000, min(20000, requests // 2))
        self.pages = self.makePages()
        self.site = adapter.makeSite(self.clock, self.cache, self.pages)
        clock = self.clock
        self.site.sessionFactory = lambda site, uid: _Session(site, uid, reactor=clock)


    # The site

    def body(self, request, extra=b""):
        """
        A body naming its URI and render, remembered (by digest, for the
        last C{_WINDOW} renders) so that answers can be checked byte for
        byte against the render they name.
        """
        self.rendered += 1
        body = (b"url=" + request.uri + b" render=" + str(self.rendered).encode("ascii")
                + b"|" + extra)
        # A ring: a fixed list, so that checking costs no memory of its own
        # after the first lap.
        self.recent[self.rendered % self.window] = (
            self.rendered, hashlib.sha1(body).digest()[:8])
        return body


    def makePages(self):
        self.rendered = 0
        clock = self.clock

        def home(request):
            return self.body(request, b"<h1>home</h1>" + b"." * 2000)

        def slow(request):
            body = self.body(request, b"<table>" + b"<tr><td>1</td></tr>" * 100)
            d = defer.Deferred()
            clock.callLater(0.2, d.callback, body)
            return d

        def session(request):
            uid = request.getSession().uid
            return self.body(request, b"session=" + uid + b";")

        def personal(request):
            user = request.getCookie(b"user") or b"-"
            request.addCookie(b"seen", user)
            return self.body(request, b"user=" + user + b";")

        def flood(request):
            return self.body(request, b"x" * (len(request.uri) % 500))

        def broken(request):
            body = self.body(request)
            if self.rendered % 3 == 0:
                raise SoakFailure(request.uri)
            if self.rendered % 3 == 1:
                request.setResponseCode(500)
            return body

        def vary(request):
            return self.body(request, b"lang=" + (request.getHeader(b"accept-language") or b"-"))
        return {
            b"home": PageSpec(home, cacheTimeout=10, cacheGrace=3600),
            b"slow": PageSpec(slow, cacheTimeout=60),
            b"session": PageSpec(session),
            b"personal": PageSpec(personal),
            b"flood": PageSpec(flood, cacheTimeout=30, cacheGrace=30),
            b"broken": PageSpec(broken, cacheTimeout=5, cacheGrace=5),
            b"vary": PageSpec(vary, cacheTimeout=20, cacheVary=(b"accept-language",)),
        }


    # Requests

    def choose(self):
        """
        @return: C{(kind, page, path, keyword arguments for Exchange)}.
        """
        rng = self.rng
        roll = rng.random()
        if roll < 0.30:
            return "hot", b"home", b"/home", {}
        if roll < 0.36:
            return "slow", b"slow", b"/slow?n=" + str(rng.randrange(5)).encode("ascii"), {}
        if roll < 0.40:
            lang = rng.choice([b"en", b"fr", b"de, en;q=0.5", b"EN"])
            return "vary", b"vary", b"/vary", {"headers": [b"Accept-Language: " + lang]}
        if roll < 0.62:
            n = rng.randrange(self.floodUrls)
            path = b"/flood?r=" + str(n).encode("ascii")
            if n % 50 == 0:
                # Over-long keys: the longest URI Twisted takes, about.
                path += b"&pad=" + b"p" * (8000 + n % 7000)
            return "flood", b"flood", path, {}
        if roll < 0.66:
            headers = []
            if self.sessions and rng.random() < 0.7:
                headers.append(b"Cookie: " + rng.choice(self.sessions))
            return "session", b"session", b"/session", {"headers": headers}
        if roll < 0.70:
            user = b"u" + str(rng.randrange(100)).encode("ascii")
            return "personal", b"personal", b"/personal", {
                "headers": [b"Cookie: user=" + user], "user": user}
        if roll < 0.74:
            return "broken", b"broken", b"/broken?n=" + str(rng.randrange(3)).encode("ascii"), {}
        if roll < 0.77:
            return "head", b"home", b"/home", {"method": b"HEAD"}
        if roll < 0.80:
            etag = self.etags.get(b"/home", b'"none"')
            return "conditional", b"home", b"/home", {"headers": [b"If-None-Match: " + etag]}
        if roll < 0.82:
            path = b"/flood?r=" + str(rng.randrange(self.floodUrls)).encode("ascii")
            return "post", b"flood", path, {"method": b"POST", "body": b"x=1"}
        if roll < 0.84:
            return "auth", b"home", b"/home", {"headers": [b"Authorization: Basic dTpw"]}
        if roll < 0.85:
            return "fat", b"home", b"/home", {"body": b"a=" + b"b" * 100}
        if roll < 0.87:
            return "gone", b"slow", b"/slow?n=" + str(rng.randrange(5, 9)).encode("ascii"), {}
        return "hot", b"home", b"/home?tab=" + str(rng.randrange(20)).encode("ascii"), {}


    def send(self):
        kind, page, path, kwargs = self.choose()
        user = kwargs.pop("user", None)
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        self.sent += 1
        ex = Exchange(self.site, path=path, **kwargs)
        ex.soak = (kind, page, path, user, self.clock.seconds())
        if kind == "gone":
            # The client leaves at once; a hit was answered already.
            ex.written = ex.transport.value()
            ex.disconnect()
            self.gone.append(ex)
            return
        self.pending.append(ex)


    def settle(self):
        """
        Check and close every exchange answered; complain of any waiting
        longer than any render may take.
        """
        waiting = deque()
        limit = self.cache.waitTimeout + self.cache.renderTimeout + 1
        while self.pending:
            ex = self.pending.popleft()
            if ex.done():
                self.check(ex)
                ex.protocol.connectionLost(Failure(ConnectionDone()))
            elif self.clock.seconds() - ex.soak[4] > limit:
                self.error("never answered: %r" % (ex.soak[2][:80],))
                ex.disconnect()
            else:
                waiting.append(ex)
        self.pending = waiting
        while self.gone and self.clock.seconds() - self.gone[0].soak[4] > limit:
            ex = self.gone.popleft()
            if ex.transport.value() != ex.written:
                self.error("wrote to a closed connection: %r" % (ex.soak[2],))


    def check(self, ex):
        kind, page, path, user, _ = ex.soak
        response = ex.response()
        code = response.code
        if kind == "conditional" and code == 304:
            return
        if kind == "broken":
            if code not in (200, 500):
                self.error("%s: status %d" % (path, code))
            if provenanceOf(response.body) is None:
                return
        elif code != 200:
            self.error("%s %s: status %d %r" % (kind, path[:80], code, response.body[:200]))
            return
        if kind == "head":
            if response.body:
                self.error("HEAD with a body")
            return
        found = provenanceOf(response.body)
        if found is None or found[0] != path:
            self.error("%s answered with %r" % (path[:80], response.body[:100]))
            return
        number, digest = self.recent[found[1] % self.window] or (None, None)
        if number != found[1]:
            self.unverified += 1
        elif digest != hashlib.sha1(response.body).digest()[:8]:
            self.error("%s: not the body render %d made" % (path[:80], found[1]))
        cookies = response.headers.getRawHeaders(b"set-cookie") or []
        if kind == "personal":
            if b"user=" + user + b";" not in response.body:
                self.error("personal page for %r: %r" % (user, response.body[:100]))
            if [c.split(b";")[0] for c in cookies] != [b"seen=" + user]:
                self.error("personal cookies for %r: %r" % (user, cookies))
        elif kind == "session":
            for cookie in cookies:
                self.sessions.append(cookie.split(b";")[0])
                del self.sessions[:-50]
        elif cookies:
            self.error("%s %s: cookies %r" % (kind, path[:80], cookies))
        if kind == "hot" and path == b"/home":
            etag = response.header(b"etag")
            if etag is not None:
                self.etags[path] = etag


    def error(self, text):
        if len(self.errors) < 100:
            self.errors.append(text)


    # Faults and invalidations

    def disturb(self, n):
        """
        Invalidate now and then; now and then make the store fail or hang
        for a while.
        """
        rng = self.rng
        if n % 500 == 0:
            url = u"http://example.com:8080/flood?r=%d" % (rng.randrange(self.floodUrls),)
            self.cache.invalidate(url, hard=rng.random() < 0.5)
            self.cache.invalidate(u"http://example.com:8080/home", hard=False)
        if n % 5000 == 0:
            self.cache.clear(hard=False)
        phase = n % self.faultEvery - self.faultEvery // 2
        if phase == 0:
            self.store.mode = "fail"
        elif phase == 50:
            self.store.mode = "hang"
        elif phase == 60:
            self.store.mode = "ok"
            del self.store.hung[:]


    # Running

    def sample(self):
        self.settle()
        resident = rss(trim=True)
        self.samples.append((self.sent, resident))
        if self.progress is not None:
            stats = self.cache.stats()
            self.progress("%9d requests  rss %7.1f MiB  entries %5d  bytes %8d  hits %d "
                          "stale %d misses %d errors %d" % (
                              self.sent, (resident or 0) / 2 ** 20, stats["entries"],
                              stats["bytes"], stats["hits"], stats["staleHits"],
                              stats["misses"], len(self.errors)))


    def run(self):
        """
        Send every request, then let every render end; check the counters
        and memory.

        @return: C{self}, with C{errors} filled in.
        """
        observer = self.observe
        log.addObserver(observer)
        started = time.time()
        try:
            for n in range(1, self.requests + 1):
                self.disturb(n)
                self.send()
                self.clock.advance(_TICK)
                if n % 50 == 0:
                    self.settle()
                if n % self.sampleEvery == 0:
                    self.sample()
            for _ in range(10):
                self.clock.advance(self.cache.waitTimeout + self.cache.renderTimeout + 1)
                self.settle()
        finally:
            log.removeObserver(observer)
        self.seconds = time.time() - started
        self.checkCounters()
        self.checkMemory()
        return self


    def observe(self, event):
        if event.get("isError"):
            failure = event.get("failure")
            if failure is None and event.get("log_format") == "Unhandled error in Deferred:":
                # The line before the failure, which comes as its own event.
                return
            name = failure.type.__name__ if failure is not None else "error"
            self.loggedErrors[name] = self.loggedErrors.get(name, 0) + 1
            if failure is None or not failure.check(
                    SoakFailure, _Refused, StoreDown, defer.TimeoutError,
                    defer.CancelledError):
                self.error("logged: %s" % (event.get("log_text") or failure,))


    def checkCounters(self):
        stats = self.cache.stats()
        answered = stats["hits"] + stats["staleHits"] + stats["misses"] + stats["bypasses"]
        if answered != self.sent:
            self.error("hits + staleHits + misses + bypasses = %d, requests = %d"
                       % (answered, self.sent))
        renders = sum(spec.renders for spec in self.pages.values())
        if renders != stats["renders"] + stats["bypasses"]:
            self.error("pages rendered %d times; renders + bypasses = %d"
                       % (renders, stats["renders"] + stats["bypasses"]))
        if stats["inFlight"]:
            self.error("%d renders still in flight" % (stats["inFlight"],))
        if self.pending:
            self.error("%d requests never answered" % (len(self.pending),))
        store = self.store.inner
        if stats["bytes"] > store.maxBytes or stats["entries"] > store.maxEntries:
            self.error("store over its bounds: %r" % (stats,))
        if store._urlBytes > store.maxUrlBytes:
            self.error("URL records over their bound")


    def checkMemory(self, tolerance=0.02):
        """
        After warm-up, the resident set may not grow by more than
        C{tolerance} (or C{memorySlack} bytes).
        """
        after = [r for n, r in self.samples if n >= self.warmUp and r is not None]
        if len(after) < 2:
            return
        grown = max(after[1:]) - after[0]
        self.growth = grown / after[0]
        if self.growth > tolerance and grown > self.memorySlack:
            self.error("memory grew %.1f%% after warm-up: %r" % (
                100 * self.growth, [(n, r // 1024) for n, r in self.samples]))


    def report(self):
        stats = self.cache.stats()
        lines = ["%s adapter, Python %s: %d requests in %.0f s (%.0f/s)" % (
            self.adapter.name, sys.version.split()[0], self.sent, self.seconds,
            self.sent / max(self.seconds, 1e-9))]
        lines.append("  kinds: " + ", ".join("%s %d" % kv for kv in sorted(self.kinds.items())))
        lines.append("  cache: " + ", ".join("%s %s" % (k, stats[k]) for k in sorted(stats)))
        lines.append("  logged (expected kinds): %r; answers too old to verify: %d"
                     % (self.loggedErrors, self.unverified))
        if self.samples:
            lines.append("  rss after warm-up: %s" % (", ".join(
                "%d:%.1fMiB" % (n, r / 2 ** 20) for n, r in self.samples
                if n >= self.warmUp and r is not None),))
        lines.append("  errors: %d" % (len(self.errors),))
        lines.extend("    " + e for e in self.errors[:20])
        return "\n".join(lines)



def main(argv=None):
    parser = argparse.ArgumentParser(description="Soak the page cache.")
    parser.add_argument("--adapter", choices=[a.name for a in ADAPTERS],
                        default="nevow" if ADAPTERS[0].skip is None else "web")
    parser.add_argument("--requests", type=int, default=2000000)
    parser.add_argument("--flood-urls", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args(argv)
    # Keep expected failures off the terminal; Soak counts them.
    globalLogBeginner.beginLoggingTo([lambda event: None], redirectStandardIO=False)
    adapter = [a for a in ADAPTERS if a.name == options.adapter][0]
    if adapter.skip:
        parser.error(adapter.skip)

    def progress(line):
        print(line)
        sys.stdout.flush()
    soak = Soak(adapter, options.requests, floodUrls=options.flood_urls,
                seed=options.seed, progress=progress).run()
    print(soak.report())
    return 1 if soak.errors else 0



if __name__ == "__main__":
    sys.exit(main())
