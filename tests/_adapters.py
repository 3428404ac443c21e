"""
Test sites for the behaviour suite, one per adapter.

Each adapter builds a site whose pages run a I{behaviour}: a function of the
request (the twisted.web request API, common to both adapters) returning
the page's body as L{bytes}, or a L{Deferred} of it.  The behaviour suite
(L{tests.test_behaviour}) runs the same tests against every adapter.
"""

from __future__ import absolute_import, division

from twisted.internet import defer
from twisted.python.failure import Failure
from twisted.web import resource, server

from nevowcache.web import CachedResource

try:
    import nevow
except ImportError:
    nevow = None


class PageSpec(object):
    """
    What a test page does, and how it is cached.

    @ivar behave: C{behave(request)} returns the body (L{bytes}) or a
        L{Deferred} of it.
    @ivar renders: How many times the page rendered.
    @ivar leaf: Whether the page answers for every path below it too (a
        twisted.web C{isLeaf}; a Nevow C{locateChild} consuming the rest).
    @ivar cacheTags: The page's tags, or C{cacheTags(request)} returning
        them: the adapters make it the page's C{cacheTags} attribute, or its
        C{cacheTags(ctx)} (Nevow) or C{cacheTags(request)} method.
    """

    def __init__(self, behave, cacheTimeout=60, cacheGrace=None, cacheVary=(),
                 cacheControl=None, leaf=False, cacheTags=(), children=None):
        self.behave = behave
        self.leaf = leaf
        # Uncached children: names (bytes) to behaviours answering any method.
        self.children = children or {}
        self.cacheTimeout = cacheTimeout
        self.cacheGrace = cacheGrace
        self.cacheVary = cacheVary
        self.cacheControl = cacheControl
        self.cacheTags = cacheTags
        self.renders = 0


    def render(self, request):
        self.renders += 1
        return defer.maybeDeferred(self.behave, request)



class NevowAdapter(object):
    """
    Pages as L{nevowcache.CachedPage} under a C{NevowSite}.
    """
    name = "nevow"
    skip = None if nevow is not None else "Nevow runs only on Python 2.7"

    def makeSite(self, clock, cache, pages):
        """
        @param pages: Maps child names (L{bytes}) to L{PageSpec}s.
        @return: A site serving them at C{/name}.
        """
        from nevow import appserver, inevow, loaders, rend, tags
        from twisted.web import server
        from nevowcache import CachedPage

        class TestPage(CachedPage):
            docFactory = loaders.stan(tags.invisible(render=tags.directive("behave")))

            def __init__(self, spec):
                rend.Page.__init__(self)
                self.spec = spec
                for name, behave in spec.children.items():
                    self.putChild(name, PlainPage(behave))
                self.pageCache = cache
                self.cacheTimeout = spec.cacheTimeout
                self.cacheGrace = spec.cacheGrace
                self.cacheVary = spec.cacheVary
                self.cacheControl = spec.cacheControl
                if callable(spec.cacheTags):
                    self.cacheTags = lambda ctx: spec.cacheTags(inevow.IRequest(ctx))
                else:
                    self.cacheTags = spec.cacheTags

            def locateChild(self, ctx, segments):
                if self.spec.leaf:
                    return self, ()
                return CachedPage.locateChild(self, ctx, segments)

            def render_behave(self, ctx, data):
                d = self.spec.render(inevow.IRequest(ctx))
                return d.addCallback(tags.xml)

        class PlainPage(rend.Page):
            """
            An uncached page answering every method with its behaviour.
            """
            def __init__(self, behave):
                rend.Page.__init__(self)
                self.behave = behave

            def renderHTTP(self, ctx):
                return defer.maybeDeferred(self.behave, inevow.IRequest(ctx))

        root = rend.Page()
        for name, spec in pages.items():
            if isinstance(spec, PageSpec):
                root.putChild(name, TestPage(spec))
            else:
                root.putChild(name, PlainPage(spec))
        site = appserver.NevowSite(root, reactor=clock)
        site.sessionFactory = lambda site, uid: server.Session(site, uid, reactor=clock)
        return site



class PlainResource(resource.Resource):
    """
    An uncached resource answering every method with a behaviour (returning
    bytes at once).
    """
    isLeaf = True

    def __init__(self, behave):
        resource.Resource.__init__(self)
        self.behave = behave

    def render(self, request):
        return self.behave(request)



