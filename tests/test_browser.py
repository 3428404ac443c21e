"""
The operator's page in a real browser: Debian's headless C{chromium} loads
C{/_cache/} from a demo site served over loopback, on each adapter, and we
check what it rendered (its DOM) and that it refused nothing (no Content
Security Policy violation, nothing loaded from elsewhere).
"""

from __future__ import absolute_import, division

import os
import re
import shutil
import sys
import tempfile

from twisted.internet import defer, reactor, task, tcp, utils
from twisted.trial.unittest import TestCase

from nevowcache import MemoryStore, PageCache

from tests._http import Exchange

try:
    from shutil import which
except ImportError:  # Python 2
    from distutils.spawn import find_executable as which

# Imported now: trial works in another directory once tests run, and on
# Python 2.7 the package may have been found through a relative path.
from demo import site3

try:
    from nevow import appserver
    from demo import site as demo
    from tests.test_demo import freshCache
except ImportError:
    appserver = None

BROWSER = which("chromium") or which("chromium-browser")



class BrowserTests(TestCase):
    """
    C{/_cache/} in headless Chromium, under twisted.web and Nevow.
    """
    timeout = 120
    if BROWSER is None:
        skip = ("no chromium on this machine (.ci/run installs Debian's "
                "chromium; apt-get install -y chromium)")

    def serve(self, site):
        """
        Listen on a free loopback port; at the end, close the connections
        the browser left open (it may open more than it uses) and wait for
        them to be gone.
        """
        connections = []
        build = site.buildProtocol

        def buildProtocol(address):
            protocol = build(address)
            connections.append(protocol)
            return protocol
        site.buildProtocol = buildProtocol
        port = reactor.listenTCP(0, site, interface="127.0.0.1")

        def close():
            for protocol in connections:
                transport = getattr(protocol, "transport", None)
                if isinstance(transport, tcp.Server) and transport.connected:
                    transport.abortConnection()
            d = defer.maybeDeferred(port.stopListening)
            return d.addCallback(lambda _: task.deferLater(reactor, 0.1, lambda: None))
        self.addCleanup(close)
        return port.getHost().port


    def traffic(self, site, port):
        """
        Requests in memory: three hits, a miss, a page never stored.
        """
        for path in [b"/", b"/", b"/", b"/session", b"/"]:
            ex = Exchange(site, path=path, host=b"127.0.0.1:%d" % (port,), port=port)
            self.assertTrue(ex.done())
            ex.disconnect()
        for session in list(site.sessions.values()):
            session.expire()


    def load(self, url):
        """
        Load C{url} in headless Chromium.

        @return: A L{Deferred} firing with C{(dom, log)}.
        """
        profile = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, profile, True)
        args = ["--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--user-data-dir=" + profile,
                "--enable-logging=stderr", "--v=0", "--virtual-time-budget=2000",
                "--dump-dom", url]
        env = dict(os.environ)
        d = utils.getProcessOutputAndValue(BROWSER, args, env=env)

        def done(result):
            out, err, code = result
            self.assertEqual(code, 0, err[-2000:])
            return out.decode("utf-8"), err.decode("utf-8", "replace")
        return d.addCallback(done)


    def check(self, dom, log, pageClass):
        self.assertIn(u"<h1>nevowcache</h1>", dom)
        self.assertIn(u"<h2>Hit ratio</h2>", dom)
        self.assertIn(u"<h2>Memory</h2>", dom)
        self.assertIn(u"16.0 MiB", dom)
        self.assertIn(pageClass, dom)
        self.assertIn(u"<svg", dom)
        self.assertTrue(re.search(u"<rect [^>]*fill=\"var\\(--hit\\)\"", dom), dom[-3000:])
        self.assertIn(u'name="csrf"', dom)
        self.assertIn(u"<th>uncacheable</th><td>1</td>", dom)
        self.assertIn(u"<th>hits</th><td>3</td>", dom)
        self.assertNotIn(u"Forbidden", dom)
        self.assertNotIn(u"Content Security Policy", log)
        self.assertNotIn(u"Refused to", log)


    def test_twistedWeb(self):
        """
        The twisted.web demo's C{/_cache/}, rendered by Chromium.
        """
        site = site3.makeSite(PageCache(MemoryStore(maxBytes=16 * 1024 * 1024)))
        port = self.serve(site)
        self.traffic(site, port)
        d = self.load("http://127.0.0.1:%d/_cache/" % (port,))
        return d.addCallback(lambda result: self.check(result[0], result[1],
                                                      u"demo.site3.Root"))


    def test_nevow(self):
        """
        The Nevow demo's C{/_cache/}, rendered by Chromium.
        """
        freshCache()
        site = appserver.NevowSite(demo.Root())
        port = self.serve(site)
        self.traffic(site, port)
        d = self.load("http://127.0.0.1:%d/_cache/" % (port,))
        return d.addCallback(lambda result: self.check(result[0], result[1],
                                                      u"demo.site.Root"))
    if appserver is None:
        test_nevow.skip = "Nevow runs only on Python 2.7"
