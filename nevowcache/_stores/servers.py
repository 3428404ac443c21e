# -*- test-case-name: tests.test_stores,tests.test_pool,tests.test_sharedwire -*-
"""
The servers a shared store (L{nevowcache._stores.sharedstore}) uses: one,
or a pool its names are spread over by consistent hashing
(L{nevowcache._stores.ketama}); for each its connection, its circuit
breaker, and the invalidations it did not get yet, kept until it has them.
"""

from __future__ import absolute_import, division

from collections import OrderedDict

from twisted.internet import defer

from nevowcache._stores.breaker import CircuitBreaker
from nevowcache._stores.connection import Connection, clientEndpoint
from nevowcache._stores.generations import CLEAR_TAG, urlTag
from nevowcache._stores.ketama import Continuum

__all__ = ["PendingScope", "Server", "ServerCalls", "parseServer", "serverList"]

# A circuit's states, the best first.
_CIRCUITS = ("closed", "half-open", "open")



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



def serverList(servers, host, port, defaultPort, endpoint):
    """
    The servers a store is given.

    @param servers: L{None}, or several servers, each as L{parseServer}
        reads it (with C{defaultPort}).
    @param host: The only server's host, if C{servers} is L{None}, and
        C{port} its port.
    @param endpoint: The endpoint a store is given instead, or L{None}.
    @return: C{(host, port, weight)} of each.
    @raise ValueError: If C{servers} is empty, or several with an
        C{endpoint}.
    """
    if servers is None:
        return [(host, port, 1)]
    servers = [parseServer(server, defaultPort) for server in servers]
    if not servers:
        raise ValueError("servers is empty")
    if endpoint is not None and len(servers) > 1:
        raise ValueError("an endpoint is for one server, not a pool")
    return servers



class PendingScope(tuple):
    """
    A scope whose invalidation is kept until the server has it (told apart
    from the URL identities kept beside it).
    """
    __slots__ = ()

    def __eq__(self, other):
        return type(other) is PendingScope and tuple.__eq__(self, other)

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((PendingScope, tuple(self)))



class Server(object):
    """
    One server a store uses: its connection, its circuit breaker, and the
    invalidations it did not get yet, kept for its next call.

    @ivar pending: The URL identities and L{PendingScope}s whose
        invalidation is kept, each with whether it is hard.
    @ivar pendingClear: Whether the L{SharedStore.clear} kept is hard, or L{None}.
    @ivar bumping: The generation records this process is bumping on this
        server (L{bump}), each name with the bumps in flight on it (each a
        list of what waits for it); empty when none is, which is all a
        lookup then checks (L{read}).
    """

    def __init__(self, store, host, port, weight, endpoint, maxFailures, coolDown):
        self.host = host
        self.port = port
        self.weight = weight
        self._store = store
        self.breaker = CircuitBreaker(store._reactor, store.timeout, maxFailures,
                                      coolDown, name=u"%s store %s:%s" % (
                                          store.name, host, port))
        self.connection = Connection(endpoint, store._buildProtocol,
                                     store._whenReady, store._factoryClass)
        self.pending = OrderedDict()
        self.pendingClear = None
        self.bumping = {}


    def __repr__(self):
        return "%s:%s" % (self.host, self.port)


    def call(self, primitive, *args):
        """
        Run a primitive of the store on this server's connection, within
        the deadline and through its breaker, after any invalidations still
        to be sent to it.
        """
        return self.breaker.call(self.connection.run, self._operation(primitive, args))


    def _operation(self, primitive, args):
        """
        @return: What runs C{primitive} on a connected protocol, after any
            invalidations still to be sent to this server.
        """
        def operation(protocol):
            if self.pending or self.pendingClear is not None:
                d = self._flush(protocol)
                d.addCallback(lambda ignored: primitive(protocol, *args))
                return d
            return primitive(protocol, *args)
        return operation


    def read(self, names, primitive, *args):
        """
        L{call} a primitive that reads generation records (a lookup, the
        fence of a store), once every bump of any of them that this process
        started on this server is done: succeeded, or failed and kept (then
        sent first, by L{call}).

        A bump of memcached is several round trips (C{gets}, C{incr},
        C{cas}); a read sent on the connection meanwhile reads the record
        as it was, and a C{GET} that follows a successful C{POST} would be
        answered with the page from before it.  Only the bumps in flight
        now are waited for (not those started later), within the read's
        own deadline (it times out as any call does, counted by the
        breaker); a circuit that is open fails it at once.

        @param names: The names of the records C{primitive} reads.
        """
        bumping = self.bumping
        if bumping:
            bumps = [bump for name in names for bump in bumping.get(name, ())]
            if bumps:
                return self._after(bumps, primitive, args)
        return self.call(primitive, *args)


    def _after(self, bumps, primitive, args):
        held = defer.Deferred()
        left = [len(bumps)]

        def done():
            left[0] -= 1
            # Not once the read timed out (cancelled) meanwhile.
            if not left[0] and not held.called:
                held.callback(None)
        for bump in bumps:
            bump.append(done)

        def run():
            return held.addCallback(lambda ignored: self.connection.run(
                self._operation(primitive, args)))
        return self.breaker.call(run)


    def bump(self, name, tag, hard, kept):
        """
        Bump a generation record on this server; keep the invalidation if
        the server did not get it (L{keep}).  Until it is done, this
        process's reads of the record on this server wait for it (L{read}).

        @param kept: What L{keep} keeps: the URL identity, a
            L{PendingScope}, or L{None} for a clear.
        @return: A L{Deferred} firing with L{None} once the server has it,
            or failing.
        """
        waiting = []
        self.bumping.setdefault(name, []).append(waiting)
        d = self.call(self._store._bump, name, tag, hard)
        d.addCallbacks(lambda ignored: None, self.keep, errbackArgs=(kept, hard))
        return d.addBoth(self._bumped, name, waiting)


    def _bumped(self, result, name, waiting):
        bumps = self.bumping[name]
        # This one (not one equal to it: another's list, as empty).
        del bumps[[i for i, bump in enumerate(bumps) if bump is waiting][0]]
        if not bumps:
            del self.bumping[name]
        for done in waiting:
            done()
        return result


    @defer.inlineCallbacks
    def _flush(self, protocol):
        store = self._store
        hard = self.pendingClear
        if hard is not None:
            yield store._bump(protocol, store._clearName, CLEAR_TAG, hard)
            if self.pendingClear is hard or not self.pendingClear:
                self.pendingClear = None
        for url, hard in list(self.pending.items()):
            tag = urlTag(url)
            if isinstance(url, PendingScope):
                name = store._scopeName(tag)
            else:
                name = store._urlName(tag)
            yield store._bump(protocol, name, tag, hard)
            if url in self.pending and (hard or not self.pending[url]):
                del self.pending[url]
        store._log.info(u"Sent the invalidations kept while {store} was unreachable",
                        store=self.breaker.name)


    def keep(self, failure, url, hard):
        """
        Keep an invalidation this server did not get, for its next call.

        @param url: The URL identity, a L{PendingScope}, or L{None} for a
            L{SharedStore.clear}.
        @return: C{failure}.
        """
        store = self._store
        if url is None:
            self.pendingClear = bool(self.pendingClear) or hard
        else:
            self.pending[url] = self.pending.get(url, False) or hard
            if len(self.pending) > store.maxPendingInvalidations:
                self.pendingClear = (bool(self.pendingClear)
                                     or any(self.pending.values()))
                self.pending.clear()
        store._log.warn(u"{store} did not get an invalidation ({error}); it is "
                        u"kept, and sent before its next call",
                        store=self.breaker.name, error=failure.getErrorMessage())
        return failure


    def stats(self):
        """
        @return: This server's figures in L{SharedStore.stats}.
        """
        breaker = self.breaker
        return {"server": "%s:%s" % (self.host, self.port),
                "storeCalls": breaker.calls, "storeFailures": breaker.failedCalls,
                "storeTimeouts": breaker.timeouts,
                "shortCircuits": breaker.shortCircuits, "circuit": breaker.state,
                "pendingInvalidations": len(self.pending)
                + (self.pendingClear is not None),
                "connects": self.connection.connects}



