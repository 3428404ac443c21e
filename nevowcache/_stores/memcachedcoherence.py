# -*- test-case-name: tests.test_near,tests.test_nearpool -*-
"""
Keep a near tier coherent with a L{MemcachedStore} (one server or a pool):
read each server's counter of events (and its epoch, the counter's flags,
in the same C{get}) every C{bound / 2} seconds, and the events since, from
its ring (L{nevowcache._stores.coherence}).
"""

from __future__ import absolute_import, division

from twisted.internet import defer, task
from twisted.logger import Logger

from nevowcache._stores.coherence import (
    RING, counterEpoch, counterName, generationSeed, parseEvent, parseSlot,
    slotName)

__all__ = ["MemcachedCoherence"]



class _Ring(object):
    """
    What a near tier knows of one memcached server's ring of events.

    @ivar server: The server (a L{nevowcache._stores.servers.Server}).
    @ivar part: Its index in the pool: the part of the near tier whose
        entries live on it.
    @ivar last: The number of the last event read, or L{None} before the
        first read (and after a read that found no counter, or one without
        an epoch).
    @ivar epoch: The epoch of the counter C{last} was read from (a new
        one means the counter was lost and created again), or L{None}
        with C{last}.
    @ivar stuck: The number of an event whose slot was found empty, read
        again once before it counts as lost.
    @ivar polling: Whether a read of it is under way.
    """

    def __init__(self, server, part):
        self.server = server
        self.part = part
        self.last = None
        self.epoch = None
        self.stuck = None
        self.polling = False



