"""
In-process cost of a fresh hit through a shared store (Python 2.7 and 3).

    python -m bench.sharedhit --docroot DIR [--requests N] [--rounds R]
                              [--concurrency C] [--profile STORE]

L{bench.profile_hit} without the network cannot time a shared store: its
lookup goes to a real server.  Here each request is fed to the site over a
L{StringTransport} (Twisted's whole HTTP parser and serializer, as there),
but the reactor runs, and the store talks to a real memcached and a real
Redis started on free loopback ports for the run.  C{C} requests are kept
in flight (as wrk's connections do), each followed by the next as soon as
it is answered.

Every variant is timed in the same run, interleaved, C{R} rounds of C{N}
requests each; reported is the median round: wall-clock microseconds per
request (C{us}), and this process's CPU microseconds per request (C{cpu}:
what the site's process spends, the servers' own CPU not counted), and
each as a ratio to the bare twisted.web resource.  Variants:

  - C{bare}: a twisted.web C{Resource} returning the page's bytes;
  - C{web-memory}, C{web-memcached}, C{web-redis}: nevowcache's
    C{CachedResource} over a L{MemoryStore}, a L{MemcachedStore}, a
    L{RedisStore};
  - with Nevow (Python 2.7): C{nevow-memory}, C{nevow-memcached},
    C{nevow-redis}: C{CachedPage} on a C{NevowSite}; C{site-memory},
    C{site-memcached}, C{site-redis}: the same on a C{CachingSite}, which
    answers fresh hits before traversal (from a shared store once its
    lookup answers).

Two more variants tell the adapter's part from the store's: C{web-deferred},
C{nevow-deferred} and C{site-deferred} (a L{MemoryStore} answering through a L{Deferred}
fired at once, the path of a shared store's hit without its network,
protocol and decode), C{web-later} and C{nevow-later} (the same, answered
in the next reactor turn; C{site-later} too).

With C{--profile STORE} (C{memory}, C{memcached} or C{redis}), a cProfile
of the twisted.web hit through that store follows (listing on standard
error; C{--profile-out} keeps the statistics; C{PROFILE_FILTER} restricts
the cumulative listing to matching functions).

Prints one JSON document on standard output.
"""

from __future__ import absolute_import, division, print_function

import argparse
import cProfile
import json
import os
import platform
import pstats
import sys
import time

import twisted
from twisted.internet import defer, reactor
from twisted.web import resource, server

try:
    from twisted.internet.testing import StringTransport
except ImportError:  # Twisted < 21.2
    from twisted.test.proto_helpers import StringTransport

from zope.interface import implementer

from nevowcache._stores.interfaces import IScopedStore
from nevowcache import MemcachedStore, MemoryStore, PageCache, RedisStore

from bench.profile_hit import cachedResourceClass
from bench.servers import _common

_timer = getattr(time, "perf_counter", time.time)

REQUEST = (b"GET /10k HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: nevowcache-bench\r\n"
           b"Accept: */*\r\nConnection: close\r\n\r\n")



def _cpu():
    times = os.times()
    return times[0] + times[1]



class _Transport(StringTransport):
    """
    A transport that tells when the site closes it (the response to a
    C{Connection: close} request is complete).
    """

    def __init__(self, closed):
        StringTransport.__init__(self)
        self._closed = closed
        self.protocol = None


    def loseConnection(self):
        StringTransport.loseConnection(self)
        self._closed(self)



class Driver(object):
    """
    Keep C{concurrency} requests in flight against a site until C{n} are
    answered.
    """

    def __init__(self, site, n, concurrency):
        self.site = site
        self.n = n
        self.concurrency = concurrency
        self.started = 0
        self.answered = 0
        self.done = defer.Deferred()
        self._pumping = False
        self._free = 0


    def run(self):
        self._free = self.concurrency
        self._pump()
        return self.done


    def _pump(self):
        if self._pumping:
            return
        self._pumping = True
        try:
            while self._free and self.started < self.n:
                self._free -= 1
                self.started += 1
                transport = _Transport(self._closed)
                protocol = self.site.buildProtocol(None)
                transport.protocol = protocol
                protocol.makeConnection(transport)
                protocol.dataReceived(REQUEST)
        finally:
            self._pumping = False


    def _closed(self, transport):
        value = transport.value()
        if not value.startswith(b"HTTP/1.1 200"):
            raise RuntimeError("not a 200: %r" % (value[:300],))
        transport.protocol.connectionLost(None)
        self.answered += 1
        self._free += 1
        if self.answered == self.n:
            self.done.callback(None)
        else:
            self._pump()



def timeRound(site, n, concurrency):
    """
    @return: A L{Deferred} firing with C{(wall us, cpu us)} per request.
    """
    driver = Driver(site, n, concurrency)
    wall, cpu = _timer(), _cpu()
    d = driver.run()
    d.addCallback(lambda ignored: ((_timer() - wall) / n * 1e6,
                                   (_cpu() - cpu) / n * 1e6))
    return d



def tree(leaf):
    root = resource.Resource()
    root.putChild(b"10k", leaf)
    return server.Site(root)



