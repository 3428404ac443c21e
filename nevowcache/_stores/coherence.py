# -*- test-case-name: tests.test_near,tests.test_nearpool -*-
"""
How a change made in a shared store by one process reaches the near tiers
(L{nevowcache.NearStore}) of the others, and how long a near tier may trust
what it holds.

Every change a L{SharedStore} makes is announced as an I{event}: the name
it changed, without the namespace (C{u:<tag>} a URL's generation record,
C{s:<tag>} a scope's, C{c} the clear record, C{e:<digest>} an entry
stored or deleted), then a space and the writer's id
(L{SharedStore.writerId}), so that a process knows its own stores.

    - Redis publishes it on the channel C{<namespace>events}, in the same
      script that makes the change (atomically).  A near tier subscribes
      to that channel and to a heartbeat channel of its own, on which it
      publishes a number every C{bound / 5} seconds: a heartbeat heard
      back means every event published before it was heard too (Redis
      delivers one connection's messages in the order it ran the
      commands), so the near tier trusts its entries until the heartbeat
      was sent plus C{bound}.  A lost subscription distrusts them at once.
    - memcached has no push: the writer draws a sequence number
      (C{incr <namespace>n}, sent together with the change) and writes the
      event into a ring of L{RING} slots (C{<namespace>n:<seq % RING>},
      C{"<seq> <event>"}), on the server the change is made on.  A near
      tier reads the counter every C{bound / 2} seconds, and the slots
      since its last read: it trusts its entries until that read was sent
      plus C{bound}.  A slot that is missing or overwritten (more than
      L{RING} events between two reads), or a counter that went back,
      empties the near tier.  Over a pool, each server has its own counter
      and ring, read each period (all at once): the near entries that live
      on a server are trusted until the last read of that server's ring
      plus C{bound}, and forgotten on a gap in it (L{MemcachedCoherence}).

Either way a near entry is served only while trusted: when the channel
breaks, the near tier answers misses after at most C{bound} seconds, and
the shared store answers instead.
"""

from __future__ import absolute_import, division

from twisted.internet import defer, task
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger


__all__ = ["RING", "eventChannel", "eventMessage", "parseEvent", "counterName",
           "slotName", "slotValue", "parseSlot", "RedisCoherence",
           "MemcachedCoherence"]

# Slots in memcached's ring of events.
RING = 1024



def generationSeed(wallClock):
    """
    @param wallClock: What C{seconds()} is the time of day (a store's
        C{wallClock}).
    @return: What a lost counter restarts from (a shared store's generation
        counter, memcached's event counter): milliseconds since the epoch,
        above any number handed out before, so that a counter lost and
        started again is read as a gap, never as the same numbers.
    """
    return int(wallClock.seconds() * 1000)



def eventChannel(namespace):
    """
    @return: The Redis channel a store's events are published on.
    """
    return namespace + b"events"



def eventMessage(namespace, name, writer):
    """
    @param name: The name changed, with the namespace.
    @param writer: The writer's id.
    @return: The event announcing it, L{bytes}.
    """
    return name[len(namespace):] + b" " + writer



def parseEvent(message):
    """
    @return: C{(name, writer)}: the name changed, without the namespace
        (C{u:<tag>}, C{s:<tag>}, C{c}, C{e:<digest>}), and who changed it.
    """
    name, _, writer = message.partition(b" ")
    return name, writer



def counterName(namespace):
    """
    @return: The name of memcached's event counter.
    """
    return namespace + b"n"



def slotName(namespace, sequence):
    """
    @return: The name of the ring slot that holds event C{sequence}.
    """
    return namespace + b"n:%d" % (sequence % RING,)



def slotValue(sequence, message):
    return b"%d %s" % (sequence, message)



