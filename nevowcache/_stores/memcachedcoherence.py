# -*- test-case-name: tests.test_near,tests.test_nearpool -*-
"""
Keep a near tier coherent with a L{MemcachedStore} (one server or a pool):
read each server's counter of events every C{bound / 2} seconds, and the
events since, from its ring (L{nevowcache._stores.coherence}).
"""

from __future__ import absolute_import, division

from twisted.internet import defer, task
from twisted.logger import Logger

from nevowcache._stores.coherence import (
    RING, counterName, generationSeed, parseEvent, parseSlot, slotName)

__all__ = ["MemcachedCoherence"]



class _Ring(object):
    """
    What a near tier knows of one memcached server's ring of events.

    @ivar server: The server (a L{nevowcache._stores.servers.Server}).
    @ivar part: Its index in the pool: the part of the near tier whose
        entries live on it.
    @ivar last: The number of the last event read, or L{None} before the
        first read.
    @ivar stuck: The number of an event whose slot was found empty, read
        again once before it counts as lost.
    @ivar polling: Whether a read of it is under way.
    """

    def __init__(self, server, part):
        self.server = server
        self.part = part
        self.last = None
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
    misses while it is down); one restarted (its counter lost) or read
    with a gap has its share forgotten.
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


    def _pollRing(self, ring):
        ring.polling = True
        started = self._near.clock.seconds()
        d = self._call(ring, self._shared._fetch, [self._counter])
        d.addCallback(self._read, started, ring)

        def failed(failure):
            self._log.debug(u"Could not read {store}'s events: {error}",
                            store=self._shared.name, error=failure.getErrorMessage())

        def done(ignored):
            ring.polling = False
        return d.addErrback(failed).addBoth(done)


    @defer.inlineCallbacks
    def _read(self, values, started, ring):
        self.polls += 1
        near = self._near
        value = values[0]
        lost = value is None and ring.last is not None
        if value is None:
            # No process announced anything yet (or the counter was
            # evicted, or the server restarted): start it, so that the
            # first change is read as one change, not as a gap.  It starts
            # from the store's time of day in milliseconds, so a counter
            # lost and started again is read as a gap, never as the same
            # events.
            shared = self._shared
            seed = generationSeed(shared.wallClock)
            added = yield self._call(
                ring, lambda protocol: protocol.add(self._counter, b"%d" % (seed,)))
            if added:
                value = b"%d" % (seed,)
            else:
                values = yield self._call(ring, shared._fetch, [self._counter])
                value = values[0]
        try:
            current = int(value) if value is not None else 0
        except ValueError:
            current = 0
        last = ring.last
        if last is None or lost or current < last or current - last > RING:
            # The first read, a counter lost (evicted, the server
            # restarted) or more events than the ring holds: what changed
            # is unknown.
            near._forgetPart(ring.part)
            ring.last = current
            ring.stuck = None
            near._trustUntil(started + self.bound, ring.part)
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
