"""
What every benchmark server shares (Python 2.7 and 3): its command line,
logging, the listening socket, and the C{/_bench/stats} JSON document the
runner reads (render counters, the cache's statistics, RSS).
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import platform
import resource
import sys

import twisted

__all__ = ["serverParser", "startLogging", "listen", "processInfo", "statsJSON",
           "raiseFileLimit", "makeStore", "SIZES", "HTML"]

# The page sizes every server offers, as the last path segment: /1k, /10k,
# /100k.
SIZES = ("1k", "10k", "100k")

# What Nevow sends as Content-Type; the bare servers send the same.
HTML = b"text/html; charset=utf-8"



def serverParser(description):
    """
    @return: An L{argparse.ArgumentParser} with the options every server
        takes.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, required=True,
                        help="the port to listen on, on 127.0.0.1")
    parser.add_argument("--variant", required=True, help="what to serve")
    parser.add_argument("--timeout", type=float, default=3600.0,
                        help="cacheTimeout of the cached pages (seconds)")
    parser.add_argument("--max-bytes", type=int, default=64 * 1024 * 1024,
                        help="the MemoryStore's byte bound")
    parser.add_argument("--max-entries", type=int, default=10000,
                        help="the MemoryStore's entry bound")
    parser.add_argument("--store", choices=("memory", "redis", "memcached"),
                        default="memory", help="where the cache keeps its entries")
    parser.add_argument("--store-port", type=int,
                        help="the Redis or memcached server's port, on 127.0.0.1")
    parser.add_argument("--near", action="store_true",
                        help="a near tier (NearStore, --max-bytes) in front of the "
                             "Redis or memcached store")
    return parser



def makeStore(options):
    """
    @return: The store the cached variants use, as the options say: a
        L{MemoryStore}, or a Redis or memcached store (each server in a
        namespace of its own), with a near tier if C{--near}.
    """
    import nevowcache
    if options.store == "memory":
        return nevowcache.MemoryStore(maxBytes=options.max_bytes,
                                      maxEntries=options.max_entries)
    storeClass = {"redis": nevowcache.RedisStore,
                  "memcached": nevowcache.MemcachedStore}[options.store]
    namespace = b"bench-%d:" % (os.getpid(),)
    store = storeClass("127.0.0.1", options.store_port, namespace=namespace)
    if options.near:
        store = nevowcache.NearStore(store, maxBytes=options.max_bytes,
                                     maxEntries=options.max_entries)
    return store



def raiseFileLimit():
    """
    Allow as many open files as the hard limit lets (a cold burst opens a
    thousand connections at once).
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))



def startLogging():
    """
    Send warnings and errors to standard error (the runner keeps it in a log
    file); drop the rest, the access log included, as every server does
    alike.
    """
    from twisted.logger import (FilteringLogObserver, LogLevel,
                                LogLevelFilterPredicate, globalLogBeginner,
                                textFileLogObserver)
    predicate = LogLevelFilterPredicate(defaultLogLevel=LogLevel.warn)
    observer = FilteringLogObserver(textFileLogObserver(sys.stderr), [predicate])
    globalLogBeginner.beginLoggingTo([observer], redirectStandardIO=False)



def listen(reactor, port, factory):
    """
    Listen on 127.0.0.1 with a backlog deep enough for a burst of a
    thousand connections.
    """
    return reactor.listenTCP(port, factory, backlog=1024, interface="127.0.0.1")



def _status(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return None



def processInfo():
    """
    @return: A L{dict} describing this process: pid, RSS, peak RSS (bytes),
        Python and Twisted versions.
    """
    return {
        "pid": os.getpid(),
        "rss": _status("VmRSS"),
        "peakRss": _status("VmHWM"),
        "python": platform.python_version(),
        "twisted": twisted.__version__,
    }



def statsJSON(extra):
    """
    @param extra: More fields (render counters, cache statistics).
    @return: The C{/_bench/stats} document, as L{bytes}.
    """
    document = processInfo()
    document.update(extra)
    return json.dumps(document, sort_keys=True).encode("utf-8")
