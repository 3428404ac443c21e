# -*- test-case-name: tests.test_slicing -*-
"""
Background work that stays out of the way of requests, on the reactor's
thread: when to start it, and how to cut it into slices.

A background refresh runs on the same thread as the requests it must not
delay.  Two facts about the reactor decide when it may run:

  - B{output waiting}: a response written with C{transport.write} is only
    buffered; the reactor sends it on its next turn.  Work started with
    C{callLater(0)} runs I{before} that turn, so the response that started
    it waits for it.  L{callAfterOutput} waits until the reactor has no
    writer left (a few turns at most).
  - B{input waiting}: a request that arrives while a slice of work runs
    waits for the slice to end.  L{Slicer} ends a slice early when input is
    waiting, so a slice delays a request by about one cut point's work
    instead of a whole slice, yet keeps a minimum share of the reactor's
    time, so that a saturated server still finishes its refreshes.

Both are read through L{IReactorFDSet} (C{getWriters}, C{getReaders});
the epoll reactor's poller, when there is one, answers the input question
in one system call.  A reactor without them (L{task.Clock} in tests) has
nothing waiting, ever.
"""

from __future__ import absolute_import, division

import select

from twisted.internet import defer
from twisted.internet.interfaces import IReactorFDSet

from nevowcache._engine.clocks import workClock

__all__ = ["callAfterOutput", "inputProbe", "Slicer"]

# How many turns, at most, background work waits for the reactor's writers
# to empty: a writer whose peer reads slowly stays registered for as long
# as that takes, and must not hold the work back for good.
_OUTPUT_TURNS = 4



def _pollers():
    """
    @return: C{(type, mask)} for each kind of poller of L{select} that the
        reactors of Twisted keep as C{_poller}: its type, and the events
        that mean input.
    """
    found = []
    for kind, prefix in (("epoll", "EPOLL"), ("poll", "POLL")):
        make = getattr(select, kind, None)
        if make is None:
            continue
        mask = 0
        for event in ("IN", "PRI", "ERR", "HUP"):
            mask |= getattr(select, prefix + event)
        # select.poll is a function (of an object without a public type).
        found.append((make if isinstance(make, type) else type(make()), mask))
    return tuple(found)

_POLLERS = _pollers()



def _outputWaiting(reactor):
    """
    @return: Whether C{reactor} has output buffered to send on its next turn.
    """
    getWriters = getattr(reactor, "getWriters", None)
    return bool(getWriters is not None and getWriters())



def callAfterOutput(reactor, delay, f, urgent=None):
    """
    Call C{f} on a turn of the reactor at least C{delay} seconds from now,
    once the output buffered so far has been sent: on the first turn
    without a registered writer, at most L{_OUTPUT_TURNS} turns later.

    @param reactor: Provides L{IReactorTime}, and L{IReactorFDSet} to be
        waited on.
    @param delay: Seconds; C{0} for the next turn.
    @param f: A function of no arguments.
    @param urgent: A function of no arguments: when it returns true, C{f}
        is called without waiting for output any longer.
    """
    def attempt(turns):
        if (turns < _OUTPUT_TURNS and _outputWaiting(reactor)
                and not (urgent is not None and urgent())):
            reactor.callLater(0, attempt, turns + 1)
        else:
            f()
    reactor.callLater(delay, attempt, 0)



def inputProbe(reactor):
    """
    A function that tells, without blocking, whether input waits to be read
    by C{reactor}: a request on a connection, a connection to accept, a
    wake-up.

    On the epoll (or poll) reactor it asks the reactor's own poller (its
    private C{_poller}: one system call, whatever the number of
    connections), which is level-triggered: asking does not consume the
    event.  On another L{IReactorFDSet}, or if that attribute is gone, it
    C{select}s the readers (L{IReactorFDSet.getReaders}).  Otherwise, or if
    asking fails (a reactor shutting down), nothing is ever waiting.

    @return: A function of no arguments returning L{bool}.
    """
    poller = getattr(reactor, "_poller", None)
    for pollerType, mask in _POLLERS:
        if isinstance(poller, pollerType):
            return lambda: _pollInput(poller, mask)
    if IReactorFDSet.providedBy(reactor):
        return lambda: _selectReaders(reactor)
    return lambda: False



def _pollInput(poller, mask):
    """
    @return: Whether C{poller} has an event in C{mask} ready now.
    """
    try:
        ready = poller.poll(0)
    except (ValueError, EnvironmentError, select.error):
        # Closed with its reactor.
        return False
    for _, events in ready:
        if events & mask:
            return True
    return False



def _selectReaders(reactor):
    """
    @return: Whether any of C{reactor}'s readers is readable now.
    """
    try:
        readable, _, _ = select.select(reactor.getReaders(), [], [], 0)
    except (ValueError, TypeError, select.error):
        # A reader closed meanwhile, or too many of them for select(2).
        return False
    return bool(readable)



