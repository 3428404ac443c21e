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
        C{hard=1} to drop rather than mark stale: invalidates that URL.

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
        if name == b"purge" and request.method in (b"POST", b"PURGE"):
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
        url = (request.args.get(b"url") or [None])[0]
        hard = (request.args.get(b"hard") or [b"0"])[0] in (b"1", b"true", b"yes")
        if url is None:
            request.setResponseCode(http.BAD_REQUEST)
            return b'{"error": "give url=ABSOLUTE-URL"}'
        try:
            self.cache.invalidate(url, hard=hard)
        except ValueError as e:
            request.setResponseCode(http.BAD_REQUEST)
            return json.dumps({"error": str(e)}).encode("ascii")
        self._log.info(u"Purged {url} (hard={hard}) for {client}", url=url, hard=hard,
                       client=request.getClientAddress())
        return json.dumps({"invalidated": url.decode("utf-8", "replace"),
                           "hard": hard}).encode("ascii")


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
                u"</body></html>" % (rows, base, base)).encode("utf-8")
