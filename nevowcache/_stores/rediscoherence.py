# -*- test-case-name: tests.test_near -*-
"""
Keep a near tier coherent with a L{RedisStore}: the events its writers
publish, heard on a subscription of the near tier's own, and the
heartbeats that tell how long it may trust what it holds
(L{nevowcache._stores.coherence}).
"""

from __future__ import absolute_import, division

from twisted.internet import task
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger

from nevowcache._stores.coherence import eventChannel, parseEvent

__all__ = ["RedisCoherence"]



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
