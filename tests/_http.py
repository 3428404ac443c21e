"""
In-memory HTTP: drive a L{twisted.web.server.Site} (or Nevow's C{NevowSite})
over a L{StringTransport}, and parse what it wrote.
"""

from __future__ import absolute_import, division

from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport
from twisted.web.http import Headers


class Response(object):
    """
    A parsed HTTP response.

    @ivar code: The status code, L{int}.
    @ivar headers: A L{Headers}.
    @ivar body: The de-chunked body, L{bytes}.
    @ivar raw: Everything the server wrote.
    """

    def __init__(self, raw):
        self.raw = raw
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        self.statusLine = lines[0]
        self.code = int(lines[0].split(b" ")[1])
        self.headers = Headers()
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            self.headers.addRawHeader(name.strip(), value.strip())
        if self.header(b"transfer-encoding") == b"chunked":
            out, rest = [], body
            while rest:
                size, _, rest = rest.partition(b"\r\n")
                n = int(size, 16)
                if n == 0:
                    break
                out.append(rest[:n])
                rest = rest[n + 2:]
            body = b"".join(out)
        self.body = body


    def header(self, name):
        """
        @return: The last value of a header, or L{None}.
        """
        values = self.headers.getRawHeaders(name)
        return values[-1] if values else None


    @property
    def cacheStatus(self):
        return self.header(b"cache-status")


    def __repr__(self):
        return "<Response %d %r %r>" % (self.code, self.cacheStatus, self.body[:80])



class Exchange(object):
    """
    One request sent to a site in memory.
    """

    def __init__(self, site, method=b"GET", path=b"/", headers=(), body=b"",
                 host=b"example.com", port=8080, version=b"HTTP/1.1",
                 peer=("127.0.0.1", 50000)):
        self.protocol = site.buildProtocol(IPv4Address("TCP", peer[0], peer[1]))
        self.transport = StringTransport(
            hostAddress=IPv4Address("TCP", "127.0.0.1", port),
            peerAddress=IPv4Address("TCP", peer[0], peer[1]))
        self.protocol.makeConnection(self.transport)
        lines = [method + b" " + path + b" " + version]
        if host is not None:
            lines.append(b"Host: " + host)
        lines.extend(headers)
        if body:
            lines.append(b"Content-Length: " + str(len(body)).encode("ascii"))
        self.protocol.dataReceived(b"\r\n".join(lines) + b"\r\n\r\n" + body)


    def done(self):
        """
        @return: Whether the response has been finished.
        """
        return (b"\r\n\r\n" in self.transport.value()
                and not getattr(self.protocol, "_channel", self.protocol).requests)


    def response(self):
        """
        @return: The L{Response} written so far.
        """
        return Response(self.transport.value())


    def disconnect(self):
        """
        The client goes away.
        """
        from twisted.internet.error import ConnectionLost
        from twisted.python.failure import Failure
        self.protocol.connectionLost(Failure(ConnectionLost()))
