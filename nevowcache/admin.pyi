# Type information for nevowcache.admin (see nevowcache/__init__.pyi).
from typing import Optional, Union

from twisted.web.iweb import IRequest
from twisted.web.resource import Resource

from nevowcache import PageCache

__all__ = ["AdminResource"]


class AdminResource(Resource):
    isLeaf: bool
    cache: PageCache
    def __init__(self, cache: PageCache, token: Optional[Union[bytes, str]] = ...,
                 csrfSecret: Optional[bytes] = ...) -> None: ...
    def render(self, request: IRequest) -> bytes: ...
