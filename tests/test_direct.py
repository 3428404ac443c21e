# -*- test-case-name: tests.test_direct -*-
"""
Tests for L{nevowcache._http.direct.writeDirect}: fresh hits written straight
to the connection send what a replay through twisted.web's C{Request.write}
sends, and every request it cannot answer that way is replayed as before.
"""

from __future__ import absolute_import, division

import gc
from weakref import ref as _weakref

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from twisted.web import http, resource, server
from twisted.web.http_headers import Headers

from nevowcache._engine import answer as _answer
from nevowcache._http import direct as _direct, replay as _replay
from nevowcache._http.entry import CacheEntry
from nevowcache._http.key import CacheKey
from nevowcache._http.direct import writeDirect

from tests._adapters import CACHING_SITE, NevowAdapter, WebAdapter
from tests._harness import SiteTestsMixin
from tests._http import Exchange, Response



def _replayOnly(request, entry, *args, **kwargs):
    """
    L{nevowcache._direct.writeDirect}, as L{nevowcache._answer} calls it,
    that never writes: every hit is replayed.
    """
    return False



def _shape(response):
    """
    What a client sees of a response, but C{Date} (the wall clock's):
    the status line, the headers (names lower-cased, sorted) and the body.
    """
    headers = sorted((name.lower(), tuple(values))
                     for name, values in response.headers.getAllRawHeaders()
                     if name.lower() != b"date")
    return response.statusLine, headers, response.body



class DirectTestsMixin(SiteTestsMixin):
    """
    Direct hits against replayed hits, on the adapter under test.
    """

    def both(self, path=b"/p", **kwargs):
        """
        Store the page's response, then ask for it twice: written directly,
        and (with L{nevowcache._direct.writeDirect} disabled) replayed.

        @return: C{(direct, replayed)} L{Response}s.
        """
        self.get(path, **kwargs)
        direct = self.get(path, **kwargs)
        self.patch(_answer, "writeDirect", _replayOnly)
        replayed = self.get(path, **kwargs)
        self.assertIn(b"hit", replayed.cacheStatus)
        return direct, replayed


    def assertSame(self, direct, replayed):
        self.assertEqual(_shape(direct), _shape(replayed))


    def test_plainHit(self):
        """
        A plain hit is the same, written either way.
        """
        self.page(b"p")
        direct, replayed = self.both()
        self.assertEqual(direct.code, 200)
        self.assertIn(b"nevowcache; hit", direct.cacheStatus)
        self.assertSame(direct, replayed)


    def test_pageHeaders(self):
        """
        Headers the page set, several values of one, its own C{ETag} and
        C{Content-Type}, go out as a replay sends them.
        """
        def behave(request):
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            request.responseHeaders.setRawHeaders(b"x-many", [b"one", b"two"])
            request.setHeader(b"etag", b'"mine"')
            request.setHeader(b"x-xss-protection", b"1")
            return b"plain"
        self.page(b"p", behave)
        direct, replayed = self.both()
        self.assertEqual(direct.headers.getRawHeaders(b"x-many"), [b"one", b"two"])
        self.assertEqual(direct.header(b"etag"), b'"mine"')
        self.assertSame(direct, replayed)


    def test_publicCacheControl(self):
        """
        With C{cacheControl = "public"} the C{Cache-Control} the cache
        computes goes out, once.
        """
        self.page(b"p", cacheControl="public")
        self.get()
        self.clock.advance(5)
        direct, replayed = self.both()
        self.assertEqual(direct.headers.getRawHeaders(b"cache-control"),
                         [b"public, max-age=60"])
        self.assertSame(direct, replayed)


    def test_http10(self):
        """
        An HTTP/1.0 request gets an HTTP/1.0 status line and the
        C{Connection: close} Twisted gives it, either way.
        """
        self.page(b"p")
        direct, replayed = self.both(version=b"HTTP/1.0")
        self.assertTrue(direct.statusLine.startswith(b"HTTP/1.0 200 "))
        self.assertSame(direct, replayed)


    def test_connectionClose(self):
        """
        A client asking to close the connection is told so, either way.
        """
        self.page(b"p")
        direct, replayed = self.both(headers=[b"Connection: close"])
        self.assertEqual(direct.header(b"connection"), b"close")
        self.assertSame(direct, replayed)


    def test_hitsAreWrittenDirectly(self):
        """
        Fresh hits do not go through L{replay} at all.
        """
        self.page(b"p")
        self.get()

        def replay(*args, **kwargs):
            raise AssertionError("replayed")
        self.patch(_answer, "replay", replay)
        hit = self.get()
        self.assertIn(b"nevowcache; hit", hit.cacheStatus)
        self.assertEqual(hit.body, b"url=/p render=1|")


    def test_conditionalReplayed(self):
        """
        A request with preconditions is replayed (and answered C{304} when
        they match), not written directly.
        """
        self.page(b"p")
        etag = self.get().header(b"etag")
        calls = []
        original = _direct.writeDirect

        def spy(request, *args, **kwargs):
            result = original(request, *args, **kwargs)
            calls.append(result)
            return result
        self.patch(_answer, "writeDirect", spy)
        notModified = self.get(headers=[b"If-None-Match: " + etag])
        self.assertEqual(notModified.code, 304)
        self.assertEqual(notModified.body, b"")
        self.assertEqual(calls, [False])


    def test_headReplayed(self):
        """
        A C{HEAD} hit is replayed: headers, no body.
        """
        self.page(b"p")
        self.get()
        head = self.get(method=b"HEAD")
        self.assertIn(b"hit", head.cacheStatus)
        self.assertEqual(head.body, b"")
        self.assertEqual(head.header(b"content-length"), b"16")



