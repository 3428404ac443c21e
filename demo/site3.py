# -*- test-case-name: tests.test_demo3 -*-
"""
The nevowcache demo on twisted.web: the pages of L{demo.site}, written with
L{twisted.web.template} and served with the twisted.web adapter.  It runs on
Python 3 (and on Python 2.7 with Twisted 20.3).

    ./dev demo3 [PORT]                 (default 8081; serves on 127.0.0.1)
    python -m demo.site3 [PORT]

Pages:
  - C{/}: the home page, cached for 10 seconds, then served stale while one
    background render refreshes it;
  - C{/slow}: a page whose render costs about 100 ms of CPU, cached;
    C{/slow-uncached}: the same page without the cache;
  - C{/session}: a page that uses the session: never cached;
  - C{/status}: the cache's statistics (C{/status.json} for JSON);
  - C{/_cache/}: the operator's resource: the status page, C{stats.json},
    C{metrics} and purging
    (C{curl -X PURGE 'http://127.0.0.1:8081/_cache/purge?url=http://127.0.0.1:8081/'}).
"""

from __future__ import absolute_import, division, print_function

import json
import platform
import sys
import time

import twisted
from twisted.web import resource, server
from twisted.web.template import Element, TagLoader, renderer, tags as T

from demo._common import STYLE, burn
from nevowcache import MemoryStore, PageCache
from nevowcache.admin import AdminResource
from nevowcache.web import ElementResource, renderElementCached

cache = PageCache(MemoryStore(maxBytes=16 * 1024 * 1024, maxEntries=5000))

_renders = {"count": 0}





def _layout(title, *body):
    return T.html(
        T.head(T.title(title),
               T.style(STYLE)),
        T.body(T.h1(title), body,
               T.p(T.a(href="/")("home"), " | ", T.a(href="/slow")("slow"), " | ",
                   T.a(href="/slow-uncached")("slow, uncached"), " | ",
                   T.a(href="/session")("session"), " | ",
                   T.a(href="/status")("status"), " | ",
                   T.a(href="/_cache/")("cache admin")),
               T.p(T.small("twisted.web adapter, Python %s, Twisted %s"
                           % (platform.python_version(), twisted.__version__)))))



class HomeElement(Element):
    """
    The home page's template.
    """
    loader = TagLoader(_layout(
        "nevowcache demo",
        T.p("This page was built by ", T.strong(render="rendered"), "."),
        T.p("Reload it: for 10 seconds you get the same render (",
            T.code("Cache-Status: nevowcache; hit"), "); after that the stale copy is "
            "served at once while one background render replaces it."),
        T.p("Try ", T.code("curl -si http://127.0.0.1:PORT/"), " twice.")))

    @renderer
    def rendered(self, request, tag):
        _renders["count"] += 1
        return tag("render #%d at %s" % (_renders["count"], time.strftime("%H:%M:%S")))



class Home(ElementResource):
    """
    Cached for 10 seconds; stale for up to an hour while it refreshes.
    """
    cacheTimeout = 10
    cacheGrace = 3600

    def element(self, request):
        return HomeElement()



class SlowElement(Element):
    """
    A table of 100 rows computed the slow way: about 100 ms.
    """
    loader = TagLoader(_layout(
        "A slow page",
        T.p("Rendering this page costs about 100 ms of CPU."),
        T.table(render="rows")))

    @renderer
    def rows(self, request, tag):
        burn(0.1)
        return tag([T.tr(T.td(str(i)), T.td(str(i * i))) for i in range(100)])



class Slow(ElementResource):
    """
    The slow page, cached for a minute.
    """
    cacheTimeout = 60

    def element(self, request):
        return SlowElement()



class SlowUncached(Slow):
    """
    The same page, not cached, for comparison.
    """
    cacheTimeout = None



class SessionElement(Element):
    """
    Counts the visits of one session.
    """
    loader = TagLoader(_layout(
        "A personal page",
        T.p(render="visits"),
        T.p("Its response carries ", T.code("Cache-Status: ...; detail=session"),
            ": it is never stored or shared.")))

    @renderer
    def visits(self, request, tag):
        session = request.getSession()
        session.visits = getattr(session, "visits", 0) + 1
        return tag("You have seen this page %d times in this session." % (session.visits,))



class SessionPage(ElementResource):
    """
    Uses the session, so the cache never stores it.
    """

    def element(self, request):
        return SessionElement()



class StatusElement(Element):
    """
    The cache's statistics as a table.
    """
    loader = TagLoader(_layout("Cache status", T.transparent(render="stats"),
                               T.p(T.a(href="/status.json")("as JSON"))))

    def __init__(self, pageCache):
        Element.__init__(self)
        self.pageCache = pageCache


    @renderer
    def stats(self, request, tag):
        stats = self.pageCache.stats()
        return T.table([T.tr(T.th(name), T.td(str(stats[name]))) for name in sorted(stats)])



class Status(resource.Resource):
    """
    The cache's statistics; not cached.
    """
    isLeaf = True

    def __init__(self, pageCache):
        resource.Resource.__init__(self)
        self.pageCache = pageCache


    def render_GET(self, request):
        return renderElementCached(request, StatusElement(self.pageCache))



class StatusJSON(Status):
    """
    The statistics as JSON.
    """

    def render_GET(self, request):
        request.setHeader(b"content-type", b"application/json")
        return json.dumps(self.pageCache.stats(), sort_keys=True).encode("ascii")



class Root(Home):
    """
    The home page, and the rest as its children, all on one cache.
    """

    def __init__(self, pageCache):
        Home.__init__(self)
        children = {b"": self, b"slow": Slow(), b"slow-uncached": SlowUncached(),
                    b"session": SessionPage()}
        for name, child in children.items():
            child.pageCache = pageCache
            self.putChild(name, child)
        self.putChild(b"status", Status(pageCache))
        self.putChild(b"status.json", StatusJSON(pageCache))
        # Statistics, metrics and purging, from loopback only (or give a
        # token).
        self.putChild(b"_cache", AdminResource(pageCache))



def makeSite(pageCache=None, reactor=None):
    """
    @param pageCache: The L{PageCache} of every page; by default this
        module's C{cache}.
    @param reactor: The reactor of the site's connections and sessions; by
        default the global one.
    @return: The demo's L{server.Site}.
    """
    site = server.Site(Root(cache if pageCache is None else pageCache), reactor=reactor)
    if reactor is not None:
        site.sessionFactory = lambda site, uid: server.Session(site, uid, reactor=reactor)
    return site



def main(argv):
    from twisted.internet import reactor
    from twisted.python import log
    port = int(argv[1]) if len(argv) > 1 else 8081
    log.startLogging(sys.stdout)
    listening = reactor.listenTCP(port, makeSite(), interface="127.0.0.1")
    print("nevowcache demo (twisted.web, Python %s) at http://127.0.0.1:%d/"
          % (platform.python_version(), listening.getHost().port))
    sys.stdout.flush()
    reactor.run()



if __name__ == "__main__":
    # Run as demo.site3, not __main__: the page classes' names (the cache's
    # page classes on /_cache/) are then demo.site3.Home and so on.
    from demo import site3 as _demo
    _demo.main(sys.argv)
