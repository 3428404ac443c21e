# -*- test-case-name: tests.test_near -*-
"""
Read-your-writes across processes: the client of a successful unsafe
request is marked with a short-lived cookie, and while marked its requests
are rendered anew, whichever process answers them, instead of answered from
a near tier that may not have heard of the write yet
(L{nevowcache.INearStore}).
"""

from __future__ import absolute_import, division

import math
import re

__all__ = ["COOKIE", "markWriter", "markedWriter"]

COOKIE = b"nevowcache-wrote"

_VALUE = re.compile(br"(?:^|[;,]\s*)" + re.escape(COOKIE) + br"=([0-9]{1,16})(?:$|[;,\s])")

# Seconds a mark outlasts the bound: the write's invalidation is sent once
# its response is written, and reaches the shared store a round trip later.
_MARGIN = 1.0



def markWriter(request, bound, now):
    """
    Mark the client of an unsafe request for C{bound} seconds and a
    little more: the cookie holds when the mark ends (milliseconds since
    the epoch), so that a process reading it does not depend on the
    client dropping it in time.  Once per request.

    @param bound: The near tier's bound, seconds.
    @param now: The time of day, seconds since the epoch.
    """
    if getattr(request, "_nevowcacheMarked", False):
        return
    request._nevowcacheMarked = True
    lasts = bound + _MARGIN
    until = int((now + lasts) * 1000)
    request.addCookie(COOKIE, b"%d" % (until,), path=b"/",
                      max_age=b"%d" % (int(math.ceil(lasts)),), httpOnly=True)



def markedWriter(request, now):
    """
    Whether a request comes from a client marked by L{markWriter} whose
    mark has not ended.

    @param now: The time of day, seconds since the epoch.
    """
    cookies = request.requestHeaders.getRawHeaders(b"cookie")
    if not cookies:
        return False
    for header in cookies:
        if COOKIE in header:
            match = _VALUE.search(header)
            if match is not None and int(match.group(1)) > now * 1000:
                return True
    return False
