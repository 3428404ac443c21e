# -*- test-case-name: tests.test_nevowsite -*-
"""
L{CachingSite}: a C{NevowSite} that answers fresh hits before traversal.

Nevow spends about half of a request in its own set-up and traversal; a page
cache behind that can never be faster than those.  A L{CachingSite} learns,
from requests that reached a cached page, which page (and which cache and
rules) answers each URL, and answers later requests for that URL from the
cache before Nevow traverses anything, when that cannot change the outcome:

  - only GET and HEAD requests without C{Cookie} or C{Authorization} are
    answered early (traversal may depend on the session: C{nevow.guard}
    gives logged-in users another tree);
  - only for URLs whose page was reached by such a request, with no
    C{cacheKey} additions and no guard session (so the key depends on
    nothing but the URL and the declared C{cacheVary} headers);
  - only fresh hits: from a store that answers synchronously
    (L{nevowcache.MemoryStore}, a L{nevowcache.NearStore}'s memory) at
    once; from a shared store (L{nevowcache.MemcachedStore},
    L{nevowcache.RedisStore}) as soon as it answers the lookup made before
    traversal (L{nevowcache.PageCache.lookUpEarly}).  Stale entries,
    misses, invalidated entries, a failed or timed-out lookup and
    everything else take the normal path, which also refreshes, renders
    once, takes leases, and decides from the lookup already made rather
    than asking the store again.

Requests pipelined on one connection are processed one after the other,
in order: Twisted 20.3 would start every request that came in one read at
once, and write an answer given at once before one given later.

The one assumption: for anonymous requests, traversal depends only on the
URL.  A site whose C{locateChild} reads other request headers, or whose tree
changes at run time, should use C{NevowSite} (or invalidate the URLs whose
page moved).
"""

from __future__ import absolute_import, division

from collections import OrderedDict

from nevow import appserver
from twisted.logger import Logger
from twisted.web.http import NOT_MODIFIED, datetimeToString
from twisted.web.iweb import INonQueuedRequestFactory
from twisted.web.server import version as _SERVER
from zope.interface import provider

from nevowcache._engine.bypass import answerableEarly, mayChange
from nevowcache._engine.sitecaches import invalidateAfterEach, sitePageCaches
from nevowcache._adapters.formless import markAction
from nevowcache._http.headers import headerValues
from nevowcache._http.identity import requestUrlIdentity
from nevowcache._http.secure import isSecure
from nevowcache._http.vary import varyValues

try:
    from urllib import unquote
except ImportError:
    from urllib.parse import unquote_to_bytes as unquote

__all__ = ["CachingSite"]

_log = Logger()



_stamp = [None, None]

# The Server line of every response, as NevowRequest.process sets it.
_SERVER_LINE = b"Server: " + _SERVER + b"\r\n"

def _date(wallClock):
    """
    The C{Date} value for now, formatted once a second.

    @param wallClock: What C{seconds()} is the time of day: the answering
        cache's.
    @return: L{bytes}.
    """
    now = int(wallClock.seconds())
    if _stamp[0] != now:
        _stamp[:] = [now, datetimeToString(now)]
    return _stamp[1]

# What NevowRequest.process gives a response without its own.
_HTML = b"text/html; charset=UTF-8"



def _requestLine(request):
    """
    What, besides the method and the headers, makes a request's URL
    identity (L{urlIdentity}) before traversal: its URI, its C{Host} (or,
    without one, the address it came to), its scheme and its port.

    @return: A hashable L{tuple}, or L{None} if the request has more than one
        C{Host} header (never answered early).
    """
    hosts = headerValues(request.requestHeaders, b"host")
    address = request.getHost()
    if hosts is None:
        host = getattr(address, "host", None)
    elif len(hosts) == 1:
        host = hosts[0]
    else:
        return None
    return (request.uri, host, isSecure(request), getattr(address, "port", 0))



class _Routes(object):
    """
    What a L{CachingSite} learnt: for each request line (L{_requestLine}),
    the cache, key and policy that answered it.
    """

    def __init__(self, maxRoutes):
        self._maxRoutes = maxRoutes
        self._routes = OrderedDict()


    def learn(self, request, cache, key, policy):
        """
        Remember that C{request}, which reached a cached page, is answered
        by C{key} of C{cache} under C{policy} (with its C{cacheVary} values
        replaced by each request's own).

        Only when that is what a request of the same line computes before
        traversal: traversal kept the path as it was (a C{locateChild}
        that consumes or invents segments makes another URL identity, and
        is never answered early), and the key holds nothing but the URL,
        the page and the C{cacheVary} values.
        """
        line = _requestLine(request)
        if line is None:
            return
        known = self._routes.get(line)
        if known is not None and known[0] is cache and known[1] == key and known[2] == policy:
            # Learnt already: keep hits on the normal path cheap.
            return
        if key.extra is not None or key.url != _earlyIdentity(request):
            return
        self._routes.pop(line, None)
        self._routes[line] = (cache, key, policy)
        while len(self._routes) > self._maxRoutes:
            self._routes.popitem(last=False)


    def get(self, line):
        """
        @return: C{(cache, key, policy)} for a request line, or L{None}.
        """
        return self._routes.get(line)


    def __len__(self):
        return len(self._routes)



def _earlyIdentity(request):
    """
    The URL identity of a request before traversal, from its request line
    alone: the path as C{NevowRequest.process} splits it, the arguments as
    Twisted parses them (whatever traversal did to them since).
    """
    return requestUrlIdentity(
        request, tuple(unquote(s) for s in request.path[1:].split(b"/")))



