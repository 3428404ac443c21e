# -*- test-case-name: tests.test_sentinel -*-
"""
L{RedisStore} with Redis Sentinel: real servers on loopback ports (a
primary, a replica, three sentinels), the primary killed under load.
"""

from __future__ import absolute_import, division

import socket
import sys
import time

from twisted.internet import defer
from twisted.internet.defer import inlineCallbacks
from twisted.trial.unittest import SynchronousTestCase, TestCase

from nevowcache import PageCache, RedisStore
from nevowcache.testing import MemoryClient

from tests import _servers
from tests._tools import inToolsEnvironment
from tests.test_pool import CountingPage, fetch
from tests.test_stores import pause, uniqueNamespace

try:
    import txredisapi  # noqa: F401
except ImportError:
    _noRedisClient = "txredisapi is not installed (pip install nevowcache[redis])"
else:
    _noRedisClient = None

# A failover takes seconds: run on Python 2.7 and the default Python 3 only.
_slow = None
if sys.version_info[0] >= 3 and not inToolsEnvironment():
    _slow = ("a Sentinel failover takes seconds: this runs on Python 2.7 and "
             "the default Python 3 only")



def redisCommand(port, *args):
    """
    Send one command to the Redis server (or sentinel) on C{port}, and wait
    for its reply (blocking: for what the test sets up, not under test).
    """
    from nevowcache._stores.resp import ReplyReader
    out = [b"*%d\r\n" % (len(args),)]
    for arg in args:
        if not isinstance(arg, bytes):
            arg = str(arg).encode("ascii")
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    s = socket.create_connection(("127.0.0.1", port), 2)
    try:
        s.settimeout(5)
        s.sendall(b"".join(out))
        reader = ReplyReader(1 << 20)
        while True:
            data = s.recv(65536)
            if not data:
                raise IOError("connection closed")
            replies = reader.feed(data)
            if replies:
                return replies[0]
    finally:
        s.close()



def pairs(reply):
    """
    A flat list of names and values as a L{dict}.
    """
    return dict(zip(reply[::2], reply[1::2]))



def waitFor(condition, seconds, what):
    """
    Poll C{condition} (blocking) until it is true.
    """
    deadline = time.time() + seconds
    while True:
        try:
            if condition():
                return
        except (IOError, socket.error):
            pass
        if time.time() > deadline:
            raise RuntimeError("gave up waiting for " + what)
        time.sleep(0.05)



class SentinelArgumentsTests(SynchronousTestCase):
    """
    What a L{RedisStore} with Sentinel is given.
    """
    skip = _noRedisClient

    def test_together(self):
        """
        C{sentinels} and C{masterName} go together, without an endpoint.
        """
        self.assertRaises(ValueError, RedisStore, sentinels=["127.0.0.1"])
        self.assertRaises(ValueError, RedisStore, masterName="m")
        self.assertRaises(ValueError, RedisStore, sentinels=[], masterName="m")
        self.assertRaises(ValueError, RedisStore, sentinels=["a"], masterName="m",
                          endpoint=object())


    def test_defaults(self):
        """
        Sentinels listen on 26379 unless told otherwise.
        """
        store = RedisStore(sentinels=["10.0.0.1", ("10.0.0.2", 26380)], masterName="m")
        self.assertEqual(store.sentinels, [("10.0.0.1", 26379), ("10.0.0.2", 26380)])
        self.assertIsNone(store.primary)
        self.assertIn("via Sentinel", repr(store))
        # Where a near tier subscribes: nowhere yet.
        self.assertEqual(store.subscriberAddress(), ("127.0.0.1", 0))



