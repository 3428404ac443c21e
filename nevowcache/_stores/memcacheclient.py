# -*- test-case-name: tests.test_stores,tests.test_sharedwire -*-
"""
The memcached client L{MemcachedStore} talks through: Twisted's own
(L{twisted.protocols.memcache}), reading the answers to multiple C{get}s
straight from the bytes, and dropped cleanly (nothing more read, every
command waiting failed) on a timeout or an answer that fits no command.
"""

from __future__ import absolute_import, division

from twisted.internet import defer
from twisted.internet.error import ConnectionAborted
from twisted.logger import Logger
from twisted.protocols.memcache import Command, MemCacheProtocol

__all__ = ["MemcacheClient", "valuesOf"]



class _Fetch(Command):
    """
    A C{get} of several names (L{MemcacheClient.fetch}): Twisted's
    multiple C{get}, which L{MemcacheClient} may read itself.

    @ivar fast: L{None} until its answer is read; then whether
        L{MemcacheClient} reads it (C{True}) or Twisted's parser does.
    """

    def __init__(self, names):
        Command.__init__(self, b"get", keys=frozenset(names), values={},
                         multiple=True)
        self.fast = None



class MemcacheClient(MemCacheProtocol):
    """
    L{MemCacheProtocol} that, once dropped (by its owner, on a timeout, or
    on an answer that fits no command), reads nothing more.

    @ivar dropped: Whether it was dropped.
    @ivar onConnectionLost: Called with C{(self, reason)} from
        C{connectionLost}.
    """
    _log = Logger()
    dropped = False
    onConnectionLost = None
    closed = None

    def __init__(self, timeOut, reactor):
        MemCacheProtocol.__init__(self, timeOut)
        self._reactor = reactor
        # What was read of the fetch being answered: its pieces, their
        # size, and how many bytes it needs at least before it can go on.
        self._pieces = []
        self._size = 0
        self._needed = 0


    def fetch(self, names):
        """
        C{get} C{names} (valid memcached keys: L{bytes} of at most 250
        printable characters).

        @return: A L{Deferred} firing with a L{dict} of the names found, to
            C{(flags, value)}.
        """
        if self._disconnected:
            return defer.fail(RuntimeError("not connected"))
        if not self._current:
            self.setTimeout(self.persistentTimeOut)
        self.transport.write(b"get " + b" ".join(names) + b"\r\n")
        command = _Fetch(names)
        self._current.append(command)
        return command._deferred


    def callLater(self, period, func):
        return self._reactor.callLater(period, func)


    def dataReceived(self, data):
        if self.dropped:
            return
        try:
            if self._pieces or (
                    self.line_mode and not self._buffer and self._current
                    and type(self._current[0]) is _Fetch
                    and self._current[0].fast is not False):
                data = self._fetchesReceived(data)
            if data and not self.dropped:
                MemCacheProtocol.dataReceived(self, data)
        except Exception:
            self._log.failure(u"memcached answered what was not asked; "
                              u"dropping the connection")
            self.drop()


    def _fetchesReceived(self, data):
        """
        Read the answers to the L{_Fetch}es at the head of the queue: its
        C{VALUE} blocks and C{END}, straight from the bytes, without
        Twisted's line and raw modes.

        @return: What follows them, for Twisted's parser.
        """
        self.resetTimeout()
        self._pieces.append(data)
        self._size += len(data)
        if self._size < self._needed:
            return b""
        pieces = self._pieces
        buffer = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        self._pieces = []
        self._size = self._needed = 0
        position = 0
        current = self._current
        while current and type(current[0]) is _Fetch and not self.dropped:
            command = current[0]
            lineEnd = buffer.find(b"\r\n", position)
            if lineEnd < 0:
                if len(buffer) - position > self.MAX_LENGTH:
                    raise ValueError("a line longer than %d bytes" % (self.MAX_LENGTH,))
                self._needed = len(buffer) - position + 1
                break
            if lineEnd == position + 3 and buffer.startswith(b"END", position):
                position = lineEnd + 2
                current.popleft()
                if not current:
                    self.setTimeout(None)
                command.success(command.values)
                continue
            if not buffer.startswith(b"VALUE ", position):
                if command.fast:
                    raise ValueError("not a value: %r" % (buffer[position:lineEnd][:100],))
                # An error line: Twisted's parser says which.
                break
            command.fast = True
            key, flags, size = buffer[position + 6:lineEnd].split(b" ")
            stop = lineEnd + 2 + int(size)
            if len(buffer) < stop + 2:
                self._needed = stop + 2 - position
                break
            if key not in command.keys or buffer[stop:stop + 2] != b"\r\n":
                raise ValueError("a value that was not asked for")
            command.values[key] = (int(flags), buffer[lineEnd + 2:stop])
            position = stop + 2
        rest = buffer[position:]
        if current and type(current[0]) is _Fetch and current[0].fast and rest:
            # The rest of its answer is still to come.
            self._pieces = [rest]
            self._size = len(rest)
            return b""
        if self._needed and rest:
            self._pieces = [rest]
            self._size = len(rest)
            return b""
        self._needed = 0
        return rest


    def cmd_VALUE(self, line):
        # Twisted's parser reads this fetch's answer.
        if type(self._current[0]) is _Fetch:
            self._current[0].fast = False
        return MemCacheProtocol.cmd_VALUE(self, line)


    def lineReceived(self, line):
        if not self.dropped:
            MemCacheProtocol.lineReceived(self, line)


    def rawDataReceived(self, data):
        if not self.dropped:
            MemCacheProtocol.rawDataReceived(self, data)


    def timeoutConnection(self):
        self.drop(defer.TimeoutError("memcached did not answer in %ss"
                                     % (self.persistentTimeOut,)))


    def drop(self, reason=None):
        """
        Stop reading, fail every command waiting for an answer, and abort
        the connection.
        """
        if self.dropped:
            return
        self.dropped = True
        self._disconnected = True
        self.setTimeout(None)
        self._cancelCommands(reason or ConnectionAborted("connection dropped"))
        self.transport.abortConnection()


    def connectionLost(self, reason):
        self.setTimeout(None)
        # Tell the owner first: failing the commands runs their callbacks,
        # which may issue the next ones.
        if self.onConnectionLost is not None:
            self.onConnectionLost(self, reason)
        MemCacheProtocol.connectionLost(self, reason)



def valuesOf(found, names):
    """
    @return: The value of each of C{names} in what a fetch found, or
        L{None}.
    """
    get = found.get
    return [get(name, _MISSING)[1] for name in names]

_MISSING = (0, None)
