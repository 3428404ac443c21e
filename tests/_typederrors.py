# Mistakes nevowcache's type information must catch (tests/test_types.py
# expects mypy to report each line marked "error").
from nevowcache import MemoryStore, PageCache
from nevowcache.testing import MemoryClient
from nevowcache.web import cached

pages = PageCache(MemoryStore(), waitTimeout="soon")  # error: waitTimeout
pages.invalidate(42)  # error: invalidate
cached(object(), cacheTimeout=60)  # error: cached
MemoryClient(object()).get("/")  # error: get
MemoryStore(maxEntries=None)  # error: maxEntries
pages.stats().hits  # error: stats

from klein import Klein
from nevowcache.klein import cached as cachedRoute, invalidateRoute
app = Klein()
cachedRoute(cacheTimeout="a minute")  # error: cacheTimeout
invalidateRoute(app, 42)  # error: endpoint
