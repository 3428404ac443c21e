# -*- test-case-name: tests.test_behaviour,tests.test_nevow,tests.test_nevowsite -*-
"""
Which requests may use the cache: the request bypass rules, in one place.

Every adapter asks these, whatever its framework (Python 2.7 and 3):

  - L{mayChange}: a request that may change what pages show (an unsafe
    method, or a request an adapter marked as acting whatever its method:
    L{actsAnyway}) is never looked up or stored, and invalidates once
    answered (L{watchUnsafe});
  - L{bypassReason}: what keeps a request away from the cache altogether
    (its method, credentials, a method override, a body, a C{Range}, an
    C{Upgrade}, an odd C{Host}); L{nevowcache.PageCache.bypassReason}
    answers with it;
  - L{nevowBypassReason}: what Nevow adds (a carried-over form, a
    C{nevow.guard} session);
  - L{answerableEarly}: which requests a site may answer before traversal
    (none with a C{Cookie}).
"""

from __future__ import absolute_import, division

from nevowcache._http.headers import hasAnyHeader, headerValues
from nevowcache._http.host import validHost

__all__ = ["SAFE_METHODS", "actsAnyway", "mayChange", "watchUnsafe", "bypassReason",
           "nevowBypassReason", "answerableEarly"]

# The methods a cache looks up; any other request passes through.
SAFE_METHODS = (b"GET", b"HEAD")

# Request headers that ask a server to treat a GET as another method.
_OVERRIDE_HEADERS = (b"x-http-method-override", b"x-http-method",
                     b"x-method-override")

# Request headers bypassReason looks further at (besides Host).
_BYPASS_HEADERS = _OVERRIDE_HEADERS + (
    b"authorization", b"content-length", b"transfer-encoding", b"range", b"upgrade")

# Requests with it are never answered before traversal.
_COOKIE = (b"cookie",)



def actsAnyway(request):
    """
    Whether an adapter marked a request as one that acts whatever its
    method: a C{GET} that writes (formless's C{freeform_post!!...} links,
    L{nevowcache._adapters.formless}).  Such a request is never looked up or stored
    (L{bypassReason}) and invalidates as an unsafe one does
    (L{nevowcache.PageCache.invalidateAfter}).

    @param request: A request; an adapter marks it by setting its
        C{nevowcacheActs} to true.
    """
    return getattr(request, "nevowcacheActs", False)



def mayChange(request):
    """
    Whether a request may change what pages show: its method is not
    C{GET} or C{HEAD}, or it acts anyway (L{actsAnyway}).  Such a request
    is never answered from the cache, and invalidates once answered
    (L{watchUnsafe}).
    """
    return request.method not in SAFE_METHODS or actsAnyway(request)



def watchUnsafe(caches, request):
    """
    Have each of C{caches} invalidate what C{request} may have changed once
    it is answered (L{nevowcache.PageCache.invalidateAfter}), if it may
    change anything (L{mayChange}): what every cached page does for the
    requests that reach it or pass through it, and every site for all of
    its requests.

    @param caches: An iterable of L{nevowcache.PageCache}s.
    """
    if request.method not in SAFE_METHODS or actsAnyway(request):
        for cache in caches:
            cache.invalidateAfter(request)



def bypassReason(request):
    """
    Decide whether a request must not use the cache at all.

    @return: L{None} to use the cache, else the reason (L{bytes}): the
        C{detail} of its C{Cache-Status} (C{b"method"}: never looked up for
        its method).
    """
    if request.method not in SAFE_METHODS or getattr(request, "nevowcacheActs", False):
        # Not safe, or acts anyway (actsAnyway, read here at once).
        return b"method"
    headers = request.requestHeaders
    if hasAnyHeader(headers, _BYPASS_HEADERS):
        # The checks of _headerBypass only when one of theirs is there.
        reason = _headerBypass(headers)
        if reason is not None:
            return reason
    hosts = headerValues(headers, b"host")
    if hosts is not None and (len(hosts) != 1 or not validHost(hosts[0])):
        # At most one Host, and a valid one.
        return b"bad-host"
    return None



def _headerBypass(headers):
    """
    The reasons of L{bypassReason} that request headers give, besides the
    C{Host}: credentials, a method override, a body, a C{Range}, an
    C{Upgrade}.

    @return: L{None}, or the reason.
    """
    if headers.hasHeader(b"authorization"):
        return b"authorization"
    for name in _OVERRIDE_HEADERS:
        if headers.hasHeader(name):
            return b"method-override"
    length = headers.getRawHeaders(b"content-length", [b"0"])[-1].strip()
    if length not in (b"0", b"") or headers.hasHeader(b"transfer-encoding"):
        return b"request-body"
    if headers.hasHeader(b"range"):
        # The resource answers the part asked for (static.File: 206);
        # only whole responses are stored.
        return b"range"
    if headers.hasHeader(b"upgrade"):
        # A render that takes over the connection (WebSocket).
        return b"upgrade"
    return None



def nevowBypassReason(request, livePage=False):
    """
    What keeps a request that reached a Nevow page away from the cache,
    besides L{bypassReason}.

    @param livePage: Whether the page is an Athena C{LivePage} (the page
        of a connection of its own).
    @return: L{None}, or the reason: C{b"carryover"} for a form's
        carried-over state (C{_nevow_carryover_}), C{b"livepage"}, or
        C{b"guard-session"} behind C{nevow.guard} (the tree itself may be
        personal).
    """
    if b"_nevow_carryover_" in request.args:
        return b"carryover"
    if livePage:
        return b"livepage"
    if getattr(request, "session", None) is not None:
        return b"guard-session"
    return None



def answerableEarly(request):
    """
    Whether a site may answer a request from the cache before traversal,
    as far as the request itself tells: not with a C{Cookie}, which
    traversal may read (C{nevow.guard} gives logged-in users another
    tree).  Nor, then, may a request with one teach the site its route.
    Credentials are L{bypassReason}'s.
    """
    return not hasAnyHeader(request.requestHeaders, _COOKIE)
