# -*- test-case-name: tests.test_nevow -*-
"""
How a background refresh flattens a Nevow page (Python 2.7, Nevow 0.14.5):
L{SlicedFlattening}, mixed into L{nevowcache.CachedPageMixin}, and the copy
of Nevow's flattener it uses, cut into slices that give way to the requests
served meanwhile (L{_sliceFlatten}), with the C{sequence} renderer's rows
cloned as the flattener reaches them (L{_lazySequence}).
"""

from __future__ import absolute_import, division

import types

from twisted.internet import defer

from nevow import inevow, rend, tags
from nevow.flat import ten

from nevowcache._compat import textType
from nevowcache._engine.slicing import Slicer

__all__ = ["SlicedFlattening"]



class SlicedFlattening(object):
    """
    The flattening of a cached Nevow page: as Nevow's, except in a
    background refresh, where it is cut into slices.

    Mixed into L{nevowcache.CachedPageMixin}, before C{rend.Page}: it uses
    the page's cache (C{_cache()}, its C{reactor} and C{sliceClock}).

    @cvar cacheRefreshSlice: Background refreshes flatten the page on
        later turns of the reactor than the traversal, once the responses
        written meanwhile were sent, in slices of at most about this many
        seconds of work, each followed by a pause (C{reactor.callLater}) at
        least as long as the slice took: a refresh has at most about half of
        the reactor's time.  A slice ends sooner when a request waits to be
        read, so a hit waits behind a few steps of a refresh, not a whole
        slice (unless the refresh had less than a tenth of the time since
        it started: a saturated server still finishes its refreshes; see
        L{nevowcache._engine.slicing.Slicer}).  L{None} to flatten in one go, in the
        turn of the traversal.  A single call into the page (a C{data_} or
        C{render_} method) is not cut: a long one makes its slice longer.
        The C{sequence} renderer clones its rows one at a time there, so a
        slice can end between rows (see L{render_sequence}).
    """
    cacheRefreshSlice = 0.0005


    def flattenFactory(self, stan, ctx, writer, finisher):
        """
        Flatten as Nevow does, except in background refreshes when
        C{cacheRefreshSlice} is not L{None}: there, with L{_sliceFlatten},
        on later turns of the reactor, in slices of at most about
        C{cacheRefreshSlice} seconds that end sooner when a request waits,
        with a pause at least as long after each, so that a long render
        neither stalls the hits served meanwhile nor takes more than about
        half of the reactor's time.  The bytes are the same.
        """
        if not self._slicing(ctx):
            return super(SlicedFlattening, self).flattenFactory(stan, ctx, writer, finisher)
        cache = self._cache()
        return _sliceFlatten(stan, ctx, writer, cache.reactor, self.cacheRefreshSlice,
                             clock=cache.sliceClock).addCallback(finisher)


    def _slicing(self, ctx):
        """
        @return: Whether this render is a background refresh flattened in
            slices, by L{_sliceFlatten}.  Not outside a request
            (C{renderSynchronously}, C{renderString}).
        """
        return (self.cacheRefreshSlice is not None
                and getattr(inevow.IRequest(ctx, None), "nevowcacheRefresh", None) is not None)


    def render_sequence(self, ctx, data):
        """
        Nevow's C{sequence} renderer, whose rows can be cut apart in
        background refreshes.

        Nevow's clones the item and divider patterns for every row in one
        call, a step that L{_sliceFlatten} cannot cut.  When this render is
        flattened in slices, L{_lazySequence} returns the same tree with the
        rows cloned one at a time, in a generator, as the flattener reaches
        them, so that a slice can end between any two rows.  Otherwise, or
        when a class between this mixin and Nevow's defines its own
        C{render_sequence}, that one renders.
        """
        inherited = super(SlicedFlattening, self).render_sequence
        if (getattr(inherited, "__func__", None) is _nevowSequence
                and self._slicing(ctx)):
            return _lazySequence(ctx, data)
        return inherited(ctx, data)



# Nevow's own sequence renderer, which SlicedFlattening.render_sequence
# replaces only when nothing else has.
_nevowSequence = vars(rend.RenderFactory)["render_sequence"]



