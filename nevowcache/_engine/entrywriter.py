# -*- test-case-name: tests.test_behaviour,tests.test_http -*-
"""
Making and storing entries: how a render becomes a L{CacheEntry} (its
validators, its C{Vary}, its C{Cache-Control}), and the one way both first
renders and background refreshes store one.
"""

from __future__ import absolute_import, division

from twisted.internet import defer

from nevowcache._http.entry import CacheEntry
from nevowcache._http.refusal import refusalOf
from nevowcache._http.validators import bodyETag, hasExplicitFreshness

__all__ = ["EntryWriter", "UNFENCED", "entryFrom", "negotiatedHeaders", "withVary"]



class _Unfenced(object):
    """
    The type of L{UNFENCED}.
    """

    def __repr__(self):
        return "<unfenced: the lookup failed>"

UNFENCED = _Unfenced()



def withNoCache(headers):
    """
    Add C{no-cache} to stored response headers' C{Cache-Control}.
    """
    others = [(name, values) for name, values in headers if name != b"cache-control"]
    values = [v for name, vs in headers if name == b"cache-control" for v in vs]
    others.append((b"cache-control", (b", ".join(values + [b"no-cache"]),)))
    others.sort()
    return tuple(others)



def withVary(headers, vary):
    """
    Add the declared request headers to a stored response's C{Vary}.
    """
    names = list(vary)
    others = []
    for name, values in headers:
        if name == b"vary":
            for value in values:
                names.extend(n.strip().lower() for n in value.split(b",") if n.strip())
        else:
            others.append((name, values))
    seen = []
    for name in names:
        if name not in seen:
            seen.append(name)
    others.append((b"vary", (b", ".join(seen),)))
    others.sort()
    return tuple(others)



def negotiatedHeaders(capture):
    """
    The request headers a captured render's representation is negotiated on
    by something between the cache and the client (C{Accept-Encoding}
    behind twisted.web's C{EncodingResourceWrapper}), as the adapter noted
    them on the request (C{nevowcacheNegotiated}).

    @rtype: L{tuple} of lower-cased L{bytes}
    """
    # From the request itself: the capture offers only twisted.web's names.
    underlying = getattr(capture, "_underlying", capture)
    return getattr(underlying, "nevowcacheNegotiated", None) or ()



def entryFrom(key, policy, capture, stamp, previous, started, now):
    """
    Make the entry to store from a capture.

    @param stamp: The invalidation state its render started under (a
        L{Generation} stamp), or L{None}.
    @param previous: The entry this one replaces, or L{None}: while the
        body is the same, C{Last-Modified} stays.
    @param started: The time of day the render started (seconds since
        the epoch): a new body's C{Last-Modified}.  Not when it ended: the
        request it answers was dated (C{Date}) before its render, and RFC
        9110 section 8.8.2.1 forbids a C{Last-Modified} later than the
        C{Date} (L{replay} makes sure).
    @param now: The engine's clock now: the entry's C{created}.
    """
    body = capture.value()
    etag, lastModified = capture.validators()
    headers = capture.storedHeaders()
    if policy.cacheControl is None and not hasExplicitFreshness(headers):
        # The page said nothing of freshness: without a word, caches
        # downstream would choose a lifetime of their own from the
        # Last-Modified added below (RFC 9111 section 4.2.2), where no
        # purge reaches them.  They may keep it, and must ask first.
        headers = withNoCache(headers)
    if etag is None:
        etag = bodyETag(body)
    if lastModified is None:
        if previous is not None and previous.etag == etag:
            lastModified = previous.lastModified
        else:
            lastModified = int(started)
            if previous is not None and previous.lastModified is not None:
                # The time of day may have gone back, or the body changed
                # twice in one second: a changed body must never look as
                # old as the one it replaces (If-Modified-Since would
                # answer 304 for it).  A Last-Modified ahead of a
                # response's Date is sent as that Date (replay).
                lastModified = max(lastModified, int(previous.lastModified) + 1)
    vary = policy.vary + negotiatedHeaders(capture)
    if vary:
        headers = withVary(headers, vary)
    return CacheEntry(key, capture.code, capture.code_message, headers, body, now,
                      stamp, lastModified, etag)



class EntryWriter(object):
    """
    Write a render to the store, the one way for first renders and
    background refreshes alike: refused (the storage rules, or superseded),
    or its variant admitted (L{VariantLimit}), its entry built
    (L{entryFrom}) and stored.
    """

    def __init__(self, client, variants, clock):
        """
        @param client: The engine's L{StoreClient}.
        @param variants: The engine's L{VariantLimit}.
        @param clock: The engine's clock: an entry's C{created}.
        """
        self._client = client
        self._variants = variants
        self._clock = clock


    def write(self, lookup, capture):
        """
        Write C{capture}, rendered for C{lookup}: unless the storage rules
        refuse it, its flight was superseded, it is a first render whose
        lookup failed (L{UNFENCED}) or its variant is one too many, build
        its entry and store it.

        @return: A L{Deferred} firing with C{lookup}, its C{refusal} (the
            reason not to write, L{bytes}, or L{UNFENCED}), or its C{entry}
            and whether it was C{stored}, set.
        """
        reason = refusalOf(capture, lookup.policy.vary)
        if reason is None and lookup.flight.superseded:
            reason = b"superseded"
        if reason is None and lookup.generation is None and not lookup.flight.refresh:
            # The lookup failed: nothing tells which invalidations this
            # render saw, so nothing fences its write.  (A refresh's
            # generation was read with the stale entry it replaces.)
            reason = UNFENCED
        if reason is None:
            reason = self._variants.admit(lookup.key)
        if reason is not None:
            lookup.refusal = reason
            return defer.succeed(lookup)
        entry = lookup.entry = entryFrom(
            lookup.key, lookup.policy, capture, lookup.stamp(), lookup.previous,
            lookup.started, self._clock.seconds())

        def stored(ok):
            lookup.stored = ok
            return lookup
        return self._client.put(lookup.key, entry).addCallback(stored)
