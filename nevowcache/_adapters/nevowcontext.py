# -*- test-case-name: tests.test_nevow.ContextTests -*-
"""
What a Nevow application remembered on the context outside the render, and
how a captured render sees it.

Nevow finds interfaces by walking a request's contexts, from the innermost
up: the page's C{PageContext}, its parents' (made during traversal, where
each parent's C{locateChild} may C{remember} things), the
C{RequestContext} (whose factories answer C{ISession}, C{ILanguages},
C{IFormDefaults}, ... from the request) and the site's.  A captured render
must see exactly that chain, except that the request is the capture, so
that it renders the same bytes as the page uncached and the cache sees
everything the render reads.

What the application remembered I{outside} the render (a parent's
C{locateChild}, the page's own C{renderHTTP} before the mixin's) may come
from anything; L{nevowcache._http.remembered} has the rule every adapter applies
to it (keys hold the names, and the plain values the page looks up).

Not application values, and so not in keys: what the site remembered (it
is the same for every request), what a page object remembers for itself
(C{Page.remember}), the path segments Nevow remembers during traversal,
the page objects themselves, and the request.
"""

from __future__ import absolute_import, division

import copy

from twisted.python import components, reflect

from nevow import context, inevow
from nevow.util import qual

from nevowcache._engine.memo import remember
from nevowcache._http.remembered import NOTHING, Lookups, Remembered, Watched

__all__ = ["Outside", "captureContext"]

# Interfaces Nevow remembers from the path during traversal.
_PATH = frozenset([qual(inevow.ICurrentSegments), qual(inevow.IRemainingSegments)])

_REQUEST = qual(inevow.IRequest)

# What the contexts of a request usually hold.
_USUAL = _PATH | frozenset([_REQUEST])

_absent = object()



class Outside(Remembered):
    """
    What the application remembered on the contexts of a request outside
    the render, nearest first, as Nevow's C{locate} would find it: the
    interface names as Nevow remembers them, and the nearest value of each.
    """
    __slots__ = ()

    @classmethod
    def of(cls, ctx, request):
        """
        Read the application's remembrances from the contexts of C{ctx}, from
        it up to the request's C{RequestContext}.

        @param ctx: The page's context, as given to C{renderHTTP}.
        @param request: The request (never an application value).
        """
        values = None
        current = ctx
        while current is not None:
            remembered = current._remembrances
            # Most contexts hold only the path and the request: at once.
            if remembered and not (_USUAL.issuperset(remembered)
                                   and remembered.get(_REQUEST, request) is request):
                if isinstance(current, context.SiteContext):
                    break
                isRequest = isinstance(current, context.RequestContext)
                for name, value in remembered.items():
                    if (name not in _PATH and value is not request
                            and (values is None or name not in values)
                            and _isApplications(current, name, value, isRequest)):
                        if values is None:
                            values = {}
                        values[name] = value
            current = current.parent
        return NOTHING if values is None else cls(values)



def _isApplications(ctx, name, value, isRequest):
    """
    Whether one remembrance on a request's context is the application's.
    """
    if isRequest:
        # The RequestContext's factories cache what they make in it.
        return _factoryFor(name) is None
    if value is ctx.tag:
        # Nevow's factories of a PageContext answer with its page.
        return False
    for obj, interface in getattr(ctx.tag, "toremember", None) or ():
        # What the page object remembers for itself (Page.remember).
        if obj is value:
            return False
    return True



def _factoryFor(name):
    """
    @return: The adapter from C{RequestContext} to the interface named
        C{name}, or L{None}.
    """
    factory = _factories.get(name, _absent)
    if factory is _absent:
        try:
            interface = reflect.namedAny(name)
        except Exception:
            factory = None
        else:
            factory = components.getAdapterFactory(context.RequestContext, interface, None)
        factory = remember(_factories, name, factory, 1024)
    return factory

_factories = {}



class _WatchedSlots(dict):
    """
    The slot data of a copied context: a slot filled outside the render and
    read by it is noted.
    """
    __slots__ = ("_lookups",)

    def get(self, key, default=None):
        value = dict.get(self, key, _absent)
        if value is _absent:
            return default
        self._lookups.unkeyable = True
        return value



def captureContext(ctx, capture, request):
    """
    Copy the contexts of C{ctx} up to its request's C{RequestContext}, with
    the capture as the request, for a captured render.

    The copies hold the same remembrances and slots, so the render finds
    what it would find uncached; the C{RequestContext} is a new one on the
    capture, holding what the request's own held except the values of the
    interfaces its factories answer (C{ISession}, C{ILanguages}, ...):
    those are made again, from the capture, so that the cache sees what
    they read.  (A value the application remembered there itself for such
    an interface is made again too.)  Nothing the render remembers reaches
    the originals.

    @param ctx: The page's context.
    @param capture: The capture the render writes to.
    @param request: The request C{ctx} belongs to (where the capture comes
        from).
    @return: C{(pageContext, lookups)}: the copy of C{ctx}, and the
        L{Lookups} that the render's lookups are noted in.
    """
    lookups = Lookups()
    copies = []
    current = ctx
    while current is not None and not isinstance(
            current, (context.RequestContext, context.SiteContext)):
        copies.append(_copy(current, capture, request, lookups))
        current = current.parent
    if isinstance(current, context.RequestContext):
        top = context.RequestContext(parent=current.parent, tag=capture)
        kept, watch = [], {}
        for name, value in (current._remembrances or {}).items():
            if name in _PATH:
                kept.append((name, value))
            elif value is not request and _factoryFor(name) is None:
                # The factories make the rest again, from the capture.
                kept.append((name, value))
                watch[name] = value
        top._remembrances = Watched.of(kept, watch, lookups)
    else:
        top = context.RequestContext(parent=current, tag=capture)
    parent = top
    for copied in reversed(copies):
        copied.parent = parent
        parent = copied
    return parent, lookups



def _copy(ctx, capture, request, lookups):
    """
    @return: A copy of one context, its remembrances and slots watched, the
        request replaced by the capture.
    """
    copied = copy.copy(ctx)
    items, watch = [], {}
    for name, value in (ctx._remembrances or {}).items():
        if value is request:
            value = capture
        elif name not in _PATH and _isApplications(ctx, name, value, False):
            watch[name] = value
        items.append((name, value))
    copied._remembrances = Watched.of(items, watch, lookups)
    if ctx._slotData:
        slots = _WatchedSlots(ctx._slotData)
        slots._lookups = lookups
        copied._slotData = slots
    return copied



