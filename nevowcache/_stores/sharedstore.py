# -*- test-case-name: tests.test_stores -*-
"""
What the memcached and Redis stores share: names in the server, generation
records, the wire format, deadlines and the circuit breaker, leases, and
invalidations kept until the server has them.

In the server, under a namespace prefix (C{ns}):

    - C{ns e:<digest>}: an entry, as L{nevowcache._stores.wire} encodes it, where
      C{<digest>} is L{CacheKey.digest}: every byte of the key is in the
      name, hashed, and in the value, checked on read.
    - C{ns u:<tag>}: the generation record of one URL identity, where
      C{<tag>} is the SHA-256 of its injective encoding;
      C{"<generation> <floor> <tag>"}.
    - C{ns s:<tag>}: the generation record of one scope (a path prefix, a
      page tag: L{nevowcache._http.scopes.prefixScopes}, L{nevowcache._http.scopes.tagScope}),
      where C{<tag>} is the SHA-256 of its injective encoding;
      C{"<generation> <floor> <tag>"}.  Entries stamp the generations of
      the scope records that exist when their render starts, by tag.
    - C{ns c}: the generation record of L{clear}: C{"<generation> <floor> *"}.
    - C{ns g}: the counter generations are drawn from; seeded from the wall
      clock in milliseconds, so that a lost counter never hands out a
      generation an old entry was stamped with.
    - C{ns l:<digest>}: the lease of one key.

Every change is announced to near tiers (L{nevowcache._stores.coherence}): in
Redis on the channel C{ns events}; in memcached in the ring C{ns n:<i>}
numbered by the counter C{ns n}.

A record carries its tag so that a value read for another name (a desynced
connection) is noticed rather than trusted.
"""

from __future__ import absolute_import, division

import binascii
import hashlib
import os
import re
from collections import OrderedDict

from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer

from nevowcache._stores.breaker import CircuitBreaker
from nevowcache._engine.clocks import lazyReactor
from nevowcache._engine.clocks import wallClock as _timeOfDay
from nevowcache._stores.coherence import eventMessage, generationSeed
from nevowcache._stores.connection import Connection, clientEndpoint
from nevowcache._stores.interfaces import (
    Generation, ILeaseStore, IScopedStore, ISharedStore)
from nevowcache._stores.ketama import Continuum
from nevowcache._http.keyencoding import encodeKey
from nevowcache._engine.memo import remember
from nevowcache._stores.wire import decodeEntry, encodeEntry

__all__ = ["SharedStore", "BadRecord"]

CLEAR_TAG = b"*"

# A circuit's states, the best first.
_CIRCUITS = ("closed", "half-open", "open")

_NAMESPACE = re.compile(br"\A[!-~]{0,100}\Z")
_RECORD = re.compile(br"\A([0-9]{1,19}) ([0-9]{1,19}) ([0-9a-f]{64}|\*)\Z")

# How many records, URL identities and keys a store remembers the parsed
# value or the names of (the hot ones).
_NAMES_KEPT = 4096

# How many values a store keeps decoded, and how many bytes of them at most
# (each counted twice: the value, and the entry decoded from it); values
# larger than a sixteenth of that are decoded for each hit.
_DECODED_KEPT = 1024
_DECODED_BYTES = 8 * 1024 * 1024



class BadRecord(Exception):
    """
    A generation record read from the store is malformed, or belongs to
    another name.
    """



def parseRecord(value, tag):
    """
    Read a generation record.

    @param value: The stored L{bytes}, or L{None} if there is none.
    @param tag: The tag it must carry.
    @return: C{(generation, floor)}; C{(0, 0)} for no record.
    @raise BadRecord: If it is malformed or carries another tag.
    """
    if value is None:
        return (0, 0)
    parsed = _parsed.get(value)
    if parsed is None:
        match = _RECORD.match(value) if isinstance(value, bytes) else None
        if match is None:
            raise BadRecord("malformed generation record %r" % (value[:100],))
        parsed = remember(_parsed, value, (
            int(match.group(1)), int(match.group(2)), match.group(3)), _NAMES_KEPT)
    if parsed[2] != tag:
        raise BadRecord("generation record of another name")
    return parsed[:2]

# Records read lately, parsed: C{(generation, floor, tag)} by value.
_parsed = {}



def makeRecord(generation, floor, tag):
    """
    @return: The record of C{(generation, floor)} for C{tag}, L{bytes}.
    """
    return b"%d %d %s" % (generation, floor, tag)



