# -*- test-case-name: tests.test_slicing -*-
"""
Tests for L{nevowcache._engine.slicing}: when background work runs, and how it is
cut, next to the requests of a reactor.
"""

from __future__ import absolute_import, division

import socket

from twisted.internet import defer, protocol, reactor as globalReactor
from twisted.internet.interfaces import IReactorFDSet
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface import implementer

from nevowcache._engine import slicing as _slicing
from nevowcache._engine.slicing import Slicer, callAfterOutput, inputProbe



class _Reader(object):
    """
    A socket as the reader (and writer) a reactor watches: its events are
    never handled, only looked at.
    """

    def __init__(self, sock):
        self.sock = sock


    def fileno(self):
        return self.sock.fileno()


    def logPrefix(self):
        return "test reader"


    def doRead(self):
        pass

    doWrite = doRead


    def connectionLost(self, reason):
        pass



@implementer(IReactorFDSet)
class _FDClock(Clock):
    """
    A L{Clock} that also has readers and writers, as an L{IReactorFDSet}
    has, set by the test.
    """

    def __init__(self):
        Clock.__init__(self)
        self.readers = []
        self.writers = []


    def getReaders(self):
        return list(self.readers)


    def getWriters(self):
        return list(self.writers)



class _Work(object):
    """
    A fake clock for the work (a L{Slicer}'s C{clock}): the reactor clock's
    time plus the work that the test says was done, which the reactor clock
    does not see.
    """

    def __init__(self, clock):
        self.clock = clock
        self.spent = 0.0


    def seconds(self):
        return self.clock.seconds() + self.spent



def _socketPair(testCase):
    """
    @return: Two connected sockets, closed when C{testCase} ends.
    """
    left, right = socket.socketpair()
    testCase.addCleanup(left.close)
    testCase.addCleanup(right.close)
    return left, right



class CallAfterOutputTests(SynchronousTestCase):
    """
    L{callAfterOutput} calls on a later turn, once no writer is left, but
    waits for writers a few turns at most.
    """

    def setUp(self):
        self.clock = _FDClock()
        self.calls = []


    def call(self, **kwargs):
        callAfterOutput(self.clock, 0, lambda: self.calls.append(self.clock.seconds()),
                        **kwargs)


    def turn(self):
        """
        One turn of the reactor: the calls that are due, not those they
        schedule.
        """
        for call in [c for c in self.clock.getDelayedCalls()
                     if c.getTime() <= self.clock.seconds()]:
            self.clock.calls.remove(call)
            call.func(*call.args, **call.kw)


    def test_nextTurn(self):
        """
        Without writers, the function runs on the next turn, not now.
        """
        self.call()
        self.assertEqual(self.calls, [])
        self.turn()
        self.assertEqual(self.calls, [0])


    def test_waitsForWriters(self):
        """
        While the reactor has a writer, the function waits a turn more: it
        runs on the first turn without one.
        """
        self.clock.writers.append(object())
        self.call()
        self.turn()
        self.turn()
        self.assertEqual(self.calls, [])
        del self.clock.writers[:]
        self.turn()
        self.assertEqual(self.calls, [0])


    def test_waitsForWritersAFewTurnsAtMost(self):
        """
        A writer that stays (its peer reads slowly) holds the function back
        L{_slicing._OUTPUT_TURNS} turns, not for good.
        """
        self.clock.writers.append(object())
        self.call()
        for _ in range(_slicing._OUTPUT_TURNS):
            self.turn()
            self.assertEqual(self.calls, [])
        self.turn()
        self.assertEqual(self.calls, [0])


    def test_urgent(self):
        """
        When C{urgent} says so, the function waits for no writer.
        """
        self.clock.writers.append(object())
        self.call(urgent=lambda: True)
        self.turn()
        self.assertEqual(self.calls, [0])


    def test_delay(self):
        """
        The function runs no sooner than C{delay} seconds from now.
        """
        callAfterOutput(self.clock, 2, lambda: self.calls.append(self.clock.seconds()))
        self.clock.advance(1.5)
        self.assertEqual(self.calls, [])
        self.clock.advance(0.5)
        self.assertEqual(self.calls, [2])


    def test_clock(self):
        """
        A reactor without writers to ask about (L{Clock}) never makes the
        function wait.
        """
        clock = Clock()
        callAfterOutput(clock, 0, lambda: self.calls.append(True))
        clock.advance(0)
        self.assertEqual(self.calls, [True])



