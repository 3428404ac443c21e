# -*- test-case-name: tests.test_stores -*-
"""
What the memcached and Redis stores share: the store interfaces over their
primitives, with deadlines, the circuit breaker and invalidations kept
until the server has them (L{nevowcache._stores.servers}), the names in
the server (L{nevowcache._stores.servernames}), generation records
(L{nevowcache._stores.generations}), the wire format
(L{nevowcache._stores.wire}) and its hot keys decoded once
(L{nevowcache._stores.decoded}), and leases.
"""

from __future__ import absolute_import, division

import re

from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer

from nevowcache._engine.clocks import lazyReactor
from nevowcache._engine.clocks import wallClock as _timeOfDay
from nevowcache._engine.memo import remember
from nevowcache._stores.decoded import DecodedEntries
from nevowcache._stores.generations import (
    CLEAR_TAG, NAMES_KEPT, BadRecord, generationOf, urlTag)
from nevowcache._stores.interfaces import ILeaseStore, IScopedStore, ISharedStore
from nevowcache._stores.servernames import ServerNames
from nevowcache._stores.servers import PendingScope, ServerCalls, serverList
from nevowcache._stores.sharedleases import SharedLeases, newToken
from nevowcache._stores.wire import encodeEntry

__all__ = ["SharedStore"]

_NAMESPACE = re.compile(br"\A[!-~]{0,100}\Z")