def webSites(body, stores):
    class Bare(resource.Resource):
        isLeaf = True

        def render_GET(self, request):
            request.setHeader(b"content-type", b"text/html; charset=utf-8")
            return body

    sites = {"bare": tree(Bare())}
    for name, store in stores.items():
        sites["web-" + name] = tree(cachedResourceClass(PageCache(store), body)())
    return sites



def nevowSites(stores):
    try:
        from nevow import appserver, rend
    except ImportError:
        return {}
    from nevowcache import CachedPage, CachingSite
    from bench.servers import benchpage, nevowsite
    sites = {}
    for name, makeStore in stores.items():
        for kind, factory in (("nevow-", appserver.NevowSite), ("site-", CachingSite)):
            root = nevowsite.Root()
            page = benchpage.pageClass(CachedPage, "10k", kind + name,
                                       pageCache=PageCache(makeStore()), cacheTimeout=3600)
            root.putChild("10k", page())
            sites[kind + name] = factory(root)
    return sites



@implementer(IScopedStore)
class Deferring(object):
    """
    A L{MemoryStore} behind C{lookup} alone (no C{peek}): its hits take the
    path of a shared store's, through a L{Deferred}, without a network or a
    decode.  With C{later}, the lookup answers in a later reactor turn, as
    a network store does.
    """
    name = "deferring"

    def __init__(self, later=False):
        self._memory = MemoryStore()
        self._later = later

    def lookup(self, key, scopes=()):
        found = self._memory.peek(key, scopes)
        if not self._later:
            return defer.succeed(found)
        d = defer.Deferred()
        reactor.callLater(0, d.callback, found)
        return d

    def __getattr__(self, name):
        return getattr(self._memory, name)



def startServers():
    """
    @return: C{{name: tests._servers.Server}} for memcached and Redis.
    """
    from tests._servers import Server
    return {"memcached": Server("memcached"), "redis": Server("redis-server")}



def stores(servers):
    # A long store timeout: a loaded machine must not turn hits into misses.
    return {
        "memory": lambda: MemoryStore(),
        "deferred": lambda: Deferring(),
        "later": lambda: Deferring(later=True),
        "memcached": lambda: MemcachedStore("127.0.0.1", servers["memcached"].port,
                                            timeout=5.0),
        "redis": lambda: RedisStore("127.0.0.1", servers["redis"].port, timeout=5.0),
    }



@defer.inlineCallbacks
def measure(sites, options):
    names = sorted(sites)
    # Warm up: the first request renders and stores; then a few hundred
    # hits.
    for name in names:
        yield timeRound(sites[name], 1, 1)
        yield timeRound(sites[name], max(50, options.requests // 5),
                        options.concurrency)
    rounds = dict((name, []) for name in names)
    for _ in range(options.rounds):
        for name in names:
            result = yield timeRound(sites[name], options.requests,
                                     options.concurrency)
            rounds[name].append(result)
    out = {}
    for name in names:
        walls = sorted(r[0] for r in rounds[name])
        cpus = sorted(r[1] for r in rounds[name])
        out[name] = {"us": walls[len(walls) // 2], "cpu": cpus[len(cpus) // 2]}
    bare = out["bare"]
    for name in names:
        out[name]["xBare"] = bare["us"] / out[name]["us"]
        out[name]["cpuXBare"] = (bare["cpu"] / out[name]["cpu"]
                                 if out[name]["cpu"] else None)
    if options.profile:
        site = sites["web-" + options.profile]
        profiler = cProfile.Profile()
        profiler.enable()
        yield timeRound(site, options.requests, options.concurrency)
        profiler.disable()
        if options.profile_out:
            profiler.dump_stats(options.profile_out)
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(35)
        stats.sort_stats("cumulative").print_stats(os.environ.get("PROFILE_FILTER", ""), 60)
    defer.returnValue(out)



def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--docroot", required=True)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--profile", choices=("memory", "memcached", "redis"))
    parser.add_argument("--profile-out", help="dump the cProfile statistics here")
    options = parser.parse_args(argv[1:])
    with open(os.path.join(options.docroot, "10k.html"), "rb") as f:
        body = f.read()
    _common.startLogging()
    servers = startServers()
    result = {"python": platform.python_version(), "twisted": twisted.__version__,
              "requests": options.requests, "rounds": options.rounds,
              "concurrency": options.concurrency}
    try:
        makers = stores(servers)
        sites = webSites(body, dict((n, m()) for n, m in makers.items()))
        sites.update(nevowSites(makers))
        outcome = []

        def go():
            d = measure(sites, options)
            d.addBoth(outcome.append)
            d.addBoth(lambda ignored: reactor.stop())
        reactor.callWhenRunning(go)
        reactor.run()
        if not outcome:
            raise RuntimeError("interrupted")
        if hasattr(outcome[0], "raiseException"):
            outcome[0].raiseException()
        result["perRequest"] = outcome[0]
    finally:
        for s in servers.values():
            s.cleanUp()
    json.dump(result, sys.stdout, sort_keys=True, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
