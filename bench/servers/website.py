"""
A twisted.web benchmark server (Python 2.7 with Twisted 20.3, or Python 3
with current Twisted).

    python -m bench.servers.website --variant VARIANT --port PORT --docroot DIR

Variants:
  - C{bare}: a plain L{Resource} per page returning the page's bytes (read
    once from C{DIR/1k.html}, C{DIR/10k.html}, C{DIR/100k.html}: the bytes
    the Nevow page renders), with Nevow's C{Content-Type};
  - C{cached}: nevowcache's L{CachedResource} in front of the same render
    (C{--timeout}: its C{cacheTimeout}).

Both serve the pages at C{/1k}, C{/10k} and C{/100k}, and
C{/_bench/stats} (JSON: renders per page, the cache's statistics, RSS).
"""

from __future__ import absolute_import, division, print_function

import os
import sys

from twisted.internet import reactor
from twisted.web.resource import Resource
from twisted.web.server import Site

from nevowcache import PageCache
from nevowcache.web import CachedResource

from bench.servers import _common

__all__ = ["BarePage", "CachedPage", "main"]

_renders = {}



def _render(page, request):
    """
    What both variants render: count it, and answer with the bytes.
    """
    _renders[page.counter] = _renders.get(page.counter, 0) + 1
    request.setHeader(b"content-type", _common.HTML)
    return page.body



class BarePage(Resource):
    """
    The page's bytes, as a twisted.web resource serves a string.
    """
    isLeaf = True

    def __init__(self, body, counter):
        Resource.__init__(self)
        self.body = body
        self.counter = counter


    def render_GET(self, request):
        return _render(self, request)



class CachedPage(CachedResource):
    """
    The same render, with nevowcache in front.  Each render answers with
    new bytes, as a real render does (the bare page's one string would be
    shared by every stored entry, and the memory flood would not see it).
    """
    isLeaf = True
    cacheGrace = None

    def __init__(self, body, counter, cache, timeout):
        CachedResource.__init__(self)
        self.body = body
        self.counter = counter
        self.pageCache = cache
        self.cacheTimeout = timeout


    def render_GET(self, request):
        body = _render(self, request)
        return body[:1] + body[1:]



class Stats(Resource):
    """
    C{/_bench/stats}: renders per page, the cache's statistics and this
    process's RSS, as JSON.
    """
    isLeaf = True

    def __init__(self, cache):
        Resource.__init__(self)
        self._cache = cache


    def render_GET(self, request):
        request.setHeader(b"content-type", b"application/json")
        extra = {"renders": dict(_renders)}
        if self._cache is not None:
            extra["cache"] = self._cache.stats()
        return _common.statsJSON(extra)



def makeRoot(options):
    """
    Build the resource tree of one variant.

    @return: C{(root, cache)}; C{cache} is L{None} for the bare variant.
    """
    cache = None
    if options.variant == "cached":
        cache = PageCache(_common.makeStore(options))
    elif options.variant != "bare":
        raise SystemExit("unknown variant %r" % (options.variant,))
    root = Resource()
    for size in _common.SIZES:
        with open(os.path.join(options.docroot, size + ".html"), "rb") as f:
            body = f.read()
        name = size.encode("ascii")
        if cache is None:
            root.putChild(name, BarePage(body, size))
        else:
            root.putChild(name, CachedPage(body, size, cache, options.timeout))
    bench = Resource()
    bench.putChild(b"stats", Stats(cache))
    root.putChild(b"_bench", bench)
    return root, cache



def main(argv):
    parser = _common.serverParser(__doc__.strip().splitlines()[0])
    parser.add_argument("--docroot", required=True,
                        help="the directory holding 1k.html, 10k.html, 100k.html")
    options = parser.parse_args(argv[1:])
    _common.raiseFileLimit()
    _common.startLogging()
    root, _ = makeRoot(options)
    _common.listen(reactor, options.port, Site(root))
    reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
