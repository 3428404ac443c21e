"""
Nothing personal shared, nothing unkeyed reflected: personalised responses
(cookies, sessions, credentials, C{Cache-Control}, C{Vary: *}) never reach
another client, even through a coalesced render; a canary in any input the
key does not hold never shows up in a later clean response; keys are
injective and hold what a render can see of the host.
"""

from __future__ import absolute_import, division

from hypothesis import given, settings, strategies as st
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from twisted.web import resource, server

from nevowcache import CacheKey, MemoryStore, PageCache
from nevowcache._http.host import hostKey, validHost
from nevowcache._http.identity import urlIdentity
from nevowcache._http.keyencoding import encodeKey

from tests._adapters import ADAPTERS, CACHING_SITE, KLEIN, makeCases
from tests._harness import SiteTestsMixin
from tests._http import Exchange

CANARY = b"canary7e3"

# Request headers some frameworks, proxies or pages read to build URLs or
# pick a method (Param Miner's list, in part); the key holds none of them.
UNKEYED_HEADERS = [
    b"X-Forwarded-Host", b"X-Forwarded-Proto", b"X-Forwarded-Scheme",
    b"X-Forwarded-Port", b"X-Forwarded-Server", b"X-Forwarded-For", b"Forwarded",
    b"X-Original-URL", b"X-Rewrite-URL", b"X-Host", b"X-HTTP-Host-Override",
    b"X-Forwarded-Prefix", b"X-Original-Host", b"Origin", b"Referer", b"User-Agent",
]

# Host headers the key cannot tell from a clean one (or could not, once),
# each with the clean Host it would be confused with.
MALFORMED_HOSTS = [
    (b"example.com:" + CANARY, b"example.com"),
    (b"example.com:1@" + CANARY + b".example", b"example.com"),
    (b"example.com:8080:" + CANARY, b"example.com"),
    (b"[::1]" + CANARY, b"[::1]"),
    (b"example.com:", b"example.com"),
    (b"example.com/" + CANARY, b"example.com"),
    (b"example.com%2F" + CANARY, b"example.com"),
    (b"", b"example.com"),
]



class _SiteTestsMixin(SiteTestsMixin):
    """
    L{SiteTestsMixin}, with a canary check.
    """

    def assertClean(self, response, canary=CANARY):
        """
        Assert the canary is nowhere in a response.
        """
        self.assertNotIn(canary, response.raw.lower())