class _Echo(protocol.Protocol):
    """
    Answers each piece of data with a response, then asks for a function to
    run as background work would: with C{schedule}.
    """

    def dataReceived(self, data):
        self.transport.write(b"response")
        self.factory.schedule(self.factory.reactor, 0, self.factory.check)



class CallAfterOutputReactorTests(TestCase):
    """
    On a real reactor, what L{callAfterOutput} calls runs after the response
    written before it was sent; what C{callLater(0)} calls runs before.
    """

    def sentBeforeWork(self, schedule):
        """
        Run a server whose protocol writes a response and schedules work
        with C{schedule}; the work looks whether the client's socket has
        the response already.

        @return: A L{Deferred} firing with what the client's socket held
            when the work ran.
        """
        seen = defer.Deferred()
        factory = protocol.Factory()
        factory.protocol = _Echo
        factory.reactor = globalReactor
        factory.schedule = schedule
        client = []

        def check():
            try:
                seen.callback(client[0].recv(100, socket.MSG_DONTWAIT))
            except socket.error:
                seen.callback(b"")
        factory.check = check
        port = globalReactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        sock = socket.create_connection(("127.0.0.1", port.getHost().port))
        self.addCleanup(sock.close)
        client.append(sock)
        sock.sendall(b"request")
        return seen


    def test_afterOutput(self):
        """
        With L{callAfterOutput}, the response is in the client's socket when
        the work runs.
        """
        return self.sentBeforeWork(
            lambda reactor, delay, f: callAfterOutput(reactor, delay, f)
        ).addCallback(self.assertEqual, b"response")


    def test_callLaterRunsFirst(self):
        """
        With C{callLater(0)}, the work runs before the response is sent:
        what L{callAfterOutput} exists for.
        """
        return self.sentBeforeWork(
            lambda reactor, delay, f: reactor.callLater(delay, f)
        ).addCallback(self.assertEqual, b"")



class InputProbeTests(SynchronousTestCase):
    """
    L{inputProbe} tells whether a reader of the reactor is readable, on the
    poller of each kind of reactor that has one, and by C{select} otherwise.
    """

    def reactorOf(self, module, name):
        """
        A new reactor C{twisted.internet.<module>.<name>}, not installed,
        closed when the test ends; skips the test where there is none.
        """
        try:
            reactorType = getattr(__import__("twisted.internet." + module,
                                             fromlist=[name]), name)
        except (ImportError, AttributeError):
            raise self.skipTest("no %s here" % (name,))
        reactor = reactorType()

        def close():
            reactor.removeAll()
            waker = getattr(reactor, "waker", None)
            if waker is not None:
                reactor.removeReader(waker)
                waker.connectionLost(None)
            poller = getattr(reactor, "_poller", None)
            if hasattr(poller, "close"):
                poller.close()
        self.addCleanup(close)
        return reactor


    def probeReaders(self, reactor):
        """
        Nothing is waiting while a reader has nothing to read, nor while a
        writer can write; input is waiting once a reader has bytes, and no
        longer once they were read.
        """
        left, right = _socketPair(self)
        probe = inputProbe(reactor)
        reactor.addReader(_Reader(left))
        reactor.addWriter(_Reader(right))
        # Before the sockets are closed.
        self.addCleanup(reactor.removeAll)
        self.assertFalse(probe())
        right.send(b"x")
        self.assertTrue(probe())
        # Asking does not consume the event.
        self.assertTrue(probe())
        self.assertEqual(left.recv(10), b"x")
        self.assertFalse(probe())


    def test_epoll(self):
        """
        On the epoll reactor, the reactor's own poller is asked.
        """
        reactor = self.reactorOf("epollreactor", "EPollReactor")
        self.assertIsInstance(reactor._poller, _slicing._POLLERS[0][0])
        self.probeReaders(reactor)


    def test_poll(self):
        """
        On the poll reactor, too.
        """
        self.probeReaders(self.reactorOf("pollreactor", "PollReactor"))


    def test_select(self):
        """
        On a reactor without a poller, its readers are C{select}ed.
        """
        reactor = self.reactorOf("selectreactor", "SelectReactor")
        self.assertIsNone(getattr(reactor, "_poller", None))
        self.probeReaders(reactor)


    def test_closedPoller(self):
        """
        A poller closed with its reactor makes nothing wait, and raises
        nothing.
        """
        reactor = self.reactorOf("epollreactor", "EPollReactor")
        closed = type(reactor._poller)()
        closed.close()
        self.patch(reactor, "_poller", closed)
        self.assertFalse(inputProbe(reactor)())


    def test_closedReader(self):
        """
        A reader closed but not yet removed makes C{select} fail: nothing
        is said to be waiting, and nothing is raised.
        """
        reactor = _FDClock()
        left, right = _socketPair(self)
        reactor.readers.append(_Reader(left))
        right.send(b"x")
        probe = inputProbe(reactor)
        self.assertTrue(probe())
        left.close()
        self.assertFalse(probe())


    def test_clock(self):
        """
        A reactor that is not an L{IReactorFDSet} never has input waiting.
        """
        self.assertFalse(inputProbe(Clock())())



