# -*- test-case-name: tests.test_multiprocess -*-
"""
Two real server processes (L{tests.sharedsite}) sharing one real memcached
or Redis, in both supported deployments:

    - behind a balancer: each process has its own port and the public host
      and port come from C{VHostMonsterResource} in the path, so both
      compute the same keys;
    - one listening socket opened once and adopted by both processes
      (C{adoptStreamPort}), so both see the same port.

They show one render per key across processes under concurrent requests,
a hit in one process after a miss in the other, invalidation seen by both,
and no 5xx when the store is killed under load.
"""

from __future__ import absolute_import, division

import os
import shutil
import socket
import subprocess
import sys
import tempfile

from twisted.internet import defer, task
from twisted.trial.unittest import TestCase

from tests import _servers

try:
    import txredisapi  # noqa: F401
except ImportError:
    _noRedisClient = "txredisapi is not installed (pip install nevowcache[redis])"
else:
    _noRedisClient = None

_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sharedsite.py")
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The public name of the site behind the balancer.
_PUBLIC = b"/vhost/http/www.example.com:80"



def _reactor():
    from twisted.internet import reactor
    return reactor



def _pause(seconds):
    return task.deferLater(_reactor(), seconds, lambda: None)



class SiteProcess(object):
    """
    One L{tests.sharedsite} process.

    @ivar port: Its own port (balancer deployment), or L{None}.
    @ivar pid: Its process id.
    """

    def __init__(self, directory, name, store, storePort, port=None, listening=None,
                 delay=0.3, extra=()):
        self.log = os.path.join(directory, name + ".renders")
        self.ready = os.path.join(directory, name + ".ready")
        self.port = port
        args = [sys.executable, _SCRIPT, "--store", store, "--store-port", str(storePort),
                "--store-timeout", "2", "--log", self.log, "--ready", self.ready,
                "--delay", str(delay)] + list(extra)
        kwargs = {}
        if listening is not None:
            fd = listening.fileno()
            args += ["--fd", str(fd)]
            if sys.version_info[0] >= 3:
                kwargs["pass_fds"] = (fd,)
            else:
                kwargs["close_fds"] = False
        else:
            args += ["--port", str(port)]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([_ROOT] + [p for p in sys.path if p])
        self.stderr = open(os.path.join(directory, name + ".stderr"), "wb")
        self.process = subprocess.Popen(args, env=env, stdout=self.stderr,
                                        stderr=subprocess.STDOUT, **kwargs)
        self.pid = self.process.pid


    @defer.inlineCallbacks
    def whenReady(self):
        for _ in range(300):
            if os.path.exists(self.ready):
                break
            if self.process.poll() is not None:
                raise RuntimeError("%s exited: %s" % (_SCRIPT, self.errors()))
            yield _pause(0.02)
        else:
            raise RuntimeError("%s did not start: %s" % (_SCRIPT, self.errors()))


    def renders(self):
        """
        @return: The paths this process rendered, in order.
        """
        if not os.path.exists(self.log):
            return []
        with open(self.log, "rb") as f:
            return [line.split(b" ", 2)[2] for line in f.read().splitlines()]


    def errors(self):
        self.stderr.flush()
        with open(self.stderr.name, "rb") as f:
            return f.read().decode("utf-8", "replace")[-3000:]


    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.stderr.close()



class Response(object):
    """
    What a request got.
    """

    def __init__(self, code, headers, body):
        self.code = code
        self.headers = headers
        self.body = body


    def header(self, name):
        values = self.headers.getRawHeaders(name)
        return values[-1] if values else None


    @property
    def status(self):
        return self.header(b"cache-status") or b""


    @property
    def servedBy(self):
        return int(self.header(b"x-served-by"))


    def __repr__(self):
        return "<Response %d %r %r>" % (self.code, self.status, self.body)



