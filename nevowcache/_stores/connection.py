# -*- test-case-name: tests.test_sharedwire -*-
"""
One client connection to a store's server, made when first needed, made
again after it is lost, and dropped, never reused, when a call on it is
cancelled.

A connection on which a call timed out may still carry that call's answer:
read as the answer to the next call, it would give one key's value for
another (the desync behind the 2023 ChatGPT incident).  So a cancelled call
aborts its connection, and the protocols here stop reading the moment they
are dropped.
"""

from __future__ import absolute_import, division

from twisted.internet import defer
from twisted.internet.abstract import isIPAddress, isIPv6Address
from twisted.internet.protocol import ClientFactory
from twisted.logger import Logger

from nevowcache._stores.interfaces import StoreUnavailable

__all__ = ["Connection", "ProtocolFactory", "clientEndpoint"]



def clientEndpoint(reactor, host, port, timeout):
    """
    A TCP client endpoint for C{host}: an IP literal is connected to
    directly; a name goes through the reactor's resolver.
    """
    from twisted.internet import endpoints
    if isinstance(host, bytes):
        host = host.decode("ascii")
    if isIPAddress(host):
        return endpoints.TCP4ClientEndpoint(reactor, host, port, timeout=timeout)
    if isIPv6Address(host):
        return endpoints.TCP6ClientEndpoint(reactor, host, port, timeout=timeout)
    return endpoints.HostnameEndpoint(reactor, host, port, timeout=timeout)



class ProtocolFactory(ClientFactory):
    """
    Build a connection's protocol.
    """
    noisy = False

    def __init__(self, build):
        self._build = build


    def buildProtocol(self, addr):
        protocol = self._build()
        protocol.factory = self
        return protocol



class _Running(object):
    """
    One operation running on a connected protocol: what L{Connection.run}
    returns when it need not connect first.

    @ivar result: The L{Deferred} the caller has; cancelling it drops the
        connection.
    """
    __slots__ = ("_connection", "_protocol", "_cancelled", "result")

    def __init__(self, connection, protocol):
        self._connection = connection
        self._protocol = protocol
        self._cancelled = False
        self.result = defer.Deferred(self._cancel)


    def _cancel(self, result):
        self._cancelled = True
        self._connection.drop(self._protocol)


    def settle(self, outcome):
        # After a cancel, the operation's own outcome is only the failure
        # the dropped connection gave it: the caller has its CancelledError
        # already.
        if not self._cancelled and not self.result.called:
            self.result.callback(outcome)



class Connection(object):
    """
    Keep one connection to a server.

    The protocols it builds have a C{drop()} method that stops reading at
    once and aborts the connection, and call their C{onConnectionLost}
    attribute (if set) from C{connectionLost}.

    @ivar connects: How many connections were made.
    """
    _log = Logger()

    def __init__(self, endpoint, build, ready=None, factoryClass=None):
        """
        @param endpoint: An L{IStreamClientEndpoint}, or a no-argument
            callable returning one (called when first needed).
        @param build: Makes a protocol.
        @param ready: Given a connected protocol, returns a L{Deferred}
            firing with it once it can take commands; by default at once.
        @param factoryClass: A L{ProtocolFactory} subclass whose constructor
            takes C{build}, for protocols that expect more of their factory.
        """
        self._endpoint = endpoint
        self._build = build
        self._ready = ready
        self._factoryClass = factoryClass or ProtocolFactory
        self._protocol = None
        self._connecting = None
        self._waiters = []
        self._closed = False
        self._closing = []
        self.connects = 0


    def run(self, operation):
        """
        Run an operation on the connection, connecting first if needed.

        @param operation: Called with the connected protocol; returns a
            L{Deferred}.
        @return: A L{Deferred} with C{operation}'s result.  Cancelling it
            drops the connection the operation runs on.
        """
        protocol = self._protocol
        if protocol is not None and not protocol.dropped and not self._closed:
            # Connected: no need to wait for it.
            running = _Running(self, protocol)
            try:
                d = operation(protocol)
            except Exception:
                d = defer.fail()
            d.addBoth(running.settle)
            return running.result
        used = []
        cancelled = []

        def cancel(result):
            cancelled.append(True)
            if used:
                self.drop(used[0])

        result = defer.Deferred(cancel)

        def connected(protocol):
            used.append(protocol)
            return operation(protocol)

        def settle(outcome):
            # After a cancel, the operation's own outcome is only the
            # failure the dropped connection gave it: the caller has its
            # CancelledError already.
            if not cancelled and not result.called:
                result.callback(outcome)
        self._connected().addCallback(connected).addBoth(settle)
        return result


    def drop(self, protocol=None):
        """
        Abort the connection (or C{protocol}'s, if it is still the current
        one), failing whatever runs on it; the next call connects anew.
        """
        if protocol is None:
            protocol = self._protocol
        if protocol is self._protocol:
            self._protocol = None
        if protocol is not None:
            protocol.drop()


    def close(self):
        """
        Close the connection; calls fail from now on.

        @return: A L{Deferred} that fires once the connection is closed.
        """
        self._closed = True
        if self._connecting is not None:
            # Let the attempt end: what it connects is closed at once.
            done = defer.Deferred()
            self._closing.append(done)
            return done
        protocol, self._protocol = self._protocol, None
        if protocol is None:
            return defer.succeed(None)
        done = defer.Deferred()
        protocol.closed = done
        protocol.transport.loseConnection()
        return done


    def _connected(self):
        if self._closed:
            return defer.fail(StoreUnavailable("store closed"))
        if self._protocol is not None and self._protocol.dropped:
            # Dropped, and connectionLost not called yet.
            self._protocol = None
        if self._protocol is not None:
            return defer.succeed(self._protocol)
        waiter = defer.Deferred()
        self._waiters.append(waiter)
        if self._connecting is None:
            self._connect()
        return waiter


    def _connect(self):
        endpoint = self._endpoint
        if callable(endpoint):
            endpoint = self._endpoint = endpoint()
        d = self._connecting = endpoint.connect(self._factoryClass(self._build))
        if self._ready is not None:
            d.addCallback(self._ready)
        d.addCallbacks(self._made, self._notMade)


    def _made(self, protocol):
        self._connecting = None
        self.connects += 1
        protocol.onConnectionLost = self._lost
        if self._closed:
            closed = defer.Deferred()
            protocol.closed = closed
            closing, self._closing = self._closing, []

            def closedAll(ignored):
                for d in closing:
                    d.callback(None)
            closed.addCallback(closedAll)
            protocol.transport.loseConnection()
            self._release(StoreUnavailable("store closed"))
            return
        self._protocol = protocol
        self._release(protocol)


    def _notMade(self, failure):
        self._connecting = None
        closing, self._closing = self._closing, []
        for d in closing:
            d.callback(None)
        self._release(failure)


    def _release(self, result):
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.callback(result)


    def _lost(self, protocol, reason):
        if protocol is self._protocol:
            self._protocol = None
        closed = getattr(protocol, "closed", None)
        if closed is not None:
            protocol.closed = None
            closed.callback(None)
        elif not getattr(protocol, "dropped", False):
            self._log.info(u"Lost the connection to the store: {reason}",
                           reason=reason.getErrorMessage())