class SlicerTests(SynchronousTestCase):
    """
    L{Slicer} on a L{Clock} with readers and writers, and a fake timer where
    only the work advances time within a slice.
    """

    def setUp(self):
        self.clock = _FDClock()
        self.work = _Work(self.clock)
        # The clock a Slicer measures work by, by default.
        self.patch(_slicing, "workClock", lambda: self.work)
        self.waiting = [False]
        self.patch(_slicing, "inputProbe", lambda reactor: lambda: self.waiting[0])


    def slice(self, slicer, steps, cost, onStep=None, gap=0):
        """
        Run C{steps} steps of C{cost} seconds of work each with C{slicer},
        asking L{Slicer.over} after each, advancing the clock to each call
        scheduled.

        @param onStep: Called with the step number before each step.
        @param gap: Seconds the clock moves on after the first slice, as if
            the reactor had been busy that long.
        @return: For each slice, C{(its start on the clock, its steps)}.
        """
        slices = []
        state = {"step": 0}

        def work():
            slices.append((self.clock.seconds(), 0))
            while state["step"] < steps:
                if onStep is not None:
                    onStep(state["step"])
                self.work.spent += cost
                state["step"] += 1
                slices[-1] = (slices[-1][0], slices[-1][1] + 1)
                if state["step"] < steps and slicer.over():
                    slicer.rest(work)
                    return
        slicer.start(work)
        while state["step"] < steps:
            calls = self.clock.getDelayedCalls()
            self.assertTrue(calls)
            wait = max(0, min(c.getTime() for c in calls) - self.clock.seconds())
            if gap and len(slices) == 1:
                wait, gap = gap, 0
            self.clock.advance(wait)
        return slices


    def test_slicesOfSeconds(self):
        """
        With no input waiting, a slice lasts about C{seconds} of work, and
        the pause after it as long as it took times C{rest}.
        """
        # Binary fractions: sums of them are exact.
        ms = 2 ** -10
        slicer = Slicer(self.clock, 10 * ms, rest=2, checkEvery=1)
        slices = self.slice(slicer, 100, ms)
        self.assertEqual([steps for _, steps in slices], [10] * 10)
        starts = [start for start, _ in slices]
        # The clock does not see the work, only the pauses: twice each slice.
        self.assertEqual([b - a for a, b in zip(starts, starts[1:])], [20 * ms] * 9)
        # Counted when a slice ends: the last has not.
        self.assertEqual(slicer.worked, 90 * ms)


    def test_checkEvery(self):
        """
        The clock (and the input) are looked at every C{checkEvery} cut
        points only.
        """
        ms = 2 ** -10
        slicer = Slicer(self.clock, 10.5 * ms, checkEvery=4)
        self.assertEqual([steps for _, steps in self.slice(slicer, 24, ms)], [12, 12])


    def test_inputEndsSlice(self):
        """
        A slice ends at the first look after input started waiting.
        """
        slicer = Slicer(self.clock, 0.01, checkEvery=2)

        def onStep(step):
            self.waiting[0] = step in (3, 4)
        slices = self.slice(slicer, 30, 0.001, onStep)
        self.assertEqual([steps for _, steps in slices], [4, 10, 10, 6])


    def test_behindItsShare(self):
        """
        Work that had less than C{minShare} of the time since it started
        takes whole slices, however much input waits, and its slices do
        not wait for writers.
        """
        ms = 2 ** -10
        slicer = Slicer(self.clock, 10 * ms, minShare=0.5, checkEvery=1)
        self.waiting[0] = True
        self.clock.writers.append(object())
        # After the first slice, the reactor is busy for a second: the work
        # falls behind its share.
        slices = self.slice(slicer, 50, ms, gap=1)
        # A step alone while it kept its share (all of the time, then),
        # then whole slices, each as soon as its pause is over.
        self.assertEqual([steps for _, steps in slices], [1, 10, 10, 10, 10, 9])
        self.assertEqual([start for start, _ in slices],
                         [0, 1, 1 + 10 * ms, 1 + 20 * ms, 1 + 30 * ms, 1 + 40 * ms])


    def test_keepingItsShare(self):
        """
        Work that kept its share yields to waiting input at each look, and
        waits for writers before each slice.
        """
        ms = 2 ** -10
        slicer = Slicer(self.clock, 10 * ms, rest=0, minShare=0.5, checkEvery=1)
        self.waiting[0] = True
        self.clock.writers.append(object())
        turns = []
        callLater = self.clock.callLater

        def countingCallLater(delay, f, *args, **kwargs):
            turns.append(delay)
            return callLater(delay, f, *args, **kwargs)
        self.patch(self.clock, "callLater", countingCallLater)
        slices = self.slice(slicer, 5, ms)
        self.assertEqual([steps for _, steps in slices], [1] * 5)
        # Each slice: the turn it is asked for, and as many more as the
        # writers hold it back.
        self.assertEqual(len(turns), 5 * (1 + _slicing._OUTPUT_TURNS))


    def test_waitingIsNotWork(self):
        """
        The time between L{Slicer.wait} and L{Slicer.resume} is not counted
        as work, and the resumed slice starts at once.
        """
        slicer = Slicer(self.clock, 0.01)
        ran = []
        slicer.start(lambda: ran.append("first"))
        self.clock.advance(0)
        self.work.spent += 0.003
        slicer.wait()
        self.clock.advance(5)
        slicer.resume(lambda: ran.append("resumed"))
        self.assertEqual(ran, ["first", "resumed"])
        self.work.spent += 0.002
        slicer.wait()
        self.assertAlmostEqual(slicer.worked, 0.005)


    def test_realProbe(self):
        """
        A L{Slicer} asks the reactor's own input probe by default.
        """
        self.patch(_slicing, "inputProbe", inputProbe)
        left, right = _socketPair(self)
        self.clock.readers.append(_Reader(left))
        slicer = Slicer(self.clock, 10, checkEvery=1)
        right.send(b"x")
        slices = self.slice(slicer, 3, 0.001)
        self.assertEqual([steps for _, steps in slices], [1, 1, 1])



