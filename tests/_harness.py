"""
Helpers for the reliability, security, model and soak tests: pages whose
bodies say where they came from, a log of every render, a store that can be
made to fail, hang or lie, and a look at the process's memory.
"""

from __future__ import absolute_import, division

import ctypes
import gc
import os
import re

from twisted.internet import task
from twisted.internet.error import ConnectionDone
from twisted.python.failure import Failure

from nevowcache import MemoryStore, PageCache
from nevowcache.testing import FailingStore, StoreFailure

from tests._adapters import PageSpec
from tests._http import Exchange

__all__ = ["RenderLog", "FaultyStore", "StoreDown", "rss", "fetch", "provenanceOf",
           "SiteTestsMixin"]

_PROVENANCE = re.compile(br"url=(\S+) render=(\d+)\|")



class RenderLog(object):
    """
    Every body rendered, by the URI it was rendered for.

    A page built with L{page} writes C{url=<uri> render=<n>|} first in its
    body, so that a response shows which URL and which render it came from.

    @ivar bodies: Maps URIs (L{bytes}) to the set of bodies rendered for
        them so far.
    @ivar count: How many renders there were.
    """

    def __init__(self):
        self.bodies = {}
        self.count = 0


    def body(self, request, extra=b""):
        """
        Make (and log) the body of a new render for C{request}.

        @param extra: More bytes for the body.
        @rtype: L{bytes}
        """
        self.count += 1
        body = (b"url=" + request.uri + b" render=" + str(self.count).encode("ascii")
                + b"|" + extra)
        self.bodies.setdefault(request.uri, set()).add(body)
        return body


    def check(self, testCase, uri, body):
        """
        Assert that C{body}, received for C{uri}, came from a render of
        C{uri}, byte for byte.

        @return: The render number.
        """
        found = provenanceOf(body)
        testCase.assertIsNotNone(found, "no provenance in %r" % (body[:200],))
        renderedFor, number = found
        testCase.assertEqual(renderedFor, uri, "%r answered with the body of %r"
                             % (uri, renderedFor))
        testCase.assertIn(body, self.bodies.get(uri, ()),
                          "%r is not a body rendered for %r" % (body[:200], uri))
        return number



def provenanceOf(body):
    """
    @return: C{(uri, renderNumber)} from a body made by L{RenderLog.body},
        or L{None}.
    """
    match = _PROVENANCE.search(body)
    if match is None:
        return None
    return match.group(1), int(match.group(2))



# The store failure of nevowcache.testing, under the name these tests knew.
StoreDown = StoreFailure



class FaultyStore(FailingStore):
    """
    L{nevowcache.testing.FailingStore}, with two more ways to go wrong.

    @ivar mode: Also C{"slow"} (calls answer after C{delay} seconds on
        C{clock}) and C{"confused"} (a lookup answers with the last entry
        stored under another key).
    """
    name = "faulty"

    def __init__(self, store=None, clock=None, delay=0):
        FailingStore.__init__(self, store)
        self.clock = clock
        self.delay = delay
        self._last = None


    def call(self, name, *args, **kwargs):
        result = FailingStore.call(self, name, *args, **kwargs)
        if self.mode == "slow":
            return task.deferLater(self.clock, self.delay, lambda: result)
        return result


    def lookup(self, key, scopes=()):
        if self.mode == "confused" and self._last is not None:
            other = self._last
            if other.key != key:
                return self.inner.lookup(key, scopes).addCallback(
                    lambda found: (other, found[1]))
        return FailingStore.lookup(self, key, scopes)


    def store(self, key, entry):
        if self.mode in ("ok", "confused"):
            self._last = entry
        return FailingStore.store(self, key, entry)



def rss(trim=False):
    """
    @param trim: Collect garbage and give the allocator's free pages back to
        the system first (C{malloc_trim}, where the C library is glibc), so
        that what is measured is what live objects hold, not where earlier
        allocations left holes.
    @return: This process's resident set size in bytes, from
        C{/proc/self/statm}, or L{None} where there is none.
    """
    if trim:
        gc.collect()
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass
    try:
        with open("/proc/self/statm") as f:
            resident = int(f.read().split()[1])
    except (IOError, OSError, IndexError, ValueError):
        return None
    return resident * os.sysconf("SC_PAGE_SIZE")



def fetch(site, path=b"/p", **kwargs):
    """
    Send one request to a site in memory, take what was answered so far, and
    close the connection (so that nothing of it stays on the reactor).

    @return: The L{Exchange}, closed; its C{answer} is the L{Response} or
        L{None} if none was finished.
    """
    ex = Exchange(site, path=path, **kwargs)
    ex.answer = ex.response() if ex.done() else None
    ex.protocol.connectionLost(Failure(ConnectionDone()))
    return ex



class SiteTestsMixin(object):
    """
    A site of L{PageSpec}s on the adapter under test (C{adapter}), in
    memory, on a L{task.Clock}; every connection it opens is closed when
    the test ends.
    """
    adapter = None

    def makeStore(self):
        """
        @return: The store under the cache (a L{MemoryStore} unless
            overridden).
        """
        return MemoryStore()


    def setUp(self):
        self.exchanges = []
        self.addCleanup(self.closeExchanges)
        self.freshSite()


    def freshSite(self):
        """
        A new clock, store, cache, site (no pages yet) and render log, the
        connections of the earlier ones closed: what C{setUp} makes, and
        what a test looping over cases makes for each case.
        """
        self.closeExchanges()
        self.clock = task.Clock()
        self.store = self.makeStore()
        self.cache = PageCache(self.store, reactor=self.clock, waitTimeout=10,
                               renderTimeout=20, storeTimeout=2)
        self.pages = {}
        self.site = None
        self.log = RenderLog()


    def closeExchanges(self):
        """
        Close every connection opened by L{exchange}.
        """
        while self.exchanges:
            self.exchanges.pop().disconnect()


    def page(self, name=b"p", behave=None, **kwargs):
        """
        Add a page; by default it answers with a logged body at once.
        """
        if behave is None:
            behave = self.log.body
        spec = self.pages[name] = PageSpec(behave, **kwargs)
        self.site = None
        return spec


    def exchange(self, path=b"/p", **kwargs):
        """
        Send a request to the site (made anew after pages were added).
        """
        if self.site is None:
            self.site = self.adapter.makeSite(self.clock, self.cache, self.pages)
        ex = Exchange(self.site, path=path, **kwargs)
        self.exchanges.append(ex)
        return ex


    def get(self, path=b"/p", **kwargs):
        """
        Send a request; it must be answered at once.
        """
        ex = self.exchange(path, **kwargs)
        self.assertTrue(ex.done(), "no answer to %r: %r" % (path, ex.transport.value()))
        return ex.response()