class WebDirectTests(DirectTestsMixin, SynchronousTestCase):
    """
    Direct hits on the twisted.web adapter.
    """
    adapter = WebAdapter()


    def test_defaultContentType(self):
        """
        A response stored without a C{Content-Type} gets twisted.web's
        default, once, either way.
        """
        self.page(b"p", lambda request: b"untyped")
        direct, replayed = self.both()
        self.assertEqual(direct.headers.getRawHeaders(b"content-type"), [b"text/html"])
        self.assertSame(direct, replayed)


    def test_emptyBodyUntyped(self):
        """
        An empty body stored without a C{Content-Type} gets none, as
        twisted.web sends it.
        """
        self.page(b"p", lambda request: b"")
        direct, replayed = self.both()
        self.assertIsNone(direct.header(b"content-type"))
        self.assertEqual(direct.header(b"content-length"), b"0")
        self.assertSame(direct, replayed)


    def test_requestClassWritingItsOwnWay(self):
        """
        A request class with a C{write} of its own gets every byte through
        it: hits are replayed for it.
        """
        written = []

        class Recording(server.Request):
            def write(self, data):
                written.append(data)
                return server.Request.write(self, data)
        self.page(b"p")
        self.site = self.adapter.makeSite(self.clock, self.cache, self.pages)
        self.site.requestFactory = Recording
        self.get()
        del written[:]
        hit = self.get()
        self.assertIn(b"nevowcache; hit", hit.cacheStatus)
        self.assertIn(b"url=/p render=1|", written)



class NevowDirectTests(DirectTestsMixin, SynchronousTestCase):
    """
    Direct hits on L{nevowcache.CachedPage}, after Nevow's traversal.
    """
    adapter = NevowAdapter()
    skip = adapter.skip



class CachingSiteDirectTests(DirectTestsMixin, SynchronousTestCase):
    """
    Direct hits on L{nevowcache.CachingSite}, before traversal.
    """
    adapter = CACHING_SITE
    skip = CACHING_SITE.skip


    def test_nevowHeaders(self):
        """
        Early hits carry C{Server} and C{Date}, once each, as Nevow's do.
        """
        self.page(b"p")
        self.get()
        hit = self.get()
        self.assertEqual(len(hit.headers.getRawHeaders(b"server")), 1)
        self.assertEqual(len(hit.headers.getRawHeaders(b"date")), 1)



class _Channel(object):
    """
    Stands for an C{HTTPChannel} that records what is written.
    """