class Slicer(object):
    """
    The schedule of one piece of background work cut into slices, on the
    reactor's thread.

    The work calls L{start} once, asks L{over} at each point where it can
    stop, and calls L{rest} when L{over} said so (or L{wait}, then
    L{resume}, when it stops for a reason of its own); or, written as a
    generator, is driven so by L{run}.  Then:

      - every slice starts on a turn of the reactor after the output
        written so far was sent (L{callAfterOutput}): the response that
        triggered the work is not held back by it;
      - a slice is over after about C{seconds} of work; or, sooner, at the
        first cut point at which input waits to be read;
      - but a work that has had less than C{minShare} of the time since it
        started waits for neither output nor input: it takes whole slices,
        each on the next turn after its pause, until it is back above (a
        saturated server still finishes its refreshes);
      - after each slice the work pauses for C{rest} times as long as the
        slice took: it has at most about C{1 / (1 + rest)} of the
        reactor's time.

    @ivar worked: Seconds of work done in slices so far.
    """

    def __init__(self, reactor, seconds, rest=1.0, minShare=0.1, checkEvery=1,
                 clock=None):
        """
        @param reactor: Provides L{IReactorTime}; and L{IReactorFDSet}, for
            the output and input it waits for.
        @param seconds: The longest slice; C{0} to end a slice at every look
            at the clock.
        @param rest: How long each pause is, as a multiple of the slice
            before it.
        @param minShare: The least share of the time since L{start} that
            the work keeps, however much input waits.
        @param checkEvery: How many cut points to pass between two looks at
            the clock and at the input: cheap, next to the work between two
            cut points, but not free.
        @param clock: What measures the work, with its C{seconds()}: by
            default a real clock (L{nevowcache._engine.clocks.workClock}).  The
            Nevow adapter gives its L{nevowcache.PageCache}'s
            C{sliceClock}.
        """
        self._reactor = reactor
        self._now = (workClock() if clock is None else clock).seconds
        self._seconds = seconds
        self._rest = rest
        self._minShare = minShare
        self._checkEvery = checkEvery
        self._inputWaiting = inputProbe(reactor)
        self._checks = 0
        self._began = None
        self._sliceStart = None
        self.worked = 0.0


    def run(self, steps):
        """
        Run a piece of work written as a generator, in slices: the first on
        a later turn (L{start}); then the generator yields L{None} where it
        stopped because L{over} said so (L{rest} follows), and a
        L{Deferred} where it waits for one (L{wait}, then L{resume} once it
        fires, unless it has fired already: then the work goes on in the
        same slice, in a loop, not by recursion).  What the L{Deferred}
        fired with is sent back into the generator (C{generator.send}).

        @param steps: A generator, not started.
        @return: A L{Deferred} firing with L{None} when the generator is
            done, or failing with what it raised, or with the failure of a
            L{Deferred} it waited for.
        """
        finished = defer.Deferred()

        def drive(value=None):
            while True:
                try:
                    step = steps.send(value)
                except StopIteration:
                    finished.callback(None)
                    return
                except BaseException:
                    finished.errback()
                    return
                value = None
                if step is None:
                    self.rest(drive)
                    return
                waiting = {"driving": True}

                def fired(result, waiting=waiting):
                    if waiting["driving"]:
                        # At once: go on in this slice, in the loop.
                        waiting["result"] = result
                    else:
                        self.resume(lambda: drive(result))

                def failed(reason, waiting=waiting):
                    waiting["failed"] = True
                    finished.errback(reason)
                step.addCallbacks(fired, failed)
                waiting["driving"] = False
                if "result" in waiting:
                    value = waiting["result"]
                elif "failed" in waiting:
                    return
                else:
                    self.wait()
                    return
        self.start(drive)
        return finished


    def start(self, work):
        """
        Run the first slice, calling C{work}, on a later turn.
        """
        self._next(0, work)


    def rest(self, work):
        """
        The slice is over (L{over} said so): pause, then run C{work} as the
        next slice.
        """
        self._next(self._end() * self._rest, work)


    def _next(self, delay, work):
        """
        Run C{work} as the next slice, C{delay} seconds from now or later,
        after the output waiting then was sent, unless the work is behind
        its share.
        """
        callAfterOutput(self._reactor, delay, lambda: self._slice(work),
                        urgent=lambda: self._behind(self._now(), 0.0))


    def wait(self):
        """
        The slice ends for a reason of the work's own, such as waiting for a
        L{Deferred}: waiting is not work.  Call L{resume} when it can go on.
        """
        self._end()


    def resume(self, work):
        """
        After L{wait}: run C{work} as a new slice now, without a pause (in
        the callback of what it waited for, as a L{Deferred} would).
        """
        self._slice(work)


    def _slice(self, work):
        self._sliceStart = now = self._now()
        if self._began is None:
            self._began = now
        work()


    def _end(self):
        """
        @return: How long the slice that ends took.
        """
        elapsed = max(self._now() - self._sliceStart, 0.0)
        self.worked += elapsed
        return elapsed


    def over(self):
        """
        @return: Whether the slice is over, at this cut point.
        """
        self._checks += 1
        if self._checks % self._checkEvery:
            return False
        now = self._now()
        elapsed = now - self._sliceStart
        if elapsed >= self._seconds:
            return True
        return self._inputWaiting() and not self._behind(now, elapsed)


    def _behind(self, now, elapsed):
        """
        @param elapsed: Seconds of work in the current slice so far.
        @return: Whether the work has had less than its least share of the
            time since it started.
        """
        return (self._began is not None
                and self.worked + elapsed < self._minShare * (now - self._began))
