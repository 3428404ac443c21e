# -*- test-case-name: tests.test_admin -*-
"""
Values written for people on the admin's pages: HTML-escaped text, counts,
percentages, bytes and durations.
"""

from __future__ import absolute_import, division

__all__ = ["escape", "humanBytes", "humanSeconds", "percent", "number"]



def escape(text):
    """
    @return: C{text} (or any value, as text) escaped for HTML text and
        attribute values.
    """
    if not isinstance(text, type(u"")):
        text = u"%s" % (text,)
    return (text.replace(u"&", u"&amp;").replace(u"<", u"&lt;")
            .replace(u">", u"&gt;").replace(u'"', u"&quot;").replace(u"'", u"&#39;"))



def humanBytes(count):
    """
    @return: C{count} bytes in binary units, for people: C{u"12.3 MiB"}.
    """
    if count is None:
        return u"\u2014"
    value = float(count)
    for unit in (u"B", u"KiB", u"MiB", u"GiB", u"TiB"):
        if abs(value) < 1024 or unit == u"TiB":
            if unit == u"B":
                return u"%d B" % (value,)
            return u"%.1f %s" % (value, unit)
        value /= 1024



def humanSeconds(seconds):
    """
    @return: A duration for people: C{u"3 d 4 h"}, C{u"5 min 2 s"},
        C{u"12 ms"}.
    """
    if seconds is None:
        return u"\u2014"
    if seconds < 1:
        if seconds < 0.001:
            return u"%.0f \u00b5s" % (seconds * 1e6,)
        return u"%.1f ms" % (seconds * 1000,) if seconds < 0.01 else \
            u"%.0f ms" % (seconds * 1000,)
    if seconds < 60:
        return u"%.1f s" % (seconds,)
    seconds = int(seconds)
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    if days:
        return u"%d d %d h" % (days, hours)
    if hours:
        return u"%d h %d min" % (hours, minutes)
    return u"%d min %d s" % (minutes, seconds)



def percent(ratio):
    """
    @return: A ratio as a percentage, for people: C{u"12.3%"}; a dash for
        L{None}.
    """
    return u"\u2014" if ratio is None else u"%.1f%%" % (ratio * 100,)



def number(value):
    """
    @return: A count with thousands separators (C{u"12,345"}), a float with
        one decimal; a dash for L{None}.
    """
    if value is None:
        return u"\u2014"
    if isinstance(value, float):
        return u"%.1f" % (value,)
    return u"{:,}".format(value)
