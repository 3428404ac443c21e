# -*- test-case-name: tests.test_webkeys -*-
"""
The keys the twisted.web front gave its requests lately (L{KnownKeys}), so
that a hit on a page asked for again is keyed by comparing what its key is
made of with what it was made of last time, instead of making it again
(Python 2.7 and 3).

A request's key under a page (L{_ResourceFront._frontKey}) is a function of:

  - the page: its object and class (its name in the key), its
    C{cacheTimeout}, C{cacheGrace}, C{cacheVary}, C{cacheControl} and
    C{cacheTags} (its L{CachePolicy}), and its key hooks (C{cacheKey},
    C{_cachedName}, C{_requestComponents});
  - its cache's key hooks (L{PageCache.pageKey}, L{PageCache.keyFor});
  - the request: its target as sent, its C{Host}, the port and scheme it
    came in on, its C{prepath} and C{postpath} after traversal, its
    arguments, and the components set on it (none, here).

A key is remembered, and found again, only when each of those can be
compared without calling anything the application wrote: the page's key
hooks are the front's own (none set on the page itself), and so are its
cache's (C{pageKey}, C{keyFor}: a L{PageCache} subclass may make keys its
own way), its C{cacheTags} is not a method and its C{cacheVary} is empty
(no request header joins the key), its settings are hashable (not lists
that may change in place), the request has a C{Host} and no components,
and it is not a background refresh's.  The page is compared by identity;
its settings, its cache's class and the request's inputs by value, in one
comparison of tuples (as L{CachePolicy.fromPage} finds its policies).
Anything else is keyed the long way, as before.

A class whose key hooks are replaced after it served a request (a class
patched at run time) is not noticed, as L{pageName} does not notice a
class renamed.

Bounded: forgotten all at once when full (L{remember}); a long request
target or C{Host} is never kept; pages are held weakly.
"""

from __future__ import absolute_import, division

from weakref import ref

from nevowcache._compat import functionOf
from nevowcache._engine.memo import remember
from nevowcache._engine.pagecache import PageCache
from nevowcache._http.headers import headerValues
from nevowcache._http.secure import isSecure

__all__ = ["KnownKeys"]

# The key hooks whose results the key holds; a page whose class has other
# ones than the front's (or whose cache's class has other ones than
# PageCache's), or that has any set on itself, is keyed the long way.
_HOOKS = ("cacheKey", "_cachedName", "_requestComponents")
_CACHE_HOOKS = ("pageKey", "keyFor")



class KnownKeys(object):
    """
    The keys a front gave requests lately, by request target and C{Host}.

    @ivar most: How many are kept before all are forgotten.
    @ivar mostTarget: The longest request target (bytes) whose key is kept.
    """

    def __init__(self, front, most=256, mostTarget=256):
        """
        @param front: The class whose key hooks are the plain ones (the
            twisted.web front's).
        """
        self._plainHooks = tuple(functionOf(front, name) for name in _HOOKS)
        self._plainCacheHooks = tuple(functionOf(PageCache, name) for name in _CACHE_HOOKS)
        self._plainClasses = {}
        self._known = {}
        self.most = most
        self.mostTarget = mostTarget


    def known(self, page, cache, request):
        """
        @param cache: The L{PageCache} C{page} is keyed for.
        @return: What C{page}'s C{_frontKey} returned for C{request} the last
            time everything the key is made of was the same; or L{None}.
        """
        hosts = headerValues(request.requestHeaders, b"host")
        if not hosts:
            return None
        record = self._known.get((request.uri, hosts[-1]))
        if (record is None or record[0]() is not page
                or getattr(request, "_adapterCache", None)
                or record[1] != _madeOf(page, cache, request)
                or _ownHooks(page, cache)):
            return None
        return record[2]


    def learn(self, page, cache, request, keyed):
        """
        Remember what C{page}'s C{_frontKey} returned for C{request} (a live
        one, with no components set on it), if it can be found again
        (see the module's documentation).

        @param cache: The L{PageCache} C{page} was keyed for.
        @param keyed: C{(key, policy, unkeyable, state)}.
        """
        hosts = headerValues(request.requestHeaders, b"host")
        uri = request.uri
        if (not hosts or len(uri) > self.mostTarget or len(hosts[-1]) > _MOST_HOST
                or page.cacheVary
                or callable(page.cacheTags) or _ownHooks(page, cache)
                or not self._plain(page.__class__, _HOOKS, self._plainHooks)
                or not self._plain(cache.__class__, _CACHE_HOOKS, self._plainCacheHooks)):
            return
        (cls, cacheClass, timeout, grace, control, tags, vary, port, secure, prepath,
         postpath, args) = _madeOf(page, cache, request)
        try:
            # Settings that may change in place (a list of tags) cannot be
            # compared with what they were.
            hash((timeout, grace, control, tags, vary))
            pageRef = ref(page)
        except TypeError:
            # Nor can a page that cannot be held weakly (__slots__ without
            # __weakref__) be remembered.
            return
        # Copies of what the request holds in lists and dicts.
        madeOf = (cls, cacheClass, timeout, grace, control, tags, vary, port, secure,
                  list(prepath), list(postpath),
                  dict((name, list(values)) for name, values in args.items()))
        remember(self._known, (uri, hosts[-1]), (pageRef, madeOf, keyed), self.most)


    def _plain(self, cls, names, plainHooks):
        """
        @return: Whether C{cls}'s hooks C{names} are C{plainHooks} (the
            front's own, or L{PageCache}'s).
        """
        plain = self._plainClasses.get(cls)
        if plain is None:
            plain = remember(self._plainClasses, cls, tuple(
                functionOf(cls, name) for name in names) == plainHooks, 256)
        return plain



# The longest Host (bytes) whose requests' keys are kept: a DNS name, a
# port; a longer one (a hostile one) is not kept.
_MOST_HOST = 300



def _ownHooks(page, cache):
    """
    @return: Whether C{page} or C{cache} has key hooks set on itself (not
        its class's).
    """
    return not (_HOOK_NAMES.isdisjoint(getattr(page, "__dict__", ()))
                and _CACHE_HOOK_NAMES.isdisjoint(getattr(cache, "__dict__", ())))

_HOOK_NAMES = frozenset(_HOOKS)
_CACHE_HOOK_NAMES = frozenset(_CACHE_HOOKS)



def _madeOf(page, cache, request):
    """
    @return: What a key of C{page} for C{request} is made of, besides the
        request's target and C{Host}: the page's class and settings, its
        cache's class, and the request's port, scheme, path and arguments.
    """
    return (page.__class__, cache.__class__, page.cacheTimeout, page.cacheGrace,
            page.cacheControl, page.cacheTags, page.cacheVary,
            getattr(request.getHost(), "port", 0), isSecure(request), request.prepath,
            request.postpath, request.args)