@provider(INonQueuedRequestFactory)
class _CachingRequest(appserver.NevowRequest):
    """
    A C{NevowRequest} that first tries to answer from the cache.

    Requests pipelined on one connection are answered one after the
    other, in order (L{process}); so none is made "queued" (Twisted 20.3
    never finishes a queued request's clean-up: its connection would
    stall).
    """

    @property
    def nevowcacheRoutes(self):
        return self.channel.site.nevowcacheRoutes


    def process(self):
        requests = getattr(self.channel, "requests", None)
        if requests and requests[0] is not self:
            # Pipelined behind a request not answered yet.  Twisted 20.3
            # reads the requests that came in one read all at once
            # (CVE-2024-41671, fixed in 24.7): answered now, this one could
            # be written before the one before it (which a shared store
            # answers later, early or not).
            before = requests[requests.index(self) - 1]
            before.notifyFinish().addBoth(lambda _: self._inTurn())
            return None
        return self._inTurn()


    def _inTurn(self):
        """
        Process this request, now that every request before it on its
        connection is answered.
        """
        if self._disconnected:
            return None
        markAction(self)
        if mayChange(self):
            # Unsafe (or a formless action, whatever its method):
            # invalidates what it changed once answered, wherever in the
            # tree it goes.
            invalidateAfterEach(self.channel.site.pageCaches, self)
            return appserver.NevowRequest.process(self)
        route = self._earlyRoute()
        if route is None:
            return appserver.NevowRequest.process(self)
        cache, key, policy = route
        answer = cache.answerAtOnce(key, policy)
        if answer is not None:
            return self._answerEarly(answer, key)
        looked = cache.lookUpEarly(
            self, key, policy, lambda found: self._answerEarly(found, key),
            self._passOn)
        if looked is None:
            return appserver.NevowRequest.process(self)
        # A shared store: the answer, or the normal way, when it answers.
        # Pipelined requests wait meanwhile: the channel reads none until
        # this one is finished.
        looked.addErrback(self._earlyFailed)


    def _earlyRoute(self):
        """
        Whether this request may be answered before traversal, and from
        where.

        @return: C{(cache, key, policy)}: the cache, this request's key
            (with its own C{cacheVary} values) and policy, as learnt for
            its request line; or L{None} to go the normal way.
        """
        if not answerableEarly(self):
            return None
        line = _requestLine(self)
        route = self.channel.site.nevowcacheRoutes.get(line) if line is not None else None
        if route is None:
            return None
        cache, key, policy = route
        if cache.bypassReason(self) is not None:
            return None
        if policy.vary:
            key = key.withVaryValues(varyValues(self.requestHeaders, policy.vary))
        return cache, key, policy


    def _passOn(self):
        """
        The normal way, after a look in a shared store before traversal
        that did not answer (the client is still there).
        """
        appserver.NevowRequest.process(self)


    def _earlyFailed(self, failure):
        """
        Answering, or the normal way, failed after a look in a shared store:
        as an exception out of C{process} would, log it and drop the
        connection (nothing, or part of a response, was written).
        """
        _log.failure(u"CachingSite failed to answer {uri!r}", failure, uri=self.uri)
        if not self._disconnected and not self.finished:
            self.channel.transport.loseConnection()


    def _answerEarly(self, answer, key):
        """
        Write a fresh hit decided before traversal, with the headers
        C{NevowRequest.process} gives every response, and finish.
        """
        # As NevowRequest.process does.
        self.site = self.channel.site
        self.prepath = []
        self.postpath = list(key.segments)
        # The Date is the entry's (when it was generated): writeDirect and
        # replay send it.
        if not answer.writeDirect(self, _SERVER_LINE, _HTML):
            # By the answering cache's wall clock, which the answer carries.
            date = _date(answer.wallClock)
            # Before the replay, which compares Last-Modified with the Date.
            self.setHeader(b"server", _SERVER)
            self.setHeader(b"date", date)
            body = answer.replay(self)
            if self.code != NOT_MODIFIED and not self.responseHeaders.hasHeader(
                    b"content-type"):
                # Stored entries normally have their own.
                self.setHeader(b"content-type", _HTML)
            if body:
                self.write(body)
        self.finishRequest(True)



class CachingSite(appserver.NevowSite):
    """
    A drop-in for C{nevow.appserver.NevowSite} whose requests look in the
    cache before traversal; see the module documentation for when.

    Every unsafe request (a C{POST}, C{PUT}, C{DELETE}, C{PATCH}, any
    method not known to be safe, and a formless action whatever its method:
    a C{GET} of a C{freeform_post!!...} URL), wherever it goes in the tree,
    invalidates
    in C{pageCaches}, once answered successfully, its target path and the
    paths it redirects to, on every host (L{PageCache.invalidateAfter}).

    @ivar nevowcacheRoutes: What the site learnt about its URLs.
    @ivar pageCaches: The L{PageCache}s unsafe requests invalidate.
    """
    requestFactory = _CachingRequest

    def __init__(self, *args, **kwargs):
        """
        Take C{NevowSite}'s arguments, and C{maxRoutes} (default 100,000):
        the most URLs remembered, least recently learnt forgotten first;
        and C{pageCaches}: the L{PageCache}s that unsafe requests
        invalidate (by default L{nevowcache.defaultPageCache} alone; name
        every cache the site's pages use).
        """
        maxRoutes = kwargs.pop("maxRoutes", 100000)
        pageCaches = kwargs.pop("pageCaches", None)
        appserver.NevowSite.__init__(self, *args, **kwargs)
        self.nevowcacheRoutes = _Routes(maxRoutes)
        self.pageCaches = sitePageCaches(pageCaches)
