# -*- test-case-name: tests.test_behaviour,tests.test_reliability -*-
"""
The freshness judge: whether an entry read from the store is a fresh hit,
a stale one to serve while it refreshes, or a miss.
"""

from __future__ import absolute_import, division

__all__ = ["FreshnessJudge", "FRESH", "STALE", "INVALIDATED", "EXPIRED", "GONE"]

# What FreshnessJudge.judge says of an entry.
FRESH = "fresh"              # a hit
STALE = "stale"              # past cacheTimeout, within cacheGrace
INVALIDATED = "invalidated"  # invalidated softly, within cacheGrace
EXPIRED = "expired"          # stale past cacheGrace: a miss, its entry replaced
GONE = "gone"                # invalidated hard: as if there were no entry



class FreshnessJudge(object):
    """
    Judge entries by the store's invalidation state (their verdict), their
    age on one clock, and their policy.

    @ivar clock: What C{seconds()} ages entries (the engine's clock).
    """
    __slots__ = ("clock",)

    def __init__(self, clock):
        self.clock = clock


    def judge(self, entry, generation, policy):
        """
        Whether an entry can be served now.

        @param generation: The L{Generation} read with it, or L{None}
            (unknown: the entry is valid).
        @return: C{(state, age, now)}: C{state} is L{FRESH}, L{STALE} or
            L{INVALIDATED} (served while one refresh runs), L{EXPIRED} or
            L{GONE}; C{age} is the seconds since it was rendered, for
            C{Age}; C{now} the clock's time (L{None} if L{GONE}).
        """
        if generation is None:
            verdict = "valid"
        else:
            verdict = generation.judge(entry.generation)
            if verdict == "gone":
                return GONE, 0, None
        now = self.clock.seconds()
        age = now - entry.created
        if age < 0:
            age = 0
        timeout = policy.timeout
        if verdict == "valid":
            if timeout == 0 or age < timeout:
                return FRESH, age, now
            state = STALE
        else:
            state = INVALIDATED
        grace = policy.grace
        if grace is None or age < timeout + grace:
            return state, age, now
        return EXPIRED, age, now


    def freshFor(self, policy):
        """
        The age below which an entry the store's state finds valid is
        L{FRESH} under C{policy}: what L{judge} compares its age with.

        @return: Seconds (infinite for a C{timeout} of C{0}: fresh until
            invalidated).
        """
        return policy.timeout or _FOREVER


    def fresh(self, key, entry, generation, policy):
        """
        Whether an entry read for C{key} (again: by a request queued behind
        another render, or waiting for another process's lease) is a fresh
        hit now.
        """
        if entry is None or entry.key != key:
            return False
        return self.judge(entry, generation, policy)[0] is FRESH


    def age(self, entry):
        """
        @return: Seconds since C{entry} was rendered, for C{Age}.
        """
        return max(0, self.clock.seconds() - entry.created)



# An age no entry reaches.
_FOREVER = float("inf")