class PersonalisationTestsMixin(_SiteTestsMixin):
    """
    Responses that are someone's own are never stored, and never handed to
    another request, coalesced or not.
    """

    def assertNeverShared(self, behave, headers=(), otherHeaders=None):
        """
        Two requests render twice, each answer is its own render, and
        nothing is stored.

        @return: The two responses.
        """
        spec = self.page(b"p", behave)
        if otherHeaders is None:
            otherHeaders = headers
        first = self.get(headers=list(headers))
        second = self.get(headers=list(otherHeaders))
        self.assertEqual(spec.renders, 2)
        self.assertEqual(self.store.stats()["entries"], 0)
        numbers = [self.log.check(self, b"/p", r.body) for r in (first, second)]
        self.assertEqual(numbers, [1, 2])
        return first, second


    def test_setCookie(self):
        """
        A response setting a cookie, by C{addCookie} or as a header in any
        case, is never stored: with no cookie in the request, with an
        unrelated one, or with the one it replaces.
        """
        setters = [
            lambda request: request.addCookie(b"sid", b"s" + str(self.log.count).encode("ascii")),
            lambda request: request.setHeader(b"Set-Cookie", b"sid=1"),
            lambda request: request.responseHeaders.addRawHeader(b"SET-COOKIE", b"sid=1"),
            lambda request: request.responseHeaders.setRawHeaders(b"set-cookie2", [b"sid=1"]),
        ]
        for setter in setters:
            for prior in ([], [b"Cookie: unrelated=value"], [b"Cookie: sid=old"]):
                self.freshSite()

                def behave(request):
                    body = self.log.body(request)
                    setter(request)
                    return body
                first, second = self.assertNeverShared(behave, prior)
                self.assertIsNotNone(second.header(b"set-cookie") or second.header(b"set-cookie2"))
                self.assertIn(b"detail=set-cookie", second.cacheStatus)


    def test_session(self):
        """
        A render that uses the session (creating one, or finding the
        client's) is never stored, and each client sees its own.
        """
        def behave(request):
            session = request.getSession()
            return self.log.body(request, b"session=" + session.uid + b";")
        first, second = self.assertNeverShared(behave)
        cookie = first.header(b"set-cookie").split(b";")[0]
        third = self.get(headers=[b"Cookie: " + cookie])
        uid = cookie.split(b"=", 1)[1]
        self.assertIn(b"session=" + uid + b";", third.body)
        self.assertNotIn(uid, second.raw)
        self.assertEqual(self.store.stats()["entries"], 0)


    def test_authorization(self):
        """
        Requests carrying credentials, of any scheme, even empty, bypass the
        cache both ways.
        """
        spec = self.page(b"p")
        self.get()
        for value in (b"Basic dTpw", b"Bearer abc", b"", b"Digest x"):
            response = self.get(headers=[b"authorization: " + value])
            self.assertEqual(response.cacheStatus,
                             b"nevowcache; fwd=bypass; detail=authorization")
            self.log.check(self, b"/p", response.body)
        self.assertEqual(spec.renders, 5)
        clean = self.get()
        self.assertEqual(clean.cacheStatus[:15], b"nevowcache; hit")
        self.assertEqual(self.log.check(self, b"/p", clean.body), 1)


    def test_credentialsReadNotStored(self):
        """
        A render reading the user or password (of a proxy's credentials,
        say) is never stored.
        """
        def behave(request):
            return self.log.body(request, b"user=" + (request.getUser() or b"-") + b";")
        self.assertNeverShared(behave)


    def test_cacheControlAnyCaseAndSpacing(self):
        """
        C{private}, C{no-store} and C{no-cache}, in any case, spacing,
        position, with arguments, or in a second header line, keep a
        response out of the cache.
        """
        values = [
            [b"private"], [b"PRIVATE"], [b"Private , max-age=60"], [b"max-age=60,private"],
            [b"no-store"], [b"NO-store"], [b" no-store "], [b"public,no-store"],
            [b"no-cache"], [b"No-Cache"], [b'no-cache="Set-Cookie"'], [b"\tno-cache"],
            [b"max-age=60", b"private"], [b"public", b"NO-CACHE"], [b'private="x", public'],
        ]
        for value in values:
            self.freshSite()

            def behave(request):
                request.responseHeaders.setRawHeaders(b"cache-control", value)
                return self.log.body(request)
            first, second = self.assertNeverShared(behave)
            self.assertIn(b"detail=cache-control-", second.cacheStatus, value)


    def test_varyStar(self):
        """
        C{Vary: *}, alone, with spaces, among other names or in a second
        header line, keeps a response out of the cache; so does a C{Vary} on
        a request header the key does not hold.
        """
        for value in ([b"*"], [b" * "], [b"Accept, *"], [b"*,accept-encoding"],
                      [b"accept", b"*"], [b"Cookie"], [b"accept-language"]):
            self.freshSite()

            def behave(request):
                request.responseHeaders.setRawHeaders(b"vary", value)
                return self.log.body(request)
            self.assertNeverShared(behave)


    def test_coalescedWaitersNeverGetPersonalResponse(self):
        """
        Ten concurrent requests with ten cookies to a page that reads the
        cookie and sets one: ten renders, ten bodies, each answer with its
        own body and its own cookie only.
        """
        pending = []

        def behave(request):
            user = request.getCookie(b"user")
            request.addCookie(b"greeted", user)
            body = self.log.body(request, b"user=" + user + b";")
            d = defer.Deferred()
            pending.append(d)
            return d.addCallback(lambda _: body)
        spec = self.page(b"p", behave)
        exchanges = [self.exchange(headers=[b"Cookie: user=u" + str(i).encode("ascii")])
                     for i in range(10)]
        self.assertEqual(spec.renders, 1)
        pending[0].callback(None)
        self.assertEqual(spec.renders, 10)
        for d in pending[1:]:
            d.callback(None)
        bodies = set()
        for i, ex in enumerate(exchanges):
            response = ex.response()
            user = b"u" + str(i).encode("ascii")
            self.log.check(self, b"/p", response.body)
            self.assertIn(b"user=" + user + b";", response.body)
            cookies = response.headers.getRawHeaders(b"set-cookie")
            self.assertEqual([c.split(b";")[0] for c in cookies], [b"greeted=" + user])
            bodies.add(response.body)
        self.assertEqual(len(bodies), 10)
        self.assertEqual(self.store.stats()["entries"], 0)


    def test_coalescedWaitersNeverGetLeadersCookie(self):
        """
        A page setting a fresh cookie on every render (a session, a CSRF
        token) without reading any: the leader's cookie reaches no waiter.
        """
        pending = []

        def behave(request):
            body = self.log.body(request)
            request.addCookie(b"token", str(self.log.count).encode("ascii"))
            d = defer.Deferred()
            pending.append(d)
            return d.addCallback(lambda _: body)
        self.page(b"p", behave)
        exchanges = [self.exchange() for _ in range(10)]
        pending[0].callback(None)
        for d in pending[1:]:
            d.callback(None)
        for ex in exchanges:
            response = ex.response()
            number = self.log.check(self, b"/p", response.body)
            [cookie] = response.headers.getRawHeaders(b"set-cookie")
            self.assertEqual(cookie.split(b";")[0], b"token=" + str(number).encode("ascii"))


    def test_personalRefreshNotStored(self):
        """
        A background refresh whose render sets a cookie is not stored: the
        shared entry stays, without the cookie.
        """
        def behave(request):
            body = self.log.body(request)
            if self.log.count > 1:
                request.addCookie(b"sid", b"leak")
            return body
        self.page(b"p", behave, cacheTimeout=5)
        first = self.get()
        self.clock.advance(6)
        self.get()
        self.clock.advance(0)
        response = self.get()
        self.assertEqual(response.body, first.body)
        self.assertIsNone(response.header(b"set-cookie"))
        self.flushLoggedErrors()