def parseSlot(value, sequence):
    """
    @return: The event in a ring slot, if it is event C{sequence}'s; else
        L{None} (missing, or overwritten by a later one).
    """
    if not isinstance(value, bytes):
        return None
    number, _, message = value.partition(b" ")
    if number != b"%d" % (sequence,) or not message:
        return None
    return message



def _command(*args):
    """
    A Redis command in RESP.
    """
    return b"*%d\r\n" % (len(args),) + b"".join(
        b"$%d\r\n%s\r\n" % (len(arg), arg) for arg in args)



_INCOMPLETE = object()



def _parseReply(data, start):
    """
    Parse one RESP value at C{start}.

    @return: C{(value, end)}, or C{(_INCOMPLETE, start)} when more bytes are
        needed.  Simple strings, errors and integers are C{(kind, line)};
        bulk strings L{bytes} (L{None} if null); arrays L{list}s.
    @raise ValueError: On anything else.
    """
    end = data.find(b"\r\n", start)
    if end < 0:
        return _INCOMPLETE, start
    kind, line = data[start:start + 1], data[start + 1:end]
    position = end + 2
    if kind in (b"+", b"-", b":"):
        return (kind, line), position
    if kind == b"$":
        length = int(line)
        if length < 0:
            return None, position
        if len(data) < position + length + 2:
            return _INCOMPLETE, start
        return data[position:position + length], position + length + 2
    if kind == b"*":
        items = []
        for _ in range(max(0, int(line))):
            item, position = _parseReply(data, position)
            if item is _INCOMPLETE:
                return _INCOMPLETE, start
            items.append(item)
        return items, position
    raise ValueError("not a Redis reply: %r" % (data[start:start + 20],))



class _Subscriber(Protocol):
    """
    A Redis connection in subscribe mode: it subscribes to some channels
    and hands each message to its owner.  Small enough to write here, so
    that it reads bytes and behaves alike on both interpreters.
    """
    _log = Logger()

    def __init__(self, owner, channels, password=None):
        self._owner = owner
        self._channels = channels
        self._password = password
        self._buffer = b""
        self._confirmed = set()
        self.dropped = False


    def connectionMade(self):
        commands = b""
        if self._password is not None:
            password = self._password
            if not isinstance(password, bytes):
                password = password.encode("utf-8")
            commands += _command(b"AUTH", password)
        commands += _command(b"SUBSCRIBE", *self._channels)
        self.transport.write(commands)


    def dataReceived(self, data):
        if self.dropped:
            return
        self._buffer += data
        position = 0
        try:
            while position < len(self._buffer):
                reply, position = _parseReply(self._buffer, position)
                if reply is _INCOMPLETE:
                    break
                self._replyReceived(reply)
                if self.dropped:
                    return
        except (ValueError, IndexError):
            self._log.failure(u"Redis sent what is not a reply; dropping the "
                              u"subscription")
            self.drop()
            return
        self._buffer = self._buffer[position:]


    def _replyReceived(self, reply):
        if isinstance(reply, tuple):
            if reply[0] == b"-":
                self._log.error(u"Redis refused the subscription: {error}",
                                error=reply[1].decode("utf-8", "replace"))
                self.drop()
            return
        if isinstance(reply, list) and len(reply) == 3:
            kind = reply[0]
            if kind == b"message":
                self._owner.messageReceived(reply[1], reply[2])
            elif kind == b"subscribe":
                self._confirmed.add(reply[1])
                if len(self._confirmed) == len(self._channels):
                    self._owner.subscribed(self)


    def drop(self):
        if not self.dropped:
            self.dropped = True
            self.transport.abortConnection()


    def connectionLost(self, reason):
        self.dropped = True
        self._owner.subscriptionLost(self, reason)



class _SubscriberFactory(Factory):
    noisy = False

    def __init__(self, build):
        self._build = build


    def buildProtocol(self, addr):
        return self._build()



