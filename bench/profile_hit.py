"""
In-process cost of the hit path (Python 2.7 and 3): no sockets, no client.

    python -m bench.profile_hit --docroot DIR [--requests N] [--profile-out FILE]

Each request is fed to the site over a L{StringTransport}, through
Twisted's whole HTTP parser and serializer (the method of the peers
appendix, adapted from twisted/twisted#12133), and the median of several
runs is reported in microseconds per request:

  - on every interpreter: a bare twisted.web C{Resource} returning the
    page's bytes, and nevowcache's C{CachedResource} hit in front of the
    same;
  - with Nevow (Python 2.7): the uncached page, the naive 2005 dict cache,
    nevowcache's C{CachedPage} hit, and C{nevowcache.CachingSite} if there
    is one.

Then the cache's own work on a hit, timed directly on a request that has
been through the site (the best of 5 batches): C{bypassReason}, C{CachePolicy.fromPage},
C{keyFor}, C{answerAtOnce} (the synchronous hit decision every
adapter tries first), C{serve} (the general path: store lookup and decision
through a L{Deferred}), C{Answer.replay} (what a hit costs when it cannot be
written directly), C{Answer.writeDirect} (the status line, headers and body
of a fresh hit, written in one go; the write itself discarded), and all of
the hit path together (C{total}: bypass, policy, key, C{answerAtOnce},
C{writeDirect}).  Last, a cProfile of the C{CachedPage}
hit (Python 2.7) or the C{CachedResource} hit (Python 3): the share of time
spent in nevowcache's own functions, and the top functions.

Prints one JSON document on standard output.
"""

from __future__ import absolute_import, division, print_function

import argparse
import cProfile
import gc
import json
import os
import platform
import pstats
import sys
import time

import twisted
from twisted.internet import reactor
from twisted.web import http, resource, server

try:
    from twisted.internet.testing import StringTransport
except ImportError:  # Twisted < 21.2
    from twisted.test.proto_helpers import StringTransport

from nevowcache import MemoryStore, PageCache
from nevowcache._engine.pagecache import CachePolicy

from bench.servers import _common

if sys.version_info[0] == 2:
    from StringIO import StringIO  # pstats writes str
else:
    from io import StringIO

_timer = getattr(time, "perf_counter", time.time)

REQUEST = (b"GET /10k HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: nevowcache-bench\r\n"
           b"Accept: */*\r\n\r\n")



def oneRequest(site, request=REQUEST):
    """
    Feed one request to C{site} over a fresh L{StringTransport}.

    @return: What the site wrote.
    """
    transport = StringTransport()
    protocol = site.buildProtocol(None)
    protocol.makeConnection(transport)
    protocol.dataReceived(request)
    protocol.connectionLost(None)
    # The connection's timeouts, cancelled, stay in the reactor's queue
    # until a reactor turn drops them: take that turn, as a running server
    # does, or they pile up (two per request) and every full collection
    # of the garbage collector walks them, slower and slower.
    reactor.runUntilCurrent()
    return transport.value()