class WriteDirectTests(SynchronousTestCase):
    """
    L{writeDirect} on a request made by hand.
    """

    def request(self, **headers):
        site = server.Site(resource.Resource(), reactor=Clock())
        ex = Exchange(site, path=b"/unknown")
        self.addCleanup(ex.disconnect)
        channel = getattr(ex.protocol, "_channel", ex.protocol)
        request = server.Request(channel, False)
        request.method = b"GET"
        request.clientproto = b"HTTP/1.1"
        request.requestHeaders = Headers(headers)
        ex.transport.clear()
        return request, ex


    def entry(self, headers=((b"content-type", (b"text/html",)),), body=b"<p>hi</p>"):
        return CacheEntry(CacheKey(("http", b"h", 80, (), (), ())), 200, b"OK",
                          headers, body, 0.0)


    def test_storedValueStaysOneHeader(self):
        """
        A stored header value with line breaks in it is one header line on
        the wire: it cannot add a header or start the body.
        """
        request, ex = self.request()
        entry = self.entry(headers=(
            (b"content-type", (b"text/html",)),
            (b"x-evil", (b"a\r\nSet-Cookie: owned=1\r\n\r\n<script>",)),
        ))
        self.assertTrue(writeDirect(request, entry, b"nevowcache; hit"))
        response = Response(ex.transport.value())
        self.assertIsNone(response.header(b"set-cookie"))
        self.assertEqual(response.body, b"<p>hi</p>")
        self.assertEqual(response.header(b"x-evil"),
                         b"a Set-Cookie: owned=1  <script>")


    def test_writesStatusHeadersBody(self):
        """
        One write: the status line, the request's own headers, the cache's,
        the entry's with C{Content-Length}, then the body; the request is
        marked as written.
        """
        request, ex = self.request()
        request.setHeader(b"x-from-traversal", b"1")
        entry = self.entry()
        self.assertTrue(writeDirect(request, entry, b"nevowcache; hit", age=3,
                                    cacheControl=b"public, max-age=57"))
        response = Response(ex.transport.value())
        self.assertEqual(response.statusLine, b"HTTP/1.1 200 OK")
        self.assertEqual(response.header(b"x-from-traversal"), b"1")
        self.assertEqual(response.cacheStatus, b"nevowcache; hit")
        self.assertEqual(response.header(b"age"), b"3")
        self.assertEqual(response.header(b"cache-control"), b"public, max-age=57")
        self.assertEqual(response.header(b"content-length"), b"9")
        self.assertEqual(response.body, b"<p>hi</p>")
        self.assertTrue(request.startedWriting)
        self.assertEqual(request.sentLength, 9)
        self.assertEqual(request.code, 200)


    def test_dateByWallClock(self):
        """
        The C{Date} sent with an C{Age} is when the entry was generated by
        the wall clock given (the answering cache's,
        L{nevowcache._engine.clocks.Clocks.wallClock}): that clock's now minus the
        age, not the real time of day's; and so for a replay.
        """
        clock = Clock()
        # A day and a half after the epoch, the real time of day far away.
        clock.advance(86400 * 1.5)
        generated = http.datetimeToString(int(clock.seconds()) - 3)
        request, ex = self.request()
        self.assertTrue(writeDirect(request, self.entry(), b"nevowcache; hit", age=3,
                                    wallClock=clock))
        response = Response(ex.transport.value())
        self.assertEqual(response.headers.getRawHeaders(b"date"), [generated])
        request, ex = self.request()
        _replay.replay(request, self.entry(), b"nevowcache; hit", age=3, wallClock=clock)
        self.assertEqual(request.responseHeaders.getRawHeaders(b"date"), [generated])
        self.assertEqual(_replay.generatedDate(3, clock), (int(clock.seconds()) - 3, generated))


    def test_refusals(self):
        """
        Nothing is written, and C{False} answered, for a request in any
        state a plain first write would not see.
        """
        entry = self.entry()
        cases = {
            "HEAD": lambda r: setattr(r, "method", b"HEAD"),
            "started": lambda r: setattr(r, "startedWriting", 1),
            "cookie": lambda r: r.addCookie(b"a", b"b"),
            "etag": lambda r: setattr(r, "etag", b'"x"'),
            "lastModified": lambda r: setattr(r, "lastModified", 1),
            "encoder": lambda r: setattr(r, "_encoder", object()),
            "HEAD rendered as GET": lambda r: setattr(r, "_inFakeHead", True),
            "disconnected": lambda r: setattr(r, "_disconnected", True),
            "not HTTP/1": lambda r: setattr(r, "channel", _Channel()),
            "If-None-Match": lambda r: r.requestHeaders.setRawHeaders(
                b"if-none-match", [b'"x"']),
            "If-Modified-Since": lambda r: r.requestHeaders.setRawHeaders(
                b"if-modified-since", [b"Thu, 01 Jan 1970 00:00:00 GMT"]),
        }
        for name, spoil in cases.items():
            request, ex = self.request()
            spoil(request)
            self.assertFalse(writeDirect(request, entry, b"nevowcache; hit"), name)
            self.assertEqual(ex.transport.value(), b"", name)


    def test_ownCacheControlKept(self):
        """
        An entry with a C{Cache-Control} of its own is not written directly
        when the cache sends another (the replay replaces it).
        """
        request, ex = self.request()
        entry = self.entry(headers=((b"cache-control", (b"max-age=5",)),))
        self.assertFalse(writeDirect(request, entry, b"nevowcache; hit", cacheControl=b"public"))
        self.assertTrue(writeDirect(request, entry, b"nevowcache; hit"))
        self.assertEqual(Response(ex.transport.value()).header(b"cache-control"),
                         b"max-age=5")



