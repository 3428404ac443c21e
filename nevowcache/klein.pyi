# Type information for nevowcache.klein (see nevowcache/__init__.pyi).
from typing import Any, Callable, Optional, Sequence, Tuple, TypeVar, Union, overload

from klein import Klein
from twisted.internet.defer import Deferred
from twisted.web.iweb import IRequest

from nevowcache import CacheKey, PageCache

__all__ = ["cached", "invalidateRoute"]

_Route = TypeVar("_Route", bound=Callable[..., Any])
_KeyPart = Union[bytes, str, int, None, Tuple[Any, ...]]
# Tags: a sequence, or a callable of the request and the route's arguments.
_Tags = Union[None, Union[bytes, str], Sequence[Union[bytes, str]],
              Callable[..., Sequence[Union[bytes, str]]]]


@overload
def cached(function: _Route) -> _Route: ...
@overload
def cached(function: None = ..., cacheTimeout: Optional[float] = ...,
           cacheGrace: Optional[float] = ..., cacheVary: Sequence[Union[bytes, str]] = ...,
           cacheControl: Optional[str] = ..., cacheTags: _Tags = ...,
           pageCache: Optional[PageCache] = ...,
           cacheKey: Optional[Callable[..., Union[_KeyPart, CacheKey]]] = ...,
           ) -> Callable[[_Route], _Route]: ...


def invalidateRoute(app: Klein, endpoint: str, hard: bool = ...,
                    pageCache: Optional[PageCache] = ..., request: Optional[IRequest] = ...,
                    **values: Any) -> Deferred[None]: ...
