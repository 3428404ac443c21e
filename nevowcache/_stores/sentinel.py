# -*- test-case-name: tests.test_sentinel,tests.test_sharedwire -*-
"""
Redis Sentinel for a L{RedisStore} (C{RedisStore(sentinels=[...],
masterName="...")}): the store asks the sentinels for the primary's
address before each connection it makes, with C{txredisapi}'s C{Sentinel}
(the same on 1.4.7 for Python 2.7 and on 1.6.0:
C{Sentinel(addresses).discover_master(name)}; its connection factories
differ between the two, and are not used: the store's own connection,
deadline and breaker are), and checks with C{ROLE} that the server it
reached is a primary.
"""

from __future__ import absolute_import, division

from twisted.internet import defer
from twisted.internet.interfaces import IStreamClientEndpoint
from zope.interface import implementer

from nevowcache._stores.connection import clientEndpoint

__all__ = ["SentinelEndpoint"]



@implementer(IStreamClientEndpoint)
class SentinelEndpoint(object):
    """
    Connect to the primary the sentinels name, asking them before every
    connection.

    @ivar primary: C{(host, port)} of the primary last connected to, or
        L{None}.
    """

    def __init__(self, store):
        self._store = store
        self._sentinel = None
        self.primary = None


    def _discovery(self):
        if self._sentinel is None:
            import txredisapi
            store = self._store
            self._sentinel = txredisapi.Sentinel(
                store.sentinels, password=store.sentinelPassword,
                connectTimeout=store.timeout, replyTimeout=store.timeout)
            # Within a call's deadline (txredisapi's default is 10 s).
            self._sentinel.discovery_timeout = store.timeout or 10
        return self._sentinel


    def connect(self, protocolFactory):
        store = self._store
        d = self._discovery().discover_master(store.masterName)

        def found(address):
            host, port = address
            self.primary = (host, port)
            return clientEndpoint(store.reactor, host, port,
                                  store.timeout or 30).connect(protocolFactory)
        return d.addCallback(found)


    def close(self):
        """
        Close the connections to the sentinels.
        """
        if self._sentinel is None:
            return defer.succeed(None)
        sentinel, self._sentinel = self._sentinel, None
        return sentinel.disconnect().addCallback(lambda ignored: None)
