"""
A live site of cached pages for the HTTP linter (L{tests.test_redbot}),
served on a loopback port by either adapter:

    python -m tests.lintsite --adapter nevow|web|klein

prints C{PORT <n>} once it listens, and serves until its standard input
closes.  The Nevow adapter runs under a L{nevowcache.CachingSite} (fresh hits
before traversal), on Python 2.7; the twisted.web one on either Python;
the Klein one (routes behind L{nevowcache.klein.cached}) on Python 3.

Pages (each C{/name}):
  - C{fresh}: cached for 60 s, no C{Cache-Control} of its own;
  - C{stale}: fresh for 1 s, then served stale (C{cacheGrace} None);
  - C{public}: C{cacheControl = "public"}, fresh for 60 s, grace 30 s;
  - C{own}: sets its own C{Cache-Control: max-age=30};
  - C{slow}: a render that ends just past the next whole second;
  - C{gzip} (twisted.web only): behind
    C{EncodingResourceWrapper(..., [GzipEncoderFactory()])}.
"""

from __future__ import absolute_import, division, print_function

import argparse
import sys
import time

from twisted.internet import defer, reactor, stdio, task
from twisted.protocols.basic import LineReceiver

from nevowcache import MemoryStore, PageCache

from tests._adapters import KleinAdapter, NevowAdapter, PageSpec, WebAdapter

_TEXT = (b"<!DOCTYPE html><html><head><title>lint</title></head><body><p>"
         + b"A page for the linter. " * 40 + b"</p></body></html>")



def _plain(request):
    request.setHeader(b"content-type", b"text/html; charset=utf-8")
    return _TEXT



def _own(request):
    request.setHeader(b"cache-control", b"max-age=30")
    return _plain(request)



def _slow(request):
    """
    End the render just past the next whole second of the time of day, so
    that it crosses a second boundary.
    """
    now = time.time()
    return task.deferLater(reactor, int(now) + 1.05 - now, _plain, request)



def pages():
    return {
        b"fresh": PageSpec(_plain, cacheTimeout=60),
        b"stale": PageSpec(_plain, cacheTimeout=1),
        b"public": PageSpec(_plain, cacheTimeout=60, cacheGrace=30,
                            cacheControl="public"),
        b"own": PageSpec(_own, cacheTimeout=60),
        b"slow": PageSpec(_slow, cacheTimeout=60),
        b"gzip": PageSpec(_plain, cacheTimeout=60),
    }



def makeSite(adapter):
    cache = PageCache(MemoryStore())
    if adapter == "nevow":
        from nevowcache import CachingSite
        site = NevowAdapter().makeSite(reactor, cache, pages())
        return CachingSite(site.resource)
    if adapter == "klein":
        routes = pages()
        del routes[b"gzip"]
        return KleinAdapter().makeSite(reactor, cache, routes)
    from twisted.web.server import GzipEncoderFactory
    from twisted.web.resource import EncodingResourceWrapper
    site = WebAdapter().makeSite(reactor, cache, pages())
    root = site.resource
    root.putChild(b"gzip", EncodingResourceWrapper(
        root.children[b"gzip"], [GzipEncoderFactory()]))
    return site



class _Stdin(LineReceiver):
    delimiter = b"\n"

    def lineReceived(self, line):
        pass

    def connectionLost(self, reason):
        if reactor.running:
            reactor.stop()



def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--adapter", choices=["nevow", "web", "klein"], required=True)
    args = parser.parse_args(argv)
    port = reactor.listenTCP(0, makeSite(args.adapter), interface="127.0.0.1")
    print("PORT %d" % (port.getHost().port,))
    sys.stdout.flush()
    stdio.StandardIO(_Stdin())
    reactor.run()


if __name__ == "__main__":
    main()