class MemcachedCoherence(object):
    """
    Keep a near tier coherent with a L{MemcachedStore}: read the event
    counter of each of its servers every C{bound / 2} seconds, and the
    events since.

    Over a pool every server numbers the changes made on it in its own
    ring: an entry's URL record, its lease and the entry itself live on
    the server its URL hashes to, and every server keeps its own copies of
    the clear and scope records, bumped (and announced) on each server.
    Each server judges the entries it holds by its own records alone, so
    every change that concerns an entry is in the ring of the server the
    entry lives on: the near entries of each server are trusted until the
    last read of that server's ring plus C{bound}, whatever the other
    servers do.  A server whose ring cannot be read costs only the near
    entries of its share (looked up in the shared store, where they are
    misses while it is down); one restarted (its counter lost: read
    missing, or with a new epoch), or read with a gap, has its share
    forgotten.

    A server's run of reads is trusted only while its counter's epoch
    stays the same: the counter and its epoch are one item (the epoch is
    its flags), read together, created together by C{add}; neither can be
    lost or replaced without the other.  Whatever the number a counter
    created again starts from, and however far it has come by the next
    read, a new epoch forgets the server's share.  A counter without an
    epoch (flags 0: created by an older nevowcache) is never trusted: its
    share is forgotten at each read, and it is given an epoch (a C{cas}
    of the same number, so only if nothing changed it meanwhile).
    """
    _log = Logger()

    def __init__(self, near, shared, bound):
        self._near = near
        self._shared = shared
        self.bound = bound
        self.interval = bound / 2
        self._counter = counterName(shared.namespace)
        self._rings = [_Ring(server, part)
                       for part, server in enumerate(shared._servers)]
        self._loop = None
        self.polls = 0


    @property
    def _polling(self):
        return any(ring.polling for ring in self._rings)


    def start(self):
        self._loop = task.LoopingCall(self._tick)
        self._loop.clock = self._near.reactor
        self._loop.start(self.interval, now=True)


    def stop(self):
        if self._loop is not None and self._loop.running:
            self._loop.stop()


    def _tick(self):
        # Each server is read on its own, so that one that is slow to
        # answer holds up nobody's reads but its own.
        self._poll()


    def _call(self, ring, primitive, *args):
        return self._shared._callOn(ring.server, primitive, *args)


    def _poll(self):
        """
        Read every server's counter (all at once, one C{get} each), and the
        events since, but of those still being read.

        @return: A L{Deferred} firing once the reads started are done.
        """
        reads = [self._pollRing(ring) for ring in self._rings if not ring.polling]
        return defer.gatherResults(reads).addCallback(lambda ignored: None)


    def _readCounter(self, protocol):
        """
        Read the counter and its epoch: one C{get} of one name.

        @return: A L{Deferred} firing with C{(epoch, value)}: C{(0, None)}
            if there is no counter, an epoch of 0 if it has none.
        """
        name = self._counter
        d = protocol.fetch([name])
        return d.addCallback(lambda found: found.get(name, (0, None)))


    def _pollRing(self, ring):
        ring.polling = True
        started = self._near.clock.seconds()
        d = self._call(ring, self._readCounter)
        d.addCallback(self._read, started, ring)

        def failed(failure):
            self._log.debug(u"Could not read {store}'s events: {error}",
                            store=self._shared.name, error=failure.getErrorMessage())

        def done(ignored):
            ring.polling = False
        return d.addErrback(failed).addBoth(done)


    @defer.inlineCallbacks
    def _read(self, counter, started, ring):
        """
        Read the events since the last read, from what was read of the
        counter.

        @param counter: C{(epoch, value)} read (L{_readCounter}).
        @param started: When the read was sent.
        """
        self.polls += 1
        near = self._near
        epoch, value = counter
        if value is None:
            # No process announced anything yet (or the counter was
            # evicted, or the server restarted): start it, with a new
            # epoch, so that the first change is read as one change, not
            # as a gap.
            seed, epoch = generationSeed(self._shared.wallClock), counterEpoch()
            added = yield self._call(ring, lambda protocol: protocol.add(
                self._counter, b"%d" % (seed,), epoch))
            if added:
                value = b"%d" % (seed,)
            else:
                epoch, value = yield self._call(ring, self._readCounter)
        current = _number(value)
        noEpoch = current is not None and not epoch
        last = ring.last
        if (current is None or noEpoch or last is None or epoch != ring.epoch
                or current < last or current - last > RING):
            # The first read, a counter lost (no counter, or a new epoch:
            # the server restarted, the counter was evicted), one that
            # cannot be told from another (no epoch) or that went back, or
            # more events than the ring holds: what changed is unknown.
            near._forgetPart(ring.part)
            if current is None or noEpoch:
                ring.last = ring.epoch = None
            else:
                ring.last, ring.epoch = current, epoch
            ring.stuck = None
            near._trustUntil(started + self.bound, ring.part)
            if noEpoch:
                # Made by a nevowcache that gave counters no epoch: give
                # it one, so that the next read can start a run.
                yield self._call(ring, self._giveEpoch).addErrback(
                    self._notGiven)
            return
        if current > last:
            shared = self._shared
            sequences = list(range(last + 1, current + 1))
            names = [slotName(shared.namespace, sequence) for sequence in sequences]
            slots = yield self._call(ring, shared._fetch, names)
            for sequence, slot in zip(sequences, slots):
                message = parseSlot(slot, sequence)
                if message is None:
                    if slot is None and ring.stuck != sequence:
                        # Its writer may not have written it yet: read it
                        # again next time, trusting nothing past it.
                        ring.stuck = sequence
                        return
                    # Lost (its writer died between numbering and writing
                    # it; the counter was seeded anew past it) or
                    # overwritten: what changed up to now is unknown.
                    near._forgetPart(ring.part)
                    ring.stuck = None
                    ring.last = current
                    break
                name, writer = parseEvent(message)
                near._event(name, writer)
                ring.stuck = None
                ring.last = sequence
        near._trustUntil(started + self.bound, ring.part)


    def _notGiven(self, failure):
        self._log.debug(u"Could not give {store}'s event counter an epoch: {error}",
                        store=self._shared.name, error=failure.getErrorMessage())


    def _giveEpoch(self, protocol):
        """
        Give the counter a new epoch, with the number it holds, if it has
        none, and only if nothing changed it since it was read (C{cas}):
        never to a counter created again meanwhile, nor under an C{incr}.

        @return: A L{Deferred} firing with whether it was given one.
        """
        name = self._counter

        def read(found):
            flags, cas, value = found
            number = _number(value)
            if flags or number is None:
                return False
            return protocol.checkAndSet(name, b"%d" % (number,), cas, counterEpoch())
        return protocol.get(name, withIdentifier=True).addCallback(read)



def _number(value):
    """
    @return: The number a counter holds (memcached may pad it with spaces
        after an C{incr}), or L{None} if there is none or it is not one.
    """
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None
