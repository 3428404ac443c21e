# -*- test-case-name: tests.test_nevow -*-
"""
Background refreshes of Nevow pages (Python 2.7, Nevow 0.14.5): the site
re-traversed from its root on a synthetic request made from the snapshot of
the request that found the entry stale (L{_TraversingRefresher}), so that
what the application remembers on the context on the way is what the
render sees; its output goes nowhere.
"""

from __future__ import absolute_import, division

from twisted.internet import defer
from twisted.python.failure import Failure

from nevow import appserver, inevow

from nevowcache._adapters.front import RefreshKeyChanged, Refresher, noSession
from nevowcache._engine.slicing import callAfterOutput

__all__ = []



class _Channel(object):
    """
    The channel of a background refresh request: it carries the site and
    the addresses of the request it replaces (its
    L{nevowcache._adapters.front.RequestInputs}), and
    drops whatever is written to it.
    """

    def __init__(self, inputs):
        self._inputs = inputs
        self.site = inputs.site
        self.transport = self


    def getHost(self):
        return self._inputs.host


    def getPeer(self):
        return self._inputs.peer


    def isSecure(self):
        return self._inputs.secure


    def _ignore(self, *args, **kwargs):
        pass

    write = writeSequence = writeHeaders = requestDone = _ignore
    registerProducer = unregisterProducer = loseConnection = _ignore



class _RefreshRequest(appserver.NevowRequest):
    """
    A synthetic request for a background re-render: it goes through the
    site from its root like a real one, and its output goes nowhere.

    @ivar nevowcacheRefresh: The L{_TraversingRefresher} this request runs
        for; a L{CachedPageMixin} reached with it renders into the
        refresher.
    """
    getSession = noSession

    def __init__(self, channel, refresher):
        appserver.NevowRequest.__init__(self, channel)
        self.nevowcacheRefresh = refresher


    def write(self, data):
        pass


    def finishRequest(self, success):
        self.nevowcacheRefresh.finished()



class _TraversingRefresher(Refresher):
    """
    A L{Refresher} whose call re-traverses the site from its root on a
    L{_RefreshRequest} made from the snapshot (so that what the application
    remembers on the context on the way is what the render sees), and
    renders the cached page it reaches (L{reached}).
    """
    _result = None

    def __call__(self):
        self._result = defer.Deferred()
        request = _RefreshRequest(_Channel(self.inputs), self)
        self.inputs.fill(request)
        result = self._result
        request.process()
        return result


    def reached(self, page, ctx, entry):
        """
        Traversal reached a cached page: render it into a capture, if its key
        is the one being refreshed (L{Refresher.render}).

        @param entry: Where the page entered the mixin.
        """
        request = inevow.IRequest(ctx)
        result, self._result = self._result, None
        if result is None:
            return b""
        cache = page._cache()
        try:
            render = self.render(page, cache, request, (ctx, entry))
        except RefreshKeyChanged:
            result.errback(Failure())
            return b""
        if page._slicing(ctx):
            # The traversal was one uncut step; the render's set-up is
            # another, on a later turn, before its first slice.
            callAfterOutput(cache.reactor, 0, lambda: defer.maybeDeferred(
                render).chainDeferred(result))
        else:
            render().chainDeferred(result)
        return b""


    def finished(self):
        """
        The refresh request ended.  If no cached page was reached (a 404, an
        error, a redirect), the refresh failed.
        """
        result, self._result = self._result, None
        if result is not None:
            result.errback(Failure(RuntimeError(
                "background refresh of %r did not reach its page" % (self.key,))))
