"""
Deployment with twistd: a cached site served from a C{.tac} file under
C{twistd -n -y}, in a real subprocess of the interpreter running the tests
(the virtualenv C{./dev} builds, as the README tells a user to), on a free
loopback port.

On Python 2.7 the C{.tac} serves a L{nevowcache.CachedPage} through
L{nevowcache.CachingSite}; on Python 3 a twisted.web resource through
L{nevowcache.web.cached}.
"""

from __future__ import absolute_import, division

import os
import sys
import textwrap

from twisted.internet import defer, protocol, reactor, task
from twisted.trial.unittest import TestCase
from twisted.web.client import Agent, HTTPConnectionPool, readBody

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


NEVOW_TAC = u'''
import os

from twisted.application import internet, service
from nevow import loaders, tags

from nevowcache import CachedPage, CachingSite


class Home(CachedPage):
    cacheTimeout = 30
    docFactory = loaders.stan(tags.html[tags.body[
        tags.p(render=tags.directive("count"))]])
    renders = 0

    def render_count(self, ctx, data):
        Home.renders += 1
        return ctx.tag["rendered %d time(s)" % (Home.renders,)]


site = CachingSite(Home())
'''

WEB_TAC = u'''
import os

from twisted.application import internet, service
from twisted.web.resource import Resource
from twisted.web.server import Site

from nevowcache.web import cached


class Home(Resource):
    isLeaf = True
    renders = 0

    def render_GET(self, request):
        Home.renders += 1
        request.setHeader(b"content-type", b"text/html")
        return b"<html><body><p>rendered %d time(s)</p></body></html>" % (Home.renders,)


site = Site(cached(Home(), cacheTimeout=30))
'''

# Both: listen on a free loopback port, and say which in a file once listening.
SERVE = u'''

class Announced(internet.TCPServer):
    def startService(self):
        internet.TCPServer.startService(self)
        path = os.environ["NEVOWCACHE_PORTFILE"]
        with open(path + ".tmp", "w") as f:
            f.write(str(self._port.getHost().port))
        os.rename(path + ".tmp", path)


application = service.Application("nevowcache-twistd-test")
Announced(0, site, interface="127.0.0.1").setServiceParent(application)
'''



class _Twistd(protocol.ProcessProtocol):
    """
    A twistd process: its output, and a L{Deferred} for its end.
    """

    def __init__(self):
        self.output = []
        self.ended = defer.Deferred()
        self.running = True


    def outReceived(self, data):
        self.output.append(data)

    errReceived = outReceived


    def processEnded(self, reason):
        self.running = False
        self.ended.callback(reason.value)


    def text(self):
        return b"".join(self.output).decode("utf-8", "replace")



class TwistdTests(TestCase):
    """
    A C{.tac} file using nevowcache runs under C{twistd -n -y}.
    """

    timeout = 60

    def twistdCommand(self):
        """
        @return: The twistd script installed beside this interpreter.
        """
        script = os.path.join(os.path.dirname(sys.executable), "twistd")
        if not os.path.exists(script):
            self.fail("no twistd beside %s: run the tests with ./dev test" % (sys.executable,))
        return [sys.executable, script]


    @defer.inlineCallbacks
    def startTwistd(self, source):
        """
        Write C{source} to a C{.tac} file and run it under C{twistd -n -y}.

        @return: A L{Deferred} firing with the port it listens on.
        """
        base = os.path.abspath(self.mktemp())
        os.makedirs(base)
        tac = os.path.join(base, "site.tac")
        with open(tac, "w") as f:
            f.write(textwrap.dedent(source))
        portFile = os.path.join(base, "port")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [ROOT] + [p for p in [env.get("PYTHONPATH")] if p])
        env["NEVOWCACHE_PORTFILE"] = portFile
        proto = _Twistd()
        command = self.twistdCommand() + [
            "-n", "-y", tac, "--pidfile", "", "--logfile", "-"]
        transport = reactor.spawnProcess(proto, command[0], command, env=env, path=base)

        def stop():
            if proto.running:
                transport.signalProcess("KILL")
                return proto.ended
        self.addCleanup(stop)
        self.twistd, self.transport = proto, transport
        for _ in range(600):
            if os.path.exists(portFile):
                with open(portFile) as f:
                    defer.returnValue(int(f.read()))
            if not proto.running:
                self.fail("twistd ended before listening:\n" + proto.text())
            yield task.deferLater(reactor, 0.05, lambda: None)
        self.fail("twistd did not listen within 30 s:\n" + proto.text())


    @defer.inlineCallbacks
    def get(self, port):
        pool = HTTPConnectionPool(reactor, persistent=False)
        response = yield Agent(reactor, pool=pool).request(
            b"GET", b"http://127.0.0.1:%d/" % (port,))
        body = yield readBody(response)
        status = response.headers.getRawHeaders(b"cache-status", [b""])[0]
        defer.returnValue((response.code, status, body))


    @defer.inlineCallbacks
    def test_serveTac(self):
        """
        The C{.tac} file starts; its page is rendered once and then served
        from the cache; C{SIGTERM} stops twistd cleanly.
        """
        try:
            import nevow  # noqa: F401
        except ImportError:
            source = WEB_TAC + SERVE
        else:
            source = NEVOW_TAC + SERVE
        port = yield self.startTwistd(source)
        first = yield self.get(port)
        second = yield self.get(port)
        self.assertEqual(first[0], 200, self.twistd.text())
        self.assertIn(b"rendered 1 time(s)", first[2])
        self.assertIn(b"fwd=uri-miss; ttl=30; stored", first[1])
        self.assertEqual(second[0], 200)
        self.assertEqual(second[2], first[2])
        self.assertIn(b"; hit", second[1])
        self.transport.signalProcess("TERM")
        yield self.twistd.ended
        self.assertIn(u"Server Shut Down", self.twistd.text())
        self.assertNotIn(u"Traceback", self.twistd.text())
