# -*- test-case-name: tests.test_multiprocess -*-
"""
The shared-store demo: N processes serving one twisted.web site, with one
page cache in memcached (or Redis).  Python 2.7 or 3.

    memcached -l 127.0.0.1 -p 11211 &
    python -m demo.shared                      # 2 processes on :8080
    python -m demo.shared --processes 4 --store redis --store-port 6379
    python -m demo.shared --balancer           # :8081, :8082 behind a balancer

By default the processes share one listening socket, opened here once and
adopted by each (C{adoptStreamPort}): the kernel hands each connection to
one of them, and all see the same port, hence compute the same keys.  With
C{--balancer}, each listens on its own port (C{--port} + 1, + 2, ...) and
the public host and port come in the path through C{VHostMonsterResource}
(C{/vhost/http/www.example.com:80/...}), as a balancer would send them.

Pages:
  - C{/}: cached for 30 seconds; names the process that rendered it;
  - C{/slow}: the same, taking half a second to render;
  - C{/_cache/}: statistics and purging (from loopback), for instance
    C{curl -X PURGE 'http://127.0.0.1:8080/_cache/purge?url=http://127.0.0.1:8080/'}.

Every response carries C{X-Served-By: PID}, the process that answered it
(rendered or not).
"""

from __future__ import absolute_import, division, print_function

import argparse
import binascii
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time



def _site(args):
    from twisted.internet import reactor
    from twisted.web import server
    from twisted.web.resource import Resource
    from twisted.web.vhost import VHostMonsterResource

    from nevowcache import MemcachedStore, PageCache, RedisStore
    from nevowcache.admin import AdminResource
    from nevowcache.web import CachedResource

    pid = str(os.getpid()).encode("ascii")
    storeClass = RedisStore if args.store == "redis" else MemcachedStore
    cache = PageCache(storeClass("127.0.0.1", args.store_port or storeClass.defaultPort,
                                 namespace=b"demo:"))

    class Page(CachedResource):
        isLeaf = True
        cacheTimeout = 30
        pageCache = cache

        def __init__(self, delay):
            CachedResource.__init__(self)
            self.delay = delay
            self.renders = 0

        def render_GET(self, request):
            self.renders += 1
            body = (b"<!DOCTYPE html><title>nevowcache</title><p>" + request.path
                    + b" rendered by process " + pid + b" (its render #"
                    + str(self.renders).encode("ascii") + b") at "
                    + time.strftime("%H:%M:%S").encode("ascii") + b"</p>\n")

            def done():
                request.setHeader(b"content-type", b"text/html; charset=utf-8")
                request.write(body)
                request.finish()
            reactor.callLater(self.delay, done)
            return server.NOT_DONE_YET

    class Root(Resource):
        def getChildWithDefault(self, name, request):
            request.setHeader(b"x-served-by", pid)
            return Resource.getChildWithDefault(self, name, request)

    root = Root()
    root.putChild(b"", Page(0))
    root.putChild(b"slow", Page(0.5))
    # One CSRF secret for every process (the parent's): a form served by
    # one process is posted to any of them.
    secret = os.environ.get("NEVOWCACHE_DEMO_CSRF")
    root.putChild(b"_cache", AdminResource(
        cache, csrfSecret=binascii.unhexlify(secret) if secret else None))
    root.putChild(b"vhost", VHostMonsterResource())
    return server.Site(root)



def child(args):
    from twisted.internet import reactor
    from twisted.python import log
    log.startLogging(sys.stdout)
    site = _site(args)
    if args.fd is not None:
        reactor.adoptStreamPort(args.fd, socket.AF_INET, site)
        # The socket is the parent's: this process does not close it.
        os.close(args.fd)
    else:
        reactor.listenTCP(args.port, site, interface="127.0.0.1")
    reactor.run()



def parent(args):
    command = [sys.executable, "-m", "demo.shared", "--child", "--store", args.store]
    if args.store_port:
        command += ["--store-port", str(args.store_port)]
    kwargs = {}
    os.environ["NEVOWCACHE_DEMO_CSRF"] = binascii.hexlify(os.urandom(32)).decode("ascii")
    listening = None
    if not args.balancer:
        listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind(("127.0.0.1", args.port))
        listening.listen(128)
        # Twisted accepts until EAGAIN: the socket must not block.
        listening.setblocking(False)
        fd = listening.fileno()
        fcntl.fcntl(fd, fcntl.F_SETFD, fcntl.fcntl(fd, fcntl.F_GETFD) & ~fcntl.FD_CLOEXEC)
        if sys.version_info[0] >= 3:
            kwargs["pass_fds"] = (fd,)
        else:
            kwargs["close_fds"] = False
    children = []
    for index in range(args.processes):
        if listening is not None:
            extra = ["--fd", str(listening.fileno())]
            where = "http://127.0.0.1:%d/" % (args.port,)
        else:
            port = args.port + 1 + index
            extra = ["--port", str(port)]
            where = "http://127.0.0.1:%d/vhost/http/www.example.com:80/" % (port,)
        process = subprocess.Popen(command + extra, **kwargs)
        children.append(process)
        print("process %d serves %s" % (process.pid, where))
    if listening is not None:
        listening.close()
    sys.stdout.flush()

    def terminate(signum, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, terminate)
    try:
        for process in children:
            process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for process in children:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in children:
            process.wait()



def main(argv):
    parser = argparse.ArgumentParser(prog="python -m demo.shared")
    parser.add_argument("--store", choices=["memcached", "redis"], default="memcached")
    parser.add_argument("--store-port", type=int, default=None)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--balancer", action="store_true",
                        help="own port per process, public host in the path")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--fd", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args)
    else:
        parent(args)



if __name__ == "__main__":
    main(sys.argv[1:])