def urlTag(url):
    """
    @return: The tag of a URL identity: 64 hex digits of SHA-256 over its
        injective encoding.
    """
    return hashlib.sha256(encodeKey(url)).hexdigest().encode("ascii")



def newToken():
    """
    @return: A lease token no other holder has, L{bytes}.
    """
    return binascii.hexlify(os.urandom(16))



class _PendingScope(tuple):
    """
    A scope whose invalidation is kept until the server has it (told apart
    from the URL identities kept beside it).
    """
    __slots__ = ()

    def __eq__(self, other):
        return type(other) is _PendingScope and tuple.__eq__(self, other)

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((_PendingScope, tuple(self)))



def parseServer(server, defaultPort):
    """
    Read one server of a pool: C{"host"}, C{"host:port"},
    C{"host:port:weight"}, C{"[v6]:port"}, or a tuple C{(host,)}, C{(host,
    port)} or C{(host, port, weight)}.

    @return: C{(host, port, weight)}.
    @raise ValueError: If it is none of these.
    """
    if isinstance(server, bytes):
        server = server.decode("ascii")
    if isinstance(server, tuple):
        parts = list(server)
    else:
        host, rest = server, u""
        if server.startswith(u"["):
            host, _, rest = server[1:].partition(u"]")
            rest = rest[1:] if rest.startswith(u":") else rest
        elif u":" in server:
            host, _, rest = server.partition(u":")
        parts = [host] + [int(part) for part in rest.split(u":") if rest]
    if not 1 <= len(parts) <= 3 or not parts[0]:
        raise ValueError("a server is host[:port[:weight]]: %r" % (server,))
    parts += [defaultPort, 1][len(parts) - 1:]
    host, port, weight = parts
    return host, int(port), int(weight)



class _Server(object):
    """
    One server a store uses: its connection, its circuit breaker, and the
    invalidations it did not get yet, kept for its next call.
    """

    def __init__(self, store, host, port, weight, endpoint, maxFailures, coolDown):
        self.host = host
        self.port = port
        self.weight = weight
        self.breaker = CircuitBreaker(store._reactor, store.timeout, maxFailures,
                                      coolDown, name=u"%s store %s:%s" % (
                                          store.name, host, port))
        self.connection = Connection(endpoint, store._buildProtocol,
                                     store._whenReady, store._factoryClass)
        self.pending = OrderedDict()
        self.pendingClear = None


    def __repr__(self):
        return "%s:%s" % (self.host, self.port)



