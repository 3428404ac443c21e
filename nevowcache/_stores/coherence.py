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

This module holds what writers and near tiers share: the events, their
names and the ring's slots.  L{nevowcache._stores.rediscoherence} and
L{nevowcache._stores.memcachedcoherence} keep a near tier coherent.
"""

from __future__ import absolute_import, division


__all__ = ["RING", "generationSeed", "eventChannel", "eventMessage", "parseEvent",
           "counterName", "slotName", "slotValue", "parseSlot"]

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
