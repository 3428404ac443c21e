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
           "raiseFileLimit", "SIZES", "HTML"]

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
    return parser



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