def perRequest(site, n, runs=5):
    """
    @return: The median microseconds per request over C{runs} runs of C{n}.
    """
    out = oneRequest(site)
    if not out.startswith(b"HTTP/1.1 200"):
        raise RuntimeError("not a 200: %r" % (out[:200],))
    for _ in range(n // 5):
        oneRequest(site)
    times = []
    for _ in range(runs):
        start = _timer()
        for _ in range(n):
            oneRequest(site)
        times.append((_timer() - start) / n * 1e6)
    times.sort()
    return times[len(times) // 2]



def _capturingResource(base):
    """
    A subclass of C{base} that remembers the last request it rendered.
    """
    class Capturing(base):
        last = None

        def render(self, request):
            Capturing.last = request
            return base.render(self, request)
    return Capturing



def cachedResourceClass(cache, body):
    """
    @return: A leaf C{CachedResource} class, cached in C{cache} for an hour,
        rendering C{body} as HTML.
    """
    from nevowcache.web import CachedResource

    class Cached(CachedResource):
        isLeaf = True
        pageCache = cache
        cacheTimeout = 3600

        def render_GET(self, request):
            request.setHeader(b"content-type", b"text/html; charset=utf-8")
            return body
    return Cached



def webSites(body):
    """
    @return: C{(bare site, cached site, cached resource, cache)}.
    """
    class Bare(resource.Resource):
        isLeaf = True

        def render_GET(self, request):
            request.setHeader(b"content-type", b"text/html; charset=utf-8")
            return body

    cache = PageCache(MemoryStore())
    Cached = cachedResourceClass(cache, body)
    Capturing = _capturingResource(Cached)

    def tree(leaf):
        root = resource.Resource()
        root.putChild(b"10k", leaf)
        return server.Site(root)
    cached = Capturing()
    return tree(Bare()), tree(cached), cached, cache, Capturing



def ownWork(cache, page, request, n):
    """
    Time the cache's own work on a hit, called directly.

    @return: A L{dict} of microseconds per call.
    """
    from nevowcache._engine.settings import pageName
    name = pageName(page)
    policy = CachePolicy.fromPage(page)
    key = cache.keyFor(request, name, policy.vary, None)
    render = refresher = None

    def serve():
        answers = []
        cache.serve(request, key, policy, render, refresher).addCallback(answers.append)
        return answers[0]
    answer = serve()
    if answer.entry is None or b"hit" not in answer.status:
        raise RuntimeError("not a hit: %r" % (answer.status,))

    def timed(function, repeats=5):
        # The best of several batches, as timeit advises: what the machine's
        # other work adds is noise, not the function's cost.
        for _ in range(n // 10):
            function()
        batch = max(1, n // repeats)
        best = None
        for _ in range(repeats):
            start = _timer()
            for _ in range(batch):
                function()
            elapsed = (_timer() - start) / batch * 1e6
            best = elapsed if best is None else min(best, elapsed)
        return best

    # writeDirect writes to the request's connection, once per request: give
    # the finished request a connection that takes the bytes and forgets
    # them, and make it unwritten again before each call.
    request.channel = _NullChannel()
    # As a TCP connection, for isSecure (not an SSL transport).
    request.channel.transport = StringTransport()
    request.finished = 0

    def writeDirect():
        request.startedWriting = 0
        if not answer.writeDirect(request):
            raise RuntimeError("not written directly")

    def everything():
        cache.bypassReason(request)
        p = CachePolicy.fromPage(page)
        k = cache.keyFor(request, name, p.vary, None)
        request.startedWriting = 0
        cache.answerAtOnce(k, p).writeDirect(request)

    return {
        "bypassReason": timed(lambda: cache.bypassReason(request)),
        "policy": timed(lambda: CachePolicy.fromPage(page)),
        "keyFor": timed(lambda: cache.keyFor(request, name, policy.vary, None)),
        "answerAtOnce": timed(lambda: cache.answerAtOnce(key, policy)),
        "serve": timed(serve),
        "replay": timed(lambda: answer.replay(request)),
        "writeDirect": timed(writeDirect),
        "total": timed(everything),
    }



class _NullChannel(http.HTTPChannel):
    """
    A connection that takes what is written and forgets it.
    """

    def writeSequence(self, data):
        pass



def _ours(filename):
    """
    @return: Whether C{filename} is one of nevowcache's own modules.
    """
    parts = os.path.normpath(filename).split(os.sep)
    return len(parts) >= 2 and parts[-2] == "nevowcache"



def profile(site, n, out):
    """
    cProfile C{n} requests to C{site}.

    @return: C{(share of time in nevowcache's own functions, top lines)}.
    """
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        oneRequest(site)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = sum(v[2] for v in stats.stats.values())
    own = sum(v[2] for (filename, _, _), v in stats.stats.items() if _ours(filename))
    text = StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(25)
    if out:
        with open(out, "w") as f:
            f.write(text.getvalue())
    ownFunctions = sorted(
        ((v[2], "%s:%d(%s)" % (os.path.basename(f), line, name))
         for (f, line, name), v in stats.stats.items() if _ours(f)),
        reverse=True)[:8]
    return own / total if total else 0.0, [
        {"function": name, "usPerRequest": t / n * 1e6} for t, name in ownFunctions]



def nevowSites(body):
    """
    @return: C{(sites by name, cached root page, cache, capturing class)} for
        the Nevow variants, or L{None} without Nevow.
    """
    try:
        from nevow import appserver
    except ImportError:
        return None
    import nevowcache
    from nevowcache import CachedPage
    from bench.servers import benchpage, nevowsite

    cache = PageCache(MemoryStore())

    def site(base, factory=appserver.NevowSite, **attributes):
        root = nevowsite.Root()
        page = benchpage.pageClass(base, "10k", "profile", **attributes)
        root.putChild("10k", page())
        return factory(root)
    from nevow import rend
    sites = {
        "nevow": site(rend.Page),
        "naive": site(nevowsite.NaivePage),
        "nc-fresh": site(CachedPage, pageCache=cache, cacheTimeout=3600),
    }
    if hasattr(nevowcache, "CachingSite"):
        siteCache = PageCache(MemoryStore())
        sites["nc-site"] = site(CachedPage, factory=nevowcache.CachingSite,
                                pageCache=siteCache, cacheTimeout=3600)
    for name in sorted(sites):
        served = responseBody(oneRequest(sites[name]))
        if served != body:
            raise RuntimeError(
                "%s did not serve the page of --docroot (10k.html, %d bytes): %s; the "
                "docroot must hold the page as the benchmark's uncached Nevow server "
                "renders it (bench/run.py writes it)"
                % (name, len(body), "%d other bytes" % (len(served),)
                   if served is not None else "no 200 response"))
    return sites



def responseBody(out):
    """
    @param out: What a site wrote for one request.
    @return: The body of its C{200} response, de-chunked, or L{None} if it
        is not one.
    """
    if not out.startswith(b"HTTP/1.1 200 "):
        return None
    head, rest = out.split(b"\r\n\r\n", 1)
    if b"\r\ntransfer-encoding: chunked" not in head.lower():
        return rest
    body = []
    while True:
        size, rest = rest.split(b"\r\n", 1)
        size = int(size, 16)
        if not size:
            return b"".join(body)
        body.append(rest[:size])
        rest = rest[size + 2:]



def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--docroot", required=True)
    parser.add_argument("--requests", type=int, default=3000,
                        help="requests per timed run (5 runs; Nevow uncached: a hundredth)")
    parser.add_argument("--profile-out", help="write the cProfile listing here")
    options = parser.parse_args(argv[1:])
    with open(os.path.join(options.docroot, "10k.html"), "rb") as f:
        body = f.read()
    n = options.requests
    # As the servers do: the access log formatted and dropped, not kept in
    # the log system's buffer of the first 65,536 events.
    _common.startLogging()
    result = {"python": platform.python_version(), "twisted": twisted.__version__,
              "usPerRequest": {}, "gcEnabled": gc.isenabled()}
    bare, cachedSite, cachedResource, cache, Capturing = webSites(body)
    result["usPerRequest"]["bare"] = perRequest(bare, n)
    result["usPerRequest"]["web"] = perRequest(cachedSite, n)
    sites = nevowSites(body)
    if sites is not None:
        for name in sorted(sites):
            count = max(10, n // 100) if name == "nevow" else n
            result["usPerRequest"][name] = perRequest(sites[name], count)
    result["ownWork"] = ownWork(cache, cachedResource, Capturing.last, n * 10)
    target = sites["nc-fresh"] if sites is not None else cachedSite
    result["profiled"] = "nc-fresh" if sites is not None else "web"
    share, top = profile(target, n, options.profile_out)
    result["profileShare"] = share
    result["profileTop"] = top
    json.dump(result, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
