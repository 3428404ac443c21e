# -*- test-case-name: tests.test_stores -*-
"""
What objects really cost in this process's memory, so that a byte bound
holds for the resident set size and not only for the bytes of bodies.

C{sys.getsizeof} gives an object's own size, with the garbage collector's
header; the allocator then rounds it up: CPython's small-object allocator
(C{pymalloc}) serves requests of up to 512 bytes (256 on Python 2) in
blocks of 16 bytes (8 on Python 2, and on 32-bit builds); larger ones go to
C{malloc}, which adds a word of its own and rounds to 16.  Containers are
followed, so that a tuple costs its items too.
"""

from __future__ import absolute_import, division

import sys

from nevowcache._compat import PY2

__all__ = ["allocated", "footprint", "orderedDictBytes"]

_WORD = 8 if sys.maxsize > 2 ** 32 else 4
_ALIGN = 8 if PY2 or _WORD == 4 else 16
_SMALL = 256 if PY2 else 512
_MALLOC_ALIGN = 2 * _WORD
_MALLOC_MIN = 4 * _WORD

# Objects every stored thing may point to without owning (CPython's
# singletons, which live as long as the process): nothing is charged for
# them.
_SHARED = frozenset(id(o) for o in (None, True, False, (), b"", u""))

if PY2:
    _LEAVES = (bytes, unicode, int, long, float)  # noqa: F821
else:
    _LEAVES = (bytes, str, int, float)
_SEQUENCES = (tuple, list, set, frozenset)

# The memory the allocators keep unused between live objects once entries
# and requests have come and gone for a while (partly used pools and pages,
# holes in the heap), as a share of what live objects take: measured after
# floods of distinct URLs against bounded stores (tests.test_reliability,
# bench/), at about 5% on Python 3 and 10% on Python 2 over the live
# objects of 1 KB pages, and charged with them.
_SLACK = 8 if PY2 else 16

# What each link of a Python 2 OrderedDict costs (a list of three), which
# its sys.getsizeof leaves out: measured with the resident set over sizes
# from 10**3 to 10**6, rounded up.
_PY2_LINK = 116



def allocated(size):
    """
    @param size: An object's C{sys.getsizeof}.
    @return: The bytes the allocator takes for it.
    """
    if size <= _SMALL:
        return (size + _ALIGN - 1) & -_ALIGN
    return max(_MALLOC_MIN, (size + _WORD + _MALLOC_ALIGN - 1) & -_MALLOC_ALIGN)



_LEAF, _SEQUENCE, _MAPPING, _OBJECT = range(4)

# The kind of each type met so far (exact types; subclasses too).
_KINDS = {}

# The attribute names of each type with slots or a __dict__, once found.
_ATTRIBUTES = {}



def _kindOf(cls):
    kind = _KINDS.get(cls)
    if kind is None:
        if issubclass(cls, _LEAVES):
            kind = _LEAF
        elif issubclass(cls, _SEQUENCES):
            kind = _SEQUENCE
        elif issubclass(cls, dict):
            kind = _MAPPING
        else:
            kind = _OBJECT
        _KINDS[cls] = kind
    return kind



def _attributeNames(cls):
    """
    @return: The names of the slots of C{cls} and its bases, and
        C{"__dict__"} if its instances may have one.
    """
    names = _ATTRIBUTES.get(cls)
    if names is None:
        names = []
        for base in cls.__mro__:
            slots = base.__dict__.get("__slots__", ())
            if isinstance(slots, (str, bytes)):
                slots = (slots,)
            for name in slots:
                if name in ("__dict__", "__weakref__"):
                    continue
                if name.startswith("__") and not name.endswith("__"):
                    name = "_" + base.__name__.lstrip("_") + name
                names.append(name)
        names.append("__dict__")
        names = _ATTRIBUTES[cls] = tuple(names)
    return names



def footprint(*objects, **kwargs):
    """
    The bytes these objects and everything they hold take, each object
    counted once, with the allocators' rounding and their share of what the
    allocators keep unused between live objects (C{_SLACK}).

    Tuples, lists, sets, dicts and objects with C{__slots__} or a
    C{__dict__} are followed; C{None}, booleans, empty strings and tuples
    and the small integers CPython shares are free.  Objects shared with
    other things (a page name, a header value) are charged all the same:
    the result is an upper bound.

    @keyword seen: A L{set} of the C{id}s already counted, updated.
    @rtype: L{int}
    """
    seen = kwargs.get("seen")
    if seen is None:
        seen = set()
    total = 0
    stack = list(objects)
    pop, push, extend, see = stack.pop, stack.append, stack.extend, seen.add
    getsizeof, kinds = sys.getsizeof, _KINDS
    small, align, word = _SMALL, _ALIGN - 1, _WORD + _MALLOC_ALIGN - 1
    while stack:
        obj = pop()
        ident = id(obj)
        if ident in seen or ident in _SHARED:
            continue
        cls = type(obj)
        kind = kinds.get(cls)
        if kind is None:
            kind = _kindOf(cls)
        if cls is int and -5 <= obj <= 256:
            continue
        see(ident)
        size = getsizeof(obj)
        if size <= small:
            total += (size + align) & -_ALIGN
        else:
            total += max(_MALLOC_MIN, (size + word) & -_MALLOC_ALIGN)
        if kind is _LEAF:
            continue
        if kind is _SEQUENCE:
            extend(obj)
        elif kind is _MAPPING:
            extend(obj.keys())
            extend(obj.values())
        else:
            for name in _attributeNames(cls):
                value = getattr(obj, name, None)
                if value is not None:
                    push(value)
    return total + total // _SLACK



def orderedDictBytes(ordered):
    """
    @param ordered: An L{OrderedDict}.
    @return: The bytes its table and links take now, without its keys and
        values: what a table sized by its history takes (tables grow as
        items come and do not shrink as they go), which a constant per
        item would not tell.
    """
    size = sys.getsizeof(ordered)
    if PY2:
        links = getattr(ordered, "_OrderedDict__map", None)
        if links is not None:
            size += sys.getsizeof(links) + len(links) * _PY2_LINK
    return size
