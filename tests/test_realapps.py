"""
Real applications nobody here wrote, served uncached and cached, the same
requests sent to both over loopback TCP, the answers compared
(L{tests._differential}).

Nevow 0.14.5's shipped examples (Python 2.7): C{./dev setup} fetches them
from the Nevow sdist on PyPI into C{.venv/nevow-examples/}.  Each is served
as shipped (C{NevowSite}, its own pages) and cached: its page classes
subclassed with L{CachedPageMixin} in front (C{cacheTimeout = 30}), under
C{NevowSite} and under L{CachingSite}.  The example's files are not
changed: the test imports a fresh copy of its modules for every serving and
replaces the page classes in that copy.

The oracle proves itself first: every sequence is also played against two
fresh uncached servings, which must agree.
"""

from __future__ import absolute_import, division

import os
import sys
import tempfile

from twisted.internet import defer, reactor
from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from nevowcache import MemoryStore, PageCache

from tests._differential import (Stale, Step, burst, differences, follow, get, play,
                                 post, settle, stale, substitutions)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, ".venv", "nevow-examples", "examples")

try:
    from nevow import appserver, inevow, rend
except ImportError:
    appserver = None
else:
    from nevowcache import CachedPageMixin, CachingSite



_keep = []


def freshImport(directory, name):
    """
    Import the module C{name} from C{directory} as a new copy, whatever was
    imported before, and leave C{sys.modules} as it was.

    Only the modules under C{directory} are new; Nevow, formless and the
    rest are the ones already loaded (their interfaces must stay the same
    objects).  The new modules are kept alive in C{_keep}: Python 2 empties
    a module's globals when the module object goes away, and the example's
    classes still use them.

    @return: The module.
    """
    directory = os.path.abspath(directory)

    def mine(module):
        path = getattr(module, "__file__", None) or ""
        return os.path.abspath(path).startswith(directory + os.sep)
    saved = dict((key, module) for key, module in sys.modules.items()
                 if module is not None and mine(module))
    for key in saved:
        del sys.modules[key]
    sys.path.insert(0, directory)
    try:
        __import__(name)
        module = sys.modules[name]
    finally:
        sys.path.remove(directory)
        for key, module_ in list(sys.modules.items()):
            if module_ is not None and mine(module_):
                _keep.append(module_)
                del sys.modules[key]
        sys.modules.update(saved)
    return module



def cachedClass(cls, cache, **attributes):
    """
    @return: A subclass of the page class C{cls} with L{CachedPageMixin} in
        front: what a user does to cache an existing page.
    """
    attributes.setdefault("cacheTimeout", 30)
    attributes["pageCache"] = cache
    attributes["__module__"] = cls.__module__
    return type(cls.__name__, (CachedPageMixin, cls), attributes)



def makeCached(module, names, cache, **attributes):
    """
    Replace the page classes C{names} of C{module} (a fresh copy) with
    cached subclasses, so that the module's own code (C{locateChild},
    C{child_} methods) makes cached pages.
    """
    for name in names:
        setattr(module, name, cachedClass(getattr(module, name), cache, **attributes))



def refreshProblems(steps, cache):
    """
    @return: Why a sequence that made entries stale did not check the
        background refreshes (none ran, or some failed), as text lines.
    """
    if not any(isinstance(step, Stale) for step in steps):
        return []
    stats = cache.stats()
    if not stats["refreshes"] or stats["refreshFailures"]:
        return ["stale entries, but %d background refreshes and %d failed"
                % (stats["refreshes"], stats["refreshFailures"])]
    return []



# Servings: each plays a sequence against a fresh instance of the example.
UNCACHED = "uncached"
MIXIN = "CachedPageMixin under NevowSite"
CACHINGSITE = "CachedPageMixin under CachingSite"