class SlicerRunTests(SynchronousTestCase):
    """
    L{Slicer.run} drives work written as a generator: L{None} where
    L{Slicer.over} said so, a L{Deferred} where it waits.
    """

    def setUp(self):
        self.clock = _FDClock()
        self.work = _Work(self.clock)
        self.patch(_slicing, "workClock", lambda: self.work)
        self.patch(_slicing, "inputProbe", lambda reactor: lambda: False)
        self.slicer = Slicer(self.clock, 0.01)


    def test_startsOnALaterTurnAndPausesWhereItYields(self):
        """
        The first step runs on a later turn; after a yielded L{None}, the
        next runs after a pause as long as the slice's work (C{rest} 1),
        and the result fires with L{None} when the generator is done.
        """
        done = []

        def steps():
            done.append(1)
            self.work.spent += 0.25
            yield None
            done.append(2)
        result = []
        self.slicer.run(steps()).addBoth(result.append)
        self.assertEqual((done, result), ([], []))
        self.clock.advance(0)
        self.assertEqual((done, result), ([1], []))
        self.assertEqual([c.getTime() for c in self.clock.getDelayedCalls()], [0.25])
        self.clock.advance(0.25)
        self.assertEqual((done, result), ([1, 2], [None]))


    def test_deferredResultsSentBack(self):
        """
        What a yielded L{Deferred} fires with is sent back into the
        generator: at once, in the same slice, when it has fired already;
        when it fires, in a slice of its own, otherwise.
        """
        later = defer.Deferred()
        got = []

        def steps():
            got.append((yield defer.succeed(u"now")))
            got.append((yield later))
        result = []
        self.slicer.run(steps()).addBoth(result.append)
        self.clock.advance(0)
        self.assertEqual((got, result), ([u"now"], []))
        self.assertEqual(self.clock.getDelayedCalls(), [])
        later.callback(u"later")
        self.assertEqual((got, result), ([u"now", u"later"], [None]))


    def test_failures(self):
        """
        The result fails with what the generator raised, or with the failure
        of a L{Deferred} it waited for (and the generator is not resumed).
        """
        def raising():
            yield None
            raise ValueError("broken")
        result = []
        self.slicer.run(raising()).addBoth(result.append)
        while not result:
            self.clock.advance(0)
        self.assertIsInstance(result[0].value, ValueError)

        resumed = []

        def waiting():
            resumed.append((yield defer.fail(KeyError("gone"))))
        result = []
        self.slicer.run(waiting()).addBoth(result.append)
        self.clock.advance(0)
        self.assertIsInstance(result[0].value, KeyError)
        self.assertEqual(resumed, [])
