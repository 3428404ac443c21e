# -*- test-case-name: tests.test_stats -*-
"""
How the statistics spell a cache key for people: its URL (L{describeUrl})
and its page class (L{pageNameOf}), in bounded text (L{shortened}).
"""

from __future__ import absolute_import, division

from nevowcache._compat import textType

try:
    from urllib.parse import quote
except ImportError:  # Python 2
    from urllib import quote

__all__ = ["describeUrl", "pageNameOf", "shortened"]

_MAX_TEXT = 300



def shortened(text):
    """
    @param text: Text.
    @return: C{text}, cut to at most 300 characters (the last an ellipsis).
    """
    if len(text) > _MAX_TEXT:
        text = text[:_MAX_TEXT - 1] + u"\u2026"
    return text



def describeUrl(url):
    """
    Spell a key's URL identity as a URL, for people.

    @param url: C{(scheme, host, port, segments, args, unparsed)}, as
        L{nevowcache._http.identity.urlIdentity} makes; anything else is spelt with
        C{repr}.
    @return: Text, at most 300 characters.
    """
    try:
        scheme, host, port, segments, args, unparsed = url
        text = u"%s://%s%s/%s" % (
            scheme.decode("ascii"), host.decode("utf-8", "replace"),
            u"" if (scheme, port) in ((b"http", 80), (b"https", 443)) else u":%d" % (port,),
            u"/".join(_quoted(s, "@:+!$&'()*,;=") for s in segments))
        pairs = [_quoted(k, _QUERY_SAFE) + u"=" + _quoted(v, _QUERY_SAFE)
                 for k, values in args for v in values]
        pairs.extend(_quoted(p, _QUERY_SAFE) for p in unparsed)
        if pairs:
            text += u"?" + u"&".join(pairs)
    except Exception:
        text = repr(url)
        if not isinstance(text, textType):
            text = text.decode("ascii", "replace")
    return shortened(text)



_QUERY_SAFE = "/@:+!$'()*,;"



def _quoted(value, safe):
    quoted = quote(value, safe=safe)
    return quoted.decode("ascii") if isinstance(quoted, bytes) else quoted



def pageNameOf(key):
    """
    @return: The page class a key names (text), or C{u"?"}.
    """
    try:
        name = key.variant[0]
    except (AttributeError, IndexError, TypeError, KeyError):
        return u"?"
    if isinstance(name, bytes):
        return name.decode("utf-8", "replace")
    return name if isinstance(name, textType) else u"?"
