"""
What the two demo sites share.
"""

from __future__ import absolute_import, division

import time

STYLE = ("body{font-family:sans-serif;max-width:46em;margin:2em auto}"
         "code{background:#eee;padding:0 .3em}")


def burn(seconds):
    """
    Spend C{seconds} of CPU, as a slow template would.
    """
    end = time.time() + seconds
    n = 0
    while time.time() < end:
        n += 1
    return n
