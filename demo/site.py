# -*- test-case-name: tests.test_demo -*-
"""
The nevowcache demo: a small Nevow site on the embedded in-memory store.

    ./dev demo [PORT]            (default 8080; serves on 127.0.0.1)

Pages:
  - C{/}: the home page, cached for 10 seconds, then served stale while one
    background render refreshes it;
  - C{/slow}: a page whose render costs about 100 ms of CPU, cached;
    C{/slow-uncached}: the same page without the cache;
  - C{/session}: a page that uses the session: never cached;
  - C{/status}: the cache's statistics (C{/status.json} for JSON);
  - C{/_cache/}: the operator's resource: statistics and purging
    (C{curl -X PURGE 'http://127.0.0.1:8080/_cache/purge?url=http://127.0.0.1:8080/'}).
"""

from __future__ import absolute_import, division, print_function

import json
import sys
import time

from nevow import appserver, inevow, loaders, rend, tags as T
from twisted.internet import reactor
from twisted.python import log

from demo._common import STYLE, burn
from nevowcache import CachedPage, MemoryStore, PageCache
from nevowcache.admin import AdminResource

cache = PageCache(MemoryStore(maxBytes=16 * 1024 * 1024, maxEntries=5000))

_renders = {"count": 0}




def _layout(title, *body):
    return T.html[
        T.head[T.title[title],
               T.style[STYLE]],
        T.body[T.h1[title], body,
               T.p[T.a(href="/")["home"], " | ", T.a(href="/slow")["slow"], " | ",
                   T.a(href="/slow-uncached")["slow, uncached"], " | ",
                   T.a(href="/session")["session"], " | ",
                   T.a(href="/status")["status"], " | ",
                   T.a(href="/_cache/")["cache admin"]]]]


class Home(CachedPage):
    """
    Cached for 10 seconds; stale for up to an hour while it refreshes.
    """
    pageCache = cache
    cacheTimeout = 10
    cacheGrace = 3600

    def render_rendered(self, ctx, data):
        _renders["count"] += 1
        return "render #%d at %s" % (_renders["count"], time.strftime("%H:%M:%S"))

    docFactory = loaders.stan(_layout(
        "nevowcache demo",
        T.p["This page was built by ", T.strong(render=T.directive("rendered")), "."],
        T.p["Reload it: for 10 seconds you get the same render (",
            T.code["Cache-Status: nevowcache; hit"], "); after that the stale copy is "
            "served at once while one background render replaces it."],
        T.p["Try ", T.code["curl -si http://127.0.0.1:PORT/"], " twice."]))


class Slow(CachedPage):
    """
    A page whose render costs about 100 ms: a table of 100 rows computed the
    slow way.
    """
    pageCache = cache
    cacheTimeout = 60

    def data_rows(self, ctx, data):
        burn(0.1)
        return [(i, i * i) for i in range(100)]

    def render_row(self, ctx, row):
        return ctx.tag[T.td[row[0]], T.td[row[1]]]

    docFactory = loaders.stan(_layout(
        "A slow page",
        T.p["Rendering this page costs about 100 ms of CPU."],
        T.table(data=T.directive("rows"), render=T.directive("sequence"))[
            T.tr(pattern="item", render=T.directive("row"))]))


class SlowUncached(Slow):
    """
    The same page, not cached, for comparison.
    """
    cacheTimeout = None


class SessionPage(CachedPage):
    """
    Uses the session, so the cache never stores it.
    """
    pageCache = cache

    def render_visits(self, ctx, data):
        session = inevow.ISession(ctx)
        session.visits = getattr(session, "visits", 0) + 1
        return "You have seen this page %d times in this session." % (session.visits,)

    docFactory = loaders.stan(_layout(
        "A personal page",
        T.p(render=T.directive("visits")),
        T.p["Its response carries ", T.code["Cache-Status: ...; detail=session"],
            ": it is never stored or shared."]))


class Status(rend.Page):
    """
    The cache's statistics.
    """

    def render_stats(self, ctx, data):
        stats = cache.stats()
        return T.table[[T.tr[T.th[name], T.td[str(stats[name])]] for name in sorted(stats)]]

    docFactory = loaders.stan(_layout("Cache status", T.invisible(render=T.directive("stats")),
                                      T.p[T.a(href="/status.json")["as JSON"]]))


class StatusJSON(rend.Page):
    """
    The statistics as JSON.
    """

    def renderHTTP(self, ctx):
        inevow.IRequest(ctx).setHeader("content-type", "application/json")
        return json.dumps(cache.stats(), sort_keys=True)


class Root(Home):
    """
    The home page, and the rest as its children.
    """
    child_slow = Slow()
    children = {
        "slow-uncached": SlowUncached(),
        "session": SessionPage(),
        "status": Status(),
        "status.json": StatusJSON(),
        # Statistics and purging, from loopback only (or give a token).
        "_cache": AdminResource(cache),
    }


def main(argv):
    port = int(argv[1]) if len(argv) > 1 else 8080
    log.startLogging(sys.stdout)
    site = appserver.NevowSite(Root())
    listening = reactor.listenTCP(port, site, interface="127.0.0.1")
    print("nevowcache demo (Nevow, Python 2.7) at http://127.0.0.1:%d/"
          % (listening.getHost().port,))
    sys.stdout.flush()
    reactor.run()


if __name__ == "__main__":
    # Run as demo.site, not __main__: the page classes' names (the cache's
    # page classes on /_cache/) are then demo.site.Home and so on.
    from demo import site as _demo
    _demo.main(sys.argv)
