"""
The differential harness of L{tests.test_realapps}: serve an application
on a free loopback port, send it a sequence of requests over real TCP, and
compare what two servings of it answered.

C{NEVOWCACHE_REALAPPS_DEBUG=N} in the environment prints each step, its
answer, its C{Cache-Status} and the last N bytes of its body to stderr.
"""

from __future__ import absolute_import, division

import os
import re
import sys

from twisted.internet import defer, reactor, task
from twisted.web.client import (Agent, FileBodyProducer, HTTPConnectionPool,
                                readBody)
from twisted.web.http_headers import Headers

try:
    from urllib.parse import urlencode, urljoin
except ImportError:
    from urllib import urlencode
    from urlparse import urljoin

from io import BytesIO



class Step(object):
    """
    One request of a sequence.

    @ivar method: C{"GET"}, C{"POST"}, ...
    @ivar path: The path and query (text), or L{FOLLOW} to GET the
        C{Location} of the previous response.
    @ivar headers: C{(name, value)} text pairs; C{{base}} in a value is
        replaced by the server's base URL (as in a browser's C{Referer}),
        C{{port}} by its port.
    @ivar form: For a POST, the form fields (a list of pairs), sent
        C{application/x-www-form-urlencoded}.
    """

    def __init__(self, method, path, headers=(), form=None):
        self.method = method
        self.path = path
        self.headers = list(headers)
        self.form = form


    def __repr__(self):
        extra = ""
        if self.headers:
            extra += " %r" % (self.headers,)
        if self.form is not None:
            extra += " %r" % (self.form,)
        return "%s %s%s" % (self.method, self.path, extra)


FOLLOW = "<the previous response's Location>"


def get(path, *headers):
    return Step("GET", path, headers)


def post(path, form, *headers):
    return Step("POST", path, headers, form)


def follow():
    return Step("GET", FOLLOW)



class Burst(Step):
    """
    C{count} anonymous GETs of one path sent at once, each on its own
    connection (no cookies): they must all get the same answer.
    """

    def __init__(self, path, count):
        Step.__init__(self, "GET", path)
        self.count = count


    def __repr__(self):
        return "%d concurrent GET %s" % (self.count, self.path)


def burst(path, count=8):
    return Burst(path, count)



class Stale(object):
    """
    Not a request: a cached serving's clock moves on C{seconds}, so that
    its entries are stale (no effect on an uncached serving).
    """

    def __init__(self, seconds):
        self.seconds = seconds


    def __repr__(self):
        return "<%d seconds later>" % (self.seconds,)



class Settle(object):
    """
    Not a request: wait until a cached serving has no render or background
    refresh running (no effect on an uncached serving).
    """

    def __repr__(self):
        return "<refreshes done>"


def stale(seconds=31):
    return Stale(seconds)


def settle():
    return Settle()



class Observation(object):
    """
    What a server answered to one step, normalised.

    @ivar compared: The fields compared between servings: status code, body,
        C{Content-Type}, C{Location}, and whether C{Set-Cookie} was sent.
    @ivar cacheStatus: The C{Cache-Status} header (not compared: the cache
        adds it on purpose, as it does C{Age}, C{ETag}, C{Last-Modified},
        C{Vary} and C{Content-Length}, which are not compared either).
    """

    FIELDS = ("status", "body", "content-type", "location", "set-cookie")

    def __init__(self, step, compared, cacheStatus):
        self.step = step
        self.compared = compared
        self.cacheStatus = cacheStatus



class Browser(object):
    """
    Sends L{Step}s to one server over loopback TCP, one connection each, and
    keeps its cookies as a browser would (name and value; every path).
    """

    def __init__(self, port, normalise):
        self.port = port
        self.base = "http://127.0.0.1:%d" % (port,)
        self._normalise = normalise
        self._cookies = {}
        self._location = None
        self._pool = HTTPConnectionPool(reactor, persistent=False)
        self._agent = Agent(reactor, pool=self._pool)


    @defer.inlineCallbacks
    def send(self, step):
        path = step.path
        if path is FOLLOW:
            if self._location is None:
                raise AssertionError("nothing to follow before %r" % (step,))
            path = self._location
        url = urljoin(self.base + "/", path)
        headers = Headers()
        for name, value in step.headers:
            value = value.replace("{base}", self.base).replace("{port}", str(self.port))
            headers.addRawHeader(name.encode("ascii"), value.encode("utf-8"))
        if self._cookies:
            headers.setRawHeaders(b"cookie", [b"; ".join(
                b"=".join(pair) for pair in sorted(self._cookies.items()))])
        body = None
        if step.form is not None:
            headers.setRawHeaders(b"content-type", [b"application/x-www-form-urlencoded"])
            body = FileBodyProducer(BytesIO(urlencode(step.form).encode("ascii")))
        response = yield self._agent.request(
            step.method.encode("ascii"), url.encode("ascii"), headers, body)
        content = yield readBody(response)
        setCookies = response.headers.getRawHeaders(b"set-cookie", [])
        for cookie in setCookies:
            pair = cookie.split(b";", 1)[0]
            name, _, value = pair.partition(b"=")
            self._cookies[name.strip()] = value.strip()
        location = response.headers.getRawHeaders(b"location", [None])[-1]
        self._location = location.decode("ascii") if location is not None else None

        def normalised(value):
            if value is None:
                return None
            # The port in absolute URLs (Location, links): each serving
            # listens on its own free port.
            value = value.replace(self.base.encode("ascii"), b"http://127.0.0.1:PORT")
            value = value.replace(b"//localhost:%d" % (self.port,), b"//localhost:PORT")
            return self._normalise(value)
        compared = (
            response.code,
            normalised(content),
            response.headers.getRawHeaders(b"content-type", [None])[-1],
            normalised(location),
            bool(setCookies),
        )
        status = response.headers.getRawHeaders(b"cache-status", [None])[-1]
        defer.returnValue(Observation(step, compared, status))


    def close(self):
        return self._pool.closeCachedConnections()