class NevowExampleTests(TestCase):
    """
    Nevow 0.14.5's shipped examples answer the same cached and uncached.
    """

    if appserver is None:
        skip = "Nevow runs only on Python 2.7"
    elif not os.path.isdir(EXAMPLES):
        skip = None  # fail loudly in setUp: ./dev setup fetches them

    timeout = 60

    def setUp(self):
        if not os.path.isdir(EXAMPLES):
            self.fail("Nevow's examples are not in %s: run ./dev setup" % (EXAMPLES,))


    def example(self, *parts):
        return os.path.join(EXAMPLES, *parts)


    @defer.inlineCallbacks
    def compare(self, build, steps, normalise=None, servings=(MIXIN, CACHINGSITE),
                expect=b"; hit"):
        """
        Play C{steps} against two uncached servings of an example (the
        oracle: they must agree), then against each cached serving, and
        compare each with the first uncached one.

        @param build: Called with the serving (L{UNCACHED}, ...) and a fresh
            L{PageCache}; returns the site to serve.
        @param normalise: Applied to bodies and C{Location}s: what is
            legitimately dynamic in this example.
        @param expect: What at least one C{Cache-Status} of each cached
            serving must contain: by default a hit, so that the comparison
            is not of renders only.
        """
        kwargs = {} if normalise is None else {"normalise": normalise}
        reference = yield play(build(UNCACHED, None), steps, **kwargs)
        again = yield play(build(UNCACHED, None), steps, **kwargs)
        lines = differences(reference, again)
        if lines:
            self.fail("the oracle: two uncached servings disagree:\n" + "\n".join(lines))
        failures = []
        for serving in servings:
            clock = Clock()
            cache = PageCache(MemoryStore(), reactor=reactor, clock=clock)
            observed = yield play(build(serving, cache), steps, cache=cache, clock=clock,
                                  **kwargs)
            lines = differences(reference, observed) + refreshProblems(steps, cache)
            if lines:
                failures.append("%s:\n%s" % (serving, "\n".join(lines)))
            statuses = [o.cacheStatus or b"" for o in observed]
            if not any(expect in s for s in statuses):
                failures.append("%s: no %r in %r" % (serving, expect, statuses))
        if failures:
            self.fail("\n\n".join(failures))


    def site(self, serving, root, cache):
        """
        @return: The site serving C{root}: a C{NevowSite}, or for
            L{CACHINGSITE} a L{CachingSite}.
        """
        if serving == CACHINGSITE:
            # As the README says: the caches its unsafe requests invalidate.
            site = CachingSite(root, pageCaches=[cache])
        else:
            site = appserver.NevowSite(root)
        # Its sessions expire on timers: end them with the test.
        self.addCleanup(lambda: [session.expire()
                                 for session in list(site.sessions.values())])
        return site


    # children: child_ attributes and methods, childFactory, locateChild.

    def buildChildren(self, serving, cache):
        children = freshImport(self.example(), "children.children")
        if serving != UNCACHED:
            makeCached(children, ["RootPage", "ChildPage", "ChildOfChildPage"], cache)
            # A class attribute made at import, with the uncached class.
            children.RootPage.child_foo = children.ChildPage("foo")
        # Mounted as examples.tac mounts it, under a directory-like page.
        root = rend.Page()
        root.putChild("children", children.RootPage())
        return self.site(serving, root, cache)


    def test_children(self):
        """
        Nevow's C{children} example: every way of locating a child, the
        C{addSlash} redirect, HEAD, concurrent requests, background
        refreshes.
        """
        steps = [get("/children"), follow(), get("/children/"),
                 Step("HEAD", "/children/"), burst("/children/1"),
                 get("/children/foo"), get("/children/foo"),
                 get("/children/foo/childOfChild"),
                 get("/children/bar"), get("/children/bar/childOfChild"),
                 get("/children/bar"), get("/children/1"),
                 get("/children/2/childOfChild"), get("/children/3"), get("/children/3"),
                 get("/children/4"), burst("/children/6/7"), get("/children/6/7"),
                 get("/children/6/7/childOfChild"), Step("HEAD", "/children/6/7"),
                 get("/children/foo/"), get("/children/x/y/z"), get("/children/"),
                 get("/children?a=1"), follow(),
                 # Stale: served at once, refreshed by traversing again.
                 stale(), get("/children/"), get("/children/6/7"),
                 get("/children/foo/childOfChild"), get("/children/bar"), settle(),
                 get("/children/"), get("/children/6/7"),
                 get("/children/foo/childOfChild"), get("/children/bar")]
        return self.compare(self.buildChildren, steps)


    # formpost2: formless forms; a property set by a POST, a method whose
    # result is carried over to the page the POST redirects to.

    def buildFormpost2(self, serving, cache):
        formpost2 = freshImport(self.example(), "formpost.formpost2")
        if serving != UNCACHED:
            makeCached(formpost2, ["FormPage"], cache)
        return self.site(serving, formpost2.FormPage(formpost2.Implementation()), cache)


    def test_formpost2(self):
        """
        Nevow's C{formpost2} example: the page after a form post shows what
        was posted.
        """
        referer = ("Referer", "{base}/")
        steps = [get("/"), get("/"), get("/webform_css"),
                 post("/freeform_post!original!foo", [("foo", "7")], referer), follow(),
                 get("/"),
                 post("/freeform_post!original!foo", [("foo", "not a number")], referer), follow(),
                 get("/"),
                 post("/freeform_post!original!bar", [("baz", "3"), ("slam", "2"), ("ham", "efgh"),
                                              ("radio", "Tyme"), ("custom", "1")], referer),
                 follow(), get("/"),
                 # Through another name of the same server.
                 post("/freeform_post!original!foo", [("foo", "9")],
                      ("Host", "localhost:{port}"), ("Referer", "http://localhost:{port}/")),
                 follow(), get("/")]
        # Formless carries a post's result or errors to the page it
        # redirects to in a query argument whose value is the time, the
        # client's address and a random number.
        return self.compare(self.buildFormpost2, steps, substitutions(
            (br"_nevow_carryover_=[^&\"'<>\s]+", b"_nevow_carryover_=*")))


    # i18n: a renderHTTP that remembers the language on the context for
    # ?lang=, and Accept-Language otherwise.

    def buildI18n(self, serving, cache, **attributes):
        i18n = freshImport(self.example(), "i18n.i18n")
        if serving != UNCACHED:
            makeCached(i18n, ["Page"], cache, **attributes)
        return self.site(serving, i18n.createResource(), cache)

    i18nSteps = [
        get("/"), get("/"),
        get("/?lang=it"), get("/?lang=it"),
        get("/", ("Accept-Language", "de")), get("/", ("Accept-Language", "de")),
        get("/?lang=fr", ("Accept-Language", "de")), get("/?lang=fr", ("Accept-Language", "de")),
        get("/", ("Accept-Language", "fi, it;q=0.5")), get("/?lang=it"), get("/"),
    ]


    def test_i18n(self):
        """
        Nevow's C{i18n} example: C{?lang=} and C{Accept-Language}.  The page
        reads C{Accept-Language} without declaring it: those renders are
        not stored.
        """
        return self.compare(self.buildI18n, self.i18nSteps)


    def test_i18nRefresh(self):
        """
        Nevow's C{i18n} example with C{cacheVary = ("accept-language",)},
        its entries stale: the background refreshes (a traversal again from
        the root) render what the pages render uncached.
        """
        steps = [get("/?lang=it"), get("/", ("Accept-Language", "de")), get("/"),
                 stale(), get("/?lang=it"), get("/", ("Accept-Language", "de")), get("/"),
                 settle(), get("/?lang=it"), get("/", ("Accept-Language", "de")), get("/"),
                 stale(), get("/?lang=it"), settle(), get("/?lang=it")]
        return self.compare(
            lambda serving, cache: self.buildI18n(
                serving, cache, cacheVary=("accept-language",)), steps)


    def test_i18nVary(self):
        """
        Nevow's C{i18n} example with C{cacheVary = ("accept-language",)}:
        one entry per language.
        """
        return self.compare(
            lambda serving, cache: self.buildI18n(
                serving, cache, cacheVary=("accept-language",)),
            self.i18nSteps)


    def buildI18nBehind(self, serving, cache, asShipped=False, **attributes):
        i18n = freshImport(self.example(), "i18n.i18n")
        if serving != UNCACHED:
            # The mixin added to the base class, behind the application's
            # renderHTTP, which a user then writes with super(), or leaves
            # as shipped, calling rend.Page.renderHTTP itself.
            def renderHTTP(self, ctx):
                lang = ctx.arg("lang")
                if lang is not None:
                    ctx.remember([lang], inevow.ILanguages)
                return super(i18n.Common, self).renderHTTP(ctx)
            namespace = dict(vars(i18n.Common), cacheTimeout=30, pageCache=cache,
                             **attributes)
            if not asShipped:
                namespace["renderHTTP"] = renderHTTP
            for name in ("__dict__", "__weakref__"):
                namespace.pop(name, None)
            i18n.Common = type("Common", (CachedPageMixin, rend.Page), namespace)
            namespace = dict(vars(i18n.Page))
            for name in ("__dict__", "__weakref__"):
                namespace.pop(name, None)
            i18n.Page = type("Page", (i18n.Common,), namespace)
        return self.site(serving, i18n.createResource(), cache)


    def test_i18nBehind(self):
        """
        Nevow's C{i18n} example with the mixin behind its C{renderHTTP},
        which remembers the language on the context before the cache
        renders.
        """
        return self.compare(
            lambda serving, cache: self.buildI18nBehind(
                serving, cache, cacheVary=("accept-language",)),
            self.i18nSteps)


    def test_i18nBehindAsShipped(self):
        """
        Nevow's C{i18n} example with the mixin behind its C{renderHTTP} as
        shipped, which calls C{rend.Page.renderHTTP(self, ctx)} itself,
        past the mixin's C{renderHTTP}: cached all the same.
        """
        return self.compare(
            lambda serving, cache: self.buildI18nBehind(
                serving, cache, asShipped=True, cacheVary=("accept-language",)),
            self.i18nSteps)


    # pastebin: formless posts that redirect, a list of recent pastings on
    # every page, static files, a chdir-relative template directory.

    def buildPastebin(self, serving, cache):
        home = self.example("pastebin")
        pages = freshImport(home, "pastebin.web.pages")
        service = freshImport(home, "pastebin.service")
        store = tempfile.mkdtemp(dir=self.stores)
        if serving == UNCACHED:
            pastebin = service.FSPasteBinService(store)
        else:
            # Every page shows the recent pastings: the pages are tagged,
            # and a write invalidates the tag (the README's advice for
            # pages showing other pages' data).
            makeCached(pages, ["RootPage", "Pasting"], cache, cacheTags=("pastings",))

            class Invalidating(service.FSPasteBinService):
                def addPasting(self, author, text):
                    oid = service.FSPasteBinService.addPasting(self, author, text)
                    cache.invalidateTag(u"pastings", hard=True)
                    return oid

                def updatePasting(self, oid, author, text):
                    service.FSPasteBinService.updatePasting(self, oid, author, text)
                    cache.invalidateTag(u"pastings", hard=True)
            pastebin = Invalidating(store)
        pastebin.startService()
        from twisted.web import static
        root = pages.RootPage(pastebin)
        root.putChild("robots.txt", static.File(os.path.join(home, "static", "robots.txt")))
        return self.site(serving, root, cache)


    def test_pastebin(self):
        """
        Nevow's C{pastebin} example: add a pasting, see it and the list,
        edit it, see the new version and its history.
        """
        # Its templates and static files are found from the working
        # directory, as under `twistd -y pastebin.tac` run in its directory.
        self.stores = os.path.abspath(self.mktemp())
        os.makedirs(self.stores)
        self.addCleanup(os.chdir, os.getcwd())
        os.chdir(self.example("pastebin"))
        referer = ("Referer", "{base}/")
        steps = [get("/"), get("/"), get("/robots.txt"), get("/css/default.css"),
                 post("/freeform_post!!addPasting",
                      [("author", "alice"), ("text", "print 1")], referer),
                 follow(), get("/"), get("/1"), get("/"),
                 post("/freeform_post!!addPasting",
                      [("author", "dave"), ("text", "print 3")], referer),
                 burst("/"), burst("/2"), follow(),
                 post("/1/freeform_post!!editPasting",
                      [("postedBy", "alice"), ("author", "bob"), ("text", "print 2")],
                      ("Referer", "{base}/1")),
                 follow(), get("/1"), get("/1/0"), get("/1/1"), get("/"),
                 post("/freeform_post!!addPasting",
                      [("author", "carol"), ("text", "")], referer),
                 follow(), get("/"), get("/1"), get("/2"), get("/"),
                 stale(), get("/"), get("/1"), get("/1/0"), settle(),
                 get("/"), get("/1"), get("/1/0")]
        # The time of each pasting (the serving's own clock, to the second,
        # in its time zone) is shown next to it.
        return self.compare(self.buildPastebin, steps, substitutions(
            (br"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ?[A-Za-z]*", b"<time>"),
            (br"_nevow_carryover_=[^&\"'<>\s]+", b"_nevow_carryover_=*")))


    # todo: a store answering through Deferreds (as shipped, PostgreSQL
    # through pgasync; here in memory), a dispatcher page in front, actions
    # as links (GETs of freeform_post!! children).

    def buildTodo(self, serving, cache, invalidateOnLinks=False):
        home = self.example("todo")
        itodo = freshImport(home, "itodo")
        controller = freshImport(home, "controller")
        dispatcher = freshImport(home, "dispatcher")
        environment = freshImport(home, "environment")
        # The modules import one another by top-level name; each fresh copy
        # must use the same itodo (its interfaces).
        controller.itodo = dispatcher.itodo = itodo
        dispatcher.controller = controller
        # As shipped, the list answers "/" with a 404 under Nevow 0.14.5
        # (rend.Page answers the empty segment only with addSlash): set
        # for every serving, so that there is a page to compare.
        controller.Root.addSlash = True
        if serving != UNCACHED:
            makeCached(controller, ["Root"], cache)
            controller.root = controller.Root()
        site = self.site(serving, dispatcher.Dispatch(), cache)
        changedByLink = lambda: None
        if serving != UNCACHED and invalidateOnLinks:
            # What the README tells an application whose links write.
            changedByLink = lambda: cache.invalidate(u"/", hard=True)
        site.remember(_MemoryTodos(itodo, changedByLink), itodo.ITodos)
        site.remember(environment.env, itodo.IEnv)
        return site


    # The page ends with how long its render took.
    todoNormalise = staticmethod(substitutions(
        (br"<p>\d+\.\d{3}</p>", b"<p>*</p>"),
        (br"_nevow_carryover_=[^&\"'<>\s]+", b"_nevow_carryover_=*")))


    def test_todo(self):
        """
        Nevow's C{todo} example: add items (its form posts), one refused.
        """
        referer = ("Referer", "{base}/")
        steps = [get("/"), get("/"),
                 post("/freeform_post!!insert", [("description", "milk")], referer),
                 follow(), get("/"),
                 post("/freeform_post!!insert", [("description", "")], referer),
                 follow(), get("/"),
                 post("/freeform_post!!insert", [("description", "eggs")], referer),
                 burst("/"), follow(), get("/")]
        return self.compare(self.buildTodo, steps, self.todoNormalise)


    def test_todoLinks(self):
        """
        Nevow's C{todo} example: mark an item done and delete one, with its
        links: GETs of formless' C{freeform_post!!} children, which change
        the list and redirect to it; the application also invalidates the
        list where its links change it, as the README tells applications
        whose GETs write (for writes through GETs that are not
        formless's: harmless here).
        """
        return self.compare(
            lambda serving, cache: self.buildTodo(serving, cache, invalidateOnLinks=True),
            self.todoLinkSteps, self.todoNormalise)


    def test_todoLinksUnaided(self):
        """
        Nevow's C{todo} example's links, with the application as shipped
        (no invalidation of its own): a GET of a formless action
        (C{freeform_post!!update}, C{freeform_post!!delete}) acts whatever
        its method, and the cache sees it as a write: the list after its
        redirect shows the change.
        """
        return self.compare(self.buildTodo, self.todoLinkSteps, self.todoNormalise)


    todoLinkSteps = [
        post("/freeform_post!!insert", [("description", "milk")], ("Referer", "{base}/")),
        post("/freeform_post!!insert", [("description", "eggs")], ("Referer", "{base}/")),
        get("/"), get("/"),
        get("/freeform_post!!update?id=1&oldstate=0", ("Referer", "{base}/")),
        follow(), get("/"),
        get("/freeform_post!!delete?id=2", ("Referer", "{base}/")),
        follow(), get("/")]


    # guarded: nevow.guard's sessions and login.

    def buildGuarded(self, serving, cache):
        guarded = freshImport(self.example(), "guarded.guarded")
        if serving != UNCACHED:
            makeCached(guarded, ["NotLoggedIn", "LoggedIn"], cache)
        wrapper = guarded.createResource()
        # Its sessions expire on timers: end them with the test.
        self.addCleanup(lambda: [session.expire()
                                 for session in list(wrapper.sessions.values())])
        return self.site(serving, wrapper, cache)


    def test_guarded(self):
        """
        Nevow's C{guarded} example: behind C{nevow.guard}, nothing is
        stored, and everything answers as uncached.
        """
        steps = [get("/"), follow(), get("/"), get("/"),
                 post("/__login__/", [("username", "fred"), ("password", "flintstone")]),
                 follow(), get("/"), get("/"),
                 get("/__logout__/"), follow(), get("/")]
        # nevow.guard's session ids, in the URLs it redirects to.
        return self.compare(self.buildGuarded, steps, substitutions(
            (br"__session_key__[0-9a-f]+", b"__session_key__*")),
            expect=b"fwd=bypass; detail=guard-session")



    # Many more of the examples, mounted as examples.tac mounts them; not
    # irenderer, disktemplates, disktemplates_stan and tablehtml, whose
    # pages pick their content at random on each render (a cached page
    # shows the one it stored), nor
    # tabbed, which does not load (its glue is gone from Nevow 0.14.5).
    examplesTac = [
        # (module, child name, how examples.tac makes the child)
        ("customform.customform", "customform", lambda m: m.Root()),
        ("simple.simple", "simple", lambda m: m.Simple()),
        ("simple.simplehtml", "simplehtml", lambda m: m.Simple()),
        ("tree.tree", "tree", lambda m: m.Tree("base", "base")),
        ("children.childrenhtml", "childrenhtml", lambda m: m.RootPage()),
        ("irenderer.simple_irenderer", "simple_irenderer", lambda m: m.Page()),
        ("hello.hellohtml", "hellohtml", lambda m: m.Page()),
        ("hello.hellostan", "hellostan", lambda m: m.Page()),
        ("manualform.manualform", "manualform", lambda m: m.Page()),
        ("objcontainer.objcontainer", "objcontainer", lambda m: m.createResource()),
        ("nestedsequence.nestedsequence", "nestedsequence", lambda m: m.Root()),
        ("i18n.xmli18n", "xmli18n", lambda m: m.createResource()),
        ("fragments.fragments", "fragments", lambda m: m.Root()),
        ("macros.macros", "macros", lambda m: m.Root()),
    ]


    def buildExamplesTac(self, serving, cache):
        root = rend.Page()
        for name, child, make in self.examplesTac:
            module = freshImport(self.example(), name)
            if serving != UNCACHED:
                # Every page class the example defines, cached.
                makeCached(module, [
                    attribute for attribute, value in sorted(vars(module).items())
                    if isinstance(value, type) and issubclass(value, rend.Page)
                    and value.__module__ == module.__name__], cache)
            root.putChild(child, make(module))
        return self.site(serving, root, cache)


    def test_examplesTac(self):
        """
        More of Nevow's examples, mounted as examples.tac mounts them: each
        page, twice.
        """
        # Some find their templates from the working directory, as under
        # `twistd -y examples.tac` run in the examples' directory.
        self.addCleanup(os.chdir, os.getcwd())
        os.chdir(self.example())
        steps = []
        for _, child, _ in self.examplesTac:
            steps += [get("/%s/" % (child,)), get("/%s/" % (child,))]
        # nestedsequence shows its objects' reprs, with their addresses;
        # macros counts its own renders (fewer cached, on purpose).
        return self.compare(self.buildExamplesTac, steps, substitutions(
            (br" object at 0x[0-9a-f]+", b" object at 0x*"),
            (br"===&gt;<strong>\d+</strong>&lt;===", b"===&gt;<strong>*</strong>&lt;===")))



