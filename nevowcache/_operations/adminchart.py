# -*- test-case-name: tests.test_admin -*-
"""
The status page's chart: hits and misses per minute over the last hour, as
inline SVG (no script, nothing from another host).
"""

from __future__ import absolute_import, division

from nevowcache._operations.formatting import number

__all__ = ["chart"]



def chart(history, width=1100, height=180):
    """
    Hits and misses per minute over the last hour, as inline SVG: stacked
    bars of fresh hits, stale hits, misses that could be stored and
    uncacheable misses, the newest on the right.

    @param history: The report's C{history}.
    @return: Text (an C{<svg>} element).
    """
    left, bottom, top = 44, 20, 8
    plotWidth, plotHeight = width - left - 8, height - bottom - top
    slot = plotWidth / 61.0
    layers = [("hits", u"var(--hit)"), ("staleHits", u"var(--stale)"),
              ("cacheableMisses", u"var(--miss)"), ("uncacheable", u"var(--unc)")]
    rows = []
    for minute in history:
        rows.append((minute["minutesAgo"], {
            "hits": minute["hits"], "staleHits": minute["staleHits"],
            "cacheableMisses": max(0, minute["misses"] - minute["uncacheable"]),
            "uncacheable": minute["uncacheable"]}))
    peak = max([sum(counts.values()) for _, counts in rows] + [1])
    # A round top for the axis.
    scale = 1
    while scale * 10 < peak:
        scale *= 10
    axisTop = next(scale * m for m in (1, 2, 5, 10) if scale * m >= peak)
    parts = [u'<svg xmlns="http://www.w3.org/2000/svg" width="100%%" viewBox="0 0 %d %d" '
             u'role="img" aria-label="Hits and misses per minute, last hour">'
             % (width, height)]
    for fraction in (0, 0.5, 1):
        y = top + plotHeight * (1 - fraction)
        parts.append(u'<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e3e7ee"/>'
                     % (left, width - 8, y, y))
        parts.append(u'<text x="%d" y="%.1f" text-anchor="end">%s</text>'
                     % (left - 6, y + 4, number(int(axisTop * fraction))))
    for ago, counts in rows:
        x = left + (60 - ago) * slot
        y = top + plotHeight
        total = sum(counts.values())
        for name, colour in layers:
            h = plotHeight * counts[name] / axisTop
            if h <= 0:
                continue
            y -= h
            parts.append(u'<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s">'
                         u'<title>%s: %d hits, %d stale, %d misses, %d uncacheable</title>'
                         u'</rect>' % (x + 1, y, max(1.0, slot - 2), h, colour,
                                       u"now" if ago == 0 else u"%d min ago" % (ago,),
                                       counts["hits"], counts["staleHits"],
                                       counts["cacheableMisses"], counts["uncacheable"]))
        if not total:
            continue
    for ago, anchor in ((60, u"start"), (45, u"middle"), (30, u"middle"), (15, u"middle"),
                        (0, u"end")):
        x = left + (60 - ago) * slot + (slot if ago == 0 else 0)
        parts.append(u'<text x="%.1f" y="%d" text-anchor="%s">%s</text>'
                     % (x, height - 5, anchor, u"now" if ago == 0 else u"\u2212%d min" % (ago,)))
    parts.append(u"</svg>")
    return u"".join(parts)
