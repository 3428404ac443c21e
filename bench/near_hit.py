"""
In-process cost of a near-tier hit against a MemoryStore hit, through the
same site kind (Python 2.7 and 3): no sockets, no client.

    python -m bench.near_hit --docroot DIR --store redis --store-port PORT

Each request is fed to the site over a L{StringTransport}, as in
L{bench.profile_hit}; a C{CachedResource} site (and, with Nevow, a
C{CachedPage} under C{NevowSite} and under C{CachingSite}) is built twice,
over a C{MemoryStore} and over a C{NearStore} in front of the given Redis or
memcached, warmed until both answer hits, then timed in seven interleaved
rounds.  Prints one JSON document: per site kind, the median microseconds
per hit of each, and the median of the rounds' ratios (MemoryStore time /
near-tier time: the near tier's throughput as a share of a MemoryStore's;
issue 18's target is at least 0.9).  A wrk figure is in C{bench/run.py}'s
shared-store rows.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import sys
import time

from twisted.internet import reactor
from twisted.internet.error import ConnectionDone
from twisted.python.failure import Failure
from twisted.web import resource, server

from nevowcache import MemcachedStore, MemoryStore, NearStore, PageCache, RedisStore

from bench.profile_hit import REQUEST, StringTransport, cachedResourceClass, perRequest



def _spin(seconds):
    end = time.time() + seconds
    while time.time() < end:
        reactor.iterate(0.01)



def _warm(site, body):
    """
    One request, the reactor running until it is answered (a miss waits
    for the shared store).
    """
    transport = StringTransport()
    protocol = site.buildProtocol(None)
    protocol.makeConnection(transport)
    protocol.dataReceived(REQUEST)
    end = time.time() + 5
    while (time.time() < end and body[-50:] not in transport.value()
           and b"0\r\n\r\n" not in transport.value()[-7:]):
        reactor.iterate(0.01)
    protocol.connectionLost(Failure(ConnectionDone()))
    return transport.value()



def webSite(cache, body):
    root = resource.Resource()
    root.putChild(b"10k", cachedResourceClass(cache, body)())
    return server.Site(root)



def nevowSite(cache, kind):
    import nevowcache
    from nevow import appserver
    from bench.servers import benchpage, nevowsite
    root = nevowsite.Root()
    page = benchpage.pageClass(nevowcache.CachedPage, "10k", "profile", pageCache=cache,
                               cacheTimeout=3600)
    root.putChild("10k", page())
    factory = nevowcache.CachingSite if kind == "site" else appserver.NevowSite
    return factory(root)



def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--docroot", required=True)
    parser.add_argument("--store", choices=("redis", "memcached"), required=True)
    parser.add_argument("--store-port", type=int, required=True)
    parser.add_argument("--requests", type=int, default=300)
    options = parser.parse_args(argv[1:])
    with open(os.path.join(options.docroot, "10k.html"), "rb") as f:
        body = f.read()
    storeClass = RedisStore if options.store == "redis" else MemcachedStore

    def store(near):
        if not near:
            return MemoryStore()
        # A long bound: the timed rounds run without the reactor, which
        # would otherwise not hear the heartbeats that keep trust.
        return NearStore(storeClass("127.0.0.1", options.store_port,
                                    namespace=b"near-hit-%d:" % (os.getpid(),)), bound=60)
    kinds = ["web"]
    try:
        import nevow  # noqa: F401
    except ImportError:
        pass
    else:
        kinds += ["nevow", "site"]
    results = {}
    for kind in kinds:
        sites = {}
        for near in (False, True):
            cache = PageCache(store(near))
            sites[near] = webSite(cache, body) if kind == "web" else nevowSite(cache, kind)
        for site in sites.values():
            for _ in range(3):
                _warm(site, body)
                _spin(0.3)
            if b"nevowcache; hit" not in _warm(site, body):
                raise SystemExit("%s: no hit after warming" % (kind,))
        memory, nearTimes, ratios = [], [], []
        for _ in range(7):
            m = perRequest(sites[False], options.requests, runs=3)
            n = perRequest(sites[True], options.requests, runs=3)
            _spin(0.05)
            memory.append(m)
            nearTimes.append(n)
            ratios.append(m / n)
        results[kind] = {"memoryUs": round(sorted(memory)[3], 1),
                         "nearUs": round(sorted(nearTimes)[3], 1),
                         "nearHitRatio": round(sorted(ratios)[3], 3)}
    print(json.dumps({"python": sys.version.split()[0], "store": options.store,
                      "results": results}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
