"""
What a flood of POSTs costs a cached page (Python 3, twisted.web, loopback).

    python -m bench.postflood [--seconds 5] [--render-ms 5] [--wait] [--getters 4] [--posters 4]

A server process serves, through L{nevowcache.web.InvalidatingSite}, a
cached page C{/p} whose render burns C{--render-ms} of CPU and a form
handler C{/form} that answers every POST with C{303 See Other} to C{/p}:
each successful POST invalidates C{/p} (hard, on every host).  Client
threads send GETs of C{/p} and POSTs of C{/form} over keep-alive
connections for C{--seconds}; then the server's counters say how often
C{/p} was rendered.  Three runs: GETs alone; GETs under the POST flood;
the POST flood alone.  Without the bound, every GET after a POST could
render (and renders could pile up, one per POST, while one is running);
with it, one render of the page runs at a time, and the GETs arriving
meanwhile share the next one: renders per second stay at most
min(POSTs per second, 1 / render time).

Prints one JSON document.
"""

from __future__ import absolute_import, division, print_function

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time


def serve(port, renderMs, wait):
    from twisted.internet import reactor, task
    from twisted.web import resource, server

    from nevowcache import MemoryStore, PageCache
    from nevowcache.web import CachedResource, InvalidatingSite

    cache = PageCache(MemoryStore(), reactor=reactor)
    renders = [0]

    class Page(CachedResource):
        pageCache = cache
        cacheTimeout = 60
        isLeaf = True

        def render_GET(self, request):
            renders[0] += 1
            body = b"<p>render %d</p>" % (renders[0],)
            if wait:
                # A render waiting on a database, not on the CPU.
                def done():
                    request.write(body)
                    request.finish()
                task.deferLater(reactor, renderMs / 1000.0, done)
                return server.NOT_DONE_YET
            end = time.perf_counter() + renderMs / 1000.0
            while time.perf_counter() < end:
                pass
            return body

    class Form(resource.Resource):
        isLeaf = True

        def render_POST(self, request):
            request.setResponseCode(303)
            request.setHeader(b"location", b"/p")
            return b""

    class Stats(resource.Resource):
        isLeaf = True

        def render_GET(self, request):
            stats = cache.stats()
            stats["pageRenders"] = renders[0]
            return json.dumps(stats, default=str).encode("ascii")

    root = resource.Resource()
    root.putChild(b"p", Page())
    root.putChild(b"form", Form())
    root.putChild(b"stats", Stats())
    reactor.listenTCP(port, InvalidatingSite(root, pageCaches=[cache]),
                      interface="127.0.0.1")
    reactor.run()


def freePort():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def loop(port, method, path, until, counts, latencies):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    done = 0
    while time.time() < until:
        started = time.perf_counter()
        connection.request(method, path, body=b"x=1" if method == "POST" else None,
                           headers={"Content-Type": "application/x-www-form-urlencoded"}
                           if method == "POST" else {})
        response = connection.getresponse()
        response.read()
        latencies.append(time.perf_counter() - started)
        done += 1
    counts.append(done)
    connection.close()


def stats(port):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", "/stats")
    return json.loads(connection.getresponse().read())


def run(port, seconds, getters, posters):
    before = stats(port)
    until = time.time() + seconds
    gets, posts, getLatency, postLatency = [], [], [], []
    threads = ([threading.Thread(target=loop, args=(port, "GET", "/p", until, gets,
                                                     getLatency))
                for _ in range(getters)]
               + [threading.Thread(target=loop, args=(port, "POST", "/form", until, posts,
                                                       postLatency))
                  for _ in range(posters)])
    started = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - started
    after = stats(port)
    getLatency.sort()

    def pct(p):
        return round(getLatency[int(len(getLatency) * p)] * 1000, 2) if getLatency else None
    return {
        "seconds": round(elapsed, 2),
        "getsPerSecond": round(sum(gets) / elapsed, 1),
        "postsPerSecond": round(sum(posts) / elapsed, 1),
        "rendersPerSecond": round((after["pageRenders"] - before["pageRenders"]) / elapsed, 1),
        "renders": after["pageRenders"] - before["pageRenders"],
        "gets": sum(gets),
        "posts": sum(posts),
        "getLatencyMs": {"p50": pct(0.5), "p99": pct(0.99)},
        "collapsed": after["collapsed"] - before["collapsed"],
        "unsafeInvalidations": after["unsafeInvalidations"] - before["unsafeInvalidations"],
    }


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--render-ms", type=float, default=5)
    parser.add_argument("--getters", type=int, default=4)
    parser.add_argument("--posters", type=int, default=4)
    parser.add_argument("--wait", action="store_true",
                        help="renders wait --render-ms on the reactor instead of "
                             "burning CPU (a page waiting on a database)")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.render_ms, args.wait)
        return
    port = freePort()
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.postflood", "--serve", str(port),
         "--render-ms", str(args.render_ms)] + (["--wait"] if args.wait else []),
        env=dict(os.environ, PYTHONPATH=os.getcwd()))
    try:
        for _ in range(100):
            try:
                stats(port)
                break
            except (OSError, http.client.HTTPException):
                time.sleep(0.1)
        result = {
            "renderMs": args.render_ms, "getters": args.getters, "posters": args.posters,
            "renderWaits": args.wait,
            "getsAlone": run(port, args.seconds, args.getters, 0),
            "getsUnderPostFlood": run(port, args.seconds, args.getters, args.posters),
            "postsAlone": run(port, args.seconds, 0, args.posters),
        }
        flood = result["getsUnderPostFlood"]
        result["bound"] = {
            "rendersPerSecondAtMost": round(min(flood["postsPerSecond"],
                                                1000.0 / args.render_ms), 1),
            "rendersPerGet": round(flood["renders"] / max(1, flood["gets"]), 3),
        }
        print(json.dumps(result, indent=2, sort_keys=True))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main(sys.argv[1:])
