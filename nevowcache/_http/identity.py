# -*- test-case-name: tests.test_key -*-
"""
The URL identity of a request: what it names, from exactly what a render
can observe (scheme, host, port, path segments, query arguments in
canonical order, and the pieces of the query Twisted does not parse); its
spelling (the request target and host as sent); and the same identity
parsed from a URL string, for invalidation.
"""

from __future__ import absolute_import, division

from twisted.web.http import parse_qs

from nevowcache._compat import PY2, textType
from nevowcache._http.headers import headerValues
from nevowcache._http.host import hostKey
from nevowcache._http.secure import isSecure

if PY2:
    from urllib import unquote as _unquote
    from urlparse import urlsplit as _urlsplit
else:
    from urllib.parse import unquote_to_bytes as _unquote
    from urllib.parse import urlsplit as _urlsplit

__all__ = ["urlIdentity", "keyParts", "urlIdentityFromString", "requestUrlIdentity",
           "canonicalArgs", "pathSegments"]



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
    args = request.args
    uri = request.uri
    return (b"https" if isSecure(request) else b"http",
            hostKey(host),
            getattr(address, "port", 0),
            tuple(request.prepath) + tuple(request.postpath) if segments is None
            else segments,
            # Without a call when there is nothing to put in order.
            canonicalArgs(args) if args else (),
            _unparsed(uri) if b"?" in uri else ())



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
    segments = pathSegments(parts.path or b"/")
    query = b"?" + parts.query if parts.query else b""
    return (scheme, host, port, segments, canonicalArgs(parse_qs(parts.query, 1)),
            _unparsed(query))



def pathSegments(path):
    """
    The segments of a path, as Twisted splits and unquotes a request's;
    without its query.
    """
    if isinstance(path, textType):
        path = path.encode("utf-8")
    path = path.split(b"?", 1)[0].split(b"#", 1)[0]
    return tuple(_unquote(s) for s in path[1:].split(b"/"))
