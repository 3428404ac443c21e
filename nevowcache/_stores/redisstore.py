# -*- test-case-name: tests.test_stores,tests.test_sharedwire -*-
"""
A store in Redis, on C{txredisapi}'s protocol (imported only when a
L{RedisStore} is made: C{pip install nevowcache[redis]}).

A lookup is one C{MGET} of three names (the entry, its URL's generation
record, the clear record), and of the records of the entry's scopes (its
URL's path prefixes, its page's tags) when the engine passes them.
Writes that depend on what is stored are small Lua scripts, which Redis
runs atomically: a store compares the generations (and those of the scopes
its entry's stamp names) and writes the entry in one step, so an entry
rendered before an invalidation is never written after it; an invalidation draws a generation
and rewrites a record in one step; a lease is released only by its holder.

With Sentinel (C{RedisStore(sentinels=[...], masterName="...")}), the
store asks the sentinels for the primary's address before each connection
it makes, with C{txredisapi}'s C{Sentinel} (the same on 1.4.7 for Python
2.7 and on 1.6.0: C{Sentinel(addresses).discover_master(name)}; its
connection factories differ between the two, and are not used: the
store's own connection, deadline and breaker are), and checks with C{ROLE}
that the server it reached is a primary.  When the primary fails, calls
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
from twisted.internet.error import ConnectionAborted
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.logger import Logger
from zope.interface import implementer

from nevowcache._stores.coherence import eventChannel, generationSeed
from nevowcache._stores.connection import ProtocolFactory, clientEndpoint
from nevowcache._stores.interfaces import StoreUnavailable
from nevowcache._stores.servers import parseServer
from nevowcache._stores.sharedstore import SharedStore

__all__ = ["RedisStore"]

# KEYS: entry, URL record, clear record, then scope records.  ARGV: value,
# fenced ("1" or "0"), clear generation, URL generation, expiry seconds ("0":
# none), the events channel and the event to publish once written
# (nevowcache._stores.coherence), then the stamped generation of each scope record
# ("0": none).
_STORE_SCRIPT = b"""
local function generation(record)
  if not record then return '0' end
  return string.match(record, '^(%d+) %d+ ')
end
if ARGV[2] == '1' then
  if generation(redis.call('GET', KEYS[3])) ~= ARGV[3]
      or generation(redis.call('GET', KEYS[2])) ~= ARGV[4] then
    return 0
  end
  for i = 4, #KEYS do
    if generation(redis.call('GET', KEYS[i])) ~= ARGV[i + 4] then
      return 0
    end
  end
end
if ARGV[5] ~= '0' then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[5])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
redis.call('PUBLISH', ARGV[6], ARGV[7])
return 1
"""

# KEYS: record, counter.  ARGV: hard ("1" or "0"), tag, counter seed,
# expiry seconds ("0": none), the events channel and the event to publish.
_BUMP_SCRIPT = b"""
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SET', KEYS[2], ARGV[3])
end
local generation = string.format('%d', redis.call('INCR', KEYS[2]))
local old = redis.call('GET', KEYS[1])
local floor = '0'
if old then
  floor = string.match(old, '^%d+ (%d+) ') or generation
end
if ARGV[1] == '1' then floor = generation end
local record = generation .. ' ' .. floor .. ' ' .. ARGV[2]
if ARGV[4] ~= '0' then
  redis.call('SET', KEYS[1], record, 'EX', ARGV[4])
else
  redis.call('SET', KEYS[1], record)
end
redis.call('PUBLISH', ARGV[5], ARGV[6])
return generation
"""

# KEYS: lease.  ARGV: token.
_RELEASE_SCRIPT = b"""
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""



class _RedisFactory(ProtocolFactory):
    """
    What C{txredisapi}'s protocol expects of its factory when C{AUTH} or
    C{SELECT} fails: it then gives up on the connection.
    """
    _log = Logger()
    continueTrying = False
    isLazy = True

    def stopTrying(self):
        pass


    def connectionError(self, message):
        self._log.error(u"{message}", message=message)




class ProtocolError(Exception):
    """
    What came from the server is not RESP.
    """



class _Incomplete(Exception):
    """
    A reply is not all there yet: C{args[0]} bytes of the buffer are needed
    before it can be.
    """



_CRLF = b"\r\n"
_QUEUED_LINE = b"+QUEUED\r\n"
_QUEUED = object()
_NATIVE_BYTES = str is bytes



def _text(data):
    """
    A status or error line as txredisapi hands it on: a native string.
    """
    if _NATIVE_BYTES:
        return data
    return data.decode("utf-8", "replace")



