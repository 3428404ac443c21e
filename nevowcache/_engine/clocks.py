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



class lazyReactor(object):
    """
    A descriptor for an object's reactor: the one it was given (in the
    instance attribute C{attribute}), else the global reactor, imported
    when first read (not at import time: an application may install
    another reactor first).
    """

    def __init__(self, attribute="_reactor"):
        self.attribute = attribute


    def __get__(self, instance, owner):
        if instance is None:
            return self
        reactor = getattr(instance, self.attribute)
        if reactor is None:
            from twisted.internet import reactor
            setattr(instance, self.attribute, reactor)
        return reactor


# The time of day, where a parameter is named wallClock.
_timeOfDay = wallClock



class Clocks(object):
    """
    Every source of time of one L{PageCache}, given to its collaborators:
    one clock that ages entries and measures waits, one wall clock (the
    time of day: HTTP dates), one reactor that schedules, and the clock
    that measures slices of a background refresh's work.

    @ivar clock: What C{seconds()} ages entries, measures renders and
        waits.
    @ivar wallClock: What C{seconds()} is the time of day.
    @ivar sliceClock: What C{seconds()} measures slices of work.
    @ivar reactor: An L{IReactorTime} (L{lazyReactor}).
    """
    reactor = lazyReactor()

    def __init__(self, reactor=None, clock=None, wallClock=None, sliceClock=None,
                 shared=False):
        """
        @param reactor: An L{IReactorTime}; by default the global reactor.
        @param clock: By default the C{reactor} when one is given and is not
            a real reactor (a L{task.Clock} in tests), else a monotonic
            clock, so that wall-clock jumps do not change freshness; but the
            time of day if C{shared}.
        @param wallClock: By default the C{reactor} when one is given, else
            the time of day.
        @param sliceClock: By default the C{reactor} when one is given and is
            not a real reactor (no work takes time: slices end where the
            test says, not where the machine's load puts them), else
            L{workClock}.
        @param shared: Whether entries are aged by other processes too (a
            store shared by processes, on other hosts): then the default
            C{clock} is the time of day.
        """
        from twisted.python import runtime
        # A real reactor's seconds() is the time of day.
        fake = reactor is not None and getattr(reactor, "seconds", None) is not runtime.seconds
        if clock is None:
            if fake:
                clock = reactor
            elif shared:
                clock = _timeOfDay()
            else:
                clock = monotonicClock()
        if wallClock is None:
            wallClock = reactor if reactor is not None else _timeOfDay()
        if sliceClock is None:
            sliceClock = reactor if fake else workClock()
        self._reactor = reactor
        self.clock = clock
        self.wallClock = wallClock
        self.sliceClock = sliceClock