@implementer(IScopedStore, ISharedStore, ILeaseStore)
class SharedStore(ServerCalls, ServerNames, SharedLeases):
    """
    The base of L{MemcachedStore} and L{RedisStore}.

    Every call has a deadline and goes through a L{CircuitBreaker}; a call
    that times out drops its connection.  An invalidation the server did not
    get is kept, and sent before this store's next call, which fails if it
    still cannot be sent: nothing invalidated is served again by this
    process after the server comes back.  Lookups and store fences that
    read a record this process is invalidating on a server wait there
    until the invalidation is done
    (L{nevowcache._stores.servers.Server.read}).

    Subclasses implement the primitives C{_fetch}, C{_fencedSet},
    C{_remove}, C{_bump}, C{_addLease} and C{_removeLease}, each called
    with a connected protocol and returning a L{Deferred}.

    @ivar maxEntryBytes: Encoded entries larger than this are not stored.
    @ivar entryTimeout: Seconds the server keeps an entry (C{0}: until
        evicted).
    """
    name = "shared"
    defaultPort = None
    _log = Logger()
    # Subclasses: a ProtocolFactory subclass their protocol needs, and a
    # function waiting until a connected protocol takes commands.
    _factoryClass = None
    _whenReady = None

    def __init__(self, host="127.0.0.1", port=None, timeout=1.0,
                 namespace=b"nevowcache:1:", maxEntryBytes=1000000,
                 entryTimeout=0, secret=None, maxFailures=5, coolDown=10.0,
                 maxPendingInvalidations=1000, reactor=None, endpoint=None,
                 servers=None, wallClock=None):
        """
        @param host: The server's host name or IP address.
        @param port: Its TCP port.
        @param servers: Several servers instead of C{host} and C{port}, each
            as L{nevowcache._stores.servers.parseServer} reads it: names are spread over them by
            consistent hashing (L{nevowcache._stores.ketama}); see the subclass for
            which live where.  Where this store takes it.
        @param timeout: Seconds any one call (and a connection attempt) may
            take before it counts as failed, is given up and its connection
            dropped.
        @param namespace: Prefixes every name this store uses (printable
            ASCII without spaces, 100 bytes at most): stores with different
            namespaces share nothing.  Change it to drop a whole cache.
        @param maxEntryBytes: Encoded entries larger than this are not
            stored.
        @param entryTimeout: Seconds the server keeps an entry; C{0} until
            evicted.  Generation records and leases are not affected.
        @param secret: If given (L{bytes}), entries are signed with
            HMAC-SHA256 under it and unsigned or wrongly signed ones are
            misses: use it when others can write to the server.
        @param maxFailures: Failures in a row after which the store is
            skipped for C{coolDown} seconds.
        @param maxPendingInvalidations: URLs whose invalidation is kept for
            a later call at most; past it, a L{clear} is kept instead.
        @param reactor: An L{IReactorTCP} and L{IReactorTime}; by default
            the global reactor, imported when first needed.
        @param endpoint: An L{IStreamClientEndpoint} to use instead of
            C{host} and C{port} (a UNIX socket, TLS, a test double).
        @param wallClock: What C{seconds()} is the time of day (a lost
            generation counter restarts from it); by default the real one.
        """
        if port is None:
            port = self.defaultPort
        servers = serverList(servers, host, port, self.defaultPort, endpoint)
        if not isinstance(namespace, bytes) or not _NAMESPACE.match(namespace):
            raise ValueError("namespace must be at most 100 bytes of printable "
                             "ASCII without spaces: %r" % (namespace,))
        if secret is not None and not isinstance(secret, bytes):
            raise TypeError("secret must be bytes")
        if entryTimeout < 0:
            raise ValueError("entryTimeout must be 0 or more")
        self._reactor = reactor
        self.wallClock = _timeOfDay() if wallClock is None else wallClock
        self.host, self.port = servers[0][:2]
        self.timeout = timeout
        self.namespace = namespace
        self.maxEntryBytes = maxEntryBytes
        self.entryTimeout = entryTimeout
        self.maxPendingInvalidations = maxPendingInvalidations
        self._secret = secret
        self._connectServers(servers, endpoint, maxFailures, coolDown)
        # Names this store's changes in the events it announces to near
        # tiers (nevowcache._stores.coherence).
        self.writerId = newToken()[:16]
        self._counts = dict.fromkeys(
            ("stored", "fenced", "tooLarge", "badValues", "badRecords",
             "leasesTaken", "leasesBusy"), 0)
        # What lookups of the hot keys work out again and again: the names
        # they read (by URL identity and scopes, and by key), and the
        # entries the values read decode to.
        self._lookupNames = {}
        self._entryNames = {}
        self._decoded = DecodedEntries(secret, self._counts)


    reactor = lazyReactor()


    def _generationOf(self, urlRecord, tag, clearRecord, scopeTags=(),
                      scopeRecords=(), connection=None):
        """
        The generation records read make (L{generationOf}); a bad one is
        counted, and drops the connection it was read on.
        """
        try:
            return generationOf(urlRecord, tag, clearRecord, scopeTags, scopeRecords)
        except BadRecord:
            self._counts["badRecords"] += 1
            # The connection may be answering for other names: never use it
            # again.
            (connection or self._connection).drop()
            raise


    # IPageStore

    def lookup(self, key, scopes=()):
        names = self._lookupNames.get((key.url, scopes))
        if names is None:
            tag = urlTag(key.url)
            scopeTags = [urlTag(scope) for scope in scopes]
            # The URL's tag, its scopes' tags, the names of their records,
            # the records last read with the generation they made, and the
            # server they are on.
            names = remember(self._lookupNames, (key.url, scopes), [
                tag, scopeTags, [self._urlName(tag), self._clearName]
                + [self._scopeName(scopeTag) for scopeTag in scopeTags], None,
                None], NAMES_KEPT)
        entryName = self._entryNames.get(key)
        if entryName is None:
            entryName = remember(self._entryNames, key, self._entryName(key),
                                 NAMES_KEPT)
        server = names[4]
        if server is None:
            server = names[4] = self._serverFor(names[0])
        if server.bumping:
            # Not before this process's invalidations of its records there
            # are done (Server.read).
            d = server.read(names[2], self._fetch, [entryName] + names[2])
        else:
            d = server.call(self._fetch, [entryName] + names[2])
        d.addCallback(self._found, key, names[0], names[1], names)
        return d


    def _found(self, values, key, tag, scopeTags=(), names=None):
        records = values[1:]
        last = names[3] if names is not None else None
        if last is not None and last[0] == records:
            # The records read last time for this URL and these scopes.
            generation = last[1]
        else:
            generation = self._generationOf(
                values[1], tag, values[2], scopeTags, values[3:],
                names[4].connection if names is not None else None)
            if names is not None:
                names[3] = (records, generation)
        return (self._decoded.decode(values[0], key), generation)


    def store(self, key, entry):
        try:
            data = encodeEntry(entry, self._secret)
        except (TypeError, ValueError):
            return defer.fail()
        if len(data) > self.maxEntryBytes:
            self._counts["tooLarge"] += 1
            return defer.succeed(False)
        stamp = None if entry.generation is None else tuple(entry.generation)
        tag = urlTag(key.url)
        # Fenced by the scope records its stamp names: all those its lookup
        # read.
        scopeTags = [scopeTag for scopeTag, _ in stamp[2]] if (
            stamp is not None and len(stamp) > 2) else []
        server = self._serverFor(tag)
        urlName = self._urlName(tag)
        # Fenced by the records as this process's invalidations under way
        # leave them (Server.read): else a render begun before one, stored
        # while it is in flight, would pass the fence, and a near tier
        # would keep it as valid.
        d = server.read([urlName, self._clearName]
                        + [self._scopeName(scopeTag) for scopeTag in scopeTags],
                        self._fencedSet, self._entryName(key), urlName, tag, data,
                        stamp, scopeTags)

        def stored(ok):
            self._counts["stored" if ok else "fenced"] += 1
            return ok
        return d.addCallback(stored)


    def delete(self, key):
        server = self._serverFor(urlTag(key.url))
        return self._callOn(server, self._remove, self._entryName(key)).addCallback(
            lambda ignored: None)


    def invalidate(self, url, hard):
        tag = urlTag(url)
        return self._serverFor(tag).bump(self._urlName(tag), tag, bool(hard), url)


    def invalidateScope(self, scope, hard):
        # On every server: each judges the entries it holds by its own copy.
        tag = urlTag(scope)
        return self._callEverywhere(self._scopeName(tag), tag, bool(hard),
                                    PendingScope(scope))


    def clear(self, hard):
        return self._callEverywhere(self._clearName, CLEAR_TAG, bool(hard), None)


    def stats(self):
        """
        @return: C{entries}, C{bytes} and C{evictions} are L{None}: only the
            server knows them.  The rest counts what this process saw:
            C{stored}, C{fenced} (not stored: invalidated since the render
            began, or raced by another writer), C{tooLarge}, C{badValues}
            (values that were not an entry of their key), C{badRecords},
            C{storeCalls}, C{storeFailures}, C{storeTimeouts},
            C{shortCircuits} (calls skipped while the circuit was open),
            C{circuit} (its state), C{pendingInvalidations} and
            C{connects}.  Of a pool: the sums over its servers, the worst
            of their circuits (C{open}, then C{half-open}), and C{servers},
            these figures for each server (and its C{server},
            C{"host:port"}).
        """
        result = {"entries": None, "bytes": None, "evictions": None}
        result.update(self._serverStats())
        result.update(self._counts)
        return result


    # The rest

    def __repr__(self):
        return "<%s %s namespace=%r>" % (
            type(self).__name__, " ".join(repr(server) for server in self._servers),
            self.namespace)
