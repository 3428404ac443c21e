"""
In-memory HTTP: drive a L{twisted.web.server.Site} (or Nevow's C{NevowSite})
over a L{StringTransport}, and parse what it wrote.
"""

from __future__ import absolute_import, division

import atexit
import os

from twisted.internet.error import ConnectionLost
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from twisted.web import resource, server

from nevowcache import MemoryStore, PageCache, web
from nevowcache.testing import MemoryResponse, PendingRequest


try:
    import http_sf
except ImportError:
    # Python 2.7: values are written to CACHE_STATUS_LOG at exit, and
    # tests.test_http parses them on Python 3 (./dev test runs 2.7 first).
    http_sf = None

# Where the Cache-Status values seen on Python 2.7 are written.
CACHE_STATUS_LOG = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".venv",
    "cache-status-py27.txt")

# RFC 9211 section 2: the parameters of a Cache-Status member, and the
# values of fwd.
CACHE_STATUS_PARAMETERS = frozenset([
    "hit", "fwd", "fwd-status", "ttl", "stored", "collapsed", "key", "detail"])
FWD_VALUES = frozenset([
    "bypass", "method", "uri-miss", "vary-miss", "miss", "request", "stale",
    "partial"])

_seen = set()



def checkCacheStatus(value):
    """
    Parse a C{Cache-Status} value as an RFC 8941 List with C{http-sf}, and
    check it against RFC 9211: one member, the token C{nevowcache}, known
    parameters, C{fwd} from the RFC's list, C{hit} and C{fwd} apart.

    On Python 2.7 (no C{http-sf}) the value is kept for L{CACHE_STATUS_LOG}.

    @raise AssertionError: If it is not such a value.
    """
    if http_sf is None:
        if not _seen:
            atexit.register(_writeSeen)
        _seen.add(value)
        return
    checkParsed(value)



def checkParsed(value):
    """
    The checks of L{checkCacheStatus}, with C{http-sf} (Python 3).
    """
    try:
        parsed = http_sf.parse(value, tltype="list")
    except Exception as e:
        raise AssertionError("Cache-Status %r is no RFC 8941 List: %s" % (value, e))
    if len(parsed) != 1 or str(parsed[0][0]) != "nevowcache":
        raise AssertionError("Cache-Status %r: not one nevowcache member" % (value,))
    params = parsed[0][1]
    unknown = set(params) - CACHE_STATUS_PARAMETERS
    if unknown:
        raise AssertionError("Cache-Status %r: unknown parameters %r" % (value, unknown))
    if ("hit" in params) == ("fwd" in params):
        raise AssertionError("Cache-Status %r: one of hit and fwd" % (value,))
    if "fwd" in params and str(params["fwd"]) not in FWD_VALUES:
        raise AssertionError("Cache-Status %r: fwd not in RFC 9211" % (value,))
    for name in ("ttl", "fwd-status"):
        if name in params and not isinstance(params[name], int):
            raise AssertionError("Cache-Status %r: %s not an integer" % (value, name))
    return parsed



def _writeSeen():
    try:
        with open(CACHE_STATUS_LOG, "wb") as f:
            f.write(b"\n".join(sorted(_seen)) + b"\n")
    except (IOError, OSError):
        pass



class Response(MemoryResponse):
    """
    A parsed HTTP response (L{nevowcache.testing.MemoryResponse}), its
    C{Cache-Status} values checked against RFC 9211 (L{checkCacheStatus}).

    @ivar statusLine: The first line of the response, L{bytes}.
    """

    def __init__(self, raw):
        MemoryResponse.__init__(self, raw)
        self.statusLine = raw.partition(b"\r\n")[0]
        for value in self.headers.getRawHeaders(b"cache-status", []):
            checkCacheStatus(value)


    def __repr__(self):
        return "<Response %d %r %r>" % (self.code, self.cacheStatus, self.body[:80])



class Exchange(PendingRequest):
    """
    One request sent to a site in memory (a
    L{nevowcache.testing.PendingRequest}, its head given line by line).
    """

    def __init__(self, site, method=b"GET", path=b"/", headers=(), body=b"",
                 host=b"example.com", port=8080, version=b"HTTP/1.1",
                 peer=("127.0.0.1", 50000)):
        self._connect(site, peer, port)
        lines = [method + b" " + path + b" " + version]
        if host is not None:
            lines.append(b"Host: " + host)
        lines.extend(headers)
        if body:
            lines.append(b"Content-Length: " + str(len(body)).encode("ascii"))
        self._send(lines, body)


    def done(self):
        """
        @return: Whether the response has been finished.
        """
        return self.finished


    def response(self):
        """
        @return: The L{Response} written so far.
        """
        return Response(self.transport.value())


    def disconnect(self):
        """
        The client goes away.
        """
        self.protocol.connectionLost(Failure(ConnectionLost()))



class WebTestsBase(SynchronousTestCase):
    """
    A twisted.web site in memory with a cache on a L{Clock}.
    """

    def setUp(self):
        self.freshSite()


    def freshSite(self):
        """
        A new clock, cache and site with an empty root: what C{setUp}
        makes, and what a test looping over cases makes for each case.
        """
        self.clock = Clock()
        self.cache = PageCache(MemoryStore(), reactor=self.clock)
        self.root = resource.Resource()
        self.site = server.Site(self.root, reactor=self.clock)
        self.site.sessionFactory = lambda site, uid: server.Session(
            site, uid, reactor=self.clock)


    def exchange(self, path=b"/p", **kwargs):
        return Exchange(self.site, path=path, **kwargs)


    def get(self, path=b"/p", **kwargs):
        """
        Send a request; it must be answered at once.
        """
        ex = self.exchange(path, **kwargs)
        self.assertTrue(ex.done(), ex.transport.value())
        return ex.response()


    def cachedResource(self, render, **attributes):
        """
        A L{web.CachedResource} at C{/p} whose C{render_GET} is C{render}.
        """
        namespace = dict(pageCache=self.cache, isLeaf=True,
                         render_GET=lambda self, request: render(request))
        namespace.update(attributes)
        page = type("Page", (web.CachedResource,), namespace)()
        self.root.putChild(b"p", page)
        return page
