# -*- test-case-name: tests.test_behaviour,tests.test_model -*-
"""
One request's way through the engine, as one value: what it looks up, what
it found, and the flight it rides.
"""

from __future__ import absolute_import, division

__all__ = ["Lookup"]



class Lookup(object):
    """
    One request's (or one background refresh's) state in the engine, handed
    from step to step instead of seven arguments.

    @ivar key: The L{CacheKey} looked up.
    @ivar policy: The page's L{CachePolicy}.
    @ivar render: Renders the page (as for L{PageCache.serve}), or L{None}.
    @ivar makeRefresher: As for L{PageCache.serve}; L{None} to answer fresh
        entries only.
    @ivar generation: The store's L{Generation} read with the entry, or
        L{None} if unknown (the lookup failed).
    @ivar previous: The entry found (stale, or past its grace), which a new
        one replaces, or L{None}.
    @ivar missKind: Why it goes to the page: C{b"uri-miss"} or C{b"stale"}.
    @ivar flight: The L{_Flight} it leads or refreshes, or L{None}.
    @ivar status: Its C{Cache-Status} so far, or L{None}.
    @ivar token: The shared store's lease it holds, or L{None}.
    @ivar started: The time of day its render started, or L{None}.
    @ivar entry: The entry written for it (L{EntryWriter}), or L{None}.
    @ivar stored: Whether C{entry} was stored.
    @ivar refusal: Why its render was not written (L{bytes}), or L{None}.
    """
    __slots__ = ("key", "policy", "render", "makeRefresher", "generation", "previous",
                 "missKind", "flight", "status", "token", "started", "entry", "stored",
                 "refusal")

    def __init__(self, key, policy, render=None, makeRefresher=None, generation=None,
                 previous=None):
        self.key = key
        self.policy = policy
        self.render = render
        self.makeRefresher = makeRefresher
        self.generation = generation
        self.previous = previous
        self.missKind = b"uri-miss"
        self.flight = None
        self.status = None
        self.token = None
        self.started = None
        self.entry = None
        self.stored = False
        self.refusal = None


    def stamp(self):
        """
        @return: The stamp of C{generation} (what fences a write: the
            invalidations the render saw), or L{None}.
        """
        generation = self.generation
        return generation.stamp() if generation is not None else None


    def __repr__(self):
        return "<Lookup of %r>" % (self.key,)
