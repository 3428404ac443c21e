# -*- test-case-name: tests.test_headers -*-
"""
Header fast paths for the hit path: reading a request's headers straight
from Twisted's table, and header names as Twisted writes them, remembered.
"""

from __future__ import absolute_import, division

from nevowcache._engine.memo import remember



def headerTable(headers):
    """
    The table behind a Twisted L{Headers}: names (lower-case before Twisted
    22, canonical since) to lists of values, sanitized when they were set.
    Read directly on the hit path, where the public methods' name encoding
    is most of the cost of a look.

    @return: A L{dict} (not to be changed), or L{None} for anything else
        (a view that records what is read, say): use the public methods.
    """
    raw = getattr(headers, "_rawHeaders", None)
    return raw if type(raw) is dict else None



def headerValues(headers, name):
    """
    The values of a request header, as C{getRawHeaders(name)} gives them,
    read from Twisted's table when there is one (L{headerTable}) under
    either spelling Twisted files names by.

    @param name: The lower-cased name, L{bytes}.
    @return: A L{list} of L{bytes}, or L{None} if absent.
    """
    # headerTable's, written here: the hit path reads a few headers.
    table = getattr(headers, "_rawHeaders", None)
    if type(table) is not dict:
        return headers.getRawHeaders(name)
    if _FILED_LOWER:
        values = table.get(name)
        if values is None:
            values = table.get((NAME_FORMS.get(name) or nameForms(name))[0])
    else:
        # The spelling this Twisted files names by first: one look, not two.
        values = table.get((NAME_FORMS.get(name) or nameForms(name))[0])
        if values is None:
            values = table.get(name)
    return values



def hasAnyHeader(headers, names):
    """
    Whether a request has any of the headers C{names}, as C{hasHeader}
    tells, read from Twisted's table when there is one (L{headerTable}).

    @param names: Lower-cased names, a L{tuple} of L{bytes}.
    @rtype: L{bool}
    """
    # headerTable's, written here.
    table = getattr(headers, "_rawHeaders", None)
    if type(table) is not dict:
        return any(headers.hasHeader(name) for name in names)
    spellings = _spellings.get(names) or spellingsOf(names)
    # One pass over the request's few names, in C.
    return not spellings.isdisjoint(table)



def spellingsOf(names):
    """
    @param names: Lower-cased header names, a L{tuple} of L{bytes}.
    @return: A L{frozenset} of them and their canonical spellings: what
        Twisted's table (L{headerTable}) may file them by.
    """
    spellings = _spellings.get(names)
    if spellings is None:
        spellings = remember(_spellings, names, frozenset(
            names + tuple(wireName(name) for name in names)), 256)
    return spellings

# Tuples of lower-cased names, to a set of them and their canonical
# spellings.
_spellings = {}



def oneLine(value):
    """
    A header name or value on one line: line breaks become spaces, as
    Twisted's C{Headers} makes them (a stored value can never start a header
    or a body of its own).
    """
    return b" ".join(value.splitlines())



def nameForms(name):
    """
    A header name as Twisted writes it (L{wireName}) and lower-cased,
    remembered: the hit path asks for the same few names again and again.

    @param name: L{bytes}, in any case.
    @return: C{(as written, lower-cased)}.
    """
    forms = NAME_FORMS.get(name)
    if forms is None:
        forms = remember(NAME_FORMS, name, (wireName(name), name.lower()), 512)
    return forms

# nameForms' memo: read directly where a call costs too much (a response's
# every header, on the hit path), added to through nameForms only.
NAME_FORMS = {}



def wireName(name):
    """
    A header name as Twisted writes it (and, since Twisted 22, files it):
    C{Content-Type}, C{ETag}.
    """
    name = b"-".join(word.capitalize() for word in oneLine(name).split(b"-"))
    return _SPECIAL_NAMES.get(name, name)

_SPECIAL_NAMES = {
    b"Content-Md5": b"Content-MD5", b"Dnt": b"DNT", b"Etag": b"ETag",
    b"P3p": b"P3P", b"Te": b"TE", b"Www-Authenticate": b"WWW-Authenticate",
    b"X-Xss-Protection": b"X-XSS-Protection",
}



def _filedLowerCase():
    """
    @return: Whether this Twisted's L{Headers} files names lower-cased
        (before Twisted 22) rather than as written (L{wireName}).
    """
    from twisted.web.http_headers import Headers
    headers = Headers()
    headers.setRawHeaders(b"X-Filed", [b"1"])
    return b"x-filed" in (headerTable(headers) or ())

_FILED_LOWER = _filedLowerCase()
