# -*- test-case-name: tests.test_behaviour,tests.test_key,tests.test_unsafe -*-
"""
What L{PageCache} decides of a request before it looks anything up: its
key (L{RequestRules.keyFor}, L{RequestRules.pageKey}), whether it may use
the cache at all (L{RequestRules.bypassReason}, L{RequestRules.bypassed};
the rules themselves are in C{bypass}), and the invalidation an unsafe
request causes once answered (L{RequestRules.invalidateAfter}).
"""

from __future__ import absolute_import, division

from nevowcache._engine import bypass as _bypass
from nevowcache._engine.cachestatus import withDetail
from nevowcache._engine.yourwrites import markedWriter
from nevowcache._http.identity import keyParts
from nevowcache._http.key import CacheKey
from nevowcache._http.vary import varyValues

__all__ = ["RequestRules"]



class RequestRules(object):
    """
    The part of L{nevowcache.PageCache} that reads a request before the
    cache is asked: keys, bypass, invalidation after unsafe requests.  It
    uses what L{nevowcache._engine.wiring.CacheWiring} makes (the store
    client, the wall clock, the counters, the invalidator).
    """

    def keyFor(self, request, pageName, vary=(), extra=None):
        """
        Build the key of a request for a page.

        @param request: The request, after traversal.
        @param pageName: Names the page class (text or bytes).
        @param vary: Lower-cased names (L{bytes}) of the request headers
            whose values join the key.
        @param extra: Anything else the page wants in its key: nested tuples
            of bytes, text, integers and L{None}.
        @rtype: L{CacheKey}
        """
        url, spelling = keyParts(request)
        return CacheKey(url, (pageName, varyValues(request.requestHeaders, vary), extra,
                              spelling))


    def pageKey(self, request, pageName, policy, extra=None):
        """
        Build the key of a request for a page, with what the page's
        C{cacheKey} hook returned.

        @param extra: L{None} for the default key; a tuple of bytes, text,
            integers and L{None} to add to it; or a whole L{CacheKey} to use
            instead.
        @rtype: L{CacheKey}
        """
        if isinstance(extra, CacheKey):
            return extra
        return self.keyFor(request, pageName, policy.vary, extra)


    def bypassReason(self, request):
        """
        Decide whether a request must not use the cache at all.

        @return: L{None} to use the cache, else the reason (L{bytes}).
        """
        reason = _bypass.bypassReason(request)
        writeMark = self._client.writeMark
        if (reason is None and writeMark is not None
                and markedWriter(request, self._wallClock.seconds())):
            # It wrote, perhaps through another process, whose change this
            # process's near tier may not have heard of yet.
            return b"own-write"
        return reason


    def bypassed(self, reason, request=None):
        """
        Count a request that did not use the cache.

        An unsafe request (see L{invalidateAfter}) invalidates what it may
        have changed once it is answered successfully.

        @param request: The request, for unsafe-method invalidation.
        @return: The C{Cache-Status} value for it.
        """
        self._stats["bypasses"] += 1
        if request is not None:
            self.invalidateAfter(request)
        if reason == b"method":
            # RFC 9211 has a word for it: never looked up for its method.
            return b"nevowcache; fwd=method"
        return withDetail(b"nevowcache; fwd=bypass", reason)


    def invalidateAfter(self, request):
        """
        Invalidate what an unsafe request may have changed once it is
        answered (RFC 9111 section 4.4): if its method is not known to be
        safe (C{GET}, C{HEAD}, C{OPTIONS}, C{TRACE}) and its response is a
        success (C{2xx} or C{3xx}), its target path and the same-origin
        paths of its response's C{Location} and C{Content-Location} are
        invalidated hard, on every scheme, host and port
        (L{CacheManagement.invalidate} given a path), so that the request
        following a form post's redirect renders anew (and never shares a
        render that began before the post ended).  Unless C{invalidateOnUnsafe} is false.  A request
        an adapter marked as acting whatever its method
        (L{nevowcache._engine.bypass.actsAnyway}: formless's C{GET}s of
        C{freeform_post!!...} URLs) is unsafe too.

        Adapters call this for every request that reaches a cached page or
        passes through one (a Nevow page's C{locateChild}, a twisted.web
        cached resource's C{getChildWithDefault}); sites call it for every
        request (L{nevowcache.CachingSite},
        L{nevowcache.web.InvalidatingSite}).  Calling it more than once
        for one request invalidates once.

        The request's own C{Host} does not choose what is invalidated: a
        request with any C{Host} invalidates the same paths (and only
        invalidates: nothing is stored from it).

        @param request: The live request (a L{twisted.web.server.Request}).
        """
        self._invalidation.after(request)
