# -*- test-case-name: tests.test_behaviour,tests.test_unsafe -*-
"""
The paths an answered unsafe request invalidates (RFC 9111 section 4.4):
its own, and those of its response's C{Location} and C{Content-Location}
that name its own origin (L{unsafeTargets}).
"""

from __future__ import absolute_import, division

from nevowcache._compat import PY2
from nevowcache._http.headers import headerValues
from nevowcache._http.host import hostKey
from nevowcache._http.identity import pathSegments

if PY2:
    from urlparse import urljoin as _urljoin
    from urlparse import urlsplit as _urlsplit
else:
    from urllib.parse import urljoin as _urljoin
    from urllib.parse import urlsplit as _urlsplit

__all__ = ["unsafeTargets"]



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
    found = [pathSegments(request.path or b"/")]
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
    return pathSegments(parts.path or b"/")