class MultiProcessTestsMixin(object):
    """
    The deployments, against the store server named by C{binary}.
    """
    timeout = 60

    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix="nevowcache-mp-")
        self.addCleanup(shutil.rmtree, self.directory, True)
        self.server = _servers.Server(self.binary)
        self.addCleanup(self.server.cleanUp)
        self.sites = []
        self.pools = []


    @defer.inlineCallbacks
    def startSites(self, shared=False, delay=0.3):
        """
        Start two site processes: with their own ports, or on one listening
        socket.  Their page takes C{delay} seconds to render.
        """
        listening = None
        if shared:
            listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listening.bind(("127.0.0.1", 0))
            listening.listen(128)
            self.sharedPort = listening.getsockname()[1]
        for name in ("A", "B"):
            site = SiteProcess(self.directory, name, self.storeName, self.server.port,
                               None if shared else _servers.freePort(), listening,
                               delay)
            self.sites.append(site)
            self.addCleanup(site.stop)
        if listening is not None:
            # The processes have it; this one never accepts on it.
            listening.close()
        yield defer.gatherResults([site.whenReady() for site in self.sites])
        self.addCleanup(self.closePools)
        defer.returnValue(self.sites)


    def closePools(self):
        return defer.gatherResults([pool.closeCachedConnections() for pool in self.pools])


    @defer.inlineCallbacks
    def get(self, port, path):
        """
        GET a path on a new connection to C{port}.
        """
        from twisted.web.client import Agent, HTTPConnectionPool, readBody
        pool = HTTPConnectionPool(_reactor())
        self.pools.append(pool)
        agent = Agent(_reactor(), pool=pool)
        url = b"http://127.0.0.1:" + str(port).encode("ascii") + path
        response = yield agent.request(b"GET", url)
        body = yield readBody(response)
        defer.returnValue(Response(response.code, response.headers, body))


    def viaBalancer(self, site, name):
        return self.get(site.port, _PUBLIC + b"/page/" + name)


    def control(self, site, what):
        return self.get(site.port, b"/control/" + what)


    def renderCounts(self):
        counts = {}
        for site in self.sites:
            for path in site.renders():
                counts[path] = counts.get(path, 0) + 1
        return counts


    @defer.inlineCallbacks
    def test_oneRenderPerKeyAcrossProcesses(self):
        """
        Concurrent requests for the same keys, spread over both processes,
        render each key once in all: the others wait (locally, or on the
        other process's lease) and get the same body.
        """
        a, b = yield self.startSites()
        names = [b"one", b"two", b"three"]
        requests = [self.viaBalancer(site, name) for name in names
                    for site in (a, b, a, b, a, b)]
        responses = yield defer.gatherResults(requests)
        self.assertEqual(set(r.code for r in responses), {200})
        self.assertEqual(self.renderCounts(), dict((b"/page/" + n, 1) for n in names))
        for name in names:
            bodies = set(r.body for r in responses if b"/page/" + name + b" " in r.body)
            self.assertEqual(len(bodies), 1, bodies)
        stored = [r for r in responses if r.status.endswith(b"; stored")]
        self.assertEqual(len(stored), len(names))
        others = [r for r in responses if r not in stored
                  and b"collapsed" not in r.status and b"hit" not in r.status]
        self.assertEqual(others, [])


    @defer.inlineCallbacks
    def test_hitInOtherProcess(self):
        """
        A page rendered and stored by one process is a hit in the other,
        with the first one's body.
        """
        a, b = yield self.startSites()
        miss = yield self.viaBalancer(a, b"p")
        self.assertEqual(miss.status, b"nevowcache; fwd=uri-miss; ttl=60; stored")
        self.assertEqual(miss.servedBy, a.pid)
        hit = yield self.viaBalancer(b, b"p")
        self.assertEqual(hit.status, b"nevowcache; hit; ttl=60")
        self.assertEqual(hit.servedBy, b.pid)
        self.assertEqual(hit.body, miss.body)
        self.assertIn(b" by %d " % (a.pid,), hit.body)
        self.assertEqual(b.renders(), [])


    @defer.inlineCallbacks
    def test_invalidationSeenByBoth(self):
        """
        A soft invalidation through one process makes the entry stale in
        the other, which refreshes it once; a hard one makes the next
        request anywhere render.
        """
        a, b = yield self.startSites()
        url = b"http%3A%2F%2Fwww.example.com%3A80%2Fpage%2Fp"
        yield self.viaBalancer(a, b"p")
        done = yield self.control(a, b"invalidate?url=" + url)
        self.assertEqual((done.code, done.body), (200, b"ok"))
        stale = yield self.viaBalancer(b, b"p")
        self.assertIn(b"detail=invalidated", stale.status)
        self.assertIn(b" by %d #1" % (a.pid,), stale.body)
        for _ in range(100):
            fresh = yield self.viaBalancer(a, b"p")
            if (fresh.status.startswith(b"nevowcache; hit; ttl=")
                    and b"ttl=-" not in fresh.status):
                break
            yield _pause(0.05)
        # Refreshed once, by whichever process took the lease.
        self.assertNotEqual(fresh.body, stale.body)
        self.assertEqual(self.renderCounts(), {b"/page/p": 2})
        done = yield self.control(b, b"invalidate?hard=1&url=" + url)
        self.assertEqual(done.code, 200)
        again = yield self.viaBalancer(a, b"p")
        self.assertEqual(again.status, b"nevowcache; fwd=uri-miss; ttl=60; stored")
        self.assertNotIn(again.body, (stale.body, fresh.body))
        self.assertEqual(self.renderCounts(), {b"/page/p": 3})


    @defer.inlineCallbacks
    def test_prefixAndTagInvalidationSeenByBoth(self):
        """
        A hard prefix invalidation through one process makes the next
        request for every page under it render in the other; a soft tag
        invalidation makes the tagged page stale there, and no other.
        """
        a, b = yield self.startSites()
        yield self.viaBalancer(a, b"p1")
        yield self.viaBalancer(a, b"p2")
        done = yield self.control(
            b, b"invalidate?hard=1&prefix=http%3A%2F%2Fwww.example.com%3A80%2Fpage")
        self.assertEqual((done.code, done.body), (200, b"ok"))
        for name in (b"p1", b"p2"):
            again = yield self.viaBalancer(b, name)
            self.assertEqual(again.status, b"nevowcache; fwd=uri-miss; ttl=60; stored")
        done = yield self.control(a, b"invalidate?tag=page-p1")
        self.assertEqual((done.code, done.body), (200, b"ok"))
        stale = yield self.viaBalancer(b, b"p1")
        self.assertIn(b"detail=invalidated", stale.status)
        hit = yield self.viaBalancer(b, b"p2")
        self.assertEqual(hit.status, b"nevowcache; hit; ttl=60")


    @defer.inlineCallbacks
    def test_storeKilledUnderLoadFailsOpen(self):
        """
        When the store dies under load, every request is still answered
        with its own page (rendered uncached), never a 5xx.
        """
        a, b = yield self.startSites(delay=0.05)
        responses = []

        @defer.inlineCallbacks
        def client(index):
            for round in range(8):
                site = (a, b)[(index + round) % 2]
                name = b"k%d" % ((index * 3 + round) % 5,)
                response = yield self.viaBalancer(site, name)
                responses.append((name, response))
                if index == 0 and round == 3:
                    self.server.stop()
        yield defer.gatherResults([client(i) for i in range(6)])
        self.assertIsNone(self.server.process)
        self.assertEqual(len(responses), 48)
        for name, response in responses:
            self.assertEqual(response.code, 200, response)
            self.assertIn(b"<p>/page/" + name + b" by ", response.body)
        # The last ones came after the store died: rendered, not stored.
        late = [r for _, r in responses[-6:]]
        self.assertEqual([r for r in late if r.status.endswith(b"; stored")
                          or b"hit" in r.status], [])


    @defer.inlineCallbacks
    def test_sharedListeningSocket(self):
        """
        Two processes accepting on one socket share entries: concurrent
        requests render each key once, and a page is a hit whichever
        process accepts the connection.
        """
        a, b = yield self.startSites(shared=True)
        port = self.sharedPort
        path = b"/page/shared"
        responses = yield defer.gatherResults([self.get(port, path) for _ in range(12)])
        self.assertEqual(set(r.code for r in responses), {200})
        self.assertEqual(self.renderCounts(), {path: 1})
        renderer = a.pid if a.renders() else b.pid
        other = b.pid if renderer == a.pid else a.pid
        for _ in range(100):
            response = yield self.get(port, path)
            if response.servedBy == other:
                break
        else:
            self.fail("process %d never accepted a connection" % (other,))
        self.assertEqual(response.status, b"nevowcache; hit; ttl=60")
        self.assertIn(b" by %d " % (renderer,), response.body)
        self.assertEqual(self.renderCounts(), {path: 1})



class MemcachedMultiProcessTests(MultiProcessTestsMixin, TestCase):
    """
    Two processes on one memcached.
    """
    binary = "memcached"
    storeName = "memcached"
    skip = _servers.missing("memcached")



class RedisMultiProcessTests(MultiProcessTestsMixin, TestCase):
    """
    Two processes on one Redis.
    """
    binary = "redis-server"
    storeName = "redis"
    skip = _servers.missing("redis-server") or _noRedisClient