class WebAdapter(object):
    """
    Pages as L{nevowcache.web.CachedResource}s under a twisted.web C{Site}.

    A page answers with its body as L{bytes} when the behaviour returns it
    at once (raising what it raises), and otherwise returns C{NOT_DONE_YET}
    and writes later, giving a failure to C{request.processingFailed}: both
    of twisted.web's conventions run through the suite.
    """
    name = "web"
    skip = None

    def makeSite(self, clock, cache, pages):
        """
        @param pages: Maps child names (L{bytes}) to L{PageSpec}s, or to
            behaviours of uncached pages.
        @return: A site serving them at C{/name}.
        """
        class TestResource(CachedResource):

            def __init__(self, spec):
                CachedResource.__init__(self)
                self.spec = spec
                self.pageCache = cache
                self.cacheTimeout = spec.cacheTimeout
                self.cacheGrace = spec.cacheGrace
                self.cacheVary = spec.cacheVary
                self.cacheControl = spec.cacheControl
                # A tuple, or a callable taking the request.
                self.cacheTags = spec.cacheTags
                self.isLeaf = spec.leaf

            def render_GET(self, request):
                now, later = [], []

                def rendered(result):
                    if not later:
                        now.append(result)
                    elif isinstance(result, Failure):
                        request.processingFailed(result)
                    else:
                        request.write(result)
                        request.finish()
                self.spec.render(request).addBoth(rendered)
                if now:
                    if isinstance(now[0], Failure):
                        now[0].raiseException()
                    return now[0]
                later.append(True)
                return server.NOT_DONE_YET

            render_POST = render_GET

        root = resource.Resource()
        for name, spec in pages.items():
            if isinstance(spec, PageSpec):
                root.putChild(name, TestResource(spec))
                for child, behave in spec.children.items():
                    root.children[name].putChild(child, PlainResource(behave))
            else:
                root.putChild(name, PlainResource(spec))
        site = server.Site(root, reactor=clock)
        site.sessionFactory = lambda site, uid: server.Session(site, uid, reactor=clock)
        return site



ADAPTERS = [NevowAdapter(), WebAdapter()]



class KleinAdapter(object):
    """
    Pages as routes of a Klein app, each behind L{nevowcache.klein.cached},
    served as the Klein adapter says to serve an app: on an
    L{nevowcache.web.InvalidatingSite} (C{InvalidatingSite(app.resource())}),
    so that an unsafe request to an uncached route (a page's children here)
    invalidates what it changed.

    A page's route answers every method (C{POST}s bypass the cache); a leaf
    page is a branch route, answering every path below it too; its
    C{cacheTags} callable takes the request (and the route's arguments:
    none here).
    """
    name = "klein"
    try:
        import klein
    except ImportError:
        skip = "Klein (requirements/py3.txt) is installed on Python 3 only"
    else:
        skip = None
        del klein

    def makeSite(self, clock, cache, pages):
        """
        @param pages: Maps child names (L{bytes}) to L{PageSpec}s, or to
            behaviours of uncached pages.
        @return: A site serving them at C{/name}.
        """
        from klein import Klein
        from nevowcache.klein import cached
        from nevowcache.web import InvalidatingSite

        app = Klein()

        def route(path, endpoint, function, branch=False):
            app.route(path, endpoint=endpoint, branch=branch)(function)

        for name, spec in pages.items():
            path = "/" + name.decode("ascii")
            if isinstance(spec, PageSpec):
                tags = spec.cacheTags
                if callable(tags):
                    tags = (lambda tags: lambda request: tags(request))(tags)
                page = cached(
                    (lambda spec: lambda request: spec.render(request))(spec),
                    pageCache=cache, cacheTimeout=spec.cacheTimeout,
                    cacheGrace=spec.cacheGrace, cacheVary=spec.cacheVary,
                    cacheControl=spec.cacheControl, cacheTags=tags)
                route(path, path, page, branch=spec.leaf)
                if spec.leaf:
                    # The branch's rule needs a segment after the slash.
                    route(path + "/", path + "/", page)
                for child, behave in spec.children.items():
                    childPath = path + "/" + child.decode("ascii")
                    route(childPath, childPath,
                          (lambda behave: lambda request: behave(request))(behave))
            else:
                route(path, path, (lambda behave: lambda request: behave(request))(spec))
        site = InvalidatingSite(app.resource(), reactor=clock, pageCaches=[cache])
        site.sessionFactory = lambda site, uid: server.Session(site, uid, reactor=clock)
        return site



KLEIN = KleinAdapter()



class CachingSiteAdapter(NevowAdapter):
    """
    The Nevow pages under a L{nevowcache.CachingSite}, which answers fresh
    hits before traversal: another way pages are served, for the suites
    that must hold whichever way that is.
    """
    name = "cachingSite"

    def makeSite(self, clock, cache, pages):
        from nevowcache import CachingSite
        site = NevowAdapter.makeSite(self, clock, cache, pages)
        caching = CachingSite(site.resource, reactor=clock)
        caching.sessionFactory = site.sessionFactory
        return caching



CACHING_SITE = CachingSiteAdapter()



def makeCases(namespace, mixin, suffix, adapters=ADAPTERS, base=None):
    """
    Run a suite on each adapter: for each of C{adapters}, a test case class
    C{mixin} on C{base} (by default C{SynchronousTestCase}) with that
    adapter (and its C{skip}), named after both (C{NevowBehaviourTests}),
    put in C{namespace} (the test module's C{globals()}), where trial finds
    it.

    @return: The classes made, in the order of C{adapters}.
    """
    if base is None:
        from twisted.trial.unittest import SynchronousTestCase as base
    made = []
    for adapter in adapters:
        name = adapter.name.capitalize() + suffix
        namespace[name] = cls = type(name, (mixin, base), {
            "adapter": adapter, "skip": adapter.skip, "__module__": namespace["__name__"],
            "__doc__": "%s on the %s adapter." % (suffix, adapter.name)})
        made.append(cls)
    return made



def pendingRenders():
    """
    A page's behaviour (for L{PageSpec}) whose every render waits for the
    test: it answers with a L{Deferred} of its body.

    @return: The behaviour, and the list of L{Deferred}s, one per render,
        each to be fired with the body or a failure.
    """
    pending = []

    def behave(request):
        d = defer.Deferred()
        pending.append(d)
        return d
    return behave, pending
