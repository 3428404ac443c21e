# -*- test-case-name: tests.test_stores,tests.test_sharedwire -*-
"""
The names a shared store (L{nevowcache._stores.sharedstore}) uses in its
servers, under a namespace prefix (C{ns}):

    - C{ns e:<digest>}: an entry, as L{nevowcache._stores.wire} encodes it, where
      C{<digest>} is L{CacheKey.digest}: every byte of the key is in the
      name, hashed, and in the value, checked on read.
    - C{ns u:<tag>}: the generation record of one URL identity, where
      C{<tag>} is the SHA-256 of its injective encoding
      (L{nevowcache._stores.generations.urlTag});
      C{"<generation> <floor> <tag>"}.
    - C{ns s:<tag>}: the generation record of one scope (a path prefix, a
      page tag: L{nevowcache._http.scopes.prefixScopes}, L{nevowcache._http.scopes.tagScope}),
      where C{<tag>} is the SHA-256 of its injective encoding;
      C{"<generation> <floor> <tag>"}.  Entries stamp the generations of
      the scope records that exist when their render starts, by tag.
    - C{ns c}: the generation record of L{SharedStore.clear}:
      C{"<generation> <floor> *"}.
    - C{ns g}: the counter generations are drawn from; seeded from the wall
      clock in milliseconds when missing.  A record's new generation is
      always above its own (the counter is raised to it when it is
      behind): a counter lost on its own and seeded again from a clock it
      had run ahead of never hands out a generation a surviving record's
      entries were stamped with.
    - C{ns l:<digest>}: the lease of one key.

Every change is announced to near tiers (L{nevowcache._stores.coherence}): in
Redis on the channel C{ns events}; in memcached in the ring C{ns n:<i>}
numbered by the counter C{ns n}.
"""

from __future__ import absolute_import, division

from nevowcache._stores.coherence import eventMessage

__all__ = ["ServerNames"]



class ServerNames(object):
    """
    The names of a shared store, for L{SharedStore} to inherit: each under
    its C{namespace} (L{bytes}); the events it announces name its
    C{writerId}.
    """

    def _entryName(self, key):
        return self.namespace + b"e:" + key.digest()


    def _leaseName(self, key):
        return self.namespace + b"l:" + key.digest()


    def _urlName(self, tag):
        return self.namespace + b"u:" + tag


    def _scopeName(self, tag):
        return self.namespace + b"s:" + tag


    @property
    def _clearName(self):
        return self.namespace + b"c"


    @property
    def _counterName(self):
        return self.namespace + b"g"


    def _eventOf(self, name):
        """
        @return: The event announcing a change of C{name}
            (L{nevowcache._stores.coherence}).
        """
        return eventMessage(self.namespace, name, self.writerId)
