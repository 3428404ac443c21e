# -*- test-case-name: tests.test_clocks -*-
"""
The real clocks nevowcache reads when none is given: a monotonic one that
ages entries, the time of day for HTTP dates, and a fine one that measures
slices of work.  Each is an object with a C{seconds()} method, like
L{twisted.internet.interfaces.IReactorTime}.
"""

from __future__ import absolute_import, division



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
