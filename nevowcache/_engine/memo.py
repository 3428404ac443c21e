# -*- test-case-name: tests.test_memo -*-
"""
L{remember}: the bounded memo the hit path keeps what it has worked out in
(header spellings, page names, key parts).
"""

from __future__ import absolute_import, division



def remember(table, key, value, most):
    """
    Keep C{value} under C{key} in C{table}, a memo of what is cheaper to
    look up than to work out again: forgotten all at once when it holds
    C{most} (what is seen lately is learnt again).

    @return: C{value}.
    """
    if len(table) >= most:
        table.clear()
    table[key] = value
    return value
