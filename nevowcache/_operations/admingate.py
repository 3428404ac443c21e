# -*- test-case-name: tests.test_admin -*-
"""
Who may use the admin (L{AdminGate}): the operator's token, or a loopback
client that came through no proxy; never a request another site's page
sent (L{crossSiteReason}); a form C{POST} a browser sent, authorised by its
address alone, only with the form's CSRF token (L{CSRFTokens}).
"""

from __future__ import absolute_import, division

import hashlib
import hmac
import os
import time

from nevowcache._compat import textType

__all__ = ["AdminGate", "CSRFTokens", "crossSiteReason", "ownOrigin",
           "CSRF_LIFETIME"]

_LOOPBACK_PREFIXES = (u"127.", u"::ffff:127.")

# Request headers a proxy adds: a request carrying any of them (any case,
# "_" for "-", any value, even empty) came through a proxy, and is never
# local, whatever its peer address.
_PROXY_HEADERS = frozenset([
    b"x-forwarded-for", b"forwarded", b"x-real-ip", b"via",
    b"x-forwarded-host", b"x-forwarded-proto", b"x-forwarded-server",
    b"x-forwarded-port", b"x-client-ip", b"x-cluster-client-ip",
    b"true-client-ip", b"cf-connecting-ip", b"fastly-client-ip",
    b"x-original-forwarded-for", b"client-ip"])

# Request headers only browsers send: a POST authorised by its address
# alone that carries one of them must carry the form's CSRF token.
_BROWSER_HEADERS = (b"origin", b"referer", b"cookie", b"content-type",
                    b"sec-fetch-site", b"sec-fetch-mode", b"sec-fetch-dest",
                    b"sec-fetch-user")

# Sec-Fetch-Site values of requests made by the operator's own pages or by
# the operator (typing the URL, a bookmark).
_SAME_SITE = (b"same-origin", b"none")

# How long a form's CSRF token stays valid, in seconds.
CSRF_LIFETIME = 12 * 3600




def _isLoopback(host):
    return host == u"::1" or host.startswith(_LOOPBACK_PREFIXES)



def _viaProxy(request):
    """
    Whether a request carries a header a proxy adds (L{_PROXY_HEADERS}), in
    any spelling.
    """
    for name, _ in request.requestHeaders.getAllRawHeaders():
        if name.lower().replace(b"_", b"-") in _PROXY_HEADERS:
            return True
    return False



def _origin(scheme, hostport):
    """
    Normalise an origin: C{(scheme, host, port)} from a scheme and a
    C{host[:port]}, lower-cased, the port defaulting by scheme; L{None} if
    it cannot be read.
    """
    scheme = scheme.lower()
    default = {b"http": 80, b"https": 443}.get(scheme)
    if default is None or not hostport:
        return None
    hostport = hostport.lower()
    if hostport.startswith(b"["):
        host, _, rest = hostport[1:].partition(b"]")
        port = rest[1:] if rest.startswith(b":") else (b"" if not rest else None)
    elif hostport.count(b":") == 1:
        host, _, port = hostport.partition(b":")
    else:
        host, port = hostport, b""
    if port is None or not host:
        return None
    if not port:
        return (scheme, host, default)
    if not port.isdigit():
        return None
    return (scheme, host, int(port))



def ownOrigin(request):
    """
    The origin a browser gives the pages of C{request}: its scheme and its
    C{Host}.

    @return: C{(scheme, host, port)}, or L{None} without a usable C{Host}.
    """
    hosts = request.requestHeaders.getRawHeaders(b"host") or []
    if len(hosts) != 1:
        return None
    return _origin(b"https" if request.isSecure() else b"http", hosts[0].strip())



def crossSiteReason(request):
    """
    Why a request looks sent by another site's page, if it does.

    A request is refused when its C{Origin} is not the request's own origin
    (C{null} included), or when its C{Sec-Fetch-Site} is other than
    C{same-origin} or C{none} (the operator typing the URL).  A top-level
    navigation (a link followed from elsewhere: C{GET} or C{HEAD} with
    C{Sec-Fetch-Mode: navigate}) may come from another site: it changes
    nothing and its page cannot be framed or read by that site.

    @return: L{None}, or the reason (text).
    """
    headers = request.requestHeaders
    navigation = (request.method in (b"GET", b"HEAD")
                  and (headers.getRawHeaders(b"sec-fetch-mode") or [b""])[-1].strip()
                  .lower() == b"navigate")
    site = headers.getRawHeaders(b"sec-fetch-site")
    if site is not None and not navigation:
        if len(site) != 1 or site[0].strip().lower() not in _SAME_SITE:
            return u"cross-site request (Sec-Fetch-Site)"
    origins = headers.getRawHeaders(b"origin")
    if origins is not None and not (navigation and site is not None):
        if len(origins) != 1:
            return u"cross-site request (Origin)"
        scheme, sep, hostport = origins[0].strip().partition(b"://")
        own = ownOrigin(request)
        if not sep or own is None or _origin(scheme, hostport) != own:
            return u"cross-site request (Origin)"
    return None



