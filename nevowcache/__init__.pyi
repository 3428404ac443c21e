# Type information for nevowcache's public API (PEP 561).  The package's
# source stays Python 2.7-compatible and unannotated; tests/test_types.py
# checks this file against the runtime (mypy.stubtest) and a typed
# application against it (mypy --strict).
import sys
from typing import (Any, Callable, ClassVar, Dict, Iterable, List, Mapping,
                     Optional, Sequence, Tuple, Union)

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.web.http_headers import Headers
from twisted.web.iweb import IRequest
from zope.interface import Interface

__version__: str

__all__ = [
    "PageCache",
    "MemoryStore",
    "MemcachedStore",
    "RedisStore",
    "NearStore",
    "defaultPageCache",
    "IPageStore",
    "IScopedStore",
    "IPeekableStore",
    "IChargedStore",
    "ISharedStore",
    "ILeaseStore",
    "INearStore",
    "CacheKey",
    "CacheEntry",
    "Generation",
]

# What a page adds to its key: nested tuples of these.
_KeyPart = Union[bytes, str, int, None, Tuple[Any, ...]]
_Scope = Tuple[Any, ...]
_Stats = Dict[str, Any]


class _Clock(object):
    def seconds(self) -> float: ...


class CacheKey(object):
    url: Tuple[Any, ...]
    variant: Tuple[Any, ...]
    def __init__(self, url: Tuple[Any, ...], variant: Tuple[Any, ...] = ...) -> None: ...
    def __hash__(self) -> int: ...
    def __eq__(self, other: object) -> bool: ...
    def __ne__(self, other: object) -> bool: ...
    @property
    def segments(self) -> Tuple[bytes, ...]: ...
    @property
    def extra(self) -> Any: ...
    def withVaryValues(self, values: Any) -> CacheKey: ...
    def encoded(self) -> bytes: ...
    def digest(self) -> bytes: ...


class Generation(Tuple[int, int, int, int, Tuple[Any, ...]]):
    def __new__(cls, clearGeneration: int = ..., clearFloor: int = ...,
                urlGeneration: int = ..., urlFloor: int = ...,
                scopes: Iterable[Any] = ...) -> Generation: ...
    @property
    def scopes(self) -> Tuple[Any, ...]: ...
    def stamp(self) -> Tuple[Any, ...]: ...
    def judge(self, stamp: Optional[Tuple[Any, ...]]) -> str: ...


class CacheEntry(object):
    key: CacheKey
    code: int
    message: bytes
    headers: List[Tuple[bytes, List[bytes]]]
    body: bytes
    created: float
    generation: Any
    lastModified: Optional[float]
    etag: Optional[bytes]
    def __init__(self, key: CacheKey, code: int, message: bytes,
                 headers: Iterable[Tuple[bytes, Sequence[bytes]]], body: bytes,
                 created: float, generation: Any = ..., lastModified: Optional[float] = ...,
                 etag: Optional[bytes] = ...) -> None: ...
    @property
    def size(self) -> int: ...
    def replayHeaders(self) -> List[Tuple[bytes, List[bytes]]]: ...
    def headerBlock(self) -> bytes: ...


class _CaptureRequest(object):
    # Not public: nevowcache._http.capture.CaptureRequest, the type of what
    # PageCache.serve's render callables fire with.  A stand-in for the live request while a page renders: it has the
    # request's API (twisted.web's IRequest, and Nevow's), recording what the
    # render did to decide whether the response may be stored.
    offered: ClassVar[Mapping[str, str]]
    code: int
    code_message: bytes
    responseHeaders: Headers
    requestHeaders: Any
    body: List[bytes]
    cookies: List[bytes]
    lastModified: Optional[float]
    etag: Optional[bytes]
    headersRead: Any
    refusals: List[bytes]
    finished: bool
    startedWriting: bool
    def __init__(self, underlying: IRequest, responseHeaders: Optional[Headers] = ...) -> None: ...
    def __getattr__(self, name: str) -> Any: ...
    def refuse(self, reason: bytes) -> None: ...
    def value(self) -> bytes: ...


