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