class _ReplyReader(object):
    """
    Read RESP (version 2) replies off a byte stream, in the types
    C{txredisapi}'s C{BaseRedisProtocol} gives them (with C{charset=None}
    and C{convertNumbers=False}, as L{RedisStore} makes it): a status as a
    native string; an error as C{ResponseError} of its line; an integer as an L{int}; a bulk value as L{bytes}, or
    L{None}; an array as a L{list}, or L{None}.

    What arrives in pieces is kept as pieces, and joined only once enough
    is there for the reply it holds: a large value read in many pieces is
    not copied again for each of them.
    """

    def __init__(self, maxLine, responseError=Exception):
        """
        @param maxLine: The longest line (status, error, number, length)
            accepted; more without a line end is L{ProtocolError}.
        @param responseError: The exception class errors are given as.
        """
        self._maxLine = maxLine
        self._error = responseError
        self._pieces = []
        self._size = 0
        # How many bytes the first reply still in the buffer needs at least.
        self._needed = 0


    def feed(self, data):
        """
        Take the next bytes of the stream.

        @return: The replies they complete, a L{list}.
        @raise ProtocolError: If the stream is not RESP.
        """
        self._pieces.append(data)
        self._size += len(data)
        if self._size < self._needed:
            return []
        pieces = self._pieces
        buffer = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        replies = []
        position = 0
        end = len(buffer)
        parse = self._parse
        try:
            while position < end:
                if buffer.startswith(_QUEUED_LINE, position):
                    # A command queued in a transaction (not a status
                    # value that reads "QUEUED").
                    replies.append(_QUEUED)
                    position += len(_QUEUED_LINE)
                    continue
                reply, position = parse(buffer, position)
                replies.append(reply)
        except _Incomplete as e:
            self._needed = e.args[0] - position
        else:
            self._needed = 0
        rest = buffer[position:]
        self._pieces = [rest] if rest else []
        self._size = len(rest)
        return replies


    def _parse(self, buffer, position):
        """
        @return: C{(the reply at position, where the next one starts)}.
        @raise _Incomplete: If it is not all there.
        """
        lineEnd = buffer.find(_CRLF, position)
        if lineEnd < 0:
            if len(buffer) - position > self._maxLine:
                raise ProtocolError("a line longer than %d bytes" % (self._maxLine,))
            raise _Incomplete(len(buffer) + 1)
        kind = buffer[position:position + 1]
        line = buffer[position + 1:lineEnd]
        position = lineEnd + 2
        if kind == b"$":
            size = int(line)
            if size < 0:
                return None, position
            stop = position + size
            if len(buffer) < stop + 2:
                raise _Incomplete(stop + 2)
            if buffer[stop:stop + 2] != _CRLF:
                raise ProtocolError("a bulk value not ended by CRLF")
            return buffer[position:stop], stop + 2
        if kind == b"*":
            count = int(line)
            if count < 0:
                return None, position
            items = []
            parse = self._parse
            for _ in range(count):
                item, position = parse(buffer, position)
                items.append(item)
            return items, position
        if kind == b":":
            return int(line), position
        if kind == b"+":
            return _text(line), position
        if kind == b"-":
            return self._error(_text(line)), position
        raise ProtocolError("unknown reply type %r" % (kind,))


_clientClass = None



def _redisClient():
    """
    Define the protocol class on first use, so that importing nevowcache
    does not import txredisapi (which imports the global reactor).
    """
    global _clientClass
    if _clientClass is not None:
        return _clientClass
    try:
        import txredisapi
    except ImportError as e:
        raise ImportError("RedisStore needs txredisapi (pip install "
                          "nevowcache[redis]; txredisapi<=1.4.7 on Python 2.7): %s"
                          % (e,))

    class _RedisClient(txredisapi.BaseRedisProtocol):
        """
        C{txredisapi}'s protocol, answering in L{bytes}, scheduling on a
        given reactor, and, once dropped, reading nothing more.

        @ivar ready: Fires with the protocol once it can take commands.
        """
        _log = Logger()
        dropped = False
        onConnectionLost = None
        closed = None

        def __init__(self, reactor, password=None, dbid=None):
            txredisapi.BaseRedisProtocol.__init__(
                self, charset=None, password=password, dbid=dbid,
                convertNumbers=False)
            self.callLater = reactor.callLater
            self.ready = None
            self._reader = _ReplyReader(self.MAX_LENGTH, txredisapi.ResponseError)


        def connectionMade(self):
            # Ask before connectionMade runs: it fires its waiters at once
            # when there is no AUTH or SELECT to send.
            self.ready = self.whenConnected()
            return txredisapi.BaseRedisProtocol.connectionMade(self)


        def dataReceived(self, data, unpause=False):
            """
            Read replies with L{_ReplyReader}: every complete reply is
            delivered now, in order, however many a read holds (the
            line-and-raw parser of C{BaseRedisProtocol} waits for another
            reactor turn, its transport paused, after every bulk value).
            """
            if self.dropped:
                return
            try:
                for reply in self._reader.feed(data):
                    if self.dropped:
                        return
                    if reply is _QUEUED:
                        # As txredisapi's own readers do.
                        self.transactions += 1
                        reply = "QUEUED"
                    elif type(reply) is list:
                        reply = self.handleTransactionData(reply)
                    self.replyReceived(reply)
            except Exception:
                self._log.failure(u"Redis answered what was not asked; "
                                  u"dropping the connection")
                self.drop()


        def replyReceived(self, reply):
            if not self.replyQueue.waiting:
                # Nothing asked for it: it may be the answer to a command
                # this connection gave up on, and would answer the next.
                self._log.warn(u"Redis answered what was not asked; "
                               u"dropping the connection")
                self.drop()
                return
            txredisapi.BaseRedisProtocol.replyReceived(self, reply)
            if (isinstance(reply, txredisapi.ResponseError)
                    and str(reply).startswith("READONLY")):
                # A primary demoted to a replica (a failover): the next
                # call connects to whichever is the primary now.
                self._log.warn(u"Redis is a replica now; dropping the connection")
                self.drop()


        def drop(self, reason=None):
            """
            Stop reading, fail every command waiting for an answer, and
            abort the connection.
            """
            if self.dropped:
                return
            self.dropped = True
            reason = reason or ConnectionAborted("connection dropped")
            while self.replyQueue.waiting:
                self.replyQueue.put(reason)
            self.transport.abortConnection()


        def connectionLost(self, reason):
            # Tell the owner first: failing the commands runs their
            # callbacks, which may issue the next ones.
            if self.onConnectionLost is not None:
                self.onConnectionLost(self, reason)
            txredisapi.BaseRedisProtocol.connectionLost(self, reason)
            if self.ready is not None and not self.ready.called:
                self.ready.errback(reason)

    _clientClass = _RedisClient
    return _clientClass



