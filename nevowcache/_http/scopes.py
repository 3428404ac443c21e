# -*- test-case-name: tests.test_key,tests.test_near -*-
"""
Invalidation scopes: what one invalidation reaches (a URL's path prefixes
on its own scheme, host and port; a path or a path prefix on every scheme,
host and port; a page tag), and all the scopes of a URL identity, which a
store's L{Generation} judges an entry against.
"""

from __future__ import absolute_import, division

from nevowcache._compat import textType
from nevowcache._engine.memo import remember
from nevowcache._http.identity import pathSegments, urlIdentityFromString

__all__ = ["MAX_PREFIX_DEPTH", "prefixScopes", "prefixScopeFromString", "urlScopes",
           "isPath", "pathScopeFromString", "pathScopes", "tagScope"]



# The deepest path prefix with a scope of its own: a URL deeper than this
# has the scopes of its first MAX_PREFIX_DEPTH ancestors only, so that a
# long path cannot make every lookup read hundreds of records.
MAX_PREFIX_DEPTH = 32



def prefixScopes(url):
    """
    The path-prefix scopes of a URL identity, one for each of its ancestor
    paths, the empty path (the whole host) first and its own path last: what
    L{PageCache.invalidatePrefix} invalidates.  The query is not part of it.

    @param url: A URL identity, as L{urlIdentity} returns.
    @return: A tuple of C{(b"p", scheme, host, port, segments[:i])} for
        C{i} in C{0..min(len(segments), MAX_PREFIX_DEPTH)}.
    """
    scheme, host, port, segments = url[0], url[1], url[2], url[3]
    return tuple((b"p", scheme, host, port, segments[:i])
                 for i in range(min(len(segments), MAX_PREFIX_DEPTH) + 1))



def prefixScopeFromString(urlPrefix):
    """
    The scope L{PageCache.invalidatePrefix} invalidates for a URL prefix.

    Prefixes end on path-segment boundaries: C{http://h/blog} (or
    C{http://h/blog/}) reaches C{/blog}, C{/blog/} and C{/blog/x?y=1}, never
    C{/blogs}; C{http://h/} reaches every path of C{h}.  A query in the
    prefix is ignored.  A path alone (C{/blog}: L{isPath}) is the prefix on
    every scheme, host and port.

    @param urlPrefix: An absolute URL, as L{urlIdentityFromString} takes, or
        a path.
    @raise ValueError: If it is neither an absolute http(s) URL nor a path,
        or its path is deeper than L{MAX_PREFIX_DEPTH} segments.
    """
    if isPath(urlPrefix):
        scheme = host = port = None
        segments = pathSegments(urlPrefix)
    else:
        scheme, host, port, segments = urlIdentityFromString(urlPrefix)[:4]
    if segments and segments[-1] == b"":
        segments = segments[:-1]
    if len(segments) > MAX_PREFIX_DEPTH:
        raise ValueError("a prefix has at most %d path segments: %r"
                         % (MAX_PREFIX_DEPTH, urlPrefix))
    if scheme is None:
        return (_EVERY_HOST_PREFIX, segments)
    return (b"p", scheme, host, port, segments)



# The kinds of the scopes that reach a path on every scheme, host and port:
# a path prefix (reaching the paths under it too), and one path (with any
# query).
_EVERY_HOST_PREFIX = b"P"
_EVERY_HOST_PATH = b"A"



def isPath(url):
    """
    Whether C{url} (text or L{bytes}) is a path alone, C{/like/this}: what
    L{PageCache.invalidate} and L{PageCache.invalidatePrefix} take to reach
    every scheme, host and port.
    """
    if isinstance(url, textType):
        return url.startswith(u"/")
    return isinstance(url, bytes) and url.startswith(b"/")



def pathScopeFromString(path):
    """
    The scope L{PageCache.invalidate} invalidates for a path alone: that
    path, with any query, on every scheme, host and port.

    @param path: C{/like/this} (text or L{bytes}); a query in it is ignored.
    @raise ValueError: If it is not a path.
    """
    if not isPath(path):
        raise ValueError("not a path: %r" % (path,))
    return pathScopes(pathSegments(path))



def pathScopes(segments):
    """
    The scope of one path on every scheme, host and port, and any query.

    @param segments: Path segments, as URL identities hold them.
    """
    return (_EVERY_HOST_PATH, tuple(segments))



def urlScopes(url):
    """
    All the scopes of a URL identity: its path prefixes on its own scheme,
    host and port (L{prefixScopes}), then its path prefixes and its path on
    every scheme, host and port (what L{PageCache.invalidate} and
    L{PageCache.invalidatePrefix} reach when given a path alone).

    @param url: A URL identity, as L{urlIdentity} returns.
    @rtype: L{tuple}
    """
    where = url[:4]
    known = _urlScopes.get(where)
    if known is not None:
        return known
    segments = url[3]
    scopes = prefixScopes(url) + tuple(
        (_EVERY_HOST_PREFIX, segments[:i])
        for i in range(min(len(segments), MAX_PREFIX_DEPTH) + 1)) + (
        pathScopes(segments),)
    if len(segments) <= 8 and sum(len(s) for s in segments) <= 300:
        remember(_urlScopes, where, scopes, 1024)
    return scopes

# The scopes of the URLs seen lately (by scheme, host, port and path; short
# paths only): a lookup does not make them again.
_urlScopes = {}



def tagScope(tag):
    """
    The scope of one page tag (C{cacheTags}).

    @param tag: Text or L{bytes} (ASCII, UTF-8).
    @return: C{(b"t", tag)}, with C{tag} as text.
    """
    if isinstance(tag, bytes):
        tag = tag.decode("utf-8")
    if not isinstance(tag, textType):
        raise TypeError("a cache tag must be text or bytes: %r" % (tag,))
    return (b"t", tag)
