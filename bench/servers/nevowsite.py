"""
A Nevow benchmark server (Python 2.7, Twisted 20.3, Nevow 0.14.5).

    python -m bench.servers.nevowsite --variant VARIANT --port PORT [options]

Variants:
  - C{uncached}: plain C{rend.Page}s;
  - C{naive}: the 2005 patch's cache, a dict of strings keyed by
    C{str(url.URL.fromContext(ctx))} (unbounded, never expires), written
    here for the benchmark only;
  - C{cached}: nevowcache's C{CachedPage} (C{--timeout}: its
    C{cacheTimeout}; a short one keeps background refreshes running);
  - C{cachingsite}: the same pages served by C{nevowcache.CachingSite}
    instead of C{NevowSite} (exits with status 3 if nevowcache has none).

The cached variants keep their entries where C{--store} says (a
C{MemoryStore}, Redis or memcached at C{--store-port}), with a near tier
in front if C{--near}.

Every variant serves the benchmark page at C{/1k}, C{/10k} and C{/100k}, and
C{/_bench/stats} (JSON: renders per page, the cache's statistics, RSS).
The cached variants also serve C{/burst}: the 10k page whose data arrives
after C{--burst-delay-ms} (a L{Deferred}), for the cold-burst test.
"""

from __future__ import absolute_import, division, print_function

import sys
from io import BytesIO

from nevow import appserver, inevow, rend, tags, url
from nevow.context import WovenContext
from nevow.rend import _getPreprocessors
from twisted.internet import reactor
from twisted.python import log

import nevowcache
from nevowcache import CachedPage, PageCache

from bench.servers import _common, benchpage

__all__ = ["NaivePage", "main"]

# The 2005 cache: rendered pages by URL.
_NAIVE = {}



class NaivePage(rend.Page):
    """
    C{rend.Page} with the cache of the 2005 patch (see C{shared/seed}),
    ported to Nevow 0.14.5's C{_renderHTTP}: the page is rendered buffered
    into a string, kept in a module-level dict under
    C{str(url.URL.fromContext(ctx))}, and returned from there on the next
    request for the same URL.  Nothing expires or is ever evicted; headers,
    cookies and sessions are ignored.  (The patch wrote a hit twice, the
    "page duplicated twice" bug its author noticed; this version returns it
    once.)
    """
    buffered = True

    def _renderHTTP(self, ctx):
        request = inevow.IRequest(ctx)
        log.msg(http_render=None, uri=request.uri)
        self.rememberStuff(ctx)
        key = str(url.URL.fromContext(ctx))
        cached = _NAIVE.get(key)
        if cached is not None:
            return cached
        io = BytesIO()

        def finisher(result):
            body = _NAIVE[key] = io.getvalue()
            request.write(body)
            return result
        doc = self.docFactory.load(ctx, _getPreprocessors(self))
        ctx = WovenContext(ctx, tags.invisible[doc])
        return self.flattenFactory(doc, ctx, io.write, finisher)



class Stats(rend.Page):
    """
    C{/_bench/stats}: renders per page, the cache's statistics and this
    process's RSS, as JSON.
    """

    def __init__(self, cache):
        rend.Page.__init__(self)
        self._cache = cache


    def renderHTTP(self, ctx):
        request = inevow.IRequest(ctx)
        request.setHeader(b"content-type", b"application/json")
        extra = {"renders": dict(benchpage.renders), "naiveEntries": len(_NAIVE)}
        if self._cache is not None:
            extra["cache"] = self._cache.stats()
        return _common.statsJSON(extra)



class Root(rend.Page):
    """
    The site's root: the pages are its children.
    """
    addSlash = False

    def renderHTTP(self, ctx):
        return b"benchmark server\n"



def makeRoot(options):
    """
    Build the page tree of one variant.

    @return: C{(root, cache)}; C{cache} is L{None} for the uncached and
        naive variants.
    """
    variant = options.variant
    renderSeconds = options.render_ms / 1000.0
    cache = None
    extra = {}
    if variant == "uncached":
        base = rend.Page
    elif variant == "naive":
        base = NaivePage
    elif variant in ("cached", "cachingsite"):
        base = CachedPage
        cache = PageCache(_common.makeStore(options))
        extra = dict(pageCache=cache, cacheTimeout=options.timeout, cacheGrace=None)
    else:
        raise SystemExit("unknown variant %r" % (variant,))
    root = Root()
    for size in _common.SIZES:
        page = benchpage.pageClass(base, size, size, renderSeconds, **extra)
        root.putChild(size, page())
    if cache is not None:
        burst = benchpage.pageClass(base, "10k", "burst", renderSeconds,
                                    options.burst_delay_ms / 1000.0, **extra)
        root.putChild("burst", burst())
    bench = rend.Page()
    bench.putChild("stats", Stats(cache))
    root.putChild("_bench", bench)
    return root, cache



def main(argv):
    parser = _common.serverParser(__doc__.strip().splitlines()[0])
    parser.add_argument("--render-ms", type=float, default=0.0,
                        help="extra CPU milliseconds per render")
    parser.add_argument("--burst-delay-ms", type=float, default=500.0,
                        help="how long /burst's data takes to arrive")
    options = parser.parse_args(argv[1:])
    _common.raiseFileLimit()
    _common.startLogging()
    root, cache = makeRoot(options)
    if options.variant == "cachingsite":
        if not hasattr(nevowcache, "CachingSite"):
            sys.stderr.write("nevowcache.CachingSite is not available\n")
            return 3
        site = nevowcache.CachingSite(root)
    else:
        site = appserver.NevowSite(root)
    _common.listen(reactor, options.port, site)
    reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