@implementer(IScopedStore, ISharedStore, ILeaseStore)
class SharedStore(object):
    """
    The base of L{MemcachedStore} and L{RedisStore}.

    Every call has a deadline and goes through a L{CircuitBreaker}; a call
    that times out drops its connection.  An invalidation the server did not
    get is kept, and sent before this store's next call, which fails if it
    still cannot be sent: nothing invalidated is served again by this
    process after the server comes back.

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
            as L{parseServer} reads it: names are spread over them by
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
        if servers is not None:
            servers = [parseServer(server, self.defaultPort) for server in servers]
            if not servers:
                raise ValueError("servers is empty")
            if endpoint is not None and len(servers) > 1:
                raise ValueError("an endpoint is for one server, not a pool")
        else:
            servers = [(host, port, 1)]
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
        self._servers = [
            _Server(self, host, port, weight,
                    endpoint if endpoint is not None else self._endpointFor(host, port),
                    maxFailures, coolDown)
            for host, port, weight in servers]
        self._continuum = Continuum(servers) if len(servers) > 1 else None
        # What lookups of the hot keys work out again and again: the names
        # they read (by URL identity and scopes, and by key), and the
        # entries the values read decode to (by key, with the value).
        self._lookupNames = {}
        self._entryNames = {}
        self._decoded = {}
        self._decodedBytes = 0
        # Names this store's changes in the events it announces to near
        # tiers (nevowcache._stores.coherence).
        self.writerId = newToken()[:16]
        self._counts = dict.fromkeys(
            ("stored", "fenced", "tooLarge", "badValues", "badRecords",
             "leasesTaken", "leasesBusy"), 0)


    def _endpointFor(self, host, port):
        """
        @return: The endpoint of one server, or a no-argument callable
            making it when first needed.
        """
        def endpoint():
            return clientEndpoint(self.reactor, host, port, self.timeout or 30)
        return endpoint


    @property
    def servers(self):
        """
        C{(host, port, weight)} of each server, in the order given.
        """
        return [(server.host, server.port, server.weight) for server in self._servers]


    # The only server (the first one of a pool), for what has one.

    @property
    def _breaker(self):
        return self._servers[0].breaker


    @property
    def _connection(self):
        return self._servers[0].connection


    def _serverFor(self, tag):
        """
        @param tag: The tag of a URL identity (L{urlTag}).
        @return: The L{_Server} whose share of the names it is in.
        """
        if self._continuum is None:
            return self._servers[0]
        return self._servers[self._continuum.find(tag)]


    reactor = lazyReactor()


    # Names

    def _entryName(self, key):
        return self.namespace + b"e:" + key.digest()


    def _leaseName(self, key):
        return self.namespace + b"l:" + key.digest()


    def _urlName(self, tag):
        return self.namespace + b"u:" + tag


    def _scopeName(self, tag):
        return self.namespace + b"s:" + tag


    @property
    def _clearName(self):
        return self.namespace + b"c"


    @property
    def _counterName(self):
        return self.namespace + b"g"


    def _eventOf(self, name):
        """
        @return: The event announcing a change of C{name}
            (L{nevowcache._stores.coherence}).
        """
        return eventMessage(self.namespace, name, self.writerId)


    # Running calls

    def _call(self, primitive, *args):
        """
        Run a primitive on the (first) server: see L{_callOn}.
        """
        return self._callOn(self._servers[0], primitive, *args)


    def _callOn(self, server, primitive, *args):
        """
        Run a primitive on a server's connection, within the deadline and
        through its breaker, after any invalidations still to be sent to
        it.
        """
        def operation(protocol):
            if server.pending or server.pendingClear is not None:
                d = self._flush(server, protocol)
                d.addCallback(lambda ignored: primitive(protocol, *args))
                return d
            return primitive(protocol, *args)
        return server.breaker.call(server.connection.run, operation)


    def _callEverywhere(self, name, tag, hard, kept):
        """
        Bump a record on every server; keep the invalidation for those
        that did not get it.

        @param kept: What L{_keep} keeps.
        @return: A L{Deferred} firing with L{None} once every server has
            it, or failing as the first that failed.
        """
        calls = []
        for server in self._servers:
            d = self._callOn(server, self._bump, name, tag, hard)
            calls.append(d.addCallbacks(lambda ignored: None, self._keep,
                                        errbackArgs=(server, kept, hard)))
        if len(calls) == 1:
            return calls[0]
        d = defer.gatherResults(calls, consumeErrors=True)
        return d.addCallbacks(lambda ignored: None,
                              lambda failure: failure.value.subFailure)


    @defer.inlineCallbacks
    def _flush(self, server, protocol):
        hard = server.pendingClear
        if hard is not None:
            yield self._bump(protocol, self._clearName, CLEAR_TAG, hard)
            if server.pendingClear is hard or not server.pendingClear:
                server.pendingClear = None
        for url, hard in list(server.pending.items()):
            tag = urlTag(url)
            if isinstance(url, _PendingScope):
                name = self._scopeName(tag)
            else:
                name = self._urlName(tag)
            yield self._bump(protocol, name, tag, hard)
            if url in server.pending and (hard or not server.pending[url]):
                del server.pending[url]
        self._log.info(u"Sent the invalidations kept while {store} was unreachable",
                       store=server.breaker.name)


    def _keep(self, failure, server, url, hard):
        """
        Keep an invalidation a server did not get, for its next call.
        """
        if url is None:
            server.pendingClear = bool(server.pendingClear) or hard
        else:
            server.pending[url] = server.pending.get(url, False) or hard
            if len(server.pending) > self.maxPendingInvalidations:
                server.pendingClear = (bool(server.pendingClear)
                                       or any(server.pending.values()))
                server.pending.clear()
        self._log.warn(u"{store} did not get an invalidation ({error}); it is "
                       u"kept, and sent before its next call",
                       store=server.breaker.name, error=failure.getErrorMessage())
        return failure


    def _generationOf(self, urlRecord, tag, clearRecord, scopeTags=(),
                      scopeRecords=(), connection=None):
        try:
            clearGeneration, clearFloor = parseRecord(clearRecord, CLEAR_TAG)
            urlGeneration, urlFloor = parseRecord(urlRecord, tag)
            scopes = ()
            if scopeTags:
                # Every scope, so that an entry's stamp names them all and
                # store fences by them.
                scopes = tuple(
                    (scopeTag,) + parseRecord(record, scopeTag)
                    for scopeTag, record in zip(scopeTags, scopeRecords))
        except BadRecord:
            self._counts["badRecords"] += 1
            # The connection may be answering for other names: never use it
            # again.
            (connection or self._connection).drop()
            raise
        return Generation(clearGeneration, clearFloor, urlGeneration, urlFloor,
                          scopes)


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
                None], _NAMES_KEPT)
        entryName = self._entryNames.get(key)
        if entryName is None:
            entryName = remember(self._entryNames, key, self._entryName(key),
                                 _NAMES_KEPT)
        if names[4] is None:
            names[4] = self._serverFor(names[0])
        d = self._callOn(names[4], self._fetch, [entryName] + names[2])
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
        return (self._decode(values[0], key), generation)


    def _decode(self, data, key):
        """
        The entry of C{key} a value read for it holds (L{decodeEntry}): the
        one decoded before if the value is the same, byte for byte (so a
        hot entry is decoded, and its header block formatted, once), else
        decoded now.
        """
        if data is None:
            return None
        known = self._decoded.get(key)
        if known is not None and known[0] == data:
            return known[1]
        entry = decodeEntry(data, key, self._secret)
        if entry is None:
            self._counts["badValues"] += 1
            return None
        size = 2 * len(data)
        if size <= _DECODED_BYTES // 16:
            if known is not None:
                self._decodedBytes -= 2 * len(known[0])
            if (len(self._decoded) >= _DECODED_KEPT
                    or self._decodedBytes + size > _DECODED_BYTES):
                self._decoded.clear()
                self._decodedBytes = 0
            self._decoded[key] = (data, entry)
            self._decodedBytes += size
        return entry


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
        d = self._callOn(self._serverFor(tag), self._fencedSet, self._entryName(key),
                         self._urlName(tag), tag, data, stamp, scopeTags)

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
        server = self._serverFor(tag)
        d = self._callOn(server, self._bump, self._urlName(tag), tag, bool(hard))
        return d.addCallbacks(lambda ignored: None, self._keep,
                              errbackArgs=(server, url, bool(hard)))


    def invalidateScope(self, scope, hard):
        # On every server: each judges the entries it holds by its own copy.
        tag = urlTag(scope)
        return self._callEverywhere(self._scopeName(tag), tag, bool(hard),
                                    _PendingScope(scope))


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
        servers = [self._serverStats(server) for server in self._servers]
        result = {"entries": None, "bytes": None, "evictions": None}
        for name in ("storeCalls", "storeFailures", "storeTimeouts",
                     "shortCircuits", "pendingInvalidations", "connects"):
            result[name] = sum(figures[name] for figures in servers)
        # Of a pool: the worst of its servers'.
        result["circuit"] = max((figures["circuit"] for figures in servers),
                                key=_CIRCUITS.index)
        if len(servers) > 1:
            result["servers"] = servers
        result.update(self._counts)
        return result


    def _serverStats(self, server):
        breaker = server.breaker
        return {"server": "%s:%s" % (server.host, server.port),
                "storeCalls": breaker.calls, "storeFailures": breaker.failedCalls,
                "storeTimeouts": breaker.timeouts,
                "shortCircuits": breaker.shortCircuits, "circuit": breaker.state,
                "pendingInvalidations": len(server.pending)
                + (server.pendingClear is not None),
                "connects": server.connection.connects}


    # ILeaseStore

    def acquireLease(self, key, ttl):
        token = newToken()
        d = self._callOn(self._serverFor(urlTag(key.url)), self._addLease,
                         self._leaseName(key), token, ttl)

        def added(ok):
            self._counts["leasesTaken" if ok else "leasesBusy"] += 1
            return token if ok else None
        return d.addCallback(added)


    def releaseLease(self, key, token):
        return self._callOn(self._serverFor(urlTag(key.url)), self._removeLease,
                            self._leaseName(key), token)


    # The rest

    def close(self):
        """
        Close the connections to the servers.  Calls fail from then on.

        @return: A L{Deferred} that fires once they are closed.
        """
        if len(self._servers) == 1:
            return self._connection.close()
        return defer.gatherResults(
            [server.connection.close() for server in self._servers]).addCallback(
                lambda ignored: None)


    def __repr__(self):
        return "<%s %s namespace=%r>" % (
            type(self).__name__, " ".join(repr(server) for server in self._servers),
            self.namespace)
