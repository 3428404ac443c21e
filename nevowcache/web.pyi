# Type information for nevowcache.web (see nevowcache/__init__.pyi).
from typing import Any, Callable, Iterable, Optional, Sequence, Tuple, Union, overload

from twisted.web.iweb import IRenderable, IRequest
from twisted.web.resource import IResource, Resource
from twisted.web.server import Request, Site

from nevowcache import CacheKey, PageCache

__all__ = ["CachedResource", "ElementResource", "cached", "renderElementCached",
           "InvalidatingSite", "InvalidatingRequest"]

_KeyPart = Union[bytes, str, int, None, Tuple[Any, ...]]


class CachedResource(Resource):
    pageCache: Optional[PageCache]
    cacheTimeout: Optional[float]
    cacheGrace: Optional[float]
    cacheVary: Sequence[Union[bytes, str]]
    cacheControl: Optional[str]
    cacheTags: Any
    def __init__(self) -> None: ...
    def cacheKey(self, request: IRequest) -> Union[_KeyPart, CacheKey]: ...
    def getChildWithDefault(self, name: bytes, request: IRequest) -> IResource: ...
    def render(self, request: IRequest) -> Union[bytes, int]: ...


class ElementResource(CachedResource):
    doctype: Optional[bytes]
    def element(self, request: IRequest) -> IRenderable: ...
    def render_GET(self, request: IRequest) -> int: ...


_Tags = Union[None, Union[bytes, str], Sequence[Union[bytes, str]],
              Callable[[IRequest], Sequence[Union[bytes, str]]]]


@overload
def cached(resource: IResource, cacheTimeout: Optional[float] = ...,
           cacheGrace: Optional[float] = ..., cacheVary: Sequence[Union[bytes, str]] = ...,
           cacheControl: Optional[str] = ..., pageCache: Optional[PageCache] = ...,
           cacheKey: Optional[Callable[[IRequest], Union[_KeyPart, CacheKey]]] = ...,
           cacheTags: _Tags = ...) -> IResource: ...
@overload
def cached(resource: None = ..., cacheTimeout: Optional[float] = ...,
           cacheGrace: Optional[float] = ..., cacheVary: Sequence[Union[bytes, str]] = ...,
           cacheControl: Optional[str] = ..., pageCache: Optional[PageCache] = ...,
           cacheKey: Optional[Callable[[IRequest], Union[_KeyPart, CacheKey]]] = ...,
           cacheTags: _Tags = ...) -> Callable[[IResource], IResource]: ...


def renderElementCached(request: IRequest, element: IRenderable,
                        doctype: Optional[bytes] = ...) -> int: ...


class InvalidatingRequest(Request):
    def process(self) -> None: ...


class InvalidatingSite(Site):
    requestFactory: type[InvalidatingRequest]
    pageCaches: Tuple[PageCache, ...]
    def __init__(self, resource: IResource, *args: Any,
                 pageCaches: Optional[Iterable[PageCache]] = ..., **kwargs: Any) -> None: ...