class RedisCoherence(object):
    """
    Keep a near tier coherent with a L{RedisStore}: subscribe to its events
    and to a heartbeat channel, publish heartbeats.

    @ivar interval: Seconds between heartbeats.
    """
    _log = Logger()

    def __init__(self, near, shared, bound):
        self._near = near
        self._shared = shared
        self.bound = bound
        self.interval = bound / 5
        self._events = eventChannel(shared.namespace)
        self._beats = shared.namespace + b"beat:" + shared.writerId
        self._subscriber = None
        self._connecting = None
        self._stopped = False
        self._retry = None
        self._delay = 0.05
        self._sequence = 0
        self._sent = {}
        self._loop = None
        self.subscriptions = 0


    @property
    def _reactor(self):
        return self._near.reactor


    def start(self):
        self._loop = task.LoopingCall(self._beat)
        self._loop.clock = self._reactor
        self._loop.start(self.interval, now=False)
        self._connect()


    def stop(self):
        self._stopped = True
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self._retry is not None and self._retry.active():
            self._retry.cancel()
        if self._connecting is not None:
            self._connecting.cancel()
        if self._subscriber is not None:
            self._subscriber.drop()


    def _endpoint(self):
        from nevowcache._stores.connection import clientEndpoint
        shared = self._shared
        where = getattr(shared, "subscriberAddress", None)
        host, port = where() if where is not None else (shared.host, shared.port)
        return clientEndpoint(self._reactor, host, port, shared.timeout or 30)


    def _connect(self):
        self._retry = None
        if self._stopped:
            return
        channels = [self._events, self._beats]
        password = getattr(self._shared, "password", None)
        factory = _SubscriberFactory(lambda: _Subscriber(self, channels, password))
        d = self._connecting = self._endpoint().connect(factory)

        def made(protocol):
            self._connecting = None
            self._subscriber = protocol

        def failed(failure):
            self._connecting = None
            if not self._stopped:
                self._log.info(u"Could not subscribe to {store}'s events: "
                               u"{error}; near entries are not served",
                               store=self._shared.name,
                               error=failure.getErrorMessage())
                self._again()
        d.addCallbacks(made, failed)


    def _again(self):
        if self._stopped or self._retry is not None:
            return
        self._retry = self._reactor.callLater(self._delay, self._connect)
        self._delay = min(self._delay * 2, max(1.0, self.bound))


    def subscribed(self, protocol):
        """
        The subscription is in place: events published from now on reach
        this process.  What came before is unknown: the near tier starts
        empty, and trusts once a heartbeat sent from now on comes back.
        """
        self.subscriptions += 1
        self._delay = 0.05
        self._sent.clear()
        self._near._forgetAll()
        self._beat()


    def subscriptionLost(self, protocol, reason):
        if protocol is self._subscriber:
            self._subscriber = None
        self._sent.clear()
        self._near._distrust()
        if not self._stopped:
            self._log.info(u"Lost the subscription to {store}'s events: {error}; "
                           u"near entries are not served until it is back",
                           store=self._shared.name, error=reason.getErrorMessage())
            self._again()


    def messageReceived(self, channel, message):
        if channel == self._events:
            name, writer = parseEvent(message)
            self._near._event(name, writer)
        elif channel == self._beats:
            sent = self._sent.pop(message, None)
            if sent is not None:
                self._near._trustUntil(sent + self.bound)


    def _beat(self):
        """
        Publish a heartbeat on this process's channel.
        """
        if self._subscriber is None:
            return
        self._sequence += 1
        number = b"%d" % (self._sequence,)
        self._sent[number] = self._near.clock.seconds()
        if len(self._sent) > 64:
            del self._sent[min(self._sent, key=int)]
        d = self._shared._call(
            lambda protocol: protocol.execute_command(b"PUBLISH", self._beats, number))
        d.addErrback(lambda failure: None)



class _Ring(object):
    """
    What a near tier knows of one memcached server's ring of events.

    @ivar server: The server (the store's C{_Server}).
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
