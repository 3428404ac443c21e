# -*- test-case-name: tests.test_demoklein -*-
"""
The nevowcache demo on Klein (Python 3): a small blog whose routes are
cached with L{nevowcache.klein.cached}, and whose form handler invalidates
what it changed with L{nevowcache.klein.invalidateRoute}.

    ./dev demo-klein [PORT]            (default 8082; serves on 127.0.0.1)
    python -m demo.kleinblog [PORT]

Routes:
  - C{/}: the list of posts, cached for 10 seconds, then served stale while
    one background call of the route refreshes it;
  - C{/post/<n>}: a post, cached for a minute and tagged C{post-<n>}, with a
    form that edits it: the C{POST} to C{/post/<n>/edit} saves, invalidates
    the post and the list on every host, and redirects back to the post,
    which shows the edit at once;
  - C{/slow}: a route whose render costs about 100 ms of CPU, cached;
    C{/slow-uncached}: the same without the cache;
  - C{/session}: a route that uses the session: never stored;
  - C{/_cache/}: the operator's resource (a Klein branch route returning
    it): the status page, C{stats.json}, C{metrics} and purging
    (C{curl -X PURGE 'http://127.0.0.1:8082/_cache/purge?url=http://127.0.0.1:8082/'}).
"""

from __future__ import absolute_import, division, print_function

import platform
import sys
import time

import twisted
from klein import Klein
from twisted.web.template import Element, TagLoader, renderer, tags as T

from demo._common import STYLE, burn
from nevowcache import MemoryStore, PageCache
from nevowcache.admin import AdminResource
from nevowcache.klein import cached, invalidateRoute
from nevowcache.web import InvalidatingSite

cache = PageCache(MemoryStore(maxBytes=16 * 1024 * 1024, maxEntries=5000))



def _layout(title, *body):
    return T.html(
        T.head(T.title(title), T.style(STYLE)),
        T.body(T.h1(title), body,
               T.p(T.a(href="/")("posts"), " | ", T.a(href="/slow")("slow"), " | ",
                   T.a(href="/slow-uncached")("slow, uncached"), " | ",
                   T.a(href="/session")("session"), " | ",
                   T.a(href="/_cache/")("cache admin")),
               T.p(T.small("Klein adapter, Python %s, Twisted %s"
                           % (platform.python_version(), twisted.__version__)))))