def noNormalising(value):
    return value


def substitutions(*pairs):
    """
    @param pairs: C{(pattern, replacement)} pairs (bytes regular
        expressions), applied in order.

    @return: A normalising function applying them.
    """
    compiled = [(re.compile(pattern), replacement) for pattern, replacement in pairs]

    def normalise(value):
        for pattern, replacement in compiled:
            value = pattern.sub(replacement, value)
        return value
    return normalise



@defer.inlineCallbacks
def play(site, steps, normalise=noNormalising, cache=None, clock=None):
    """
    Serve C{site} on a free loopback port, send it C{steps} in order, and
    stop serving it.

    @param cache: The serving's L{PageCache}, for L{Settle} steps.
    @param clock: What ages its entries, for L{Stale} steps.

    @return: A L{Deferred} firing with a list of L{Observation}s, one for
        each step that is a request.
    """
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    browser = Browser(port.getHost().port, normalise)
    observations = []
    try:
        for step in steps:
            if isinstance(step, Stale):
                if clock is not None:
                    clock.advance(step.seconds)
                continue
            if isinstance(step, Settle):
                if cache is not None:
                    yield _settle(cache)
                continue
            if isinstance(step, Burst):
                observation = yield _burst(port.getHost().port, normalise, step)
            else:
                observation = yield browser.send(step)
            observations.append(observation)
            if os.environ.get("NEVOWCACHE_REALAPPS_DEBUG"):
                code, body = observation.compared[:2]
                sys.stderr.write("%r -> %r %r %r %r\n" % (
                    step, code, observation.compared[2:], observation.cacheStatus,
                    body[-int(os.environ["NEVOWCACHE_REALAPPS_DEBUG"]):]))
    finally:
        yield browser.close()
        yield port.stopListening()
    defer.returnValue(observations)



@defer.inlineCallbacks
def _settle(cache, timeout=20.0):
    """
    Let the reactor run until C{cache} has no render or refresh running.
    """
    for _ in range(int(timeout / 0.01)):
        stats = cache.stats()
        if not stats["inFlight"] and not stats["refreshesRunning"]:
            return
        yield task.deferLater(reactor, 0.01, lambda: None)
    raise AssertionError("renders still running after %s s: %r" % (timeout, cache.stats()))



@defer.inlineCallbacks
def _burst(port, normalise, step):
    """
    Send a L{Burst}.

    @return: A L{Deferred} firing with the L{Observation} all its requests
        got, or one saying that they differ.
    """
    browsers = [Browser(port, normalise) for _ in range(step.count)]
    try:
        answers = yield defer.gatherResults(
            [browser.send(step) for browser in browsers], consumeErrors=True)
    finally:
        for browser in browsers:
            yield browser.close()
    distinct = sorted(set(answer.compared for answer in answers))
    statuses = b", ".join(sorted(set(answer.cacheStatus or b"" for answer in answers)))
    if len(distinct) == 1:
        defer.returnValue(Observation(step, distinct[0], statuses))
    defer.returnValue(Observation(
        step, ("%d different answers" % (len(distinct),), repr(distinct), None, None, None),
        statuses))



def differences(expected, actual):
    """
    @return: A description of every step where C{actual} differs from
        C{expected} (a list of text lines; empty when they agree).
    """
    lines = []
    for index, (a, b) in enumerate(zip(expected, actual)):
        for field, x, y in zip(Observation.FIELDS, a.compared, b.compared):
            if x != y and isinstance(x, bytes) and isinstance(y, bytes):
                # Where they part, with some context.
                at = next((i for i, (p, q) in enumerate(zip(x, y)) if p != q),
                          min(len(x), len(y)))
                start = max(0, at - 120)
                x, y = x[start:at + 120], y[start:at + 120]
                field += " (from byte %d)" % (start,)
            if x != y:
                lines.append("step %d (%r): %s differs (cache-status %r):\n"
                             "  expected: %r\n  actual:   %r"
                             % (index, a.step, field, b.cacheStatus, x, y))
    if len(expected) != len(actual):
        lines.append("%d steps against %d" % (len(expected), len(actual)))
    return lines
