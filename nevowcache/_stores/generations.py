# -*- test-case-name: tests.test_stores,tests.test_sharedwire -*-
"""
The generation records of a shared store (L{nevowcache._stores.sharedstore}),
as its servers hold them: C{"<generation> <floor> <tag>"}, where C{<tag>}
names what the record is of: 64 hex digits of SHA-256 over the injective
encoding of a URL identity or a scope (L{urlTag}), or C{*} for the clear
record (L{CLEAR_TAG}).

A record carries its tag so that a value read for another name (a desynced
connection) is noticed rather than trusted.
"""

from __future__ import absolute_import, division

import hashlib
import re

from nevowcache._engine.memo import remember
from nevowcache._http.keyencoding import encodeKey
from nevowcache._stores.interfaces import Generation

__all__ = ["BadRecord", "CLEAR_TAG", "generationOf", "makeRecord", "parseRecord",
           "urlTag"]

CLEAR_TAG = b"*"

_RECORD = re.compile(br"\A([0-9]{1,19}) ([0-9]{1,19}) ([0-9a-f]{64}|\*)\Z")

# How many records, URL identities and keys a store remembers the parsed
# value or the names of (the hot ones).
NAMES_KEPT = 4096



class BadRecord(Exception):
    """
    A generation record read from the store is malformed, or belongs to
    another name.
    """



def parseRecord(value, tag):
    """
    Read a generation record.

    @param value: The stored L{bytes}, or L{None} if there is none.
    @param tag: The tag it must carry.
    @return: C{(generation, floor)}; C{(0, 0)} for no record.
    @raise BadRecord: If it is malformed or carries another tag.
    """
    if value is None:
        return (0, 0)
    parsed = _parsed.get(value)
    if parsed is None:
        match = _RECORD.match(value) if isinstance(value, bytes) else None
        if match is None:
            raise BadRecord("malformed generation record %r" % (value[:100],))
        parsed = remember(_parsed, value, (
            int(match.group(1)), int(match.group(2)), match.group(3)), NAMES_KEPT)
    if parsed[2] != tag:
        raise BadRecord("generation record of another name")
    return parsed[:2]

# Records read lately, parsed: C{(generation, floor, tag)} by value.
_parsed = {}



def makeRecord(generation, floor, tag):
    """
    @return: The record of C{(generation, floor)} for C{tag}, L{bytes}.
    """
    return b"%d %d %s" % (generation, floor, tag)



def urlTag(url):
    """
    @return: The tag of a URL identity: 64 hex digits of SHA-256 over its
        injective encoding.
    """
    return hashlib.sha256(encodeKey(url)).hexdigest().encode("ascii")



def generationOf(urlRecord, tag, clearRecord, scopeTags=(), scopeRecords=()):
    """
    The generation the records read for one lookup make.

    @param urlRecord: The record of the URL identity whose tag is C{tag}.
    @param clearRecord: The clear record.
    @param scopeTags: The tags of the lookup's scopes, and C{scopeRecords}
        their records, in the same order.
    @return: The L{Generation}.
    @raise BadRecord: If a record is malformed or carries another tag.
    """
    clearGeneration, clearFloor = parseRecord(clearRecord, CLEAR_TAG)
    urlGeneration, urlFloor = parseRecord(urlRecord, tag)
    scopes = ()
    if scopeTags:
        # Every scope, so that an entry's stamp names them all and
        # store fences by them.
        scopes = tuple(
            (scopeTag,) + parseRecord(record, scopeTag)
            for scopeTag, record in zip(scopeTags, scopeRecords))
    return Generation(clearGeneration, clearFloor, urlGeneration, urlFloor,
                      scopes)