class _MemoryTodos(object):
    """
    The todo example's store, in memory, answering through L{Deferred}s
    that fire on a later turn of the reactor, as a database's would.
    """

    def __init__(self, itodo, changedByLink=lambda: None):
        """
        @param changedByLink: Called when the list changed through one of
            the page's links (C{update}, C{delete}): GETs (formless
            actions, which the cache sees as writes since they are).
        """
        from zope.interface import directlyProvides
        directlyProvides(self, itodo.ITodos)
        self._rows = []
        self._next = 1
        self._changedByLink = changedByLink


    def _later(self, result):
        d = defer.Deferred()
        reactor.callLater(0, d.callback, result)
        return d


    def add(self, description, done):
        self._rows.append((self._next, description, done))
        self._next += 1
        return self._later(None)


    def delete(self, id):
        self._rows = [row for row in self._rows if row[0] != id]
        self._changedByLink()
        return self._later(None)


    def update(self, id, state):
        self._rows = [(i, d, state if i == id else s) for (i, d, s) in self._rows]
        self._changedByLink()
        return self._later(None)


    def findAll(self):
        return self._later(list(self._rows))



try:
    import klein
except ImportError:
    klein = None



class _Blog(object):
    """
    The Klein app's data: posts and their comments, and a renderer that
    fails once, as one whose backend was briefly down.
    """

    def __init__(self, written=lambda: None):
        self.posts = {1: [u"first!"], 2: []}
        self.failuresLeft = 1
        self.written = written



