# -*- test-case-name: tests.test_key -*-
"""
The few Python 2/3 differences nevowcache cares about: the names of the
text and integer types, an integer's digits as L{bytes}, and the plain
function behind a class's method.

Everything lives here, not in C{twisted.python.compat}, whose helpers
current Twisted deprecates (C{intToBytes} warns on every call).
"""

from __future__ import absolute_import, division

import sys

PY2 = sys.version_info[0] == 2

if PY2:
    textType = unicode  # noqa: F821
    integerTypes = (int, long)  # noqa: F821
else:
    textType = str
    integerTypes = (int,)



def intToBytes(number):
    """
    @return: The decimal digits of an integer, as L{bytes}.
    """
    return b"%d" % (number,)



def functionOf(cls, name):
    """
    @return: The plain function C{cls} has under C{name} (on Python 2 a
        class gives an unbound method), or L{None} if it has none.
    """
    value = getattr(cls, name, None)
    return getattr(value, "__func__", value)
