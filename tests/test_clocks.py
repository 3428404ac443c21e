# -*- test-case-name: tests.test_clocks -*-
"""
Tests for L{nevowcache._clocks}: the real clocks.
"""

from __future__ import absolute_import, division

import time

from twisted.trial.unittest import SynchronousTestCase

from nevowcache import _clocks



class MonotonicClockTests(SynchronousTestCase):
    """
    The default clock that ages entries.
    """

    def test_followsRealTimeNotTheTimeOfDay(self):
        """
        It advances with real time, and setting the time of day back an hour
        does not move it.
        """
        for clock in (_clocks.monotonicClock(), _clocks._SecondsClock(_clocks._linuxMonotonic())):
            before = clock.seconds()
            self.patch(time, "time", lambda: 0.0)
            time.sleep(0.01)
            after = clock.seconds()
            self.assertTrue(0.005 < after - before < 5, (before, after))
