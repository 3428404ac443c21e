# -*- test-case-name: tests.test_multiprocess -*-
"""
A twisted.web site with its page cache on a shared memcached or Redis, run
as a separate process by L{tests.test_multiprocess}: several of these share
one cache, as the deployments in C{docs/shared-stores.md} do.

    python tests/sharedsite.py --store memcached --store-port 11211 \\
        (--port 8080 | --fd 3) --log renders.log --ready ready.flag

Paths:

    - C{/page/NAME}: a cached page that takes C{--delay} seconds to render;
      its body names its URI, the process that rendered it, and that
      process's render count.  Each render appends C{RENDER pid path} to
      the C{--log} file.
    - C{/vhost/http/HOST:PORT/page/NAME}: the same page as the public
      C{http://HOST:PORT/page/NAME}, through C{VHostMonsterResource}, as
      behind a load balancer.
    - C{/control/invalidate?url=URL[&hard=1]}: invalidate a URL (not
      cached); C{503} if the store did not take it.  With C{prefix=URL}
      instead, a path prefix; with C{tag=TAG}, a tag: page C{NAME} is
      tagged C{page-NAME}.
    - C{/control/stats}: the cache's statistics as JSON.

With C{--near}, the cache's store is a L{NearStore} over the shared one
(C{--near-bound} seconds).  With C{--state FILE}, the page's body shows
the file's content (the application's data, shared by the processes as a
database would be), and a C{POST} to a page writes its C{value} argument
there.  With C{--control-port}, the process also listens on a port of its
own, so that a test can reach this very process.

Every response carries C{X-Served-By: pid} (not stored in entries).
"""

from __future__ import absolute_import, division

import argparse
import fcntl
import json
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from twisted.internet import reactor  # noqa: E402
from twisted.logger import globalLogBeginner, textFileLogObserver  # noqa: E402
from twisted.web import server  # noqa: E402
from twisted.web.resource import Resource  # noqa: E402
from twisted.web.vhost import VHostMonsterResource  # noqa: E402

from nevowcache import MemcachedStore, NearStore, PageCache, RedisStore  # noqa: E402
from nevowcache.web import CachedResource  # noqa: E402

PID = str(os.getpid()).encode("ascii")



class Page(CachedResource):
    """
    A cached page that is slow to render.
    """
    isLeaf = True
    cacheTimeout = 60

    def __init__(self, cache, delay, log):
        CachedResource.__init__(self)
        self.pageCache = cache
        self.delay = delay
        self.log = log
        self.renders = 0
        self.state = None


    def render_POST(self, request):
        with open(self.state, "wb") as f:
            f.write(request.args[b"value"][0])
        return b"written"


    def cacheTags(self, request):
        return (u"page-" + request.path.split(b"/")[-1].decode("ascii"),)


    def render_GET(self, request):
        self.renders += 1
        count = self.renders
        self.log.write(b"RENDER " + PID + b" " + request.path + b"\n")
        self.log.flush()

        def done():
            request.setHeader(b"content-type", b"text/html")
            request.write(b"<p>" + request.path + b" by " + PID + b" #"
                          + str(count).encode("ascii") + b"</p>")
            if self.state is not None:
                with open(self.state, "rb") as f:
                    request.write(b"<p>state " + f.read() + b"</p>")
            request.finish()
        reactor.callLater(self.delay, done)
        return server.NOT_DONE_YET



class Control(Resource):
    """
    Invalidation and statistics, uncached.
    """
    isLeaf = True

    def __init__(self, cache):
        Resource.__init__(self)
        self.cache = cache


    def render_GET(self, request):
        what = request.postpath[0] if request.postpath else b""
        if what == b"stats":
            request.setHeader(b"content-type", b"application/json")
            return json.dumps(self.cache.stats(), sort_keys=True).encode("ascii")
        if what != b"invalidate":
            request.setResponseCode(404)
            return b"no such control"
        hard = request.args.get(b"hard", [b"0"])[0] == b"1"
        if b"prefix" in request.args:
            invalidate, target = self.cache.invalidatePrefix, request.args[b"prefix"][0]
        elif b"tag" in request.args:
            invalidate, target = self.cache.invalidateTag, request.args[b"tag"][0]
        else:
            invalidate, target = self.cache.invalidate, request.args[b"url"][0]

        def done(_):
            request.write(b"ok")
            request.finish()

        def failed(reason):
            request.setResponseCode(503)
            request.write(reason.getErrorMessage().encode("utf-8", "replace"))
            request.finish()
        invalidate(target, hard).addCallbacks(done, failed)
        return server.NOT_DONE_YET



class Root(Resource):
    """
    Marks every response with the process that served it.
    """

    def getChildWithDefault(self, name, request):
        request.setHeader(b"x-served-by", PID)
        return Resource.getChildWithDefault(self, name, request)



def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", choices=["memcached", "redis"], required=True)
    parser.add_argument("--store-port", type=int, required=True)
    parser.add_argument("--store-timeout", type=float, default=1.0)
    parser.add_argument("--port", type=int)
    parser.add_argument("--fd", type=int)
    parser.add_argument("--delay", type=float, default=0.3)
    parser.add_argument("--log", required=True)
    parser.add_argument("--ready", required=True)
    parser.add_argument("--near", action="store_true")
    parser.add_argument("--near-bound", type=float)
    parser.add_argument("--state")
    parser.add_argument("--control-port", type=int)
    args = parser.parse_args(argv)
    globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stderr)])

    storeClass = MemcachedStore if args.store == "memcached" else RedisStore
    store = storeClass("127.0.0.1", args.store_port, timeout=args.store_timeout,
                       namespace=b"multiprocess:", maxFailures=3, coolDown=0.5)
    if args.near:
        store = NearStore(store, bound=args.near_bound)
    cache = PageCache(store, waitTimeout=5, renderTimeout=10, leasePoll=0.02)
    log = open(args.log, "ab")
    root = Root()
    page = Page(cache, args.delay, log)
    page.state = args.state
    root.putChild(b"page", page)
    root.putChild(b"vhost", VHostMonsterResource())
    root.putChild(b"control", Control(cache))
    site = server.Site(root)
    site.displayTracebacks = False
    if args.fd is not None:
        # Twisted accepts until EAGAIN: an inherited blocking socket would
        # block the reactor in accept().
        fcntl.fcntl(args.fd, fcntl.F_SETFL,
                    fcntl.fcntl(args.fd, fcntl.F_GETFL) | os.O_NONBLOCK)
        reactor.adoptStreamPort(args.fd, socket.AF_INET, site)
    else:
        reactor.listenTCP(args.port, site, interface="127.0.0.1")
    if args.control_port is not None:
        reactor.listenTCP(args.control_port, site, interface="127.0.0.1")

    def ready():
        with open(args.ready, "w") as f:
            f.write(str(os.getpid()))
    reactor.callWhenRunning(ready)
    reactor.run()



if __name__ == "__main__":
    main(sys.argv[1:])
