# Type information for nevowcache.metrics (see nevowcache/__init__.pyi).
from typing import Any, Iterator, List

from nevowcache import PageCache

__all__ = ["PageCacheCollector", "prometheusText", "CONTENT_TYPE"]

CONTENT_TYPE: bytes


class PageCacheCollector(object):
    # A prometheus_client collector: REGISTRY.register(PageCacheCollector(cache)).
    def __init__(self, cache: PageCache, namespace: str = ...) -> None: ...
    def collect(self) -> Iterator[Any]: ...
    def describe(self) -> List[Any]: ...


def prometheusText(cache: PageCache, namespace: str = ...) -> bytes: ...