class ServerCalls(object):
    """
    The calls a store makes to its servers, for L{SharedStore} to inherit:
    one server, or a pool its names are spread over by consistent hashing.

    @ivar _servers: The L{Server} of each, in the order given.
    """

    def _connectServers(self, servers, endpoint, maxFailures, coolDown):
        """
        Make the store's servers: called once, by its C{__init__}.

        @param servers: C{(host, port, weight)} of each (L{serverList}).
        @param endpoint: The endpoint of the only server, or L{None}: each
            server's is C{self._endpointFor(host, port)}.
        """
        self._servers = [
            Server(self, host, port, weight,
                   endpoint if endpoint is not None else self._endpointFor(host, port),
                   maxFailures, coolDown)
            for host, port, weight in servers]
        self._continuum = Continuum(servers) if len(servers) > 1 else None


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
        @return: The L{Server} whose share of the names it is in.
        """
        if self._continuum is None:
            return self._servers[0]
        return self._servers[self._continuum.find(tag)]


    def _call(self, primitive, *args):
        """
        Run a primitive on the (first) server: see L{Server.call}.
        """
        return self._servers[0].call(primitive, *args)


    def _callOn(self, server, primitive, *args):
        """
        Run a primitive on a server: see L{Server.call}.
        """
        return server.call(primitive, *args)


    def _callEverywhere(self, name, tag, hard, kept):
        """
        Bump a record on every server; keep the invalidation for those
        that did not get it.

        @param kept: What L{Server.keep} keeps.
        @return: A L{Deferred} firing with L{None} once every server has
            it, or failing as the first that failed.
        """
        calls = [server.bump(name, tag, hard, kept) for server in self._servers]
        if len(calls) == 1:
            return calls[0]
        d = defer.gatherResults(calls, consumeErrors=True)
        return d.addCallbacks(lambda ignored: None,
                              lambda failure: failure.value.subFailure)


    def _serverStats(self):
        """
        @return: The figures of L{SharedStore.stats} the servers know: of a
            pool the sums over its servers, the worst of their circuits,
            and C{servers}, each server's own.
        """
        servers = [server.stats() for server in self._servers]
        result = {}
        for name in ("storeCalls", "storeFailures", "storeTimeouts",
                     "shortCircuits", "pendingInvalidations", "connects"):
            result[name] = sum(figures[name] for figures in servers)
        # Of a pool: the worst of its servers'.
        result["circuit"] = max((figures["circuit"] for figures in servers),
                                key=_CIRCUITS.index)
        if len(servers) > 1:
            result["servers"] = servers
        return result


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
