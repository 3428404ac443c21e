# -*- test-case-name: tests.test_stats -*-
"""
The last background refreshes that failed, for the operator: which URL,
which page class, what error, when.
"""

from __future__ import absolute_import, division

from collections import deque

from nevowcache._operations.describe import describeUrl, pageNameOf, shortened

__all__ = ["RefreshFailures"]



class RefreshFailures(object):
    """
    The last C{maxFailures} refresh failures, newest first: iterating gives
    a L{dict} for each, with C{url} and C{page} (text, L{describeUrl} and
    L{pageNameOf} of its key), C{error} (text, at most 300 characters) and
    C{at} (the time of day).
    """

    def __init__(self, maxFailures, now):
        """
        @param maxFailures: How many failures are remembered.
        @param now: Gives the time of day.
        """
        self._failures = deque(maxlen=maxFailures)
        self._now = now


    def add(self, key, failure):
        """
        A background refresh of C{key} failed with C{failure}.
        """
        error = shortened(u"%s: %s" % (failure.type.__name__,
                                       failure.getErrorMessage()))
        self._failures.appendleft({"url": describeUrl(getattr(key, "url", key)),
                                   "page": pageNameOf(key), "error": error,
                                   "at": self._now()})


    def __iter__(self):
        return iter(self._failures)