class SentinelFailoverTests(TestCase):
    """
    A primary, a replica and three sentinels; the primary killed under
    load.
    """
    skip = _servers.missing("redis-server") or _noRedisClient or _slow
    timeout = 120

    def setUp(self):
        self.primary = _servers.Server("redis-server")
        self.addCleanup(self.primary.cleanUp)
        self.replica = _servers.Server("redis-server", extra=[
            "--replicaof", "127.0.0.1", str(self.primary.port)])
        self.addCleanup(self.replica.cleanUp)
        self.sentinels = []
        for _ in range(3):
            sentinel = _servers.sentinel("cache", self.primary.port)
            self.addCleanup(sentinel.cleanUp)
            self.sentinels.append(sentinel)
        waitFor(lambda: redisCommand(self.replica.port, b"ROLE")[3] == b"connected",
                20, "the replica to sync")

        def sentinelsReady():
            for sentinel in self.sentinels:
                master = pairs(redisCommand(sentinel.port, b"SENTINEL", b"MASTER", b"cache"))
                if (int(master[b"num-slaves"]) < 1
                        or int(master[b"num-other-sentinels"]) < 2):
                    return False
            return True
        waitFor(sentinelsReady, 30, "the sentinels to know the replica and each other")


    def makeStore(self, **kwargs):
        kwargs.setdefault("namespace", uniqueNamespace())
        store = RedisStore(
            sentinels=["127.0.0.1:%d" % (s.port,) for s in self.sentinels],
            masterName="cache", **kwargs)
        self.addCleanup(store.close)
        return store


    @inlineCallbacks
    def test_followsThePrimary(self):
        """
        The store uses the primary the sentinels name; when it is killed
        under load, requests are answered throughout (rendered while no
        primary answers, none failed, none waiting long), and once a
        replica is promoted the store uses it: the entries it had
        replicated are hits, new ones are written to it.
        """
        from twisted.internet import reactor
        # What the engine logs of the calls that failed.
        self.addCleanup(self.flushLoggedErrors)
        store = self.makeStore(timeout=2.0, maxFailures=3, coolDown=0.5)
        cache = PageCache(store, reactor=reactor)
        renders = {}
        client = MemoryClient(CountingPage(cache, renders), clock=reactor,
                              host=b"example.com", port=8080)
        paths = [b"/p%d" % (i,) for i in range(20)]

        @inlineCallbacks
        def load(paths):
            answers = yield defer.gatherResults([fetch(client, path) for path in paths])
            for path, (response, _) in zip(paths, answers):
                self.assertEqual((response.code, response.body), (200, b"page " + path))
            defer.returnValue(max(seconds for _, seconds in answers))

        yield load(paths)
        self.assertEqual(store.primary[1], self.primary.port)
        # Every entry on the replica too.
        self.assertEqual(redisCommand(self.primary.port, b"WAIT", 1, 5000), 1)
        yield load(paths)
        self.assertEqual(set(renders.values()), set([1]))

        self.primary.stop()
        started = time.time()
        slowest = 0
        while store.primary[1] != self.replica.port or (
                store.stats()["circuit"] != "closed"):
            if time.time() - started > 40:
                self.fail("the store did not follow the failover: %r, %r" % (
                    store.primary, store.stats()))
            slowest = max(slowest, (yield load(paths)))
            yield pause(0.05)
        # Each call within its deadline (2 s): a lookup, a lease, a store.
        self.assertLess(slowest, 8.0)
        before = dict(renders)
        yield load(paths)
        # Hits from the new primary's copy (a page rendered during the
        # failover may have been stored there since).
        self.assertEqual(renders, before)
        self.assertEqual(redisCommand(self.replica.port, b"ROLE")[0], b"master")
        self.assertEqual(store.subscriberAddress()[1], self.replica.port)
        names = len(redisCommand(self.replica.port, b"KEYS", store.namespace + b"e:*"))
        yield load([b"/new"])
        # The entry is written after the answer: wait for it (and for the
        # engine's calls after it, before the store is closed).
        started = time.time()
        while len(redisCommand(self.replica.port, b"KEYS",
                               store.namespace + b"e:*")) == names:
            self.assertLess(time.time() - started, 10)
            yield pause(0.05)
        yield pause(0.2)
        self.assertEqual(
            len(redisCommand(self.replica.port, b"KEYS", store.namespace + b"e:*")),
            names + 1)
