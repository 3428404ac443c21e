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
"""

from __future__ import absolute_import, division

import hashlib
import re
import struct

from twisted.internet.interfaces import ISSLTransport
from twisted.web import http
from twisted.web.http import parse_qs

from nevowcache._compat import PY2, integerTypes, textType
from nevowcache._http.headers import headerValues
from nevowcache._engine.memo import remember

if PY2:
    from urllib import unquote as _unquote
    from urlparse import urljoin as _urljoin
    from urlparse import urlsplit as _urlsplit
else:
    from urllib.parse import unquote_to_bytes as _unquote
    from urllib.parse import urljoin as _urljoin
    from urllib.parse import urlsplit as _urlsplit

__all__ = ["CacheKey", "urlIdentity", "keyParts", "urlIdentityFromString", "encodeKey",
           "varyValue", "varyValues", "validHost", "hostKey", "prefixScopes",
           "prefixScopeFromString", "urlScopes", "isPath", "pathScopeFromString",
           "pathScopes", "unsafeTargets", "tagScope"]



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



def encodeKey(value):
    """
    Encode nested tuples of bytes, text, integers, booleans and C{None}
    injectively: every item carries its type and length, so no two distinct
    values share an encoding, whatever bytes they contain.

    @raise TypeError: For any other type (floats and arbitrary objects have
        no canonical encoding).
    @rtype: L{bytes}
    """
    out = []
    _encodeInto(value, out)
    return b"".join(out)



def _encodeInto(value, out):
    if isinstance(value, bytes):
        out.append(b"b" + struct.pack(">I", len(value)) + value)
    elif isinstance(value, textType):
        data = value.encode("utf-8")
        out.append(b"u" + struct.pack(">I", len(data)) + data)
    elif value is None:
        out.append(b"n")
    elif value is True or value is False:
        out.append(b"T" if value else b"F")
    elif isinstance(value, integerTypes):
        data = str(value).encode("ascii")
        out.append(b"i" + struct.pack(">I", len(data)) + data)
    elif isinstance(value, (tuple, list)):
        out.append(b"t" + struct.pack(">I", len(value)))
        for item in value:
            _encodeInto(item, out)
    else:
        raise TypeError("cannot use %r in a cache key" % (value,))



# Request headers whose values are case-insensitive lists.
_CASE_INSENSITIVE_LISTS = frozenset([
    b"accept", b"accept-encoding", b"accept-charset", b"accept-language"])



def varyValues(headers, vary):
    """
    The normalised values (L{varyValue}) of the request headers a page
    declares in C{cacheVary}, as keys hold them.

    @param headers: The request's L{Headers}.
    @param vary: Lower-cased header names, L{bytes}.
    @rtype: L{tuple}
    """
    if not vary:
        return ()
    return tuple(varyValue(name, headers.getRawHeaders(name)) for name in vary)



def varyValue(name, values):
    """
    Normalise the values of a request header that joins the key.

    Absent (L{None}) and empty (C{b""}) stay distinct.  Whitespace is
    folded; C{Accept}-style lists are lower-cased, and C{Accept-Language}
    items ordered by preference (C{fr, en;q=0.8} and C{en;q=0.8,FR} agree).

    @param name: The lower-cased header name, L{bytes}.
    @param values: The header's raw values (a L{list} of L{bytes}), or
        L{None} if absent.
    @rtype: L{bytes} or L{None}
    """
    if values is None:
        return None
    value = b",".join(v.strip() for v in values)
    if name not in _CASE_INSENSITIVE_LISTS:
        return b" ".join(value.split())
    items = []
    for index, item in enumerate(value.lower().split(b",")):
        parts = [p.strip() for p in item.split(b";")]
        if not parts[0]:
            continue
        quality = 1.0
        params = []
        for param in parts[1:]:
            if param.startswith(b"q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
            elif param:
                params.append(param)
        items.append((-quality, index if name == b"accept-language" else 0,
                      b";".join([parts[0]] + params), quality))
    items.sort()
    out = []
    for _, _, item, quality in items:
        if quality != 1.0:
            item += b";q=" + ("%g" % (quality,)).encode("ascii")
        out.append(item)
    return b",".join(out)



def hostKey(host):
    """
    Drop the port from a Host header value and lower-case it, keeping IPv6
    brackets: the host as keys hold it.
    """
    known = _hostKeys.get(host)
    if known is None:
        known = _remember(_hostKeys, host, _hostKey(host))
    return known



def _remember(answers, host, answer):
    """
    Keep what C{hostKey} or C{validHost} answered for C{host} in C{answers}
    (unless C{host} is longer than a DNS name), forgetting everything when
    they hold C{_MAX_KNOWN_HOSTS}.

    @return: C{answer}.
    """
    if len(host) <= _MAX_KNOWN_HOST_LENGTH:
        remember(answers, host, answer, _MAX_KNOWN_HOSTS)
    return answer



# What hostKey and validHost answered for the Host values seen lately (a
# site sees few): hits do not parse their Host again.  Bounded: forgotten
# all at once when full; longer values than a DNS name are never kept.
_MAX_KNOWN_HOSTS = 1024
_MAX_KNOWN_HOST_LENGTH = 300
_hostKeys = {}
_validHosts = {}



def _hostKey(host):
    if host.startswith(b"["):
        end = host.find(b"]")
        if end != -1:
            return host[:end + 1].lower()
    return host.split(b":", 1)[0].lower()



# A plain host: a DNS name or IPv4 address (letters, digits, "-", "." and
# "_"), or an IP literal in brackets; then an optional port of digits.
_VALID_HOST = re.compile(
    br"\A(?:[A-Za-z0-9._-]+|\[[0-9A-Za-z:.]+\])(?::[0-9]{1,5})?\Z")



def validHost(host):
    """
    Whether a C{Host} header value is a plain C{host[:port]}.

    Only then do all the ways a render can read the host agree with the key:
    Twisted 20.3's C{getRequestHostname} cuts at the first C{:}, later
    versions at a final C{:digits}, so that for C{example.com:1@evil.example}
    one renders C{example.com} and the other C{example.com:1@evil.example},
    under the key of C{example.com}.

    @param host: The raw header value, L{bytes}.
    @rtype: L{bool}
    """
    valid = _validHosts.get(host)
    if valid is None:
        valid = _remember(_validHosts, host, _VALID_HOST.match(host) is not None)
    return valid



def canonicalArgs(args):
    """
    Put parsed query arguments in canonical order.

    Names are sorted; the values of one name keep their order, since a page
    reading C{args[name]} sees that order.

    @param args: A mapping of names to lists of values, as C{request.args}.
    @rtype: L{tuple}
    """
    if not args:
        return ()
    return tuple(sorted((k, tuple(v)) for k, v in args.items()))



def _unparsed(uri):
    """
    The pieces of a URI's query that Twisted's C{parse_qs} drops (those
    without C{=}), sorted.

    A page reading C{request.uri} sees them though they are not in
    C{request.args}: they go in the key, so C{/p?<script>} is never served
    as C{/p}.
    """
    query = uri.partition(b"?")[2]
    if not query:
        return ()
    pieces = [p for part in query.split(b"&") for p in part.split(b";")]
    return tuple(sorted(p for p in pieces if p and b"=" not in p))



def keyParts(request):
    """
    The URL identity of a request (L{urlIdentity}) and its spelling: its
    request target exactly as sent, and the host name of its C{Host} in the
    case it was sent, which a render sees as they are (C{request.uri},
    C{getRequestHostname}, the host of C{prePathURL}).

    @return: C{(identity, (uri, host))}; C{host} is L{None} without a
        C{Host} header.
    """
    hosts = headerValues(request.requestHeaders, b"host")
    host = hosts[-1] if hosts else None
    identity = _identity(request, host, None)
    if host is not None:
        # As getRequestHostname gives it: case kept, without the port (the
        # render sees the socket's port; reading the Host header itself is
        # recorded, see refusalOf).
        host = host[:len(identity[1])]
    return identity, (request.uri, host)



def urlIdentity(request, segments=None):
    """
    The URL identity of a request, from exactly what a render can observe.

    @param request: A L{twisted.web.server.Request} (or Nevow's subclass),
        after traversal.
    @param segments: The path segments, or L{None} for the request's
        C{prepath} and C{postpath}.
    @return: C{(scheme, host, port, segments, args, unparsed)}.
    """
    hosts = headerValues(request.requestHeaders, b"host")
    return _identity(request, hosts[-1] if hosts else None, segments)



def _identity(request, host, segments):
    address = request.getHost()
    if host is None:
        host = getattr(address, "host", "")
        if not isinstance(host, bytes):
            host = host.encode("ascii")
    return (b"https" if isSecure(request) else b"http",
            hostKey(host),
            getattr(address, "port", 0),
            tuple(request.prepath) + tuple(request.postpath) if segments is None
            else segments,
            canonicalArgs(request.args), _unparsed(request.uri))



def _functionOf(cls, name):
    method = getattr(cls, name, None)
    return getattr(method, "__func__", method)

# twisted.web's own isSecure, of requests and of HTTP/1 channels.
_REQUEST_IS_SECURE = _functionOf(http.Request, "isSecure")
_CHANNEL_IS_SECURE = _functionOf(http.HTTPChannel, "isSecure")

# Classes, by whether their isSecure is twisted.web's own.
_plainSecure = {}

# Transport classes, by whether an adapter makes them ISSLTransport.
_adaptedSecure = {}



def _twistedIsSecure(cls, own):
    """
    @return: Whether C{cls}'s C{isSecure} is C{own}, twisted.web's.
    """
    plain = _plainSecure.get(cls)
    if plain is None:
        plain = remember(_plainSecure, cls, _functionOf(cls, "isSecure") is own, 256)
    return plain



def isSecure(request):
    """
    C{request.isSecure()}, without adapting the transport to
    L{ISSLTransport} again on every request: when the request's and its
    channel's C{isSecure} are twisted.web's own, a transport that does not
    provide it is adapted once per class (no adapter is registered for a
    transport in practice, and a transport made secure later, by
    C{startTLS}, provides it).

    @param request: A L{twisted.web.server.Request}, or any object with an
        C{isSecure} method.
    @rtype: L{bool}
    """
    plain = _plainSecure.get(request.__class__)
    if plain is None:
        plain = _twistedIsSecure(request.__class__, _REQUEST_IS_SECURE)
    if not plain:
        return request.isSecure()
    if request._forceSSL:
        return True
    channel = getattr(request, "channel", None)
    if channel is None:
        return False
    plain = _plainSecure.get(channel.__class__)
    if plain is None:
        plain = _twistedIsSecure(channel.__class__, _CHANNEL_IS_SECURE)
    if not plain:
        return channel.isSecure()
    transport = channel.transport
    if ISSLTransport.providedBy(transport):
        return True
    transportClass = transport.__class__
    adapted = _adaptedSecure.get(transportClass)
    if adapted is None:
        adapted = remember(_adaptedSecure, transportClass,
                           ISSLTransport(transport, None) is not None, 256)
    return adapted



def requestUrlIdentity(request, segments=None):
    """
    The URL identity of the resource a request names, with the arguments of
    its URI only (not those Twisted merged in from a POST body, nor any
    traversal added).

    @param segments: As for L{urlIdentity}.
    """
    scheme, host, port, segments, _, unparsed = urlIdentity(request, segments)
    query = request.uri.partition(b"?")[2]
    return (scheme, host, port, segments, canonicalArgs(parse_qs(query, 1)), unparsed)



def urlIdentityFromString(url):
    """
    Parse an absolute URL the way Twisted parses a request for it.

    @param url: C{http://host:port/path?query}, as L{bytes} or text.  Without
        a port, 80 for C{http} and 443 for C{https}.
    @return: The same URL identity L{urlIdentity} gives for a request of
        that URL.
    @raise ValueError: If C{url} is not an absolute http or https URL.
    """
    if isinstance(url, textType):
        url = url.encode("utf-8")
    parts = _urlsplit(url)
    scheme, netloc = parts.scheme.lower(), parts.netloc
    if scheme not in (b"http", b"https") or not netloc:
        raise ValueError("not an absolute http(s) URL: %r" % (url,))
    if b"@" in netloc:
        netloc = netloc.rsplit(b"@", 1)[1]
    host = hostKey(netloc)
    portText = netloc[len(host):]
    if host.startswith(b"["):
        portText = netloc[netloc.find(b"]") + 1:]
    portText = portText.lstrip(b":")
    if portText:
        try:
            port = int(portText)
        except ValueError:
            raise ValueError("bad port in %r" % (url,))
    else:
        port = 443 if scheme == b"https" else 80
    path = parts.path or b"/"
    segments = tuple(_unquote(s) for s in path[1:].split(b"/"))
    query = b"?" + parts.query if parts.query else b""
    return (scheme, host, port, segments, canonicalArgs(parse_qs(parts.query, 1)),
            _unparsed(query))



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
        segments = _pathSegments(urlPrefix)
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



def _pathSegments(path):
    """
    The segments of a path, as Twisted splits and unquotes a request's;
    without its query.
    """
    if isinstance(path, textType):
        path = path.encode("utf-8")
    path = path.split(b"?", 1)[0].split(b"#", 1)[0]
    return tuple(_unquote(s) for s in path[1:].split(b"/"))



def pathScopeFromString(path):
    """
    The scope L{PageCache.invalidate} invalidates for a path alone: that
    path, with any query, on every scheme, host and port.

    @param path: C{/like/this} (text or L{bytes}); a query in it is ignored.
    @raise ValueError: If it is not a path.
    """
    if not isPath(path):
        raise ValueError("not a path: %r" % (path,))
    return pathScopes(_pathSegments(path))



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
        (_EVERY_HOST_PATH, segments),)
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



def unsafeTargets(request):
    """
    The paths an answered unsafe request invalidates (RFC 9111 section
    4.4): its target's, then those of its response's C{Location} and
    C{Content-Location} (relative ones resolved against the request's URI)
    that name the request's own origin: its scheme, its host, and its
    port as the C{Host} header gives it (or the scheme's default) or the
    listening port.  Other origins' URLs are left alone.

    @param request: A L{twisted.web.server.Request}, answered.
    @return: A L{tuple} of path segment tuples, without repeats.
    """
    found = [_pathSegments(request.path or b"/")]
    headers = request.responseHeaders
    values = ((headers.getRawHeaders(b"location") or [])
              + (headers.getRawHeaders(b"content-location") or []))
    if values:
        scheme = b"https" if request.isSecure() else b"http"
        hosts = headerValues(request.requestHeaders, b"host")
        address = request.getHost()
        host = hosts[-1] if hosts else getattr(address, "host", "")
        if not isinstance(host, bytes):
            host = host.encode("ascii")
        origins = set([(hostKey(host), _portOf(scheme, host)),
                       (hostKey(host), getattr(address, "port", 0))])
        base = scheme + b"://" + host + b"/" + request.uri.lstrip(b"/")
        for value in values:
            segments = _sameOriginPath(base, value.strip(), scheme, origins)
            if segments is not None and segments not in found:
                found.append(segments)
    return tuple(found)



def _portOf(scheme, netloc):
    """
    The port of an authority (C{host[:port]}), or the scheme's default;
    L{None} if it is not a number.
    """
    port = netloc[len(hostKey(netloc)):] if not netloc.startswith(b"[") else (
        netloc[netloc.find(b"]") + 1:])
    port = port.lstrip(b":")
    if not port:
        return 443 if scheme == b"https" else 80
    try:
        return int(port)
    except ValueError:
        return None



def _sameOriginPath(base, value, scheme, origins):
    """
    @return: The path segments of URL C{value} resolved against C{base},
        if it has C{scheme} and one of C{origins} (C{(host, port)}); else
        L{None}.
    """
    try:
        parts = _urlsplit(_urljoin(base, value))
    except ValueError:
        return None
    netloc = parts.netloc.rsplit(b"@", 1)[-1]
    if parts.scheme.lower() != scheme or not netloc:
        return None
    if (hostKey(netloc), _portOf(scheme, netloc)) not in origins:
        return None
    return _pathSegments(parts.path or b"/")