class _CachePolicy(object):
    # Not public: nevowcache._engine.pagecache.CachePolicy, how an adapter tells
    # PageCache how one page is cached (from its cacheTimeout, ...).
    timeout: Optional[float]
    grace: Optional[float]
    vary: Tuple[bytes, ...]
    cacheControl: Optional[str]
    tags: Any
    def __init__(self, timeout: Optional[float], grace: Optional[float] = ...,
                 vary: Iterable[Union[bytes, str]] = ..., cacheControl: Optional[str] = ...,
                 tags: Any = ...) -> None: ...
    def __eq__(self, other: object) -> bool: ...
    def __ne__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...
    @classmethod
    def fromPage(cls, page: Any, context: Any = ...) -> Optional[_CachePolicy]: ...
    def scopesFor(self, key: CacheKey) -> Tuple[_Scope, ...]: ...
    def downstream(self, age: float, stale: bool) -> Optional[bytes]: ...


class _Answer(object):
    # Not public: nevowcache._engine.pagecache.Answer, what PageCache.serve answers.
    entry: Optional[CacheEntry]
    capture: Optional[_CaptureRequest]
    status: bytes
    age: Optional[float]
    cacheControl: Optional[bytes]
    def __init__(self, entry: Optional[CacheEntry] = ..., capture: Optional[_CaptureRequest] = ...,
                 status: bytes = ..., age: Optional[float] = ...,
                 cacheControl: Optional[bytes] = ...) -> None: ...
    def replay(self, request: IRequest) -> None: ...
    def respond(self, request: IRequest, leading: bytes = ...,
                contentType: Optional[bytes] = ...) -> None: ...
    def writeDirect(self, request: IRequest, leading: bytes = ...,
                    contentType: Optional[bytes] = ...) -> bool: ...


class IPageStore(Interface):
    # Stores are zope.interface providers: implement these as methods
    # (with self) and declare @implementer(IPageStore).
    name: Any
    def lookup(key: CacheKey, scopes: Sequence[_Scope] = ...) -> Deferred[Any]: ...
    def store(key: CacheKey, entry: CacheEntry) -> Deferred[bool]: ...
    def delete(key: CacheKey) -> Deferred[None]: ...
    def invalidate(url: Tuple[Any, ...], hard: bool) -> Deferred[None]: ...
    def clear(hard: bool) -> Deferred[None]: ...
    def stats() -> _Stats: ...


class IScopedStore(IPageStore):
    def invalidateScope(scope: _Scope, hard: bool) -> Deferred[None]: ...


class IPeekableStore(IPageStore):
    def peek(key: CacheKey, scopes: Sequence[_Scope] = ...) -> Any: ...
    def needsScopes() -> bool: ...


class IChargedStore(IPageStore):
    maxBytes: int
    def charge(size: int) -> None: ...


class ISharedStore(IPageStore): ...


class INearStore(IPageStore):
    shared: Any
    bound: float


class ILeaseStore(Interface):
    def acquireLease(key: CacheKey, ttl: float) -> Deferred[Optional[bytes]]: ...
    def releaseLease(key: CacheKey, token: bytes) -> Deferred[bool]: ...


class MemoryStore(object):
    name: str
    maxBytes: int
    maxEntries: int
    maxEntryBytes: int
    maxUrls: int
    maxUrlBytes: int
    def __init__(self, maxBytes: int = ..., maxEntries: int = ...,
                 maxEntryBytes: Optional[int] = ..., maxUrls: int = ...,
                 maxUrlBytes: Optional[int] = ...) -> None: ...
    def lookup(self, key: CacheKey, scopes: Sequence[_Scope] = ...) -> Deferred[Any]: ...
    def needsScopes(self) -> bool: ...
    def peek(self, key: CacheKey, scopes: Sequence[_Scope] = ...) -> Any: ...
    def store(self, key: CacheKey, entry: CacheEntry) -> Deferred[bool]: ...
    def charge(self, size: int) -> None: ...
    def delete(self, key: CacheKey) -> Deferred[None]: ...
    def invalidate(self, url: Tuple[Any, ...], hard: bool) -> Deferred[None]: ...
    def invalidateScope(self, scope: _Scope, hard: bool) -> Deferred[None]: ...
    def clear(self, hard: bool) -> Deferred[None]: ...
    def stats(self) -> _Stats: ...


