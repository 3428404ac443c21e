# A small application written against nevowcache's type information: the
# type check (tests/test_types.py) runs mypy --strict on it.  Python 3 only
# (annotations); never imported by the test suite.
from typing import Dict, List, Optional

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.web.iweb import IRenderable, IRequest
from twisted.web.resource import IResource, Resource
from twisted.web.server import Site
from twisted.web.template import Element, XMLString, renderer, Tag

from nevowcache import CacheKey, MemoryStore, PageCache, defaultPageCache
from nevowcache.admin import AdminResource
from nevowcache.metrics import CONTENT_TYPE, PageCacheCollector, prometheusText
from nevowcache.testing import (FailingStore, MemoryClient, MemoryResponse,
                                NotAnswered, StoreFailure, cacheOnClock)
from nevowcache.web import (CachedResource, ElementResource, InvalidatingSite, cached,
                            renderElementCached)

pages: PageCache = PageCache(MemoryStore(maxBytes=1024 * 1024, maxEntries=100),
                             waitTimeout=5.0, renderTimeout=10.0)


class Home(CachedResource):
    pageCache = pages
    cacheTimeout = 60
    cacheGrace = 3600.0
    cacheVary = (b"accept-language",)

    def render_GET(self, request: IRequest) -> bytes:
        return b"<p>home</p>"


class Greeting(Element):
    loader = XMLString('<p xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1" '
                       't:render="name" />')

    @renderer
    def name(self, request: Optional[IRequest], tag: Tag) -> Tag:
        return tag("hello")


class GreetingPage(ElementResource):
    cacheTimeout = 30

    def element(self, request: IRequest) -> IRenderable:
        return Greeting()


class Legacy(Resource):
    isLeaf = True

    def __init__(self) -> None:
        # Twisted's Resource.__init__ has no annotations.
        super().__init__()  # type: ignore[no-untyped-call]

    def render_GET(self, request: IRequest) -> bytes:
        return b"legacy"


class Rendered(CachedResource):
    def render_GET(self, request: IRequest) -> int:
        return renderElementCached(request, Greeting())

    def cacheKey(self, request: IRequest) -> Optional[tuple[bytes, ...]]:
        return (b"v2",)


def site() -> Site:
    root = Resource()
    root.putChild(b"", Home())
    root.putChild(b"greeting", GreetingPage())
    legacy: IResource = cached(Legacy(), cacheTimeout=30, pageCache=pages,
                               cacheKey=lambda request: (b"x",))
    root.putChild(b"legacy", legacy)
    tagged: IResource = cached(Legacy(), pageCache=pages, cacheTags=[u"legacy"])
    root.putChild(b"tagged", tagged)
    byRoute: IResource = cached(Legacy(), pageCache=pages,
                                cacheTags=lambda request: (u"route",))
    root.putChild(b"route", byRoute)
    root.putChild(b"_cache", AdminResource(pages, token="secret"))
    return InvalidatingSite(root, pageCaches=[pages])


def purge(url: bytes) -> "Deferred[None]":
    return pages.invalidate(url, hard=True)


def counters() -> Dict[str, object]:
    stats = defaultPageCache.stats()
    return {"hits": stats["hits"], "keys": pages.invalidatePrefix(b"/blog")}


def keyText(key: CacheKey) -> bytes:
    return key.digest()


def metrics() -> bytes:
    PageCacheCollector(pages, namespace="app").describe()
    return CONTENT_TYPE + b"\n" + prometheusText(pages)


def testHome() -> List[Optional[bytes]]:
    clock = Clock()
    store = FailingStore()
    cache = cacheOnClock(clock, store=store, storeTimeout=2.0)
    client = MemoryClient(Home(), clock)
    first: MemoryResponse = client.get(b"/", headers={b"accept-language": b"fr"})
    clock.advance(5)
    store.mode = "fail"
    pending = client.request(b"GET", b"/")
    try:
        pending.response()
    except (NotAnswered, StoreFailure):
        pass
    age: Optional[int] = client.get(b"/").age
    cache.clear()
    return [first.cacheStatus, first.header(b"etag"), str(age).encode("ascii"),
            client.post(b"/", body=b"a=1").body]


# A Klein app with cached routes (nevowcache.klein).
from klein import Klein

from nevowcache.klein import cached as cachedRoute, invalidateRoute

blog = Klein()


@blog.route("/post/<int:pid>")
@cachedRoute(cacheTimeout=60, cacheGrace=600, pageCache=pages,
             cacheTags=lambda request, pid: [u"post-%d" % (pid,)])
def post(request: IRequest, pid: int) -> IRenderable:
    return Greeting()


@blog.route("/about")
@cachedRoute
def about(request: IRequest) -> "Deferred[str]":
    d: "Deferred[str]" = Deferred()
    d.callback(u"about")
    return d


@blog.route("/post/<int:pid>/edit", methods=["POST"])
def edit(request: IRequest, pid: int) -> bytes:
    invalidateRoute(blog, "post", pid=pid, request=request)
    done: "Deferred[None]" = invalidateRoute(blog, "about", hard=False, pageCache=pages)
    return b"saved"


def kleinSite() -> Site:
    return InvalidatingSite(blog.resource(), pageCaches=[pages])