class _RenderFailure(Exception):
    """
    What the Klein app's failing renderer raises.
    """



def makeKleinApp(blog, staticDirectory):
    """
    A Klein app written as Klein's documentation shows: string routes, an
    C{Element}, a route variable, a session, a POST that redirects, a
    route returning a Resource, a renderer that raises.
    """
    from klein import Klein
    from twisted.web.static import File
    from twisted.web.template import Element, TagLoader, renderer, tags

    app = Klein()

    @app.route("/")
    def home(request):
        return u"Welcome to the blog."

    @app.route("/recent")
    def recent(request):
        # Other pages' data: how many comments each post has.
        return u", ".join(u"post %d: %d comments" % (number, len(comments))
                          for number, comments in sorted(blog.posts.items()))

    @app.route("/bytes")
    def raw(request):
        request.setHeader(b"content-type", b"text/plain")
        return b"raw bytes"

    class PostElement(Element):
        loader = TagLoader(tags.html(tags.body(
            tags.h1(render="title"), tags.ul(render="comments"))))

        def __init__(self, number):
            Element.__init__(self)
            self.number = number

        @renderer
        def title(self, request, tag):
            return tag(u"Post %d" % (self.number,))

        @renderer
        def comments(self, request, tag):
            return tag([tags.li(text) for text in blog.posts[self.number]])

    @app.route("/post/<int:number>")
    def post(request, number):
        if number not in blog.posts:
            request.setResponseCode(404)
            return u"no such post"
        return PostElement(number)

    @app.route("/post/<int:number>/comment", methods=["POST"])
    def comment(request, number):
        text = request.args.get(b"text", [b""])[0].decode("utf-8")
        blog.posts[number].append(text)
        blog.written()
        request.redirect(b"/post/%d" % (number,))
        return b""

    @app.route("/visits")
    def visits(request):
        session = request.getSession()
        count = getattr(session, "visits", 0) + 1
        session.visits = count
        return u"visit %d of this session" % (count,)

    @app.route("/static/", branch=True)
    def static(request):
        return File(staticDirectory)

    class Fragile(Element):
        loader = TagLoader(tags.html(tags.body(tags.p(render="value"))))

        @renderer
        def value(self, request, tag):
            if blog.failuresLeft:
                blog.failuresLeft -= 1
                raise _RenderFailure("the backend is down")
            return tag(u"the backend answered")

    @app.route("/fragile")
    def fragile(request):
        return Fragile()

    return app