class _SharedStore(object):
    # nevowcache._stores.sharedstore.SharedStore: what MemcachedStore and RedisStore share.
    name: str
    defaultPort: int
    host: str
    port: int
    timeout: float
    namespace: bytes
    maxEntryBytes: int
    entryTimeout: int
    maxPendingInvalidations: int
    writerId: bytes
    @property
    def reactor(self) -> Any: ...
    @property
    def servers(self) -> List[Tuple[str, int, int]]: ...
    def lookup(self, key: CacheKey, scopes: Sequence[_Scope] = ...) -> Deferred[Any]: ...
    def store(self, key: CacheKey, entry: CacheEntry) -> Deferred[bool]: ...
    def delete(self, key: CacheKey) -> Deferred[None]: ...
    def invalidate(self, url: Tuple[Any, ...], hard: bool) -> Deferred[None]: ...
    def invalidateScope(self, scope: _Scope, hard: bool) -> Deferred[None]: ...
    def clear(self, hard: bool) -> Deferred[None]: ...
    def stats(self) -> _Stats: ...
    def acquireLease(self, key: CacheKey, ttl: float) -> Deferred[Optional[bytes]]: ...
    def releaseLease(self, key: CacheKey, token: bytes) -> Deferred[bool]: ...
    def close(self) -> Deferred[None]: ...


_Server = Union[str, bytes, Tuple[str], Tuple[str, int], Tuple[str, int, int]]


class MemcachedStore(_SharedStore):
    def __init__(self, host: str = ..., port: int = ...,
                 servers: Optional[Sequence[_Server]] = ..., *, timeout: float = ...,
                 namespace: bytes = ..., maxEntryBytes: int = ..., entryTimeout: int = ...,
                 secret: Optional[bytes] = ..., maxFailures: int = ..., coolDown: float = ...,
                 maxPendingInvalidations: int = ..., reactor: Any = ...,
                 endpoint: Any = ...) -> None: ...


class RedisStore(_SharedStore):
    password: Optional[Union[bytes, str]]
    dbid: Optional[int]
    sentinels: Optional[List[Tuple[str, int]]]
    masterName: Optional[str]
    sentinelPassword: Optional[Union[bytes, str]]
    @property
    def primary(self) -> Optional[Tuple[str, int]]: ...
    def subscriberAddress(self) -> Tuple[str, int]: ...
    def __init__(self, host: str = ..., port: int = ...,
                 password: Optional[Union[bytes, str]] = ..., dbid: Optional[int] = ...,
                 maxEntryBytes: int = ..., sentinels: Optional[Sequence[_Server]] = ...,
                 masterName: Optional[str] = ...,
                 sentinelPassword: Optional[Union[bytes, str]] = ...,
                 *, timeout: float = ..., namespace: bytes = ...,
                 entryTimeout: int = ..., secret: Optional[bytes] = ..., maxFailures: int = ...,
                 coolDown: float = ..., maxPendingInvalidations: int = ...,
                 reactor: Any = ..., endpoint: Any = ...) -> None: ...


class NearStore(object):
    shared: Union[MemcachedStore, RedisStore]
    name: str
    bound: float
    maxBytes: int
    maxEntries: int
    def __init__(self, shared: Union[MemcachedStore, RedisStore], maxBytes: int = ...,
                 maxEntries: int = ..., bound: Optional[float] = ...,
                 reactor: Any = ...) -> None: ...
    @property
    def reactor(self) -> Any: ...
    @property
    def clock(self) -> Any: ...
    def lookup(self, key: CacheKey, scopes: Sequence[_Scope] = ...) -> Deferred[Any]: ...
    def needsScopes(self) -> bool: ...
    def peek(self, key: CacheKey, scopes: Sequence[_Scope] = ...) -> Any: ...
    def store(self, key: CacheKey, entry: CacheEntry) -> Deferred[bool]: ...
    def delete(self, key: CacheKey) -> Deferred[None]: ...
    def invalidate(self, url: Tuple[Any, ...], hard: bool) -> Deferred[None]: ...
    def invalidateScope(self, scope: _Scope, hard: bool) -> Deferred[None]: ...
    def clear(self, hard: bool) -> Deferred[None]: ...
    def stats(self) -> _Stats: ...
    def acquireLease(self, key: CacheKey, ttl: float) -> Deferred[Optional[bytes]]: ...
    def releaseLease(self, key: CacheKey, token: bytes) -> Deferred[bool]: ...
    def close(self) -> Deferred[None]: ...