def _answer(value):
    """
    Raise a Redis error reply; return anything else.
    """
    if isinstance(value, Exception):
        raise value
    return value



@implementer(IStreamClientEndpoint)
class _SentinelEndpoint(object):
    """
    Connect to the primary the sentinels name, asking them before every
    connection.

    @ivar primary: C{(host, port)} of the primary last connected to, or
        L{None}.
    """

    def __init__(self, store):
        self._store = store
        self._sentinel = None
        self.primary = None


    def _discovery(self):
        if self._sentinel is None:
            import txredisapi
            store = self._store
            self._sentinel = txredisapi.Sentinel(
                store.sentinels, password=store.sentinelPassword,
                connectTimeout=store.timeout, replyTimeout=store.timeout)
            # Within a call's deadline (txredisapi's default is 10 s).
            self._sentinel.discovery_timeout = store.timeout or 10
        return self._sentinel


    def connect(self, protocolFactory):
        store = self._store
        d = self._discovery().discover_master(store.masterName)

        def found(address):
            host, port = address
            self.primary = (host, port)
            return clientEndpoint(store.reactor, host, port,
                                  store.timeout or 30).connect(protocolFactory)
        return d.addCallback(found)


    def close(self):
        """
        Close the connections to the sentinels.
        """
        if self._sentinel is None:
            return defer.succeed(None)
        sentinel, self._sentinel = self._sentinel, None
        return sentinel.disconnect().addCallback(lambda ignored: None)



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
    _factoryClass = _RedisFactory

    def __init__(self, host="127.0.0.1", port=6379, password=None, dbid=None,
                 maxEntryBytes=8 * 1024 * 1024, sentinels=None, masterName=None,
                 sentinelPassword=None, **kwargs):
        self._client = _redisClient()
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
            kwargs["endpoint"] = self._sentinelEndpoint = _SentinelEndpoint(self)
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
        return protocol.execute_command(b"MGET", *names).addCallback(_answer)


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
        d = protocol.eval(_STORE_SCRIPT, keys, args)
        return d.addCallback(_answer).addCallback(lambda stored: stored == 1)


    def _remove(self, protocol, name):
        # Sent together: Redis runs them in this order.
        d = protocol.execute_command(b"DEL", name).addCallback(_answer)
        announced = protocol.execute_command(
            b"PUBLISH", eventChannel(self.namespace), self._eventOf(name))
        d = defer.gatherResults([d, announced.addCallback(_answer)], consumeErrors=True)
        return d.addCallbacks(lambda results: results[0],
                              lambda failure: failure.value.subFailure)


    def _bump(self, protocol, name, tag, hard):
        seed = generationSeed(self.wallClock)
        d = protocol.eval(_BUMP_SCRIPT, [name, self._counterName],
                          [b"1" if hard else b"0", tag, b"%d" % (seed,),
                           b"0" if name == self._clearName
                           else b"%d" % (self._recordTimeout(),),
                           eventChannel(self.namespace), self._eventOf(name)])
        return d.addCallback(_answer)


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
        return d.addCallback(_answer).addCallback(lambda reply: reply is not None)


    def _removeLease(self, protocol, name, token):
        d = protocol.eval(_RELEASE_SCRIPT, [name], [token])
        return d.addCallback(_answer).addCallback(lambda removed: removed == 1)
