# -*- test-case-name: tests.test_stores,tests.test_leases -*-
"""
L{SharedLeases}: the leases of a shared store (L{ILeaseStore}), one name
per key in the server holding its URL's names, taken with a token only
its holder has.
"""

from __future__ import absolute_import, division

import binascii
import os

from zope.interface import implementer

from nevowcache._stores.generations import urlTag
from nevowcache._stores.interfaces import ILeaseStore

__all__ = ["SharedLeases", "newToken"]



def newToken():
    """
    @return: A lease token no other holder has, L{bytes}.
    """
    return binascii.hexlify(os.urandom(16))



@implementer(ILeaseStore)
class SharedLeases(object):
    """
    L{ILeaseStore} for L{SharedStore} to inherit, over its primitives
    C{_addLease} and C{_removeLease}; counted in its C{leasesTaken} and
    C{leasesBusy}.
    """

    def acquireLease(self, key, ttl):
        token = newToken()
        d = self._callOn(self._serverFor(urlTag(key.url)), self._addLease,
                         self._leaseName(key), token, ttl)

        def added(ok):
            self._counts["leasesTaken" if ok else "leasesBusy"] += 1
            return token if ok else None
        return d.addCallback(added)


    def releaseLease(self, key, token):
        return self._callOn(self._serverFor(urlTag(key.url)), self._removeLease,
                            self._leaseName(key), token)