class UnkeyedInputTestsMixin(_SiteTestsMixin):
    """
    Inputs the key does not hold never reach a later clean response: a
    canary sent in one never appears when the page is asked for cleanly.
    """

    def mirror(self, request):
        """
        A body showing everything a page can derive from the request's URL
        through Twisted's (and Nevow's) own API: its absolute URLs, host,
        scheme, URI and arguments.
        """
        url = request.prePathURL()
        query = request.uri.partition(b"?")[2]
        try:
            urlPath = str(request.URLPath()).encode("ascii")
        except ValueError:
            # Twisted cannot parse its own URL for some Host headers.
            urlPath = b"-"
        parts = [url, url + b"?" + query, urlPath,
                 request.getRequestHostname(), str(request.isSecure()).encode("ascii"),
                 request.uri, repr(sorted(request.args.items())).encode("ascii")]
        return self.log.body(request, b" ".join(parts))


    def test_unkeyedHeadersNotReflected(self):
        """
        A canary in any of the headers frameworks and proxies use to build
        URLs is never in a later clean response: a page that does not read
        them renders the same, and one that reads them is not stored.
        """
        for name in UNKEYED_HEADERS:
            self.freshSite()

            def reads(request, name=name):
                return self.log.body(request, request.getHeader(name) or b"-")
            self.page(b"mirror", self.mirror)
            self.page(b"reads", reads)
            canary = name + b": https://" + CANARY + b".example/x"
            for path in (b"/mirror", b"/reads"):
                self.get(path, headers=[canary])
                self.assertClean(self.get(path))
            self.assertEqual(self.pages[b"reads"].renders, 2, name)


    def test_copiedHeadersRead(self):
        """
        A page reading a copy of the request headers reads them all: it is
        not stored.
        """
        def reads(request):
            copied = request.requestHeaders.copy()
            return self.log.body(request, (copied.getRawHeaders(b"x-forwarded-host")
                                           or [b"-"])[0])
        spec = self.page(b"p", reads)
        self.get(headers=[b"X-Forwarded-Host: " + CANARY])
        self.assertClean(self.get())
        self.assertEqual(spec.renders, 2)


    def test_malformedHostBypasses(self):
        """
        A Host header that is not a plain C{host[:port]} (which one Twisted
        version or another reads differently from the key) bypasses the
        cache: its canary never reaches a clean request.
        """
        self.page(b"p", self.mirror)
        for host, clean in MALFORMED_HOSTS:
            evil = self.get(host=host)
            self.assertIn(b"detail=bad-host", evil.cacheStatus, host)
            self.assertClean(self.get(host=clean))


    def test_rawHostPortNotShared(self):
        """
        A page reading the raw Host header (port and case included) is
        stored only when the header is exactly what the key holds: a canary
        port or case never reaches a clean request.
        """
        def raw(request):
            return self.log.body(request, request.getHeader(b"host"))
        for host in (b"example.com:1337", b"EXAMPLE.COM", b"Example.com:8080"):
            self.freshSite()
            spec = self.page(b"p", raw)
            poisoned = self.get(host=host)
            self.assertIn(b"detail=header-read-host", poisoned.cacheStatus)
            clean = self.get(host=b"example.com")
            self.assertTrue(clean.body.endswith(b"|example.com"), clean.body)
            self.assertEqual(clean.cacheStatus, b"nevowcache; fwd=uri-miss; ttl=60; stored")
            again = self.get(host=host)
            if host.lower() == host:
                # Only the port differs: the clean entry (the render sees the
                # socket's port).
                self.assertEqual(again.body, clean.body)
                self.assertEqual(spec.renders, 2)
            else:
                # Another case is another entry, which reads the Host: its own
                # render, not stored.
                self.assertTrue(again.body.endswith(b"|" + host), again.body)
                self.assertEqual(spec.renders, 3)


    def test_pathSpellingsApart(self):
        """
        Two spellings of one path (a percent-encoded character that needs
        no encoding, RFC 3986 section 6.2.2) are two entries: each answer is
        the render of its own URI, whichever came first, and the page's
        C{url.here}-like reflections of one never reach the other.
        """
        for first, second in [(b"/%70", b"/p"), (b"/p", b"/%70"), (b"/%70", b"/%70"),
                              (b"/p?a=%31", b"/p?a=1"), (b"/p", b"/p?")]:
            self.freshSite()
            self.page(b"p", self.mirror)
            self.log.check(self, first, self.get(first).body)
            self.log.check(self, second, self.get(second).body)
            again = self.get(first)
            self.log.check(self, first, again.body)
            self.assertIn(b"hit", again.cacheStatus)


    def test_querySpellingsApart(self):
        """
        The same arguments in another order, or split on C{;}, are another
        entry: a page showing its URI shows the one it was asked for, as
        uncached.
        """
        self.page(b"p", self.mirror)
        spellings = [b"/p?a=1&b=2", b"/p?b=2&a=1", b"/p?a=1;b=2"]
        for uri in spellings + spellings:
            self.log.check(self, uri, self.get(uri).body)
        self.assertEqual(self.pages[b"p"].renders, 3)


    def test_hostCaseApart(self):
        """
        A Host in another case is another entry (the render sees its case:
        C{getRequestHostname}, C{prePathURL}); its port spelling is not (the
        render sees the socket's port).
        """
        self.page(b"p", self.mirror)
        upper = self.get(host=b"EXAMPLE.com")
        self.assertIn(b"http://EXAMPLE.com:8080/p", upper.body)
        lower = self.get(host=b"example.com")
        self.assertNotIn(b"EXAMPLE", lower.body)
        self.assertIn(b"fwd=uri-miss", lower.cacheStatus)
        self.assertEqual(self.get(host=b"example.com:8080").body, lower.body)
        self.assertEqual(self.get(host=b"EXAMPLE.com:1").body, upper.body)
        self.assertEqual(self.pages[b"p"].renders, 2)


    def test_invalidateReachesEverySpelling(self):
        """
        Invalidating a URL reaches the entries of all its spellings.
        """
        self.page(b"p", self.mirror)
        spellings = [(b"/p?a=1&b=2", b"example.com"), (b"/%70?b=2&a=1", b"EXAMPLE.COM")]
        for uri, host in spellings:
            self.get(uri, host=host)
        self.cache.invalidate(u"http://example.com:8080/p?a=1&b=2", hard=True)
        for uri, host in spellings:
            self.assertIn(b"fwd=uri-miss", self.get(uri, host=host).cacheStatus)


    def test_spellingsUseNoVariants(self):
        """
        Spellings are entries of their own, as other URLs are: however many
        a client sends, they do not use up the URL's variants.
        """
        self.cache.maxVariants = 2
        self.page(b"p", self.mirror)
        for n in range(5):
            response = self.get(b"/p?a=1" + b"&" * n)
            self.assertIn(b"; stored", response.cacheStatus)
        self.assertEqual(self.cache.stats()["varyOverflows"], 0)


    def test_hostWithPortStillCached(self):
        """
        A page building its URLs through Twisted (C{prePathURL}, the socket's
        port) is stored whatever port the Host header names, and shows the
        listening port.
        """
        spec = self.page(b"p", self.mirror)
        first = self.get(host=b"example.com:8080")
        self.assertEqual(first.cacheStatus, b"nevowcache; fwd=uri-miss; ttl=60; stored")
        self.assertIn(b"http://example.com:8080/p", first.body)
        self.assertEqual(self.get(host=b"example.com:1337").body, first.body)
        self.assertEqual(spec.renders, 1)


    def test_queryCloaking(self):
        """
        Arguments hidden behind C{;}, in duplicate, or as pieces without
        C{=} make their own entries: a canary in one never reaches the clean
        URL.
        """
        self.page(b"p", self.mirror)
        for evil, clean in [
                (b"/p?a=1;" + CANARY + b"=1", b"/p?a=1"),
                (b"/p?a=1&utm=1;a=" + CANARY, b"/p?a=1&utm=1"),
                (b"/p?a=1;" + CANARY, b"/p?a=1"),
                (b"/p?a=1&a=" + CANARY, b"/p?a=1"),
                (b"/p?a=" + CANARY + b"&a=1", b"/p?a=1&a=" + CANARY),
                (b"/p?a=1&" + CANARY, b"/p?a=1"),
                (b"/p?a=1%26" + CANARY + b"%3D1", b"/p?a=1"),
                (b"/p;" + CANARY, b"/p")]:
            self.get(evil)
            cleanResponse = self.get(clean)
            if cleanResponse.code == 200:
                self.log.check(self, clean, cleanResponse.body)
            if CANARY not in clean:
                self.assertClean(cleanResponse)


    def test_encodedSlash(self):
        """
        C{%2F} in a path segment and C{/} make different entries: each
        answer is the render of its own URI.
        """
        self.page(b"p", self.mirror, leaf=True)
        for first, second in [(b"/p/a%2F" + CANARY, b"/p/a/" + CANARY),
                              (b"/p/a/" + CANARY, b"/p/a%2F" + CANARY),
                              (b"/p/a%2f" + CANARY, b"/p/a%2F" + CANARY)]:
            self.freshSite()
            self.page(b"p", self.mirror, leaf=True)
            self.log.check(self, first, self.get(first).body)
            response = self.get(second)
            if second.lower() == first.lower():
                continue
            self.log.check(self, second, response.body)


    def test_fatGet(self):
        """
        A GET with a body (by length or chunked) bypasses the cache: a page
        reading the body never has it shown to a clean request.
        """
        def reads(request):
            request.content.seek(0)
            return self.log.body(request, request.content.read() or b"-")
        spec = self.page(b"p", reads)
        fat = self.get(body=b"a=" + CANARY)
        self.assertIn(b"detail=request-body", fat.cacheStatus)
        self.assertClean(self.get())
        chunked = self.exchange(headers=[b"Transfer-Encoding: chunked"])
        data = b"a=" + CANARY
        chunked.protocol.dataReceived(
            (u"%x" % (len(data),)).encode("ascii") + b"\r\n" + data + b"\r\n0\r\n\r\n")
        self.assertIn(b"detail=request-body", chunked.response().cacheStatus)
        self.assertClean(self.get())
        self.assertEqual(spec.renders, 3)


    def test_methodOverrideBypasses(self):
        """
        Every method-override header bypasses the cache.
        """
        spec = self.page(b"p")
        for name in (b"X-HTTP-Method-Override", b"X-HTTP-Method", b"X-Method-Override"):
            response = self.get(headers=[name + b": DELETE"])
            self.assertIn(b"detail=method-override", response.cacheStatus)
        self.assertEqual(spec.renders, 3)



