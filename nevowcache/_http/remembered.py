# -*- test-case-name: tests.test_nevow.ContextTests,tests.test_web.ComponentTests -*-
"""
What an application remembered for a request outside the render, and the
rule every adapter applies to it.

Applications hand values to a page's render on the side: Nevow's
C{ctx.remember(value, IFoo)} in a parent's C{locateChild} or in the page's
own C{renderHTTP}, twisted.web's C{request.setComponent(IFoo, value)} in a
parent's C{getChild}.  Such a value may come from anything (a cookie, the
session, a header) read on the live request before the cache could see it.
The rule:

  - a key holds the names of the interfaces remembered so (requests that
    remembered different things never share an entry);
  - a render that looks up such a value is stored only under a key holding
    it: the first render of a page class that does is not stored
    (C{detail=context}), and from then on that class's keys hold the values
    of the interfaces it was seen to look up (L{learned}, L{learn});
  - only plain data can be held (bytes, text, integers, booleans, L{None},
    tuples and lists of them, at most L{MAX_VALUE_BYTES} encoded); a render
    that looks up anything else is not stored, and once learnt such
    requests bypass the cache (C{detail=context});
  - a background refresh must reach the page under the same key, so with
    the same values, or it fails.

Python 2.7 and 3.
"""

from __future__ import absolute_import, division

from nevowcache._compat import integerTypes, textType
from nevowcache._http.key import CacheKey
from nevowcache._http.keyencoding import encodeKey
from nevowcache._engine.memo import remember

__all__ = ["Remembered", "Lookups", "Watched", "learned", "learn", "rememberedKey",
           "MAX_VALUE_BYTES", "NO_NAMES"]

# The largest remembered value (encoded) a key holds.
MAX_VALUE_BYTES = 1024

_absent = object()



class Remembered(object):
    """
    What the application remembered for a request outside the render.

    @ivar values: Interface names and the value an uncached render would
        find for each.
    @type values: L{dict}
    """
    __slots__ = ("values",)

    def __init__(self, values):
        self.values = values


    def keyPart(self, learnt):
        """
        The part of the key that stands for these values.

        @param learnt: The names of the interfaces the page was seen to look
            up (L{learned}).
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

NOTHING = Remembered({})
# What a key holds of nothing remembered (an adapter's key without any).
NO_NAMES = frozenset()
_NONE_KEYED = (None, NO_NAMES, None)



def rememberedKey(cache, request, name, cls, policy, extra, remembered):
    """
    The key of a request for a page: the engine's (L{PageCache.pageKey}),
    with the part of L{Remembered.keyPart} that stands for what the
    application remembered outside the render, as every adapter makes it.

    @param name: The page's name (L{nevowcache._engine.settings.pageName}).
    @param cls: The class whose lookups are learnt together (L{learned}).
    @param extra: What the page's C{cacheKey} returned.
    @param remembered: The request's L{Remembered}.
    @return: C{(key, keyed, unkeyable)}: the L{CacheKey}; the names of the
        remembered interfaces whose values it holds; the name of one whose
        value it cannot hold (then the request bypasses), or L{None}.
    """
    if not remembered.values:
        # Nothing remembered (the usual request): nothing to add or learn.
        return cache.pageKey(request, name, policy, extra), NO_NAMES, None
    part, keyed, unkeyable = remembered.keyPart(learned(cls))
    key = cache.pageKey(request, name, policy, extra)
    if part is not None:
        key = CacheKey(key.url, key.variant + (part,))
    return key, keyed, unkeyable



def _plain(value):
    """
    @return: C{value} as a key can hold it, or C{_absent} if it is not plain
        data or too large.
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
        # A list and a tuple may render differently: keep them apart.
        return (u"list" if isinstance(value, list) else u"tuple", tuple(items))
    return _absent



class Watched(dict):
    """
    A copy of a table of remembered values that the render reads (with
    C{get} or C{[]}): a read that finds a value the application remembered
    outside the render is noted in a L{Lookups}.
    """
    __slots__ = ("_watch", "_lookups")

    @classmethod
    def of(cls, items, watch, lookups):
        """
        @param items: The table's items.
        @param watch: The names and values the application remembered
            there.
        @return: A L{Watched} copy of the table if C{watch} holds anything,
            else a L{dict}.
        """
        if not watch:
            return dict(items)
        table = cls(items)
        table._watch, table._lookups = watch, lookups
        return table


    def get(self, key, default=None):
        value = dict.get(self, key, default)
        if self._watch.get(key, _absent) is value:
            self._lookups.seen.append((key, value))
        return value


    def __getitem__(self, key):
        value = dict.__getitem__(self, key)
        if self._watch.get(key, _absent) is value:
            self._lookups.seen.append((key, value))
        return value



class Lookups(object):
    """
    What a captured render looked up that the application remembered outside
    it.

    @ivar seen: C{(name, value)} for each such lookup.
    @ivar unkeyable: Whether it read something else remembered outside it
        that no key can hold (Nevow: a slot filled before the render).
    """

    def __init__(self):
        self.seen = []
        self.unkeyable = False


    def verdict(self, remembered, keyed):
        """
        Decide whether the render may be stored under a key holding the
        values named C{keyed}.

        @param remembered: The L{Remembered} the key was made from.
        @return: C{(refusal, learnt)}: L{None} or C{b"context"}, and the
            names to learn (looked up, but not in the key).
        """
        learnt = set()
        refused = self.unkeyable
        for name, value in self.seen:
            if name not in keyed:
                learnt.add(name)
                refused = True
            elif remembered.values.get(name, _absent) is not value:
                # Not the value the key holds (one found further up).
                refused = True
        return (b"context" if refused else None), learnt


    def judge(self, capture, cls, remembered, keyed):
        """
        Apply L{verdict} to a finished captured render of a page of class
        C{cls}: learn the names it looked up (L{learn}), and refuse to
        store the capture if it may not be stored.
        """
        refusal, names = self.verdict(remembered, keyed)
        learn(cls, names)
        if refusal is not None:
            capture.refuse(refusal)



def learned(cls):
    """
    @return: The names of the interfaces that pages of class C{cls} were
        seen to look up from outside their render.
    """
    return _learnt.get(cls, _EMPTY)


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
_EMPTY = frozenset()
