# -*- test-case-name: tests.test_key -*-
"""
Cache keys: what a render can observe, in canonical order, encoded
injectively.

A key has two halves.  The I{URL identity} is what the request names:
scheme, host (lower-cased, without port), the port of the listening socket,
the path segments and the parsed query arguments in canonical order.  The
I{variant} is what else the render depends on: the page class, the values of
the request headers the page declared in C{cacheVary}, whatever the page's
own C{cacheKey} hook adds, and the request's I{spelling}: its request target
exactly as sent, and its host name in the case it was sent.  A render sees those as they were sent
(C{request.uri}, C{request.path}, the host in C{prePathURL} and Nevow's
C{url.here}), so two spellings of one URL (C{/a%62c} and C{/abc},
C{?b=2&a=1} and C{?a=1&b=2}, C{EXAMPLE.com} and C{example.com}) are two
entries: what one reflects is never served for the other.
L{PageCache.invalidate} works on URL identities, so it reaches every variant
and every spelling of a URL.

This module holds L{CacheKey}; its parts are made by
L{nevowcache._http.identity} (the URL identity and the spelling, with
L{nevowcache._http.host} and L{nevowcache._http.secure}) and
L{nevowcache._http.vary} (the C{cacheVary} header values), and encoded by
L{nevowcache._http.keyencoding}.  What an invalidation reaches is in
L{nevowcache._http.scopes} and L{nevowcache._http.unsafetargets}.
"""

from __future__ import absolute_import, division

import hashlib

from nevowcache._http.keyencoding import encodeKey

__all__ = ["CacheKey"]



class CacheKey(object):
    """
    The key of one cache entry.

    Keys compare and hash by value.  Their byte encoding (L{encoded}) is
    injective: two keys with different parts never encode alike.

    @ivar url: The URL identity: C{(scheme, host, port, segments, args,
        unparsed)}, as L{urlIdentity} makes it.
    @type url: L{tuple}

    @ivar variant: The rest of the key: C{(pageName, varyValues, extra,
        spelling)}.
    @type variant: L{tuple}
    """
    __slots__ = ("url", "variant", "_hash", "_encoded")

    def __init__(self, url, variant=()):
        self.url = url
        self.variant = variant
        self._hash = hash((url, variant))
        self._encoded = None


    def __hash__(self):
        return self._hash


    def __eq__(self, other):
        if not isinstance(other, CacheKey):
            return NotImplemented
        return (self._hash == other._hash and self.url == other.url
                and self.variant == other.variant)


    def __ne__(self, other):
        result = self.__eq__(other)
        if result is NotImplemented:
            return result
        return not result


    def __repr__(self):
        return "<CacheKey url=%r variant=%r>" % (self.url, self.variant)


    @property
    def segments(self):
        """
        The path segments of the URL identity.
        """
        return self.url[3]


    @property
    def extra(self):
        """
        What the page added to its key (its C{cacheKey}), or L{None}.
        """
        variant = self.variant
        return variant[2] if len(variant) > 2 else None


    def withVaryValues(self, values):
        """
        @param values: The values of the page's C{cacheVary} headers, as
            L{varyValues} gives them for another request.
        @return: This key with those values in place of its own.
        @rtype: L{CacheKey}
        """
        return CacheKey(self.url, self.variant[:1] + (values,) + self.variant[2:])


    def encoded(self):
        """
        @return: The injective byte encoding of this key.
        @rtype: L{bytes}
        """
        if self._encoded is None:
            self._encoded = encodeKey((self.url, self.variant))
        return self._encoded


    def digest(self):
        """
        @return: A fixed-length name for this key, fit for any store (64 hex
            digits of SHA-256 over L{encoded}).
        @rtype: L{bytes}
        """
        return hashlib.sha256(self.encoded()).hexdigest().encode("ascii")
