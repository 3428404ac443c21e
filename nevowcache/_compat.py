# -*- test-case-name: tests.test_key -*-
"""
The few Python 2/3 differences nevowcache cares about.

Everything lives here, not in C{twisted.python.compat}, whose helpers
current Twisted deprecates (C{intToBytes} warns on every call).
"""

from __future__ import absolute_import, division

import sys

PY2 = sys.version_info[0] == 2

if PY2:
    textType = unicode  # noqa: F821
    integerTypes = (int, long)  # noqa: F821
else:
    textType = str
    integerTypes = (int,)



def intToBytes(number):
    """
    @return: The decimal digits of an integer, as L{bytes}.
    """
    return b"%d" % (number,)



def headerTable(headers):
    """
    The table behind a Twisted L{Headers}: names (lower-case before Twisted
    22, canonical since) to lists of values, sanitized when they were set.
    Read directly on the hit path, where the public methods' name encoding
    is most of the cost of a look.

    @return: A L{dict} (not to be changed), or L{None} for anything else
        (a view that records what is read, say): use the public methods.
    """
    raw = getattr(headers, "_rawHeaders", None)
    return raw if type(raw) is dict else None



def headerValues(headers, name):
    """
    The values of a request header, as C{getRawHeaders(name)} gives them,
    read from Twisted's table when there is one (L{headerTable}) under
    either spelling Twisted files names by.

    @param name: The lower-cased name, L{bytes}.
    @return: A L{list} of L{bytes}, or L{None} if absent.
    """
    table = headerTable(headers)
    if table is None:
        return headers.getRawHeaders(name)
    values = table.get(name)
    if values is None:
        values = table.get(nameForms(name)[0])
    return values



def hasAnyHeader(headers, names):
    """
    Whether a request has any of the headers C{names}, as C{hasHeader}
    tells, read from Twisted's table when there is one (L{headerTable}).

    @param names: Lower-cased names, a L{tuple} of L{bytes}.
    @rtype: L{bool}
    """
    table = headerTable(headers)
    if table is None:
        return any(headers.hasHeader(name) for name in names)
    spellings = _spellings.get(names)
    if spellings is None:
        spellings = remember(_spellings, names, frozenset(
            names + tuple(wireName(name) for name in names)), 256)
    # One pass over the request's few names, in C.
    return not spellings.isdisjoint(table)

# Tuples of lower-cased names, to a set of them and their canonical
# spellings.
_spellings = {}



def oneLine(value):
    """
    A header name or value on one line: line breaks become spaces, as
    Twisted's C{Headers} makes them (a stored value can never start a header
    or a body of its own).
    """
    return b" ".join(value.splitlines())



def nameForms(name):
    """
    A header name as Twisted writes it (L{wireName}) and lower-cased,
    remembered: the hit path asks for the same few names again and again.

    @param name: L{bytes}, in any case.
    @return: C{(as written, lower-cased)}.
    """
    forms = NAME_FORMS.get(name)
    if forms is None:
        forms = remember(NAME_FORMS, name, (wireName(name), name.lower()), 512)
    return forms

# nameForms' memo: read directly where a call costs too much (a response's
# every header, on the hit path), added to through nameForms only.
NAME_FORMS = {}



def wireName(name):
    """
    A header name as Twisted writes it (and, since Twisted 22, files it):
    C{Content-Type}, C{ETag}.
    """
    name = b"-".join(word.capitalize() for word in oneLine(name).split(b"-"))
    return _SPECIAL_NAMES.get(name, name)

_SPECIAL_NAMES = {
    b"Content-Md5": b"Content-MD5", b"Dnt": b"DNT", b"Etag": b"ETag",
    b"P3p": b"P3P", b"Te": b"TE", b"Www-Authenticate": b"WWW-Authenticate",
    b"X-Xss-Protection": b"X-XSS-Protection",
}



def remember(table, key, value, most):
    """
    Keep C{value} under C{key} in C{table}, a memo of what is cheaper to
    look up than to work out again: forgotten all at once when it holds
    C{most} (what is seen lately is learnt again).

    @return: C{value}.
    """
    if len(table) >= most:
        table.clear()
    table[key] = value
    return value



def monotonicClock():
    """
    A clock that never goes backwards, for ageing entries.

    @return: An object with a C{seconds()} method, like L{IReactorTime}.
    """
    try:
        from time import monotonic
    except ImportError:
        monotonic = _linuxMonotonic()
    return _SecondsClock(monotonic)



def wallClock():
    """
    The time of day, for HTTP dates.

    @return: An object with a C{seconds()} method.
    """
    import time
    return _SecondsClock(time.time)



def workClock():
    """
    The clock that measures short spans of work on the reactor's thread (a
    slice of a background refresh): L{timeit.default_timer}, the finest
    the interpreter offers (C{time.perf_counter} on Python 3).

    @return: An object with a C{seconds()} method.
    """
    from timeit import default_timer
    return _SecondsClock(default_timer)



class _SecondsClock(object):
    """
    Adapt a function returning seconds to the C{seconds()} method of
    L{twisted.internet.interfaces.IReactorTime}.
    """

    def __init__(self, function):
        self.seconds = function



def _linuxMonotonic():
    """
    Python 2.7 has no C{time.monotonic}: read C{CLOCK_MONOTONIC} through
    C{clock_gettime(2)}, or fall back to C{time.time} where that fails.
    """
    import ctypes
    import ctypes.util
    import time

    class timespec(ctypes.Structure):
        _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]

    try:
        librt = ctypes.CDLL(ctypes.util.find_library("rt") or "librt.so.1",
                            use_errno=True)
        clockGettime = librt.clock_gettime
    except (OSError, AttributeError):
        return time.time
    clockGettime.argtypes = [ctypes.c_int, ctypes.POINTER(timespec)]
    CLOCK_MONOTONIC = 1

    # One struct for every call: no allocation on the hit path.  (Called
    # from the reactor thread only.)
    now = timespec()
    reference = ctypes.byref(now)

    def monotonic():
        if clockGettime(CLOCK_MONOTONIC, reference) != 0:
            return time.time()
        return now.tv_sec + now.tv_nsec * 1e-9
    return monotonic
