# -*- test-case-name: tests.test_behaviour,tests.test_stores -*-
"""
How one page is cached: its L{CachePolicy} (lifetime, grace, vary, tags,
what downstream caches are told), read once per set of page attributes.
"""

from __future__ import absolute_import, division

from nevowcache._compat import intToBytes, textType
from nevowcache._http.scopes import tagScope, urlScopes
from nevowcache._engine.memo import remember

__all__ = ["CachePolicy"]

# CachePolicy.downstream's values, by lifetime and grace.
_DOWNSTREAM = {}

# CachePolicy.fromPage's policies, by page attributes.
_POLICIES = {}
_MAX_POLICIES = 1000



class CachePolicy(object):
    """
    How one page is cached.

    @ivar timeout: Seconds an entry stays fresh; C{0} means until
        invalidated.
    @ivar grace: Seconds past C{timeout} a stale entry may still be served
        while one refresh runs; L{None} means always.
    @ivar vary: Lower-cased request header names (L{bytes}) whose values
        join the key, and which the render may therefore read.
    @ivar cacheControl: L{None} to leave C{Cache-Control} to the page, or
        C{"public"} to tell browsers and shared caches downstream how long
        a stored response stays fresh (C{max-age}) and may be served stale
        (C{stale-while-revalidate}).
    @ivar tags: The page's tags (text), for L{PageCache.invalidateTag}.
    """
    __slots__ = ("timeout", "grace", "vary", "cacheControl", "tags")

    def __init__(self, timeout, grace=None, vary=(), cacheControl=None, tags=()):
        if timeout is None or timeout < 0:
            raise ValueError("cacheTimeout must be 0 or more seconds")
        if grace is not None and grace < 0:
            raise ValueError("cacheGrace must be None or 0 or more seconds")
        self.timeout = timeout
        self.grace = grace
        self.vary = tuple(
            (h.encode("ascii") if not isinstance(h, bytes) else h).lower()
            for h in vary)
        if cacheControl not in (None, "public", b"public"):
            raise ValueError("cacheControl must be None or 'public'")
        self.cacheControl = cacheControl
        if tags is None:
            tags = ()
        elif isinstance(tags, (bytes, textType)):
            tags = (tags,)
        self.tags = tuple(tagScope(tag)[1] for tag in tags)


    def _values(self):
        return (self.timeout, self.grace, self.vary, self.cacheControl, self.tags)


    def __eq__(self, other):
        if self is other:
            # The common case: fromPage hands out shared policies.
            return True
        if not isinstance(other, CachePolicy):
            return NotImplemented
        return self._values() == other._values()


    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result


    def __hash__(self):
        return hash(self._values())


    @classmethod
    def fromPage(cls, page, context=None):
        """
        Read a page's C{cacheTimeout}, C{cacheGrace}, C{cacheVary},
        C{cacheControl} and C{cacheTags} attributes, whichever adapter it is
        for.

        @param context: What a C{cacheTags} method is called with, as the
            page's C{cacheKey} hook is: the Nevow context, or the
            twisted.web request.  Tags must depend only on what the page's
            key holds.
        """
        tags = getattr(page, "cacheTags", ())
        if callable(tags):
            tags = tags(context)
        attributes = (page.cacheTimeout, page.cacheGrace, getattr(page, "cacheVary", ()),
                      getattr(page, "cacheControl", None), tags)
        try:
            # Policies are immutable: pages with the same attributes share
            # one, made once (checked and normalised once, not per request).
            return _POLICIES[attributes]
        except (KeyError, TypeError):
            pass
        policy = cls(*attributes)
        try:
            hash(attributes)
        except TypeError:
            # A list in cacheVary or cacheTags, say: not remembered.
            return policy
        remember(_POLICIES, attributes, policy, _MAX_POLICIES)
        return policy


    def scopesFor(self, key):
        """
        @return: The scopes of an entry of C{key} under this policy: the
            path prefixes of its URL, on its host and on every host, its path
            on every host (L{urlScopes}), then its tags.
        """
        scopes = urlScopes(key.url)
        if self.tags:
            scopes += tuple((b"t", tag) for tag in self.tags)
        return scopes


    def downstream(self, age, stale):
        """
        The C{Cache-Control} to send with a stored response, if any.

        @param age: Seconds since it was rendered.
        @param stale: Whether it is served stale.
        @rtype: L{bytes} or L{None}
        """
        if self.cacheControl is None:
            return None
        if not self.timeout:
            # Fresh until invalidated here: downstream must ask each time
            # (and gets a cheap 304).
            return b"public, no-cache"
        # The response says its Age: a cache downstream adds it to the time
        # the response spends with it (RFC 9111 section 4.2.3), so max-age
        # is the whole lifetime, not what is left of it.  A stale response
        # (past cacheTimeout, or invalidated) is stale downstream at once.
        lifetime = int(self.timeout)
        if stale:
            lifetime = min(lifetime, int(age))
        value = _DOWNSTREAM.get((lifetime, self.grace))
        if value is None:
            value = b"public, max-age=" + intToBytes(lifetime)
            if self.grace is not None:
                value += b", stale-while-revalidate=" + intToBytes(int(self.grace))
            value = remember(_DOWNSTREAM, (lifetime, self.grace), value, 4096)
        return value