def _lazySequence(ctx, data):
    """
    Nevow 0.14.5's C{rend.sequence}, with the rows cloned as the flattener
    reaches them rather than all at once.

    As there, the header, footer and empty patterns are cloned, the item
    and divider pattern generators made, and C{data} iterated, in the call;
    the tag is cleared and filled with the same children, except that the
    rows are a generator of what would have been their list.  The patterns
    are the template's, which Nevow never changes while rendering, so the
    clones and the bytes are the same.

    @param ctx: The context of the tag to render.
    @param data: The items: any iterable.

    @return: The tag, cleared and refilled.
    """
    tag = ctx.tag
    headers = tag.allPatterns("header")
    pattern = tag.patternGenerator("item")
    divider = tag.patternGenerator("divider", default=tags.invisible)
    elements = list(data)
    if elements:
        content = _lazyRows(elements, pattern, divider)
    else:
        content = tag.allPatterns("empty")
    footers = tag.allPatterns("footer")
    return tag.clear()[headers, content, footers]



def _lazyRows(elements, pattern, divider):
    """
    The rows of L{_lazySequence}: for each element, a clone of the next
    item pattern and, between rows, of the next divider, with the element
    as their data, each made only when the flattener asks for it.

    @param elements: The items, a non-empty list.
    @param pattern: The item patterns, cycled (a Nevow C{PatternTag}).
    @param divider: The divider patterns, cycled (a Nevow C{PatternTag}).

    @return: A generator of C{(item, divider)} tuples, and the last item
        alone.
    """
    last = len(elements) - 1
    for index, element in enumerate(elements):
        if index == last:
            yield pattern(data=element)
        else:
            yield (pattern(data=element), divider(data=element))



def _slicedIterflatten(stan, ctx, writer, pause):
    """
    Nevow 0.14.5's C{iterflatten}, for L{Slicer.run}: it yields each
    L{Deferred} it meets and is sent back its result, and yields L{None}
    whenever C{pause()} says so between two pieces of work.
    """
    rest = [iter([ten.partialflatten(ctx, stan)])]
    straccum = []
    while rest:
        gen = rest.pop()
        for item in gen:
            if isinstance(item, bytes):
                straccum.append(item)
            elif isinstance(item, textType):
                straccum.append(item.encode("utf8"))
            elif isinstance(item, (list, types.GeneratorType)):
                rest.append(gen)
                rest.append(iter(item))
                if pause():
                    yield None
                break
            else:
                if straccum:
                    writer(tags.raw(b"".join(straccum)))
                    del straccum[:]
                if isinstance(item, defer.Deferred):
                    result = yield item
                    rest.append(gen)
                    # As Nevow's: the result in a list of its own.
                    rest.append(iter([[result]]))
                    break
                elif ctx.precompile:
                    writer(item)
                else:
                    rest.append(gen)
                    rest.append(iter([ten.partialflatten(ctx, item)]))
                    break
    if straccum:
        writer(tags.raw(b"".join(straccum)))



def _sliceFlatten(stan, ctx, writer, reactor, seconds, checkEvery=1, rest=1.0,
                  clock=None):
    """
    Nevow's C{deferflatten}, cooperative, for background renders: a
    L{Slicer} decides where the work stops and when it goes on, and drives
    the flattener (L{Slicer.run}).

    The flattener starts on a later turn of the reactor than the one that
    traversed to the page, once the responses written meanwhile were sent;
    it works in slices of at most about C{seconds}, which end sooner when a
    request waits to be read; after each it pauses for C{rest} times as
    long as the slice took.  So a request waits behind about one cut
    point's work of a refresh, and a refresh has at most about
    C{1 / (1 + rest)} of the reactor's time (see L{Slicer}).

    A slice also ends when the flattener waits for a L{Deferred} that has
    not fired: waiting is not work, and the slice after it starts when it
    fires.  L{Deferred}s that have already fired are passed through in a
    loop, not by recursion.  Work is cut where Nevow's C{iterflatten} meets
    a list or a generator; a single call into the page is never cut.

    @param stan: What to flatten.
    @param ctx: The context to flatten it in.
    @param writer: Called with each piece of output, as by Nevow.
    @param reactor: Provides C{callLater}, for the pauses, and
        L{IReactorFDSet}, for the output and input the slices wait for.
    @param seconds: The longest slice; C{0} to pause at every look at the
        clock.
    @param checkEvery: How many cut points to pass between two looks at the
        clock and at the input.
    @param rest: How long each pause is, as a multiple of the slice before
        it.
    @param clock: What measures the work (its C{seconds()}); by default a
        real clock.

    @return: A L{Deferred} firing with C{""} when done, or failing with
        what the flattening raised.
    """
    slicer = Slicer(reactor, seconds, rest=rest, checkEvery=checkEvery, clock=clock)
    done = slicer.run(_slicedIterflatten(stan, ctx, writer, slicer.over))
    return done.addCallback(lambda _: "")
