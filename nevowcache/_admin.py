# -*- test-case-name: tests.test_admin -*-
"""
The operator's resource: statistics as HTML and JSON, and purging, for a
L{PageCache}.  A plain twisted.web resource: it serves under twisted.web and,
adapted by Nevow, under a C{NevowSite}.
"""

from __future__ import absolute_import, division

import hmac
import json

from twisted.logger import Logger
from twisted.web import http
from twisted.web.resource import Resource

from nevowcache._compat import textType

__all__ = ["AdminResource"]

_LOOPBACK = (u"127.", u"::1", u"::ffff:127.")



def _escape(text):
    return (text.replace(u"&", u"&amp;").replace(u"<", u"&lt;")
            .replace(u">", u"&gt;").replace(u'"', u"&quot;"))



class AdminResource(Resource):
    """
    Statistics and purging for one L{PageCache}.

      - C{GET /}: the statistics as HTML, with a purge form;
      - C{GET /stats.json}: the statistics as JSON;
      - C{POST /purge} (or method C{PURGE}) with C{url=ABSOLUTE-URL}, and
        C{hard=1} to drop rather than mark stale: invalidates that URL;
        with C{prefix=ABSOLUTE-URL} instead, every URL under that path
        prefix (L{PageCache.invalidatePrefix}); with C{tag=TAG}, the pages
        tagged C{TAG} (L{PageCache.invalidateTag});
      - C{BAN /purge} with C{url=} or C{prefix=ABSOLUTE-URL}: invalidates
        the prefix.

    Every request must come from loopback (when no C{token} is set) or carry
    the token as C{Authorization: Bearer TOKEN} or C{X-Cache-Token: TOKEN};
    any other is answered C{403} and changes nothing.  Nothing here is ever
    cached.

    @ivar cache: The L{PageCache}.
    """
    isLeaf = True
    _log = Logger()

    def __init__(self, cache, token=None):
        """
        @param token: The secret operators present, text or bytes; L{None}
            to allow loopback clients only.
        """
        Resource.__init__(self)
        self.cache = cache
        if isinstance(token, textType):
            token = token.encode("utf-8")
        self._token = token


    def _allowed(self, request):
        if self._token is None:
            host = getattr(request.getClientAddress(), "host", u"")
            if isinstance(host, bytes):
                host = host.decode("ascii", "replace")
            return host.startswith(_LOOPBACK)
        presented = request.getHeader(b"x-cache-token")
        if presented is None:
            authorization = request.getHeader(b"authorization") or b""
            if authorization[:7].lower() == b"bearer ":
                presented = authorization[7:].strip()
        return presented is not None and hmac.compare_digest(presented, self._token)


    def render(self, request):
        request.setHeader(b"cache-control", b"no-store")
        if not self._allowed(request):
            request.setResponseCode(http.FORBIDDEN)
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            return b"Forbidden: loopback or token only.\n"
        name = request.postpath[0] if request.postpath else b""
        if name == b"purge" and request.method in (b"POST", b"PURGE", b"BAN"):
            return self._purge(request)
        if name == b"stats.json" and request.method in (b"GET", b"HEAD"):
            request.setHeader(b"content-type", b"application/json")
            return json.dumps(self.cache.stats(), sort_keys=True).encode("ascii")
        if name == b"" and request.method in (b"GET", b"HEAD"):
            request.setHeader(b"content-type", b"text/html; charset=utf-8")
            return self._page(request)
        request.setResponseCode(http.NOT_FOUND)
        return b"Not found.\n"


    def _purge(self, request):
        request.setHeader(b"content-type", b"application/json")
        given = [(kind, request.args[name][0])
                 for kind, name in [("url", b"url"), ("prefix", b"prefix"),
                                    ("tag", b"tag")]
                 if request.args.get(name)]
        hard = (request.args.get(b"hard") or [b"0"])[0] in (b"1", b"true", b"yes")
        if len(given) != 1 or request.method == b"BAN" and given[0][0] == "tag":
            request.setResponseCode(http.BAD_REQUEST)
            return (b'{"error": "give one of url=ABSOLUTE-URL, prefix=ABSOLUTE-URL'
                    b' or tag=TAG"}')
        kind, value = given[0]
        if request.method == b"BAN":
            kind = "prefix"
        invalidate = {"url": self.cache.invalidate,
                      "prefix": self.cache.invalidatePrefix,
                      "tag": self.cache.invalidateTag}[kind]
        try:
            d = invalidate(value, hard=hard)
        except (ValueError, UnicodeDecodeError) as e:
            request.setResponseCode(http.BAD_REQUEST)
            return json.dumps({"error": str(e)}).encode("ascii")
        if d is not None and hasattr(d, "addErrback"):
            d.addErrback(lambda failure: self._log.failure(
                u"Purging {kind} {value!r} failed", failure, kind=kind, value=value))
        self._log.info(u"Purged {kind} {value!r} (hard={hard}) for {client}",
                       kind=kind, value=value, hard=hard,
                       client=request.getClientAddress())
        return json.dumps({"invalidated": value.decode("utf-8", "replace"),
                           "kind": kind, "hard": hard}).encode("ascii")


    def _page(self, request):
        stats = self.cache.stats()
        rows = u"".join(u"<tr><th>%s</th><td>%s</td></tr>" % (_escape(name), stats[name])
                        for name in sorted(stats))
        base = _escape(request.prePathURL().decode("utf-8", "replace").rstrip(u"/"))
        return (u"<!DOCTYPE html><html><head><title>nevowcache</title></head><body>"
                u"<h1>nevowcache</h1><table>%s</table>"
                u'<p><a href="%s/stats.json">as JSON</a></p>'
                u'<form method="post" action="%s/purge"><p>Purge URL '
                u'<input name="url" size="60"> <label><input type="checkbox" name="hard" '
                u'value="1"> hard</label> <button>purge</button></p></form>'
                u'<form method="post" action="%s/purge"><p>Purge prefix '
                u'<input name="prefix" size="60"> <label><input type="checkbox" '
                u'name="hard" value="1"> hard</label> <button>purge</button></p></form>'
                u'<form method="post" action="%s/purge"><p>Purge tag '
                u'<input name="tag" size="30"> <label><input type="checkbox" '
                u'name="hard" value="1"> hard</label> <button>purge</button></p></form>'
                u"</body></html>" % (rows, base, base, base, base)).encode("utf-8")