class KleinTests(TestCase):
    """
    A Klein app answers the same through L{nevowcache.web.cached} as
    without it.
    """

    if klein is None:
        skip = "Klein (requirements/py3.txt) is installed on Python 3 only"

    timeout = 60

    def setUp(self):
        self.staticDirectory = os.path.abspath(self.mktemp())
        os.makedirs(self.staticDirectory)
        for name in ("style.css", "other.css"):
            with open(os.path.join(self.staticDirectory, name), "w") as f:
                f.write("body { color: black }\n")


    def build(self, serving, cache):
        from twisted.web.server import Site
        from nevowcache.web import cached
        if serving == UNCACHED:
            blog = _Blog()
        else:
            # /recent shows other pages' data: the application invalidates
            # it where it writes (cached() wraps every route at once, so by
            # path rather than by tag), hard: the next reader waits for a
            # fresh render.
            blog = _Blog(lambda: cache.invalidate(u"/recent", hard=True))
        resource = makeKleinApp(blog, self.staticDirectory).resource()
        if serving != UNCACHED:
            resource = cached(resource, cacheTimeout=30, pageCache=cache)
        site = Site(resource)
        # Its sessions expire on timers: end them with the test.
        self.addCleanup(lambda: [session.expire()
                                 for session in list(site.sessions.values())])
        return site


    @defer.inlineCallbacks
    def compare(self, steps, normalise=None):
        """
        As L{NevowExampleTests.compare}, for the Klein app, uncached and
        through L{nevowcache.web.cached}.
        """
        kwargs = {} if normalise is None else {"normalise": normalise}
        reference = yield play(self.build(UNCACHED, None), steps, **kwargs)
        again = yield play(self.build(UNCACHED, None), steps, **kwargs)
        lines = differences(reference, again)
        if lines:
            self.fail("the oracle: two uncached servings disagree:\n" + "\n".join(lines))
        clock = Clock()
        cache = PageCache(MemoryStore(), reactor=reactor, clock=clock)
        observed = yield play(self.build("cached", cache), steps, cache=cache, clock=clock,
                              **kwargs)
        lines = differences(reference, observed) + refreshProblems(steps, cache)
        statuses = [o.cacheStatus or b"" for o in observed]
        if not any(b"; hit" in s for s in statuses):
            lines.append("no hits: %r" % (statuses,))
        if lines:
            self.fail("\n".join(lines))


    def test_routes(self):
        """
        String and bytes routes, an C{Element}, a route variable, a 404,
        background refreshes.
        """
        return self.compare([
            get("/"), get("/"), get("/bytes"), get("/bytes"),
            get("/post/1"), get("/post/1"), get("/post/2"), get("/post/2"),
            get("/post/3"), get("/post/3"), get("/nowhere"), get("/nowhere"),
            # Stale: served at once, refreshed from a snapshot of the request.
            stale(), get("/"), get("/bytes"), get("/post/1"), settle(),
            get("/"), get("/bytes"), get("/post/1")])


    def test_session(self):
        """
        A route using the session: never shared.
        """
        return self.compare([get("/"), get("/"), get("/visits"), get("/visits"),
                             get("/visits"), get("/")])


    def test_postRedirect(self):
        """
        A comment posted to a post's page, redirecting to it: the page
        after the redirect shows the comment, and so does the page listing
        every post's comments (which the application invalidates).
        """
        return self.compare([
            get("/post/1"), get("/post/1"),
            post("/post/1/comment", [("text", "second")]), follow(), get("/post/1"),
            get("/recent"), get("/recent"),
            post("/post/2/comment", [("text", "a comment")]), follow(),
            get("/post/2"), get("/post/2"), get("/recent"), get("/recent"),
            # Through another name of the same server.
            post("/post/2/comment", [("text", "via localhost")],
                 ("Host", "localhost:{port}")),
            get("/post/2"), get("/recent")])


    def test_resource(self):
        """
        A route returning a Resource (C{static.File}): its file, its
        directory listing, a missing file, ranges.
        """
        return self.compare([
            get("/static/style.css"), get("/static/style.css"), get("/static/"),
            get("/static/"), get("/static/missing.css"), get("/static/style.css"),
            get("/static/style.css", ("Range", "bytes=0-3")),
            get("/static/other.css", ("Range", "bytes=0-3")), get("/static/other.css"),
            get("/"), get("/")])


    @defer.inlineCallbacks
    def test_renderError(self):
        """
        An C{Element} whose renderer raises once: Klein answers C{200} with
        Twisted's error C{<div>}; the next request renders again.
        """
        from twisted.web.error import FlattenerError
        yield self.compare([get("/fragile"), get("/fragile"), get("/fragile")])
        # Once in each serving, logged by Twisted's renderElement.
        self.assertEqual(len(self.flushLoggedErrors(FlattenerError)), 3)
