# -*- test-case-name: tests.test_freshhits -*-
"""
The fresh hits answered lately (L{FreshHits}), so that a hit on an entry
answered in the same whole second of its age, under the same store state
and policy, is answered as that one was, without judging the entry and
writing its C{Cache-Status} anew (Python 2.7 and 3).

A fresh hit's L{Answer} is a function of: the entry; the verdict of the
store's L{Generation} read with it (a pure function of the generation and
the entry's stamp: the same generation object gives the same verdict); the
policy (its C{timeout}, for freshness and C{ttl}, and its C{cacheControl});
the entry's age in whole seconds (C{Age}, C{ttl}); and the cache's wall
clock (C{Date}).  An answer is found again only for the same entry, the
same generation object (any invalidation a store records gives another)
and the same policy object, while the entry is still fresh by the judge's
own comparison (L{FreshnessJudge.freshFor}) and in the same second of its
age.  Anything else is judged the long way.

Bounded: forgotten all at once when full (L{remember}); entries are held
weakly (and so not the answers, which hold them).
"""

from __future__ import absolute_import, division

from weakref import ref

from nevowcache._engine.answer import Answer
from nevowcache._engine.memo import remember

__all__ = ["FreshHits"]



class FreshHits(object):
    """
    The last fresh hit on each entry answered lately, by the entry's id.

    @ivar most: How many are kept before all are forgotten.
    """

    def __init__(self, clock, most=512):
        """
        @param clock: What C{seconds()} ages entries (the judge's clock).
        """
        self._clock = clock
        self._hits = {}
        self.most = most


    def known(self, entry, generation, policy):
        """
        @return: C{(answer, now)}: an L{Answer} with the C{Cache-Status} and
            C{Cache-Control} of the last fresh hit on C{entry}, if they are
            this hit's too, and the clock's time; or L{None}.
        """
        hit = self._hits.get(id(entry))
        if (hit is None or hit[0]() is not entry or hit[1] is not generation
                or hit[2] is not policy):
            return None
        now = self._clock.seconds()
        age = now - entry.created
        if age < 0:
            age = 0
        if age < hit[3] and int(age) == hit[4]:
            return Answer(entry, None, hit[5], age, hit[6], hit[7]), now
        return None


    def learn(self, entry, generation, policy, freshFor, age, answer):
        """
        Remember the L{Answer} of a fresh hit on C{entry}.

        @param freshFor: The age (seconds) below which C{entry} stays fresh
            under C{policy} (L{FreshnessJudge.freshFor}).
        @param age: Its age now, as the judge gave it.
        """
        # Not the answer itself, which holds the entry.
        remember(self._hits, id(entry), (
            ref(entry), generation, policy, freshFor, int(age), answer.status,
            answer.cacheControl, answer.wallClock), self.most)
