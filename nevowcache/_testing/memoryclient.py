# -*- test-case-name: tests.test_testing -*-
"""
A client that sends HTTP requests to a site in memory
(L{nevowcache.testing.MemoryClient}): each request on its own in-memory
connection (L{PendingRequest}), its answer parsed (L{MemoryResponse}).
"""

from __future__ import absolute_import, division

from twisted.internet import task
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.python.failure import Failure
from twisted.web import server
from twisted.web.http_headers import Headers

try:
    from twisted.internet.testing import StringTransport
except ImportError:  # Twisted < 21.2 (Python 2.7)
    from twisted.test.proto_helpers import StringTransport

__all__ = ["MemoryClient", "MemoryResponse", "PendingRequest", "NotAnswered"]



class NotAnswered(Exception):
    """
    A request sent with L{MemoryClient.get} (or another method that expects
    an answer at once) was not answered at once: the page waits on something
    (a L{Deferred <twisted.internet.defer.Deferred>} not yet fired, a
    collapsed miss waiting for another render, a store that hangs).  Use
    L{MemoryClient.request}, then fire what it waits on or advance the
    clock.
    """



class MemoryResponse(object):
    """
    What a site answered, parsed.

    @ivar code: The status code.
    @type code: L{int}
    @ivar headers: The response headers.
    @type headers: L{Headers <twisted.web.http_headers.Headers>}
    @ivar body: The body, de-chunked.
    @type body: L{bytes}
    @ivar raw: Everything the server wrote on the connection.
    @type raw: L{bytes}
    """

    def __init__(self, raw):
        self.raw = raw
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        self.code = int(lines[0].split(b" ")[1])
        self.headers = Headers()
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            self.headers.addRawHeader(name.strip(), value.strip())
        if self.header(b"transfer-encoding") == b"chunked":
            out, rest = [], body
            while rest:
                size, _, rest = rest.partition(b"\r\n")
                n = int(size.split(b";")[0], 16)
                if n == 0:
                    break
                out.append(rest[:n])
                rest = rest[n + 2:]
            body = b"".join(out)
        self.body = body


    def header(self, name):
        """
        The last value of a response header.

        @param name: The header's name (any case).
        @type name: L{bytes}
        @return: Its last value, or L{None} if the response has none.
        @rtype: L{bytes} or L{None}
        """
        values = self.headers.getRawHeaders(name)
        return values[-1] if values else None


    @property
    def cacheStatus(self):
        """
        The C{Cache-Status} header (C{b"nevowcache; hit; ttl=55"}), or
        L{None}.
        """
        return self.header(b"cache-status")


    @property
    def age(self):
        """
        The C{Age} header as an L{int}, or L{None}.
        """
        value = self.header(b"age")
        return None if value is None else int(value)


    def __repr__(self):
        return "<MemoryResponse %d %r %r>" % (self.code, self.cacheStatus, self.body[:60])



class PendingRequest(object):
    """
    One request on its own in-memory connection, sent by
    L{MemoryClient.request}: it may not have been answered yet.

    @ivar closed: Whether L{close} was called.
    """

    def __init__(self, site, method, path, headers, body, host, port, peer):
        self._connect(site, (peer, 50000), port)
        lines = [method + b" " + path + b" HTTP/1.1"]
        if host is not None:
            lines.append(b"Host: " + host)
        for name, values in sorted(headers.items()):
            if not isinstance(values, (list, tuple)):
                values = [values]
            for value in values:
                lines.append(name + b": " + value)
        if body or method in (b"POST", b"PUT", b"PATCH"):
            lines.append(b"Content-Length: " + str(len(body)).encode("ascii"))
        self._send(lines, body)


    def _connect(self, site, peer, port):
        """
        Open an in-memory connection to C{site}, from C{peer} (C{(host,
        port)}) to C{port} on loopback.
        """
        address = IPv4Address("TCP", peer[0], peer[1])
        self.protocol = site.buildProtocol(address)
        self.transport = StringTransport(
            hostAddress=IPv4Address("TCP", "127.0.0.1", port), peerAddress=address)
        self.protocol.makeConnection(self.transport)
        self.closed = False


    def _send(self, lines, body):
        """
        Send a request's head (C{lines}, without their line ends) and body.
        """
        self.protocol.dataReceived(b"\r\n".join(lines) + b"\r\n\r\n" + body)


    @property
    def finished(self):
        """
        Whether the response was finished.
        """
        channel = getattr(self.protocol, "_channel", self.protocol)
        return b"\r\n\r\n" in self.transport.value() and not channel.requests


    def response(self):
        """
        @return: The L{MemoryResponse}, once L{finished}.
        @raise NotAnswered: If it is not.
        """
        if not self.finished:
            raise NotAnswered("no complete answer yet; written so far: %r"
                              % (self.transport.value()[:200],))
        return MemoryResponse(self.transport.value())


    def close(self):
        """
        The client goes away (nothing of the connection stays behind).
        """
        if not self.closed:
            self.closed = True
            self.protocol.connectionLost(Failure(ConnectionDone()))



