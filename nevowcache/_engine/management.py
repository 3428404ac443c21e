# -*- test-case-name: tests.test_behaviour,tests.test_stats -*-
"""
What an application or an operator calls on a L{PageCache}, off the path of
the requests it answers: L{CacheManagement}, invalidation (handed to the
cache's L{Invalidator}) and the counters.
"""

from __future__ import absolute_import, division

__all__ = ["CacheManagement"]



class CacheManagement(object):
    """
    Invalidation and counters, for applications (a form handler invalidating
    what it changed), operators (purging, the status page) and their tools.

    Mixed into L{PageCache}, whose constructor (L{CacheWiring}) makes what
    these use: C{_invalidation} (an L{Invalidator}), the counters
    (C{_stats}), the store, the L{FlightTable} (C{_flights}) and the
    L{RefreshScheduler} (C{_refreshes}).
    """

    def invalidate(self, url, hard=False):
        """
        Invalidate every entry stored for a URL, whatever page or variant
        stored it.

        Given a path alone (C{"/post/1"}), every entry of that path on
        every scheme, host and port, whatever its query: the usual way for
        applications, since a page is reached through every alias of the
        site (C{localhost}, C{127.0.0.1}, C{www.}...), and an application
        building the URL from the request would reach only one.  Given an
        absolute URL, that scheme, host, port, path and query only.

        @param url: A path (C{/post/1}; a query in it is ignored), or an
            absolute URL, C{http://host:port/path?query} (text or bytes;
            the port defaults to 80 for http, 443 for https).
        @param hard: If false (the default), the entries become stale: they
            are served within the page's grace while one refresh runs.  If
            true, they are gone: the next request renders.
        @return: A L{Deferred} that fires when the store has it.
        @raise ValueError: If C{url} is neither a path nor an absolute
            http(s) URL.
        """
        return self._invalidation.url(url, hard)


    def invalidatePrefix(self, urlPrefix, hard=False):
        """
        Invalidate every entry stored for the URLs under a path prefix,
        whatever page or variant stored them, in every process sharing the
        store.

        Prefixes end on path-segment boundaries and ignore the query:
        C{/blog} (or C{/blog/}) reaches C{/blog}, C{/blog/} and
        C{/blog/x?y=1}, not C{/blogs}; C{/} reaches every path.  Given a
        path alone, on every scheme, host and port; given an absolute URL
        (C{http://example.com:8080/blog}), on that scheme, host and port
        only.

        @param urlPrefix: A path, or an absolute URL, as L{invalidate}
            takes.
        @param hard: As for L{invalidate}.
        @return: A L{Deferred} that fires when the store has it.
        @raise ValueError: If C{urlPrefix} is neither a path nor an
            absolute http(s) URL, or is deeper than 32 segments.
        """
        return self._invalidation.prefix(urlPrefix, hard)


    def invalidateTag(self, tag, hard=False):
        """
        Invalidate every entry of the pages tagged C{tag} (C{cacheTags}), in
        every process sharing the store.

        @param tag: Text, or UTF-8 L{bytes}.
        @param hard: As for L{invalidate}.
        @return: A L{Deferred} that fires when the store has it.
        """
        return self._invalidation.tag(tag, hard)


    def clear(self, hard=True):
        """
        Invalidate every entry.

        @param hard: If true (the default), every entry is gone; if false,
            all are stale.
        @return: A L{Deferred} that fires when the store has it.
        """
        return self._invalidation.clear(hard)


    def stats(self):
        """
        @return: A L{dict} of counters: C{hits}, C{staleHits}, C{misses},
            C{collapsed}, C{renders}, C{refreshes}, C{refreshFailures},
            C{bypasses}, C{refusals}, ..., and the store's C{entries},
            C{bytes} and C{evictions}.
        """
        result = dict(self._stats)
        result.update(self.store.stats())
        result["inFlight"] = len(self._flights)
        result["refreshesRunning"] = self._refreshes.running
        return result
