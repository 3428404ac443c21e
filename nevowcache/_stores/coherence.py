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

      A counter lost (a server restarted, the counter evicted) is created
      again by the first process that needs it, with C{add}, from the
      store's time of day in milliseconds (L{generationSeed}).  A counter
      that ran ahead of that clock (more than one event a millisecond, or
      a writer whose clock is behind) can be created again at or below the
      number a near tier read last, and climb back to it before the next
      read: its numbers alone would hide the loss.  So the counter carries
      an I{epoch}: a random number (L{counterEpoch}) drawn when it is
      created, kept as the item's flags, which memcached keeps through
      C{incr} and returns with the value in the same C{get}; C{add}
      creates the counter and its epoch at once, so two processes racing
      to create it agree.  A near tier trusts a run of reads only while
      the epoch is the same; a new epoch, or a counter without one (flags
      0: created by an older nevowcache), is "what changed is unknown": it
      forgets that server's share.  A counter without an epoch is given
      one, with C{cas} (only if it did not change meanwhile).

Either way a near entry is served only while trusted: when the channel
breaks, the near tier answers misses after at most C{bound} seconds, and
the shared store answers instead.

This module holds what writers and near tiers share: the events, their
names and the ring's slots.  L{nevowcache._stores.rediscoherence} and
L{nevowcache._stores.memcachedcoherence} keep a near tier coherent.
"""

from __future__ import absolute_import, division

import random


__all__ = ["RING", "generationSeed", "counterEpoch", "eventChannel", "eventMessage",
           "parseEvent", "counterName", "slotName", "slotValue", "parseSlot"]

# Slots in memcached's ring of events.
RING = 1024



def generationSeed(wallClock):
    """
    @param wallClock: What C{seconds()} is the time of day (a store's
        C{wallClock}).
    @return: What a lost counter restarts from (a shared store's generation
        counter, memcached's event counter): milliseconds since the epoch,
        usually above any number handed out before; not always (a counter
        can run ahead of the clock: more than one number a millisecond, or
        a writer whose clock is behind), so neither counter relies on it
        alone: memcached's event counter carries an epoch
        (L{counterEpoch}), and a record's new generation is always drawn
        above its own.
    """
    return int(wallClock.seconds() * 1000)



def counterEpoch():
    """
    @return: A new epoch for memcached's event counter (kept as its flags):
        a random number from 1 to 2 ** 32 - 1 (0 is a counter without an
        epoch).
    """
    while True:
        epoch = _random.getrandbits(32)
        if epoch:
            return epoch

_random = random.SystemRandom()



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
