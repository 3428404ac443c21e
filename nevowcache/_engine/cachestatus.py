# -*- test-case-name: tests.test_http,tests.test_behaviour -*-
"""
The C{Cache-Status} values (RFC 9211) the engine sends: every one is built
here, from what happened, not concatenated where it happened.

A value is C{nevowcache} followed by parameters: C{hit} (and C{ttl}, the
seconds it stays fresh, negative once stale), C{fwd} (why the request went
to the page: C{uri-miss}, C{stale}; C{method} and C{bypass} from
L{PageCache.bypassed}), C{fwd-status},
C{collapsed} (answered by another request's render), C{stored}, and
C{detail} (a word on why, L{withDetail}).
"""

from __future__ import absolute_import, division

import re

from nevowcache._compat import intToBytes
from nevowcache._engine.memo import remember

__all__ = ["withDetail", "hit", "staleHit", "forwarded", "collapsed", "stored",
           "withForwardStatus"]

# An RFC 8941 token: what a Cache-Status detail may be written as bare.
_TOKEN = re.compile(br"\A[A-Za-z*][A-Za-z0-9!#$%&'*+.^_`|~:/-]*\Z")

# Values of fresh hits, by their ttl.
_HIT_STATUS = {}

_HIT = b"nevowcache; hit"



def withDetail(status, reason):
    """
    Add a C{detail} parameter to a C{Cache-Status} value (RFC 9211
    section 2.8): a token if the reason is one, else a quoted string.

    @param status: The value so far, L{bytes}.
    @param reason: The detail, L{bytes}.
    @rtype: L{bytes}
    """
    if _TOKEN.match(reason) is None:
        reason = b'"' + b"".join(
            b"\\" + c if c in (b'"', b"\\") else (c if 0x20 <= ord(c) < 0x7f else b"?")
            for c in (reason[i:i + 1] for i in range(len(reason)))) + b'"'
    return status + b"; detail=" + reason



def hit(timeout, age):
    """
    A fresh hit: with the whole seconds it stays fresh (C{ttl}, so that
    C{Age} + C{ttl} is the timeout), unless fresh until invalidated.

    @param timeout: The policy's C{timeout}.
    @param age: Seconds since the entry was rendered.
    """
    if not timeout:
        return _HIT
    ttl = int(timeout - int(age))
    status = _HIT_STATUS.get(ttl)
    if status is None:
        status = remember(_HIT_STATUS, ttl, _HIT + b"; ttl=" + intToBytes(ttl), 4096)
    return status



def staleHit(timeout, age, invalidated):
    """
    A stale hit (served while a refresh runs): C{ttl} is minus the whole
    seconds it has been stale, at least one.

    @param invalidated: Whether it is stale because invalidated (softly).
    """
    staleFor = int(age - timeout) if timeout and age > timeout else 0
    status = _HIT + b"; ttl=-" + intToBytes(max(1, staleFor))
    if invalidated:
        status = withDetail(status, b"invalidated")
    return status



def forwarded(missKind):
    """
    A request that went to the page.

    @param missKind: Why: C{b"uri-miss"} (nothing stored), C{b"stale"}
        (stored, but too old to serve).
    """
    return b"nevowcache; fwd=" + missKind



def collapsed(status):
    """
    A miss answered by another request's render (here, or in another
    process sharing the store).

    @param status: The miss's value (L{forwarded}).
    """
    return status + b"; collapsed"



def stored(status, timeout):
    """
    A response just stored: with the seconds it stays fresh (C{ttl}),
    unless it is fresh until invalidated.

    @param status: The miss's value (L{forwarded}).
    @param timeout: The policy's C{timeout}.
    """
    if timeout:
        status += b"; ttl=" + intToBytes(int(timeout))
    return status + b"; stored"



def withForwardStatus(status, code):
    """
    Add what the page answered (RFC 9211 section 2.3), unless a C{200}.
    """
    if code != 200:
        status += b"; fwd-status=" + intToBytes(code)
    return status

