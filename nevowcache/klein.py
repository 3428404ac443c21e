# -*- test-case-name: tests.test_klein -*-
"""
The Klein adapter (Python 3, with Klein: C{pip install 'nevowcache[klein]'}):
a cache in front of one route, and the invalidation of a route by its
endpoint and arguments::

    from klein import Klein
    from nevowcache.klein import cached, invalidateRoute
    from nevowcache.web import InvalidatingSite

    app = Klein()

    @app.route("/post/<int:pid>")
    @cached(cacheTimeout=60, cacheTags=lambda request, pid: ["post-%d" % pid])
    def post(request, pid):
        return PostElement(pid)      # text, bytes, Element, Resource, or a Deferred

    @app.route("/post/<int:pid>/edit", methods=["POST"])
    def edit(request, pid):
        savePost(pid, request.args)
        invalidateRoute(app, "post", pid=pid)
        ...

    site = InvalidatingSite(app.resource())

A hit does not call the route's function.  The rules, headers
(C{Cache-Status}, C{Age}, validators) and statistics are those of every
other adapter; see L{cached}.
"""

from __future__ import absolute_import, division

try:
    import klein as _klein
except ImportError as e:
    raise ImportError(
        "nevowcache.klein needs Klein, which runs on Python 3: "
        "pip install 'nevowcache[klein]' (%s)" % (e,))
del _klein

from nevowcache._adapters.kleinroute import cached, invalidateRoute

__all__ = ["cached", "invalidateRoute"]
