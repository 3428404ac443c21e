# -*- test-case-name: tests.test_behaviour,tests.test_security -*-
"""
The values of the request headers a page declares in C{cacheVary}, as keys
hold them: normalised (L{varyValue}) so that spellings a render cannot tell
apart share an entry (C{Accept-Language: fr, en;q=0.8} and
C{en;q=0.8,FR}), and absent and empty headers do not.
"""

from __future__ import absolute_import, division

__all__ = ["varyValue", "varyValues"]



# Request headers whose values are case-insensitive lists.
_CASE_INSENSITIVE_LISTS = frozenset([
    b"accept", b"accept-encoding", b"accept-charset", b"accept-language"])



def varyValues(headers, vary):
    """
    The normalised values (L{varyValue}) of the request headers a page
    declares in C{cacheVary}, as keys hold them.

    @param headers: The request's L{Headers}.
    @param vary: Lower-cased header names, L{bytes}.
    @rtype: L{tuple}
    """
    if not vary:
        return ()
    return tuple(varyValue(name, headers.getRawHeaders(name)) for name in vary)



def varyValue(name, values):
    """
    Normalise the values of a request header that joins the key.

    Absent (L{None}) and empty (C{b""}) stay distinct.  Whitespace is
    folded; C{Accept}-style lists are lower-cased, and C{Accept-Language}
    items ordered by preference (C{fr, en;q=0.8} and C{en;q=0.8,FR} agree).

    @param name: The lower-cased header name, L{bytes}.
    @param values: The header's raw values (a L{list} of L{bytes}), or
        L{None} if absent.
    @rtype: L{bytes} or L{None}
    """
    if values is None:
        return None
    value = b",".join(v.strip() for v in values)
    if name not in _CASE_INSENSITIVE_LISTS:
        return b" ".join(value.split())
    items = []
    for index, item in enumerate(value.lower().split(b",")):
        parts = [p.strip() for p in item.split(b";")]
        if not parts[0]:
            continue
        quality = 1.0
        params = []
        for param in parts[1:]:
            if param.startswith(b"q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
            elif param:
                params.append(param)
        items.append((-quality, index if name == b"accept-language" else 0,
                      b";".join([parts[0]] + params), quality))
    items.sort()
    out = []
    for _, _, item, quality in items:
        if quality != 1.0:
            item += b";q=" + ("%g" % (quality,)).encode("ascii")
        out.append(item)
    return b",".join(out)