class KnownHeadsTests(SynchronousTestCase):
    """
    The heads L{writeDirect} remembers (C{_heads}): an entry sent again,
    in the same second, to a request with the same headers so far, is sent
    with the head made last time; anything else gets a head of its own.
    """

    request = WriteDirectTests.request.__func__ if hasattr(
        WriteDirectTests.request, "__func__") else WriteDirectTests.request
    entry = WriteDirectTests.entry.__func__ if hasattr(
        WriteDirectTests.entry, "__func__") else WriteDirectTests.entry

    def setUp(self):
        self.patch(_direct, "_heads", {})
        self.made = []
        directHead = _direct._directHead

        def counted(*args):
            head = directHead(*args)
            self.made.append(head)
            return head
        self.patch(_direct, "_directHead", counted)


    def send(self, entry, status=b"nevowcache; hit", spoil=None, **kwargs):
        """
        Write C{entry} directly on a new request (changed by C{spoil} first).

        @return: The bytes written.
        """
        request, ex = self.request()
        if spoil is not None:
            spoil(request)
        self.assertTrue(writeDirect(request, entry, status, **kwargs))
        return ex.transport.value()


    def fresh(self, entry, status=b"nevowcache; hit", spoil=None, **kwargs):
        """
        What L{send} writes with nothing remembered.
        """
        _direct._heads.clear()
        return self.send(entry, status, spoil, **kwargs)


    def test_sameAgain(self):
        """
        The same entry sent again to a request like the last one is sent
        with the remembered head: the same bytes, made once.
        """
        clock = Clock()
        entry = self.entry()
        first = self.send(entry, age=3, wallClock=clock)
        second = self.send(entry, age=3.5, wallClock=clock)
        self.assertEqual(first, second)
        self.assertEqual(len(self.made), 1)


    def test_everyInput(self):
        """
        Whatever a head is made of, changed since the head remembered for
        an entry was made, gives the head made from scratch for it.
        """
        clock = Clock()
        clock.advance(1000)
        entry = self.entry()
        base = dict(age=3, wallClock=clock)
        changes = [
            ("status", dict(base, status=b"nevowcache; hit; ttl=5"), None),
            ("age", dict(base, age=4), None),
            ("no age", dict(base, age=None), None),
            ("cacheControl", dict(base, cacheControl=b"public, max-age=60"), None),
            ("leading", dict(base, leading=b"X-Lead: 1\r\n"), None),
            ("HTTP/1.0", base, lambda r: setattr(r, "clientproto", b"HTTP/1.0")),
            ("header", base, lambda r: r.setHeader(b"x-from-traversal", b"1")),
            ("server", base, lambda r: r.setHeader(b"server", b"Other/1")),
        ]
        for name, kwargs, spoil in changes:
            self.send(entry, **base)
            changed = self.send(entry, spoil=spoil, **kwargs)
            self.assertEqual(changed, self.fresh(entry, spoil=spoil, **kwargs), name)
            self.assertNotEqual(changed, self.fresh(entry, **base), name)
        self.send(entry, **base)
        clock.advance(1)
        later = self.send(entry, **base)
        self.assertEqual(later, self.fresh(entry, **base))
        self.assertIn(http.datetimeToString(1001 - 3), later)
        # Typed by the request's default, for an entry without a type.
        untyped = self.entry(headers=())
        self.send(untyped)
        typed = self.send(untyped, spoil=lambda r: setattr(r, "defaultContentType", b"x/y"))
        self.assertIn(b"Content-Type: x/y\r\n", typed)
        self.send(untyped)
        typed = self.send(untyped, contentType=b"a/b")
        self.assertIn(b"Content-Type: a/b\r\n", typed)


    def test_headerOrder(self):
        """
        The headers a request has so far are sent in the order they were
        set, as a replay sends them: the same headers set in another order
        give another head.
        """
        def ab(request):
            request.setHeader(b"x-a", b"1")
            request.setHeader(b"x-b", b"2")

        def ba(request):
            request.setHeader(b"x-b", b"2")
            request.setHeader(b"x-a", b"1")
        clock = Clock()
        entry = self.entry()
        self.send(entry, age=3, wallClock=clock, spoil=ab)
        second = self.send(entry, age=3, wallClock=clock, spoil=ba)
        self.assertEqual(second, self.fresh(entry, age=3, wallClock=clock, spoil=ba))


    def test_otherEntry(self):
        """
        A head is remembered for its entry only: another entry, alive at
        the same time or made later where a dead one was, gets its own.
        """
        one = self.entry(body=b"one")
        other = self.entry(headers=((b"content-type", (b"text/plain",)),), body=b"other")
        self.send(one)
        self.assertIn(b"text/plain", self.send(other))
        self.assertIn(b"text/html", self.send(one))
        # A record under this entry's id that is another entry's.
        _direct._heads[id(other)] = (_weakref(one),) + _direct._heads[id(one)][1:]
        self.assertIn(b"text/plain", self.send(other))


    def test_bounded(self):
        """
        At most C{_MOST_HEADS} heads are remembered, none longer than
        C{_MOST_HEAD_BYTES}; entries are held weakly.
        """
        self.patch(_direct, "_MOST_HEADS", 3)
        entries = [self.entry(body=b"%d" % (n,)) for n in range(10)]
        for entry in entries:
            self.send(entry)
            self.assertTrue(len(_direct._heads) <= 3)
        del entries[:], entry
        gc.collect()
        self.assertEqual([r for r in _direct._heads.values() if r[0]() is not None], [])
        big = self.entry(headers=((b"x-big", (b"x" * 3000,)),))
        _direct._heads.clear()
        self.send(big)
        self.assertEqual(_direct._heads, {})



class RecordingHeadersTests(SynchronousTestCase):
    """
    A render's view of the request headers keeps Twisted's table to itself.
    """

    def test_noRawTable(self):
        """
        The recording view does not hand out the table behind it (which
        would be read without being recorded); nevowcache's own readers of
        it fall back to C{getRawHeaders}, which records.
        """
        from nevowcache._http.headers import headerValues
        from nevowcache._http.capture import CaptureRequest
        site = server.Site(resource.Resource(), reactor=Clock())
        ex = Exchange(site, path=b"/unknown")
        self.addCleanup(ex.disconnect)
        channel = getattr(ex.protocol, "_channel", ex.protocol)
        request = server.Request(channel, False)
        request.requestHeaders = Headers({b"host": [b"example.com"],
                                          b"x-secret": [b"1"]})
        capture = CaptureRequest(request)
        self.assertRaises(AttributeError, getattr, capture.requestHeaders, "_rawHeaders")
        self.assertEqual(headerValues(capture.requestHeaders, b"host"), [b"example.com"])
        self.assertEqual(capture.headersRead, set([b"host"]))

