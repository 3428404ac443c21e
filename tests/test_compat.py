"""
Tests for L{nevowcache._compat}.
"""

from __future__ import absolute_import, division

import time

from twisted.trial.unittest import SynchronousTestCase

from nevowcache import _compat


class MonotonicClockTests(SynchronousTestCase):
    """
    The default clock that ages entries.
    """

    def test_followsRealTimeNotTheTimeOfDay(self):
        """
        It advances with real time, and setting the time of day back an hour
        does not move it.
        """
        for clock in (_compat.monotonicClock(), _compat._SecondsClock(_compat._linuxMonotonic())):
            before = clock.seconds()
            self.patch(time, "time", lambda: 0.0)
            time.sleep(0.01)
            after = clock.seconds()
            self.assertTrue(0.005 < after - before < 5, (before, after))
