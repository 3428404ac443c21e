# -*- test-case-name: tests.test_stores,tests.test_sharedwire -*-
"""
A store in Redis, on C{txredisapi}'s protocol (imported only when a
L{RedisStore} is made: C{pip install nevowcache[redis]}).

A lookup is one C{MGET} of three names (the entry, its URL's generation
record, the clear record), and of the records of the entry's scopes (its
URL's path prefixes, its page's tags) when the engine passes them.
Writes that depend on what is stored are small Lua scripts
(L{nevowcache._stores.redisscripts}), which Redis runs atomically: a store
compares the generations (and those of the scopes its entry's stamp names)
and writes the entry in one step, so an entry rendered before an
invalidation is never written after it; an invalidation draws a generation
and rewrites a record in one step; a lease is released only by its holder.
The connection is C{txredisapi}'s protocol, reading replies itself
(L{nevowcache._stores.redisclient}).

With Sentinel (C{RedisStore(sentinels=[...], masterName="...")}), the
store asks the sentinels for the primary's address before each connection
it makes (L{nevowcache._stores.sentinel}).  When the primary fails, calls
fail (misses: pages are served uncached) until the sentinels have promoted
a replica; the next connection goes to it.  A primary demoted while
connected (Sentinel kills its clients' connections, and a C{READONLY}
answer drops the connection) is left the same way.  Entries the old
primary had not yet replicated are lost, as are invalidations it took
that were not replicated: Redis replication is asynchronous.
"""

from __future__ import absolute_import, division

import math

from twisted.internet import defer

from nevowcache._stores.coherence import eventChannel, generationSeed
from nevowcache._stores.interfaces import StoreUnavailable
from nevowcache._stores.redisclient import RedisFactory, answer, redisClient
from nevowcache._stores.redisscripts import BUMP_SCRIPT, RELEASE_SCRIPT, STORE_SCRIPT
from nevowcache._stores.sentinel import SentinelEndpoint
from nevowcache._stores.servers import parseServer
from nevowcache._stores.sharedstore import SharedStore

__all__ = ["RedisStore"]