makeCases(globals(), PersonalisationTestsMixin, "PersonalisationTests",
          ADAPTERS + [CACHING_SITE, KLEIN])
makeCases(globals(), UnkeyedInputTestsMixin, "UnkeyedInputTests",
          ADAPTERS + [CACHING_SITE, KLEIN])



class _HostRecorder(resource.Resource):
    """
    Records, for each request, its key's URL identity, the host Twisted
    gives the render, and whether the cache would bypass it.
    """
    isLeaf = True

    def __init__(self, cache):
        resource.Resource.__init__(self)
        self.cache = cache
        self.seen = []


    def render_GET(self, request):
        self.seen.append((urlIdentity(request), request.getRequestHostname().lower(),
                          self.cache.bypassReason(request)))
        return b"ok"



_hostPart = st.text(u"abcAB.-_019:[]@/%x \t", min_size=0, max_size=12).map(
    lambda t: t.encode("ascii"))
_port = st.one_of(st.just(b""), st.integers(0, 99999).map(lambda n: b":" + str(n).encode("ascii")))



class HostKeyTests(SynchronousTestCase):
    """
    Requests whose Host headers share a key are rendered with the same host.
    """

    def hostsSeen(self, *hosts):
        """
        @return: For each Host header, what L{_HostRecorder} saw, or L{None}
            if Twisted refused the request.
        """
        recorder = _HostRecorder(PageCache(MemoryStore(), reactor=Clock()))
        site = server.Site(recorder, reactor=Clock())
        out = []
        for host in hosts:
            before = len(recorder.seen)
            ex = Exchange(site, path=b"/p", host=host)
            out.append(recorder.seen[-1] if len(recorder.seen) > before else None)
            ex.disconnect()
        return out


    @settings(max_examples=80, deadline=None)
    @given(_hostPart, _port, st.booleans(), _hostPart)
    def test_sameKeySameRenderedHost(self, host, port, upper, junk):
        """
        For Host headers the cache does not bypass, equal URL identities
        mean equal hosts in every URL Twisted builds for the render.
        """
        variants = [host, host + port, (host + port).upper() if upper else host,
                    host + port + junk, host + junk + port]
        seen = [s for s in self.hostsSeen(*variants) if s is not None and s[2] is None]
        for identity, rendered, _ in seen:
            for otherIdentity, otherRendered, _ in seen:
                if identity == otherIdentity:
                    self.assertEqual(rendered, otherRendered, variants)


    def test_validHost(self):
        """
        Names, addresses and IP literals, with or without a port, are valid;
        anything else is not.
        """
        for good in (b"example.com", b"EXAMPLE.com:8080", b"127.0.0.1", b"[::1]",
                     b"[::1]:443", b"my_host", b"a-b.c"):
            self.assertTrue(validHost(good), good)
            self.assertEqual(hostKey(good), hostKey(good.lower()))
        for bad in (b"", b"example.com:", b"example.com:x", b"a:1@b", b"a b", b"a/b",
                    b"[::1]x", b"a:1:2", b"a%2Fb", b"a\tb", b"a:123456", b"a\n"):
            self.assertFalse(validHost(bad), bad)