class MemoryClient(object):
    """
    Send HTTP requests to a site in memory and read the answers: no
    sockets, no reactor, time from a L{task.Clock <twisted.internet.task.Clock>}.

    @ivar site: The site requests go to.
    @ivar clock: Its clock.
    """

    def __init__(self, root, clock=None, host=b"example.com", port=8080):
        """
        @param root: A twisted.web resource (served by a
            L{Site <twisted.web.server.Site>}), a Nevow page (served by a
            C{NevowSite}, Python 2.7), or a site (any factory of HTTP
            channels) to use as it is.
        @param clock: The clock of the site's connections; a new
            L{task.Clock <twisted.internet.task.Clock>} if omitted.  Give
            the cache's
            (L{nevowcache.testing.cacheOnClock}) so that one C{advance} moves both.
        @param host: The C{Host} header sent by default.
        @type host: L{bytes}
        @param port: The port the requests arrive on (it is part of cache
            keys).
        @type port: L{int}
        """
        self.clock = task.Clock() if clock is None else clock
        self.host = host
        self.port = port
        self.site = self._siteFor(root)


    def _siteFor(self, root):
        if hasattr(root, "buildProtocol"):
            return root
        try:
            from nevow import appserver, inevow
        except ImportError:
            inevow = None
        if inevow is not None and inevow.IResource.providedBy(root):
            return appserver.NevowSite(root, reactor=self.clock)
        return server.Site(root, reactor=self.clock)


    def request(self, method, path, headers=None, body=b"", host=None, peer="127.0.0.1"):
        """
        Send a request; it may not be answered yet.

        @param method: C{b"GET"}, C{b"POST"}, ...
        @type method: L{bytes}
        @param path: The request target (C{b"/news?page=2"}).
        @type path: L{bytes}
        @param headers: Header names (L{bytes}) to a value or a list of
            values (L{bytes}).
        @param body: The request body.
        @type body: L{bytes}
        @param host: The C{Host} header, by default the client's; C{b""}
            sends none.
        @param peer: The client's IPv4 address.
        @return: The L{PendingRequest}: C{finished} tells whether it was
            answered, C{response()} returns the L{MemoryResponse} (or raises
            L{NotAnswered}), C{close()} drops the connection.
        """
        host = self.host if host is None else host
        return PendingRequest(self.site, method, path, headers or {}, body, host or None,
                        self.port, peer)


    def _answered(self, method, path, **kwargs):
        pending = self.request(method, path, **kwargs)
        try:
            return pending.response()
        finally:
            pending.close()


    def get(self, path, **kwargs):
        """
        Send a C{GET} and return its answer, which must come at once.

        @param path: The request target.
        @type path: L{bytes}
        @param kwargs: C{headers}, C{host}, C{peer}, as for L{request}.
        @rtype: L{MemoryResponse}
        @raise NotAnswered: If the answer did not come at once.
        """
        return self._answered(b"GET", path, **kwargs)


    def head(self, path, **kwargs):
        """
        L{get}, with C{HEAD}.

        @rtype: L{MemoryResponse}
        """
        return self._answered(b"HEAD", path, **kwargs)


    def post(self, path, body=b"", **kwargs):
        """
        Send a C{POST} with a body and return its answer, which must come at
        once.  Unless C{headers} say otherwise, the body is sent as a form
        (C{application/x-www-form-urlencoded}: C{request.args} has it).

        @type path: L{bytes}
        @type body: L{bytes}
        @param kwargs: C{headers}, C{host}, C{peer}, as for L{request}.
        @rtype: L{MemoryResponse}
        """
        headers = dict(kwargs.pop("headers", None) or {})
        if not [name for name in headers if name.lower() == b"content-type"]:
            headers[b"Content-Type"] = b"application/x-www-form-urlencoded"
        return self._answered(b"POST", path, body=body, headers=headers, **kwargs)