class RedisStore(SharedStore):
    """
    Keep entries in Redis, shared by every process that uses the same
    server, database and namespace::

        from nevowcache import PageCache, RedisStore
        cache = PageCache(RedisStore("127.0.0.1", 6379))

    or in the primary Redis Sentinel names, following it when it fails
    over::

        cache = PageCache(RedisStore(
            sentinels=["10.0.0.1:26379", "10.0.0.2:26379", "10.0.0.3:26379"],
            masterName="cache"))

    Needs C{txredisapi} (C{txredisapi<=1.4.7} on Python 2.7).  Provides
    L{IPageStore} and L{ILeaseStore}.  See L{SharedStore.__init__} for the
    parameters; also C{password} (for C{AUTH}) and C{dbid} (for
    C{SELECT}), and C{sentinels} (C{"host:port"} or C{(host, port)} of
    each; 26379 by default), C{masterName} (the name they monitor the
    primary under) and C{sentinelPassword} (for C{AUTH} to them) instead
    of C{host} and C{port}.

    @since: 0.2.0
    """
    name = "redis"
    defaultPort = 6379
    _factoryClass = RedisFactory

    def __init__(self, host="127.0.0.1", port=6379, password=None, dbid=None,
                 maxEntryBytes=8 * 1024 * 1024, sentinels=None, masterName=None,
                 sentinelPassword=None, **kwargs):
        self._client = redisClient()
        self.password = password
        self.dbid = dbid
        self.sentinels = None
        self.masterName = masterName
        self.sentinelPassword = sentinelPassword
        self._sentinelEndpoint = None
        if (sentinels is None) != (masterName is None):
            raise ValueError("sentinels and masterName go together")
        if sentinels is not None:
            if kwargs.get("endpoint") is not None or kwargs.get("servers"):
                raise ValueError("sentinels name the server: no endpoint or servers")
            self.sentinels = [parseServer(sentinel, 26379)[:2] for sentinel in sentinels]
            if not self.sentinels:
                raise ValueError("sentinels is empty")
            kwargs["endpoint"] = self._sentinelEndpoint = SentinelEndpoint(self)
            host, port = u"%s (Sentinel)" % (masterName,), 0
        SharedStore.__init__(self, host, port, maxEntryBytes=maxEntryBytes, **kwargs)


    def _buildProtocol(self):
        return self._client(self.reactor, self.password, self.dbid)


    def _whenReady(self, protocol):
        if self._sentinelEndpoint is None:
            return protocol.ready
        return protocol.ready.addCallback(self._primaryOnly)


    def _primaryOnly(self, protocol):
        """
        Use a connection the sentinels gave only if it is to a primary (a
        sentinel may not know of a failover yet).
        """
        def role(reply):
            if not isinstance(reply, list) or reply[:1] != [b"master"]:
                protocol.drop()
                raise StoreUnavailable("%s:%s is not the primary (ROLE: %r)" % (
                    self._sentinelEndpoint.primary + (reply,)))
            return protocol
        return protocol.execute_command(b"ROLE").addCallback(role)


    def subscriberAddress(self):
        """
        Where a near tier subscribes to this store's events
        (L{nevowcache._stores.rediscoherence.RedisCoherence}): the server,
        or with Sentinel the primary last named (after a failover, the new
        one once this store has connected to it); before the first
        connection, an address refused at once, so that the near tier tries
        again.
        """
        if self._sentinelEndpoint is None:
            return (self.host, self.port)
        return self._sentinelEndpoint.primary or ("127.0.0.1", 0)


    @property
    def primary(self):
        """
        C{(host, port)} of the primary the sentinels last named, or
        L{None}; without sentinels, the server's.
        """
        if self._sentinelEndpoint is None:
            return (self.host, self.port)
        return self._sentinelEndpoint.primary


    def close(self):
        d = SharedStore.close(self)
        if self._sentinelEndpoint is not None:
            endpoint = self._sentinelEndpoint
            d.addCallback(lambda ignored: endpoint.close())
        return d


    def __repr__(self):
        if self._sentinelEndpoint is None:
            return SharedStore.__repr__(self)
        return "<%s %r via Sentinel %s namespace=%r>" % (
            type(self).__name__, self.masterName,
            " ".join("%s:%s" % sentinel for sentinel in self.sentinels), self.namespace)


    def _fetch(self, protocol, names):
        return protocol.execute_command(b"MGET", *names).addCallback(answer)


    def _fencedSet(self, protocol, entryName, urlName, tag, data, stamp,
                   scopeTags=()):
        keys = [entryName, urlName, self._clearName]
        if stamp is None:
            args = [data, b"0", b"0", b"0"]
        else:
            args = [data, b"1", b"%d" % (stamp[0],), b"%d" % (stamp[1],)]
        args.extend([b"%d" % (int(self.entryTimeout),), eventChannel(self.namespace),
                     self._eventOf(entryName)])
        if stamp is not None and scopeTags:
            stamped = dict(stamp[2]) if len(stamp) > 2 else {}
            keys.extend(self._scopeName(scopeTag) for scopeTag in scopeTags)
            args.extend(b"%d" % (stamped.get(scopeTag, 0),)
                        for scopeTag in scopeTags)
        d = protocol.eval(STORE_SCRIPT, keys, args)
        return d.addCallback(answer).addCallback(lambda stored: stored == 1)


    def _remove(self, protocol, name):
        # Sent together: Redis runs them in this order.
        d = protocol.execute_command(b"DEL", name).addCallback(answer)
        announced = protocol.execute_command(
            b"PUBLISH", eventChannel(self.namespace), self._eventOf(name))
        d = defer.gatherResults([d, announced.addCallback(answer)], consumeErrors=True)
        return d.addCallbacks(lambda results: results[0],
                              lambda failure: failure.value.subFailure)


    def _bump(self, protocol, name, tag, hard):
        seed = generationSeed(self.wallClock)
        d = protocol.eval(BUMP_SCRIPT, [name, self._counterName],
                          [b"1" if hard else b"0", tag, b"%d" % (seed,),
                           b"0" if name == self._clearName
                           else b"%d" % (self._recordTimeout(),),
                           eventChannel(self.namespace), self._eventOf(name)])
        return d.addCallback(answer)


    def _recordTimeout(self):
        """
        Seconds a URL or scope record is kept after its last bump (the
        clear record is kept, as the counter): when
        entries expire (C{entryTimeout}), a little longer than they live,
        so that every entry a record judges is gone before it (a record
        forgotten leaves the entries stamped under it stale, never fresh,
        and a hard invalidation stays hard: every entry stored before it
        has expired); else forever.  A flood of POSTs to distinct paths
        then keeps at most C{entryTimeout} seconds' worth of records.
        """
        if not self.entryTimeout:
            return 0
        return int(math.ceil(self.entryTimeout)) + 60


    def _addLease(self, protocol, name, token, ttl):
        milliseconds = max(1, int(math.ceil(ttl * 1000)))
        d = protocol.execute_command(b"SET", name, token, b"PX",
                                     b"%d" % (milliseconds,), b"NX")
        return d.addCallback(answer).addCallback(lambda reply: reply is not None)


    def _removeLease(self, protocol, name, token):
        d = protocol.eval(RELEASE_SCRIPT, [name], [token])
        return d.addCallback(answer).addCallback(lambda removed: removed == 1)