_segment = st.binary(max_size=6) | st.sampled_from(
    [b"", b"/", b";", b"&", b"=", b"%2F", b"%00", b"..", b"\x00", b":", b"|", b","])
_urlIdentity = st.tuples(
    st.sampled_from([b"http", b"https"]), _segment, st.integers(0, 70000),
    st.lists(_segment, max_size=4).map(tuple),
    st.lists(st.tuples(_segment, st.lists(_segment, max_size=3).map(tuple)),
             max_size=3).map(tuple),
    st.lists(_segment, max_size=3).map(tuple))
_variant = st.tuples(
    st.text(max_size=6), st.lists(st.none() | _segment, max_size=3).map(tuple),
    st.none() | st.lists(_segment | st.integers(), max_size=3).map(tuple))



class KeyEncodingTests(SynchronousTestCase):
    """
    Whole cache keys, shaped as the adapters build them, encode injectively.
    """

    @settings(max_examples=150, deadline=None)
    @given(_urlIdentity, _variant, _urlIdentity, _variant)
    def test_injective(self, url1, variant1, url2, variant2):
        """
        Two keys encode (and digest) alike only when they are equal.
        """
        a, b = CacheKey(url1, variant1), CacheKey(url2, variant2)
        if a.encoded() == b.encoded() or a.digest() == b.digest():
            self.assertEqual(a, b)
        if a == b:
            self.assertEqual(a.digest(), b.digest())


    @settings(max_examples=60, deadline=None)
    @given(_urlIdentity, _variant)
    def test_partsCannotShift(self, url, variant):
        """
        Moving bytes from one part of a key to the next changes its
        encoding: the URL and the variant cannot trade bytes.
        """
        shifted = (url[:3] + (url[3] + (b"x",),) + url[4:], variant)
        self.assertNotEqual(encodeKey((url, variant)), encodeKey(shifted))