def makeApp(pageCache):
    """
    The blog: its posts (in memory) and the Klein app serving them, its
    cached routes on C{pageCache}.

    @return: The L{Klein} app; its C{posts} maps post numbers to C{[title,
        text]}, its C{calls} counts the calls of each route.
    """
    app = Klein()
    posts = app.posts = {1: [u"Hello", u"The first post."],
                         2: [u"Caching Klein", u"One decorator per route."]}
    calls = app.calls = {}

    def called(name):
        calls[name] = calls.get(name, 0) + 1
        return u"call #%d at %s" % (calls[name], time.strftime("%H:%M:%S"))

    @app.route("/")
    @cached(cacheTimeout=10, cacheGrace=3600, cacheTags=[u"posts"], pageCache=pageCache)
    def home(request):
        """
        The list of posts.
        """
        return _Page(u"nevowcache on Klein", T.ul(
            [T.li(T.a(href="/post/%d" % (n,))(posts[n][0])) for n in sorted(posts)]),
            T.p(u"This list was built by the route's ", T.strong(called("home")),
                u". Reload it: for 10 seconds you get the same one (",
                T.code(u"Cache-Status: nevowcache; hit"), u"), then the stale one "
                u"at once while one background call of the route replaces it."))

    @app.route("/post/<int:pid>")
    @cached(cacheTimeout=60, cacheTags=lambda request, pid: [u"post-%d" % (pid,)],
            pageCache=pageCache)
    def post(request, pid):
        """
        One post, with the form that edits it.
        """
        if pid not in posts:
            request.setResponseCode(404)
            return u"no such post"
        title, text = posts[pid]
        return _Page(title, T.p(text), T.p(T.small(u"Built by ", called("post-%d" % (pid,)))),
                     T.form(method="POST", action="/post/%d/edit" % (pid,))(
                         T.input(name="title", value=title), u" ",
                         T.input(name="text", value=text), u" ",
                         T.button(type="submit")(u"save")))

    @app.route("/post/<int:pid>/edit", methods=["POST"])
    def edit(request, pid):
        """
        Save a post, invalidate what shows it, and go back to it.
        """
        if pid not in posts:
            request.setResponseCode(404)
            return u"no such post"
        for i, name in enumerate((b"title", b"text")):
            value = request.args.get(name)
            if value:
                posts[pid][i] = value[0].decode("utf-8", "replace")
        # On every host and port, hard: the redirect's GET calls the route.
        invalidateRoute(app, "post", pid=pid, request=request)
        invalidateRoute(app, "home", request=request)
        request.setResponseCode(303)
        request.setHeader(b"location", b"/post/%d" % (pid,))
        return u"saved"

    @app.route("/slow")
    @cached(cacheTimeout=60, pageCache=pageCache)
    def slow(request):
        """
        A table of 100 rows computed the slow way: about 100 ms.
        """
        return _Page(u"A slow page", T.p(u"Rendering this page costs about 100 ms of CPU."),
                     _SlowTable())

    @app.route("/slow-uncached")
    def slowUncached(request):
        """
        The same, without the cache.
        """
        return _Page(u"A slow page", T.p(u"Rendering this page costs about 100 ms of CPU."),
                     _SlowTable())

    @app.route("/session")
    @cached(cacheTimeout=60, pageCache=pageCache)
    def session(request):
        """
        Counts the visits of one session: never stored.
        """
        session = request.getSession()
        session.visits = getattr(session, "visits", 0) + 1
        return _Page(u"A personal page", T.p(
            u"You have seen this page %d times in this session." % (session.visits,)),
            T.p(u"Its response carries ", T.code(u"Cache-Status: ...; detail=session"),
                u": it is never stored or shared."))

    admin = AdminResource(pageCache)

    @app.route("/_cache/", branch=True)
    def operator(request):
        """
        The operator's resource: from loopback only (or give a token).
        """
        return admin

    return app



class _Page(Element):
    """
    A page of the demo: a title and a body, in the layout.
    """

    def __init__(self, title, *body):
        Element.__init__(self, loader=TagLoader(_layout(title, *body)))



class _SlowTable(Element):
    """
    The slow table.
    """
    loader = TagLoader(T.table(render="rows"))

    @renderer
    def rows(self, request, tag):
        burn(0.1)
        return tag([T.tr(T.td(str(i)), T.td(str(i * i))) for i in range(100)])



def makeSite(pageCache=None, reactor=None):
    """
    @param pageCache: The L{PageCache} of every route; by default this
        module's C{cache}.
    @param reactor: The reactor of the site's connections and sessions; by
        default the global one.
    @return: The demo's site: an L{InvalidatingSite}, so that every
        successful C{POST} also invalidates its target and its redirect's
        (C{site.app} is the app).
    """
    pageCache = cache if pageCache is None else pageCache
    app = makeApp(pageCache)
    site = InvalidatingSite(app.resource(), pageCaches=[pageCache], reactor=reactor)
    if reactor is not None:
        from twisted.web import server
        site.sessionFactory = lambda site, uid: server.Session(site, uid, reactor=reactor)
    site.app = app
    return site



def main(argv):
    from twisted.internet import reactor
    from twisted.python import log
    port = int(argv[1]) if len(argv) > 1 else 8082
    log.startLogging(sys.stdout)
    listening = reactor.listenTCP(port, makeSite(), interface="127.0.0.1")
    print("nevowcache demo (Klein, Python %s) at http://127.0.0.1:%d/"
          % (platform.python_version(), listening.getHost().port))
    sys.stdout.flush()
    reactor.run()



if __name__ == "__main__":
    # Run as demo.kleinblog, not __main__: the routes' names (the cache's
    # pages on /_cache/) are then demo.kleinblog.makeApp.<locals>.home ...
    from demo import kleinblog as _demo
    _demo.main(sys.argv)
