# -*- test-case-name: tests.test_admin -*-
"""
The operator's resource: statistics as HTML and JSON, and purging, for a
L{PageCache}.  A plain twisted.web resource: it serves under twisted.web and,
adapted by Nevow, under a C{NevowSite}.
"""

from __future__ import absolute_import, division

import json

from twisted.logger import Logger
from twisted.web import http
from twisted.web.resource import Resource

from nevowcache._operations.admingate import AdminGate, CSRFTokens, ownOrigin
from nevowcache._operations.adminpage import messagePage, statusPage
from nevowcache._operations.metrics import CONTENT_TYPE, prometheusText
from nevowcache._operations.report import report

__all__ = ["AdminResource"]

# What the admin's pages may do: show their own inline style and SVG, post
# forms to their own origin; nothing else, and no framing by any page.
CSP = (b"default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
       b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")

_ALLOWED = {b"": b"GET, HEAD", b"stats.json": b"GET, HEAD",
            b"metrics": b"GET, HEAD", b"purge": b"POST, PURGE, BAN"}



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

    And never requests another site's page sent
    (L{nevowcache._operations.admingate.crossSiteReason}); a C{POST} allowed
    by its address alone that a browser sent (it has an C{Origin},
    C{Referer}, C{Cookie}, C{Content-Type} or C{Sec-Fetch-*} header) must
    carry the CSRF token of this resource's forms (L{CSRFTokens}).  Anything
    else is answered C{403} and changes nothing (L{AdminGate} decides).
    Scripts purge with C{PURGE} or C{BAN}, which no page of another site
    can send.

    Nothing here is stored by browsers or caches, framed by other pages,
    or loads anything from another host.

    @ivar cache: The L{PageCache}.
    @ivar csrf: The L{CSRFTokens} of its forms.
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
        self.csrf = CSRFTokens(csrfSecret)
        self._gate = AdminGate(token, self.csrf)


    def render(self, request):
        _secureHeaders(request)
        reason = self._gate.refusal(request)
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
