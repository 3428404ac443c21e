# -*- test-case-name: tests.test_pool -*-
"""
Consistent hashing of names onto servers, placed as libmemcached places
keys with ketama (C{MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED} with MD5 hashing,
which is libketama's scheme, as pylibmc's C{ketama_weighted} and most
clients' "ketama-compatible" modes use):

    - each server gets C{floor(weight / totalWeight * 40 * servers) * 4}
      points on a circle of 2**32 (160 for every server when the weights
      are equal): for C{i} from 0, the MD5 digest of C{"host:port-i"}
      (C{"host-i"} when the port is memcached's default, 11211, as
      libmemcached writes it) gives four points, its four little-endian
      32-bit words;
    - a name's point is the first little-endian 32-bit word of its MD5
      digest; it belongs to the server of the first point at or after it,
      round the circle.

A server that is down keeps its points: its share of the names is not
handed to the others (see L{nevowcache._stores.memcachedstore} for why).
"""

from __future__ import absolute_import, division

import bisect
import hashlib
import math
import struct

__all__ = ["Continuum"]

# libmemcached's MEMCACHED_POINTS_PER_SERVER_KETAMA, and the points one
# digest gives.
POINTS_PER_SERVER = 160
POINTS_PER_HASH = 4

DEFAULT_PORT = 11211

_FOUR_WORDS = struct.Struct("<4I")
_ONE_WORD = struct.Struct("<I")
_FLOAT = struct.Struct("<f")



def _single(value):
    """
    C{value} rounded to a C{float} (single precision), as libmemcached
    computes a server's share.
    """
    return _FLOAT.unpack(_FLOAT.pack(value))[0]



def pointName(host, port, index):
    """
    @return: The name whose digest gives a server's points number C{4 *
        index} to C{4 * index + 3}, L{bytes}.
    """
    if isinstance(host, bytes):
        host = host.decode("ascii")
    if port == DEFAULT_PORT:
        name = u"%s-%d" % (host, index)
    else:
        name = u"%s:%d-%d" % (host, port, index)
    return name.encode("utf-8")



def pointsOf(weight, totalWeight, servers):
    """
    @return: How many points a server of C{weight} gets.
    """
    share = _single(_single(weight) / _single(totalWeight))
    hashes = _single(_single(_single(share * POINTS_PER_SERVER) / POINTS_PER_HASH)
                     * servers)
    return int(math.floor(hashes + 0.0000000001)) * POINTS_PER_HASH



class Continuum(object):
    """
    The circle of a list of servers.
    """

    def __init__(self, servers):
        """
        @param servers: C{(host, port, weight)} of each server, in order;
            the indexes L{find} returns are into this list.
        @raise ValueError: Without servers, or with a weight below 1.
        """
        if not servers:
            raise ValueError("no servers")
        total = 0
        for host, port, weight in servers:
            if weight < 1 or int(weight) != weight:
                raise ValueError("a server's weight is a whole number, 1 or more: %r"
                                 % (weight,))
            total += weight
        points = []
        for index, (host, port, weight) in enumerate(servers):
            for i in range(pointsOf(weight, total, len(servers)) // POINTS_PER_HASH):
                digest = hashlib.md5(pointName(host, port, i)).digest()
                for value in _FOUR_WORDS.unpack(digest):
                    points.append((value, index))
        points.sort()
        self._values = [value for value, _ in points]
        self._servers = [index for _, index in points]


    def find(self, name):
        """
        @param name: L{bytes}.
        @return: The index of the server C{name} belongs to.
        """
        (value,) = _ONE_WORD.unpack(hashlib.md5(name).digest()[:4])
        i = bisect.bisect_left(self._values, value)
        if i == len(self._values):
            i = 0
        return self._servers[i]
