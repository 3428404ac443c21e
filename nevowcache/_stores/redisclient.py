# -*- test-case-name: tests.test_sharedwire,tests.test_stores -*-
"""
A L{RedisStore}'s connection to Redis: C{txredisapi}'s protocol (imported
only when a L{RedisStore} is made: C{pip install nevowcache[redis]}),
reading replies with L{nevowcache._stores.resp.ReplyReader}.
"""

from __future__ import absolute_import, division

from twisted.internet.error import ConnectionAborted
from twisted.logger import Logger

from nevowcache._stores.connection import ProtocolFactory
from nevowcache._stores.resp import QUEUED, ReplyReader

__all__ = ["RedisFactory", "answer", "redisClient"]



class RedisFactory(ProtocolFactory):
    """
    What C{txredisapi}'s protocol expects of its factory when C{AUTH} or
    C{SELECT} fails: it then gives up on the connection.
    """
    _log = Logger()
    continueTrying = False
    isLazy = True

    def stopTrying(self):
        pass


    def connectionError(self, message):
        self._log.error(u"{message}", message=message)



# The protocol class, once defined (redisClient).
_clientClass = None



def redisClient():
    """
    Define the protocol class on first use, so that importing nevowcache
    does not import txredisapi (which imports the global reactor).
    """
    global _clientClass
    if _clientClass is not None:
        return _clientClass
    try:
        import txredisapi
    except ImportError as e:
        raise ImportError("RedisStore needs txredisapi (pip install "
                          "nevowcache[redis]; txredisapi<=1.4.7 on Python 2.7): %s"
                          % (e,))

    class _RedisClient(txredisapi.BaseRedisProtocol):
        """
        C{txredisapi}'s protocol, answering in L{bytes}, scheduling on a
        given reactor, and, once dropped, reading nothing more.

        @ivar ready: Fires with the protocol once it can take commands.
        """
        _log = Logger()
        dropped = False
        onConnectionLost = None
        closed = None

        def __init__(self, reactor, password=None, dbid=None):
            txredisapi.BaseRedisProtocol.__init__(
                self, charset=None, password=password, dbid=dbid,
                convertNumbers=False)
            self.callLater = reactor.callLater
            self.ready = None
            self._reader = ReplyReader(self.MAX_LENGTH, txredisapi.ResponseError)


        def connectionMade(self):
            # Ask before connectionMade runs: it fires its waiters at once
            # when there is no AUTH or SELECT to send.
            self.ready = self.whenConnected()
            return txredisapi.BaseRedisProtocol.connectionMade(self)


        def dataReceived(self, data, unpause=False):
            """
            Read replies with L{ReplyReader}: every complete reply is
            delivered now, in order, however many a read holds (the
            line-and-raw parser of C{BaseRedisProtocol} waits for another
            reactor turn, its transport paused, after every bulk value).
            """
            if self.dropped:
                return
            try:
                for reply in self._reader.feed(data):
                    if self.dropped:
                        return
                    if reply is QUEUED:
                        # As txredisapi's own readers do.
                        self.transactions += 1
                        reply = "QUEUED"
                    elif type(reply) is list:
                        reply = self.handleTransactionData(reply)
                    self.replyReceived(reply)
            except Exception:
                self._log.failure(u"Redis answered what was not asked; "
                                  u"dropping the connection")
                self.drop()


        def replyReceived(self, reply):
            if not self.replyQueue.waiting:
                # Nothing asked for it: it may be the answer to a command
                # this connection gave up on, and would answer the next.
                self._log.warn(u"Redis answered what was not asked; "
                               u"dropping the connection")
                self.drop()
                return
            txredisapi.BaseRedisProtocol.replyReceived(self, reply)
            if (isinstance(reply, txredisapi.ResponseError)
                    and str(reply).startswith("READONLY")):
                # A primary demoted to a replica (a failover): the next
                # call connects to whichever is the primary now.
                self._log.warn(u"Redis is a replica now; dropping the connection")
                self.drop()


        def drop(self, reason=None):
            """
            Stop reading, fail every command waiting for an answer, and
            abort the connection.
            """
            if self.dropped:
                return
            self.dropped = True
            reason = reason or ConnectionAborted("connection dropped")
            while self.replyQueue.waiting:
                self.replyQueue.put(reason)
            self.transport.abortConnection()


        def connectionLost(self, reason):
            # Tell the owner first: failing the commands runs their
            # callbacks, which may issue the next ones.
            if self.onConnectionLost is not None:
                self.onConnectionLost(self, reason)
            txredisapi.BaseRedisProtocol.connectionLost(self, reason)
            if self.ready is not None and not self.ready.called:
                self.ready.errback(reason)

    _clientClass = _RedisClient
    return _clientClass



def answer(value):
    """
    Raise a Redis error reply; return anything else.
    """
    if isinstance(value, Exception):
        raise value
    return value
