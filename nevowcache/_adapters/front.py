# -*- test-case-name: tests.test_behaviour,tests.test_web,tests.test_nevow -*-
"""
The front every adapter puts before a page: one request's way through the
cache, written once (Python 2.7 and 3).

L{CacheFront._frontRender} takes the steps, in this order:

  1. a page with C{cacheTimeout = None}: pass the request on uncached (an
     unsafe one invalidates once answered, L{watchUnsafe});
  2. bypass: a request that must not use the cache
     (L{nevowcache.PageCache.bypassReason}, then the adapter's own rules)
     says why in C{Cache-Status} and is passed on uncached;
  3. key the request; one whose remembered values the key cannot hold is
     passed on as a bypass too (C{detail=context});
  4. answer at once: a hit the store can decide synchronously
     (L{nevowcache.PageCache.answerAtOnce}) is written without a
     L{Deferred};
  5. serve: otherwise the engine (L{nevowcache.PageCache.serve}) decides,
     rendering the page into a capture when it must; its answer is written
     when it comes, or the failure passed on;
  6. refresh: a stale hit has the engine re-render later, without the
     live request, on a snapshot of it (L{Refresher}, L{RequestInputs},
     L{noSession}).

An adapter (the Nevow page, the twisted.web resource, a Klein route) is a
subclass providing the hooks, each told the request and the adapter's own
per-request value C{where} (Nevow: the context and where the page was
entered; twisted.web: the frame that called C{render}; whatever the adapter
needs, passed through untouched):

  - L{CacheFront._frontKey}: the request's key and policy, and what the
    render needs of them;
  - L{CacheFront._frontCapture}: render the page into a capture of a
    request;
  - L{CacheFront._frontPassOn}: render the page for the request, uncached;
  - L{CacheFront._frontAnswer} and L{CacheFront._frontAnswerLater}: write
    an answer on the request, now or when it comes;
  - L{CacheFront._frontRefresher}: a background refresher made from the
    request (a L{Refresher}, usually), and L{CacheFront._frontSnapshot}:
    the request it renders with;
  - optionally L{CacheFront._frontBypass} (the adapter's own bypass rules)
    and L{CacheFront._frontMiss} (what to learn from a request that goes
    the slow way).
"""

from __future__ import absolute_import, division

import copy
from functools import partial
from io import BytesIO

from nevowcache._engine.bypass import watchUnsafe
from nevowcache._engine.pagecache import refreshHeaders
from nevowcache._engine.settings import CacheSettings

__all__ = ["CacheFront", "Refresher", "RefreshKeyChanged", "RequestInputs", "noSession"]



class CacheFront(CacheSettings):
    """
    The cache in front of a page's own render, whatever the framework: see
    the module documentation for the steps; subclasses provide the hooks.
    """

    def _frontRender(self, request, where=None):
        """
        Answer C{request} through the cache.

        @param request: The live request (a L{twisted.web.server.Request}
            or a subclass), after traversal.
        @param where: The adapter's own value for this request, handed to
            each hook.
        @return: What the adapter's hooks return: L{_frontPassOn}'s result,
            L{_frontAnswer}'s, or L{_frontAnswerLater}'s.
        """
        cache = self.pageCache
        if cache is None:
            cache = self._cache()
        if self.cacheTimeout is None:
            watchUnsafe((cache,), request)
            return self._frontPassOn(request, where)
        reason = cache.bypassReason(request) or self._frontBypass(request, where)
        if reason is None:
            key, policy, unkeyable, state = self._frontKey(cache, request, where)
            if unkeyable is not None:
                reason = b"context"
        if reason is not None:
            request.setHeader(b"cache-status", cache.bypassed(reason, request))
            return self._frontPassOn(request, where)
        # Partials, not lambdas: the cells of a closure would slow every hit.
        makeRefresher = partial(self._frontRefresher, cache, request, where, key, policy)
        if not getattr(request, "_disconnected", False):
            answer = cache.answerAtOnce(key, policy, makeRefresher)
            if answer is not None:
                # A hit, decided at once.
                return self._frontAnswer(answer, request, where)
        self._frontMiss(request, where)
        d = cache.serve(request, key, policy,
                        partial(self._frontCapture, request, where, state), makeRefresher)
        return self._frontAnswerLater(d, request, where)


    # The hooks

    def _frontBypass(self, request, where):
        """
        The adapter's own reason for C{request} not to use the cache, besides
        L{nevowcache.PageCache.bypassReason}'s.

        @return: L{None}, or the reason (L{bytes}, the C{Cache-Status}
            detail).
        """
        return None


    def _frontKey(self, cache, request, where, policy=None):
        """
        Key a request: the live one, or a refresh's snapshot.

        @param cache: This page's L{nevowcache.PageCache}.
        @param policy: The L{CachePolicy} to key under (a refresh's: the
            one its entry was found with), or L{None} for the page's.
        @return: C{(key, policy, unkeyable, state)}: the L{CacheKey}; the
            L{CachePolicy}; the name of a remembered value the key cannot
            hold (the request then bypasses the cache), or L{None}; and
            whatever L{_frontCapture} needs besides (the values the key
            holds, say).
        """
        raise NotImplementedError()


    def _frontCapture(self, request, where, state):
        """
        Render this page into a capture of C{request}
        (L{nevowcache._http.capture.CaptureRequest}), whatever the render
        returns.

        @param state: What L{_frontKey} returned for C{request}.
        @return: A L{Deferred} firing with the finished capture, or failing
            with the render's failure.
        """
        raise NotImplementedError()


    def _frontPassOn(self, request, where):
        """
        Render this page for C{request}, as if there were no cache.

        @return: What the framework expects of a render.
        """
        raise NotImplementedError()


    def _frontAnswer(self, answer, request, where):
        """
        Write an L{Answer} decided at once on C{request}.

        @return: What the framework expects of a render.
        """
        raise NotImplementedError()


    def _frontAnswerLater(self, answered, request, where):
        """
        Write the L{Answer} that C{answered} fires with on C{request}, or
        answer with its failure (the render's) as the framework would.

        @param answered: A L{Deferred} firing with an L{Answer}.
        @return: What the framework expects of a render.
        """
        raise NotImplementedError()


    def _frontMiss(self, request, where):
        """
        C{request} is not answered at once: it goes to
        L{nevowcache.PageCache.serve}, which may render.
        """


    def _frontRefresher(self, cache, request, where, key, policy):
        """
        Make what re-renders this page later for C{key}, without
        C{request}: called while the request is alive, by the engine, when
        the entry found is stale.

        @return: A function of no arguments returning a L{Deferred} firing
            with a finished capture (usually a L{Refresher}).
        """
        raise NotImplementedError()


    def _frontSnapshot(self, inputs):
        """
        Make the request a L{Refresher} renders this page with.

        @param inputs: The L{RequestInputs} of the request that found the
            entry stale.
        @return: A request without a session (L{noSession}).
        """
        raise NotImplementedError()



