# -*- test-case-name: tests.test_admin -*-
"""
The operator's resource: statistics as HTML and JSON, and purging, for a
L{PageCache}.  A plain twisted.web resource: it serves under twisted.web and,
adapted by Nevow, under a C{NevowSite}.
"""

from __future__ import absolute_import, division

import hashlib
import hmac
import json
import os
import time

from twisted.logger import Logger
from twisted.web import http
from twisted.web.resource import Resource

from nevowcache._operations.adminpage import messagePage, statusPage
from nevowcache._compat import textType
from nevowcache._operations.metrics import CONTENT_TYPE, prometheusText
from nevowcache._operations.report import report

__all__ = ["AdminResource"]

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

# What the admin's pages may do: show their own inline style and SVG, post
# forms to their own origin; nothing else, and no framing by any page.
CSP = (b"default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
       b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")

_ALLOWED = {b"": b"GET, HEAD", b"stats.json": b"GET, HEAD",
            b"metrics": b"GET, HEAD", b"purge": b"POST, PURGE, BAN"}



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



class AdminResource(Resource):
    """
    Statistics and purging for one L{PageCache}.

      - C{GET /}: the status page: the figures of L{nevowcache._operations.report.report}
        as HTML, a chart of the last hour, purge forms, the counters
        explained;
      - C{GET /stats.json}: the same figures as JSON;
      - C{GET /metrics}: the metrics in the Prometheus text format
        (L{nevowcache._operations.metrics});
      - C{POST /purge} (or method C{PURGE}) with C{url=ABSOLUTE-URL}, and
        C{hard=1} to drop rather than mark stale: invalidates that URL;
        with C{prefix=ABSOLUTE-URL} instead, every URL under that path
        prefix (L{PageCache.invalidatePrefix}); with C{tag=TAG}, the pages
        tagged C{TAG} (L{PageCache.invalidateTag});
      - C{BAN /purge} with C{url=} or C{prefix=ABSOLUTE-URL}: invalidates
        the prefix.

    Who may use it:

      - with a C{token}, requests carrying it as C{Authorization: Bearer
        TOKEN} or C{X-Cache-Token: TOKEN}, from anywhere;
      - without one, clients on loopback, unless the request carries a
        header a proxy adds (C{X-Forwarded-For}, C{Forwarded},
        C{X-Real-IP}, C{Via}, ...): behind a reverse proxy on the same
        host every client is on loopback.

    And never requests another site's page sent (L{crossSiteReason}); a
    C{POST} allowed by its address alone that a browser sent (it has an
    C{Origin}, C{Referer}, C{Cookie}, C{Content-Type} or C{Sec-Fetch-*}
    header) must carry the CSRF token of this resource's forms
    (L{CSRFTokens}).  Anything else is answered C{403} and changes nothing.
    Scripts purge with C{PURGE} or C{BAN}, which no page of another site
    can send.

    Nothing here is stored by browsers or caches, framed by other pages,
    or loads anything from another host.

    @ivar cache: The L{PageCache}.
    """
    isLeaf = True
    _log = Logger()

    def __init__(self, cache, token=None, csrfSecret=None):
        """
        @param token: The secret operators present, text or bytes; L{None}
            to allow loopback clients only.
        @param csrfSecret: The secret of the forms' CSRF tokens (L{bytes});
            by default one made by this process.  Processes serving one
            site behind one socket or balancer need the same one.
        """
        Resource.__init__(self)
        self.cache = cache
        if isinstance(token, textType):
            token = token.encode("utf-8")
        self._token = token
        self.csrf = CSRFTokens(csrfSecret)


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


    def _refusal(self, request, authority):
        """
        @return: Why the request is refused (text), or L{None}.
        """
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


    def render(self, request):
        _secureHeaders(request)
        reason = self._refusal(request, self._authority(request))
        if reason is not None:
            self._log.warn(u"Refused {method} {uri!r} from {client}: {reason}",
                           method=request.method, uri=request.uri,
                           client=request.getClientAddress(), reason=reason)
            request.setResponseCode(http.FORBIDDEN)
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            return (u"Forbidden: %s.\n" % (reason,)).encode("utf-8")
        if not request.postpath and request.prepath:
            # /_cache: the pages' relative links need /_cache/.
            request.setResponseCode(http.MOVED_PERMANENTLY)
            request.setHeader(b"location", request.prepath[-1] + b"/")
            return b""
        name = request.postpath[0] if len(request.postpath) == 1 else None
        allowed = _ALLOWED.get(name)
        if allowed is None:
            request.setResponseCode(http.NOT_FOUND)
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            return b"Not found.\n"
        if request.method not in allowed.split(b", "):
            request.setResponseCode(http.NOT_ALLOWED)
            request.setHeader(b"allow", allowed)
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            return b"Method not allowed: use " + allowed + b".\n"
        if name == b"purge":
            return self._purge(request)
        if name == b"stats.json":
            request.setHeader(b"content-type", b"application/json")
            return json.dumps(report(self.cache), sort_keys=True).encode("ascii")
        if name == b"metrics":
            request.setHeader(b"content-type", CONTENT_TYPE)
            return prometheusText(self.cache)
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        return self._page(request)


    def _purge(self, request):
        accept = request.getHeader(b"accept") or b""
        html = b"text/html" in accept.lower()

        def answer(code, title, message, fields):
            request.setResponseCode(code)
            if html:
                request.setHeader(b"content-type", b"text/html; charset=utf-8")
                return messagePage(title, message, u"./", code == http.OK)
            request.setHeader(b"content-type", b"application/json")
            return json.dumps(fields, sort_keys=True).encode("ascii")
        given = [(kind, request.args[name][0])
                 for kind, name in [("url", b"url"), ("prefix", b"prefix"),
                                    ("tag", b"tag")]
                 if request.args.get(name)]
        hard = (request.args.get(b"hard") or [b"0"])[0] in (b"1", b"true", b"yes")
        if len(given) != 1 or request.method == b"BAN" and given[0][0] == "tag":
            error = u"give one of url=ABSOLUTE-URL, prefix=ABSOLUTE-URL or tag=TAG"
            return answer(http.BAD_REQUEST, u"Nothing purged", u"Nothing purged: "
                          + error + u".", {"error": error})
        kind, value = given[0]
        if request.method == b"BAN":
            kind = "prefix"
        invalidate = {"url": self.cache.invalidate,
                      "prefix": self.cache.invalidatePrefix,
                      "tag": self.cache.invalidateTag}[kind]
        text = value.decode("utf-8", "replace")
        try:
            d = invalidate(value, hard=hard)
        except (ValueError, UnicodeDecodeError) as e:
            error = u"%s" % (e,)
            return answer(http.BAD_REQUEST, u"Nothing purged",
                          u"Nothing purged: %s" % (error,), {"error": error})
        if d is not None and hasattr(d, "addErrback"):
            d.addErrback(lambda failure: self._log.failure(
                u"Purging {kind} {value!r} failed", failure, kind=kind, value=value))
        self._log.info(u"Purged {kind} {value!r} (hard={hard}) for {client}",
                       kind=kind, value=value, hard=hard,
                       client=request.getClientAddress())
        what = {"url": u"every page and variant stored for the URL %s",
                "prefix": u"every page stored under the path prefix %s",
                "tag": u"every page tagged %s"}[kind] % (text,)
        effect = (u"They are gone: the next request for each renders it."
                  if hard else u"They are stale: each is served within its grace "
                  u"while one background render refreshes it.")
        return answer(http.OK, u"Purged" + (u" (hard)" if hard else u""),
                      u"Purged %s. %s" % (what, effect),
                      {"invalidated": text, "kind": kind, "hard": hard})


    def _page(self, request):
        origin = ownOrigin(request)
        csrf = self.csrf.issue(origin).decode("ascii") if origin else None
        # Links relative to the page: nothing the request says (its Host)
        # is written into them.
        return statusPage(report(self.cache), u".", csrf)



def _secureHeaders(request):
    """
    Headers of every answer: never stored, never framed, never sniffed, no
    referrer sent from it, nothing loaded from anywhere.
    """
    request.setHeader(b"cache-control", b"no-store")
    request.setHeader(b"x-frame-options", b"DENY")
    request.setHeader(b"x-content-type-options", b"nosniff")
    request.setHeader(b"referrer-policy", b"no-referrer")
    request.setHeader(b"content-security-policy", CSP)