class CSRFTokens(object):
    """
    Tokens the admin's HTML forms carry, so that a form POST the operator's
    browser sends is known to come from a page this resource served, with
    no server-side session: C{ISSUED.MAC}, where C{MAC} is an HMAC-SHA256,
    under a secret, of the page's origin (scheme, host, port) and the time
    it was issued.  Valid for C{lifetime} seconds, for that origin only;
    compared in constant time.

    @ivar lifetime: Seconds a token stays valid.
    """

    def __init__(self, secret=None, lifetime=CSRF_LIFETIME, now=time.time):
        """
        @param secret: L{bytes}; by default 32 random bytes of this process
            (processes sharing a socket need one secret: give it).
        @param now: What gives the time of day.
        """
        self._secret = os.urandom(32) if secret is None else secret
        self.lifetime = lifetime
        self._now = now


    def _mac(self, origin, issued):
        scheme, host, port = origin
        message = b"nevowcache-csrf\0" + b"\0".join(
            [scheme, host, str(port).encode("ascii"), issued])
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest().encode("ascii")


    def issue(self, origin):
        """
        @param origin: The origin of the page the form is on (L{ownOrigin}).
        @return: A token (L{bytes}, ASCII).
        """
        issued = str(int(self._now())).encode("ascii")
        return issued + b"." + self._mac(origin, issued)


    def check(self, origin, token):
        """
        @return: Whether C{token} was issued for C{origin} by this secret,
            less than C{lifetime} seconds ago.
        """
        if origin is None or not token:
            return False
        issued, _, mac = token.partition(b".")
        if not issued.isdigit() or len(issued) > 12:
            return False
        age = self._now() - int(issued)
        if not -60 <= age < self.lifetime:
            return False
        return hmac.compare_digest(self._mac(origin, issued), mac)



class AdminGate(object):
    """
    Who may use the admin: with a C{token}, the requests that carry it;
    without one, loopback clients that came through no proxy; never a
    cross-site request (L{crossSiteReason}); a browser's form C{POST}
    allowed by its address alone, only with the form's CSRF token.

    @ivar csrf: The L{CSRFTokens} of the admin's forms.
    """

    def __init__(self, token, csrf):
        """
        @param token: The secret operators present, text or bytes; L{None}
            to allow loopback clients only.
        @param csrf: The L{CSRFTokens} of the admin's forms.
        """
        if isinstance(token, textType):
            token = token.encode("utf-8")
        self._token = token
        self.csrf = csrf


    def _authority(self, request):
        """
        @return: C{"token"} if the request carries the token, C{"local"} if
            it may come in by its address, else L{None}.
        """
        if self._token is None:
            if _viaProxy(request):
                return None
            host = getattr(request.getClientAddress(), "host", u"") or u""
            if isinstance(host, bytes):
                host = host.decode("ascii", "replace")
            return "local" if _isLoopback(host) else None
        presented = request.getHeader(b"x-cache-token")
        if presented is None:
            authorization = request.getHeader(b"authorization") or b""
            if authorization[:7].lower() == b"bearer ":
                presented = authorization[7:].strip()
        if presented is None:
            return None
        # Digests of both: the comparison takes the same time whatever the
        # lengths.
        if hmac.compare_digest(hashlib.sha256(presented).digest(),
                               hashlib.sha256(self._token).digest()):
            return "token"
        return None


    def refusal(self, request):
        """
        @return: Why C{request} is refused (text), or L{None}.
        """
        authority = self._authority(request)
        if authority is None:
            return (u"loopback or token only" if self._token is None
                    else u"token only")
        reason = crossSiteReason(request)
        if reason is not None:
            return reason
        if (authority == "local" and request.method == b"POST"
                and any(request.requestHeaders.hasHeader(name)
                        for name in _BROWSER_HEADERS)):
            token = (request.args.get(b"csrf") or [None])[0]
            if not self.csrf.check(ownOrigin(request), token):
                return u"a form POST needs the form's CSRF token"
        return None
