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
from anything: a cookie, the session, a header.  The rule: a render that
looks such a value up is stored only under a key that holds the value.
Each key holds which interfaces were remembered outside the render (so
requests whose traversals remember different things never share an entry)
and the values of those the page was seen to look up (learnt per page
class: the first render that looks one up is not stored, later keys hold
its value).  Only plain data (bytes, text, integers, booleans, L{None},
tuples and lists of them; at most L{MAX_VALUE_BYTES} encoded) can be held;
a render that looks up anything else is not stored (C{detail=context}),
and once learnt such requests bypass the cache.  A background refresh
re-traverses from the site root and must reach the page with the same
key, so with the same values; else it fails and the stale entry stays.

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

from nevowcache._compat import integerTypes, remember, textType
from nevowcache._key import encodeKey

__all__ = ["Outside", "Lookups", "captureContext", "learned", "learn",
           "MAX_VALUE_BYTES"]

# The largest remembered value (encoded) a key holds.
MAX_VALUE_BYTES = 1024

# Interfaces Nevow remembers from the path during traversal.
_PATH = frozenset([qual(inevow.ICurrentSegments), qual(inevow.IRemainingSegments)])

_REQUEST = qual(inevow.IRequest)

# What the contexts of a request usually hold.
_USUAL = _PATH | frozenset([_REQUEST])

_absent = object()



class Outside(object):
    """
    What the application remembered on the contexts of a request outside
    the render, nearest first, as Nevow's C{locate} would find it.

    @ivar values: Interface names (as Nevow remembers them) and the nearest
        value remembered for each.
    @type values: L{dict}
    """
    __slots__ = ("values",)

    def __init__(self, values):
        self.values = values


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
        return _NOTHING if values is None else cls(values)


    def keyPart(self, learnt):
        """
        The part of the key that stands for these values.

        @param learnt: The names of the interfaces the page was seen to look
            up from outside its render.
        @return: C{(part, keyed, unkeyable)}: L{None} for nothing
            remembered, else a sorted tuple with, for each name, C{(name,)}
            or C{(name, value)} when the name is learnt; the names whose
            values the part holds; and the name of a learnt interface whose
            value is not plain data (then the request cannot use the
            cache), or L{None}.
        """
        if not self.values:
            return _NONE_KEYED
        part = []
        keyed = []
        for name in sorted(self.values):
            if name in learnt:
                value = _plain(self.values[name])
                if value is _absent:
                    return None, frozenset(), name
                part.append((name, value))
                keyed.append(name)
            else:
                part.append((name,))
        return tuple(part), frozenset(keyed), None



_NOTHING = Outside({})
_NONE_KEYED = (None, frozenset(), None)



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



def _plain(value):
    """
    @return: C{value} as a key can hold it (lists as tuples), or C{_absent}
        if it is not plain data or too large.
    """
    held = _held(value, 0)
    if held is _absent:
        return held
    if len(encodeKey(held)) > MAX_VALUE_BYTES:
        return _absent
    return held


def _held(value, depth):
    if (value is None or isinstance(value, (bytes, textType, bool))
            or isinstance(value, integerTypes)):
        return value
    if isinstance(value, (tuple, list)) and depth < 8:
        items = []
        for item in value:
            item = _held(item, depth + 1)
            if item is _absent:
                return _absent
            items.append(item)
        # A list and a tuple render differently: keep them apart.
        return (u"list" if isinstance(value, list) else u"tuple", tuple(items))
    return _absent



class _Watched(dict):
    """
    The remembrances of a copied context: Nevow's C{locate} reads them with
    C{get}; a read that finds a value the application remembered on this
    context outside the render is noted.
    """
    __slots__ = ("_watch", "_lookups")

    def get(self, key, default=None):
        value = dict.get(self, key, default)
        if self._watch.get(key, _absent) is value:
            self._lookups.seen.append((key, value))
        return value



def _remembrances(items, watch, lookups):
    """
    @return: A copy of a context's remembrances: a L{_Watched} if the
        application remembered anything there (C{watch}), else a L{dict}.
    """
    if not watch:
        return dict(items)
    remembered = _Watched(items)
    remembered._watch, remembered._lookups = watch, lookups
    return remembered



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
        self._lookups.slots = True
        return value



class Lookups(object):
    """
    What a captured render looked up that the application remembered outside
    it.

    @ivar seen: C{(name, value)} for each such lookup.
    @ivar slots: Whether it read a slot filled outside it.
    """

    def __init__(self):
        self.seen = []
        self.slots = False


    def verdict(self, outside, keyed):
        """
        Decide whether the render may be stored under a key holding the
        values named C{keyed}.

        @return: C{(refusal, learnt)}: L{None} or C{b"context"}, and the
            names to learn (looked up, but not in the key).
        """
        learnt = set()
        refused = self.slots
        for name, value in self.seen:
            if name not in keyed:
                learnt.add(name)
                refused = True
            elif outside.values.get(name, _absent) is not value:
                # A value the key does not hold (one further up).
                refused = True
        return (b"context" if refused else None), learnt



def captureContext(ctx, capture, request):
    """
    Copy the contexts of C{ctx} up to its request's C{RequestContext}, with
    the capture as the request, for a captured render.

    The copies hold the same remembrances and slots, so the render finds
    what it would find uncached; the C{RequestContext} is a new one on the
    capture whose factories (C{ISession}, C{ILanguages}, ...) read the
    capture, except what Nevow and the application remembered on the
    request's own.  Nothing the render remembers reaches the originals.

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
        top._remembrances = _remembrances(kept, watch, lookups)
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
    copied._remembrances = _remembrances(items, watch, lookups)
    if ctx._slotData:
        slots = _WatchedSlots(ctx._slotData)
        slots._lookups = lookups
        copied._slotData = slots
    return copied



def learned(cls):
    """
    @return: The names of the interfaces that pages of class C{cls} were
        seen to look up from outside their render.
    """
    return _learnt.get(cls, frozenset())


def learn(cls, names):
    """
    Remember that pages of class C{cls} look up the interfaces C{names} from
    outside their render, so their keys hold those values from now on.
    """
    if names:
        # Bounded: classes may be made at run time; forgetting only costs
        # one unstored render to learn again.
        remember(_learnt, cls, learned(cls) | frozenset(names), 4096)

_learnt = {}
