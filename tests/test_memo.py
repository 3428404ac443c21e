# -*- test-case-name: tests.test_memo -*-
"""
Tests for L{nevowcache._engine.memo}: the bounded memo.
"""

from __future__ import absolute_import, division

from twisted.trial.unittest import SynchronousTestCase

from nevowcache._engine import memo as _memo



class RememberTests(SynchronousTestCase):
    """
    L{_memo.remember}, the bounded memo of the hit path.
    """

    def test_keepsThenForgetsAll(self):
        """
        A value is kept and returned; once the table holds C{most}, it is
        emptied before the next is kept.
        """
        table = {}
        self.assertEqual(_memo.remember(table, 1, "a", 2), "a")
        _memo.remember(table, 2, "b", 2)
        self.assertEqual(table, {1: "a", 2: "b"})
        self.assertEqual(_memo.remember(table, 3, "c", 2), "c")
        self.assertEqual(table, {3: "c"})