_Store = Union[IPageStore, MemoryStore, MemcachedStore, RedisStore, NearStore, Any]


class PageCache(object):
    store: Any
    waitTimeout: float
    renderTimeout: float
    refreshBackoff: float
    maxRefreshBackoff: float
    maxRefreshes: int
    maxVariants: int
    leaseTimeout: Optional[float]
    leasePoll: float
    storeTimeout: float
    invalidateOnUnsafe: bool
    sliceClock: _Clock
    def __init__(self, store: Optional[_Store] = ..., reactor: Optional[IReactorTime] = ...,
                 clock: Optional[_Clock] = ..., waitTimeout: float = ...,
                 renderTimeout: float = ..., refreshBackoff: float = ...,
                 maxRefreshBackoff: float = ..., maxRefreshes: int = ...,
                 wallClock: Optional[_Clock] = ..., maxVariants: int = ...,
                 leaseTimeout: Optional[float] = ..., leasePoll: float = ...,
                 storeTimeout: float = ..., sliceClock: Optional[_Clock] = ...) -> None: ...
    @property
    def reactor(self) -> IReactorTime: ...
    def keyFor(self, request: IRequest, pageName: Union[bytes, str],
               vary: Iterable[bytes] = ..., extra: _KeyPart = ...) -> CacheKey: ...
    def pageKey(self, request: IRequest, pageName: Union[bytes, str], policy: _CachePolicy,
                extra: Union[_KeyPart, CacheKey] = ...) -> CacheKey: ...
    def bypassReason(self, request: IRequest) -> Optional[bytes]: ...
    def bypassed(self, reason: bytes, request: Optional[IRequest] = ...) -> bytes: ...
    def serve(self, request: IRequest, key: CacheKey, policy: _CachePolicy,
              render: Callable[[], Deferred[_CaptureRequest]],
              makeRefresher: Callable[[], Callable[[], Deferred[_CaptureRequest]]],
              ) -> Deferred[_Answer]: ...
    def answerAtOnce(self, key: CacheKey, policy: _CachePolicy,
                     makeRefresher: Optional[Callable[[], Callable[[], Deferred[_CaptureRequest]]]] = ...,
                     ) -> Optional[_Answer]: ...
    def lookUpEarly(self, request: IRequest, key: CacheKey, policy: _CachePolicy,
                    answer: Callable[[_Answer], Any], passOn: Callable[[], Any],
                    ) -> Optional[Deferred[Any]]: ...
    def invalidate(self, url: Union[bytes, str], hard: bool = ...) -> Deferred[None]: ...
    def invalidatePrefix(self, urlPrefix: Union[bytes, str], hard: bool = ...) -> Deferred[None]: ...
    def invalidateTag(self, tag: Union[bytes, str], hard: bool = ...) -> Deferred[None]: ...
    def invalidateAfter(self, request: IRequest) -> None: ...
    def clear(self, hard: bool = ...) -> Deferred[None]: ...
    def stats(self) -> _Stats: ...


defaultPageCache: PageCache


if sys.version_info < (3,):
    __all__ += ["CachedPage", "CachedPageMixin", "CachingSite"]

    # Nevow runs only on Python 2.7, which no type checker reads any more:
    # these are for the record.
    class CachedPageMixin(object):
        pageCache: Optional[PageCache]
        cacheTimeout: Optional[float]
        cacheGrace: Optional[float]
        cacheVary: Sequence[Union[bytes, str]]
        cacheControl: Optional[str]
        cacheTags: Any
        def cacheKey(self, ctx: Any) -> Any: ...

    class CachedPage(CachedPageMixin):
        ...

    class CachingSite(object):
        def __init__(self, resource: Any, *args: Any, **kwargs: Any) -> None: ...
