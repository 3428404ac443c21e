# -*- test-case-name: tests.test_key,tests.test_security -*-
"""
The C{Host} header as keys hold it (L{hostKey}: lower-cased, without the
port) and whether it is plain enough to key on (L{validHost}); both answers
remembered for the Host values seen lately, so that hits do not parse their
Host again.
"""

from __future__ import absolute_import, division

import re

from nevowcache._engine.memo import remember

__all__ = ["hostKey", "validHost"]



def hostKey(host):
    """
    Drop the port from a Host header value and lower-case it, keeping IPv6
    brackets: the host as keys hold it.
    """
    known = _hostKeys.get(host)
    if known is None:
        known = _remember(_hostKeys, host, _hostKey(host))
    return known



def _remember(answers, host, answer):
    """
    Keep what C{hostKey} or C{validHost} answered for C{host} in C{answers}
    (unless C{host} is longer than a DNS name), forgetting everything when
    they hold C{_MAX_KNOWN_HOSTS}.

    @return: C{answer}.
    """
    if len(host) <= _MAX_KNOWN_HOST_LENGTH:
        remember(answers, host, answer, _MAX_KNOWN_HOSTS)
    return answer



# What hostKey and validHost answered for the Host values seen lately (a
# site sees few): hits do not parse their Host again.  Bounded: forgotten
# all at once when full; longer values than a DNS name are never kept.
_MAX_KNOWN_HOSTS = 1024
_MAX_KNOWN_HOST_LENGTH = 300
_hostKeys = {}
_validHosts = {}



def _hostKey(host):
    if host.startswith(b"["):
        end = host.find(b"]")
        if end != -1:
            return host[:end + 1].lower()
    return host.split(b":", 1)[0].lower()



# A plain host: a DNS name or IPv4 address (letters, digits, "-", "." and
# "_"), or an IP literal in brackets; then an optional port of digits.
_VALID_HOST = re.compile(
    br"\A(?:[A-Za-z0-9._-]+|\[[0-9A-Za-z:.]+\])(?::[0-9]{1,5})?\Z")



def validHost(host):
    """
    Whether a C{Host} header value is a plain C{host[:port]}.

    Only then do all the ways a render can read the host agree with the key:
    Twisted 20.3's C{getRequestHostname} cuts at the first C{:}, later
    versions at a final C{:digits}, so that for C{example.com:1@evil.example}
    one renders C{example.com} and the other C{example.com:1@evil.example},
    under the key of C{example.com}.

    @param host: The raw header value, L{bytes}.
    @rtype: L{bool}
    """
    valid = _validHosts.get(host)
    if valid is None:
        valid = _remember(_validHosts, host, _VALID_HOST.match(host) is not None)
    return valid