class RequestInputs(object):
    """
    What a background refresh renders with, copied from a live request
    while it is alive: its method-independent inputs (URI, path,
    arguments, protocol, Host, scheme, addresses, request headers minus
    cookies, credentials and conditionals: L{refreshHeaders}), and where
    traversal had got to (its site, C{prepath}, C{postpath}, and the
    components set on it before the render).
    """

    def __init__(self, request):
        self.site = getattr(request, "site", None)
        self.sitepath = list(getattr(request, "sitepath", ()))
        self.appRootURL = getattr(request, "appRootURL", None)
        self.uri = request.uri
        self.path = request.path
        self.args = copy.deepcopy(request.args)
        self.prepath = list(getattr(request, "prepath", ()))
        self.postpath = list(getattr(request, "postpath", ()))
        self.clientproto = request.clientproto
        self.headers = refreshHeaders(request.requestHeaders)
        self.host = request.getHost()
        self.peer = request.client
        # Called, not copied: a virtual host may have replaced the method.
        self.secure = bool(request.isSecure())
        # What the render would find set on the request, and the key holds.
        self.components = dict(getattr(request, "_adapterCache", None) or {})


    def fill(self, request):
        """
        Give a fresh request these inputs, as a C{GET} with no body: its
        request line, arguments (a copy of their own), request headers and
        scheme.
        """
        request.method = b"GET"
        request.uri = self.uri
        request.path = self.path
        request.args = copy.deepcopy(self.args)
        request.clientproto = self.clientproto
        request.content = BytesIO()
        for name, values in self.headers:
            request.requestHeaders.setRawHeaders(name, list(values))
        if self.secure:
            request._forceSSL = True



def noSession(request, *args, **kwargs):
    """
    The C{getSession} of the request a background refresh renders with (its
    class's, as C{getSession = noSession}): it has no session, and a render
    asking for one fails, so that nothing personal is stored.

    @raise RuntimeError: Always.
    """
    raise RuntimeError("a background refresh has no session")



class RefreshKeyChanged(RuntimeError):
    """
    A background refresh reached its page under another key than the one
    it refreshes (L{Refresher.render}).
    """



class Refresher(object):
    """
    Renders a page again, later, for a background refresh, on a snapshot
    of the request that found its entry stale (L{RequestInputs}).

    Calling it renders the page that made it on a request made from the
    snapshot (L{CacheFront._frontSnapshot}); an
    adapter whose refreshes traverse the site again (Nevow) overrides
    C{__call__} and calls L{render} for the page the traversal reached.

    @ivar key: The key being refreshed.
    @ivar inputs: The L{RequestInputs} of the request that found it stale.
    """

    def __init__(self, front, cache, request, key, policy=None):
        """
        @param front: The L{CacheFront} that made it.
        @param cache: Its L{nevowcache.PageCache}.
        @param request: The live request, copied now (L{RequestInputs}).
        @param key: The key being refreshed.
        @param policy: The L{CachePolicy} its entry was found with: the
            snapshot is keyed under it; L{None} for the policy of the page
            reached.
        """
        self._front = front
        self._cache = cache
        self._policy = policy
        self.key = key
        self.inputs = RequestInputs(request)


    def __call__(self):
        """
        Render on a request made from the snapshot by the page's
        C{_frontSnapshot(inputs)}.

        @return: A L{Deferred} firing with the finished capture.
        @raise RefreshKeyChanged: If the snapshot is not under the key
            being refreshed (L{render}).
        """
        front = self._front
        return self.render(front, self._cache, front._frontSnapshot(self.inputs), None)()


    def render(self, front, cache, request, where):
        """
        The refresh's request reached a page: check that it is under the
        key being refreshed, so that what the key holds is what the render
        sees (a C{cacheKey}, or a value remembered on the way, that read
        what the snapshot lacks puts it under another one).

        @param front: The L{CacheFront} reached.
        @param cache: Its L{nevowcache.PageCache}.
        @param request: The refresh's request.
        @param where: The adapter's own value for it.
        @return: A function of no arguments that renders the page into a
            capture (L{CacheFront._frontCapture}).
        @raise RefreshKeyChanged: If the request is under another key.
        """
        key, _, unkeyable, state = front._frontKey(cache, request, where, self._policy)
        if key != self.key or unkeyable is not None:
            raise RefreshKeyChanged("background refresh of %r reached %r under another key"
                               % (self.key, front))
        return lambda: front._frontCapture(request, where, state)
