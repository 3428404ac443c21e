# -*- test-case-name: tests.test_formless -*-
"""
Formless's actions: URLs that write whatever the request's method.

Nevow's C{FreeformChildMixin.locateChild} (every C{rend.Page}) calls a
configurable's method for a child segment C{freeform_post!NAME!BINDING}
or C{freeform-action-post!NAME!ACTEE}, on a C{GET} as on a C{POST}; Nevow's
todo example marks items done and deletes them through such links.  The
Nevow adapter (L{nevowcache.CachedPageMixin}, L{nevowcache.CachingSite})
marks those requests, whatever their method, as acting
(L{nevowcache._engine.bypass.actsAnyway}): never answered from the cache or
stored, and invalidating, once answered successfully, as a C{POST} does.
"""

from __future__ import absolute_import, division

try:
    from urllib import unquote
except ImportError:
    from urllib.parse import unquote_to_bytes as unquote

# The segment prefixes nevow.rend.FreeformChildMixin dispatches on.
_ACTION_PREFIXES = (b"freeform_post!", b"freeform-action-post!")



def isFormlessAction(path):
    """
    Whether a request path (bytes, as in the request line, without its
    query) names a formless action: a segment, percent-decoded or not,
    starting with C{freeform_post!} or C{freeform-action-post!}.
    """
    if b"freeform" not in path and b"%" not in path:
        # The common case, at once.
        return False
    for segment in path.split(b"/"):
        # As NevowRequest.process splits and unquotes the path.
        if unquote(segment).startswith(_ACTION_PREFIXES):
            return True
    return False



def markAction(request):
    """
    Mark a request whose path names a formless action as acting whatever
    its method (C{request.nevowcacheActs}), once.

    @return: Whether it acts.
    """
    acts = getattr(request, "nevowcacheActs", None)
    if acts is None:
        acts = request.nevowcacheActs = isFormlessAction(request.path or b"")
    return acts
