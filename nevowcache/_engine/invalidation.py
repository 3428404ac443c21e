# -*- test-case-name: tests.test_unsafe,tests.test_behaviour -*-
"""
Invalidation: by the application (a URL, a path prefix, a tag, everything)
and after the unsafe requests that may have changed a page (RFC 9111
section 4.4), so that a client reads its own writes.
"""

from __future__ import absolute_import, division

from twisted.internet import defer

from nevowcache._engine.bypass import actsAnyway
from nevowcache._http.identity import requestUrlIdentity, urlIdentityFromString
from nevowcache._http.scopes import (
    isPath, pathScopeFromString, pathScopes, prefixScopeFromString, tagScope)
from nevowcache._http.unsafetargets import unsafeTargets
from nevowcache._engine.yourwrites import markWriter

__all__ = ["Invalidator"]

# The methods RFC 9110 defines as safe: any other invalidates (RFC 9111 4.4).
_KNOWN_SAFE = frozenset([b"GET", b"HEAD", b"OPTIONS", b"TRACE"])



class Invalidator(object):
    """
    Invalidate entries in one engine's store.

    @ivar onUnsafe: Whether a successful unsafe request invalidates what
        it may have changed (C{invalidateOnUnsafe}).
    """

    def __init__(self, client, clocks, counters):
        """
        @param client: The engine's L{StoreClient}.
        @param clocks: The engine's L{Clocks} (its wall clock dates the
            marks of clients that wrote, L{markWriter}).
        @param counters: The engine's counters (C{unsafeInvalidations}).
        """
        self._client = client
        self._clocks = clocks
        self._counters = counters
        self.onUnsafe = True


    def after(self, request):
        """
        Invalidate what an unsafe request may have changed once it is
        answered (see L{PageCache.invalidateAfter}); once per request.
        """
        if not self.onUnsafe or (
                request.method in _KNOWN_SAFE and not actsAnyway(request)):
            return
        watching = getattr(request, "_nevowcacheUnsafe", None)
        if watching is None:
            watching = request._nevowcacheUnsafe = []
        elif self in watching:
            return
        watching.append(self)
        writeMark = self._client.writeMark
        if writeMark is not None:
            markWriter(request, writeMark, self._clocks.wallClock.seconds())
        request.notifyFinish().addBoth(self._answered, request)


    def _answered(self, ignored, request):
        """
        An unsafe request was answered (or its client went away, after
        which what it did may still have been done): invalidate.
        """
        if not 200 <= request.code < 400:
            return
        self._counters["unsafeInvalidations"] += 1
        paths = unsafeTargets(request)
        client = self._client
        store = client.store
        if not client.scoped:
            # A store without scopes: the target URL on its own host only.
            calls = [(store.invalidate, requestUrlIdentity(request))]
        else:
            calls = [(store.invalidateScope, pathScopes(segments)) for segments in paths]
        for method, name in calls:
            client.call(method, name, True).addErrback(client.failed, u"invalidate", None)


    def url(self, url, hard):
        """
        Invalidate a URL (see L{PageCache.invalidate}).
        """
        if isPath(url):
            return self.scope(pathScopeFromString(url), hard)
        return defer.maybeDeferred(self._client.store.invalidate,
                                   urlIdentityFromString(url), hard)


    def prefix(self, urlPrefix, hard):
        """
        Invalidate a path prefix (see L{PageCache.invalidatePrefix}).
        """
        return self.scope(prefixScopeFromString(urlPrefix), hard)


    def tag(self, tag, hard):
        """
        Invalidate a tag (see L{PageCache.invalidateTag}).
        """
        return self.scope(tagScope(tag), hard)


    def scope(self, scope, hard):
        """
        Invalidate a scope, on a store that has scopes (L{IScopedStore}).
        """
        client = self._client
        if not client.scoped:
            return defer.fail(TypeError(
                "%r cannot invalidate a prefix, a tag or a path on every host "
                "(it does not provide IScopedStore)" % (client.store,)))
        return defer.maybeDeferred(client.store.invalidateScope, scope, hard)


    def clear(self, hard):
        """
        Invalidate every entry (see L{PageCache.clear}).
        """
        return defer.maybeDeferred(self._client.store.clear, hard)
