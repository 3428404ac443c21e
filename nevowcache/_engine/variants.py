# -*- test-case-name: tests.test_stores,tests.test_behaviour -*-
"""
The variant limit: how many variants (other C{cacheVary} values, other
pages, other C{cacheKey} additions) are stored for one URL at most.
"""

from __future__ import absolute_import, division

from twisted.logger import Logger

from nevowcache._http.keyencoding import encodeKey
from nevowcache._engine.records import Records

__all__ = ["VariantLimit"]

# How many URLs the variant counts are kept for, and in how many bytes at
# most (a sixteenth of a store's byte bound at most, charged to it).
_MAX_VARIANT_URLS = 10000
_MAX_VARIANT_BYTES = 2 * 1024 * 1024



class VariantLimit(object):
    """
    Count the variants stored for each URL (the most recent URLs only, by
    fingerprints, within a byte budget); refuse one too many.

    @ivar maxVariants: The most variants stored for one URL.
    @ivar records: The L{Records} of variants by URL.
    """
    _log = Logger()

    def __init__(self, fingerprint, counters, maxVariants, charge=None, bound=None):
        """
        @param fingerprint: The engine's L{Fingerprints}.
        @param counters: The engine's counters (C{varyOverflows}).
        @param charge: The store's C{charge}, or L{None}.
        @param bound: The store's C{maxBytes}, or L{None}.
        """
        self._fingerprint = fingerprint
        self._counters = counters
        self.maxVariants = maxVariants
        self.records = Records(_MAX_VARIANT_BYTES if bound is None
                               else min(_MAX_VARIANT_BYTES, bound // 16), charge)


    def admit(self, key):
        """
        Count the variant of C{key}; refuse one too many.

        @return: L{None} to store, or the reason not to.
        """
        # Fingerprints, not the keys: a URL may be 16 KiB long, and these
        # records outlive the entries the store evicts.  One variant (the
        # common case) is one integer; more, a tuple of them.
        url = self._fingerprint(encodeKey(key.url))
        # Not the spelling (variant[3], after the page, the cacheVary values
        # and the cacheKey additions; the Nevow adapter may add more):
        # spellings of a URL are entries of their own, as other URLs are,
        # bounded by the store alone; else a few odd spellings would use up
        # a URL's variants.
        variant = self._fingerprint(encodeKey(key.variant[:3] + key.variant[4:]))
        records = self.records
        known = records.get(url)
        if known is None:
            variants = ()
        elif isinstance(known, tuple):
            variants = known
        else:
            variants = (known,)
        if variant in variants:
            records.put(url, known, _MAX_VARIANT_URLS)
            return None
        if len(variants) >= self.maxVariants:
            records.put(url, known, _MAX_VARIANT_URLS)
            self._counters["varyOverflows"] += 1
            self._log.warn(u"More than {max} variants of {url!r}; not storing {variant!r}",
                           max=self.maxVariants, url=key.url, variant=key.variant)
            return b"too-many-variants"
        records.put(url, variants + (variant,) if variants else variant, _MAX_VARIANT_URLS)
        return None
