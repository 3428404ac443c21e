# -*- test-case-name: tests.test_klein -*-
"""
A cached Klein route's outcome, as Klein would have written it: what the
route returned, written on a capture the way Klein's C{KleinResource}
writes it (L{_process}), a route's failure on a capture (L{_failed}), and
the cache's answer handed back to Klein as a resource (L{_Answered}).
"""

from __future__ import absolute_import, division

from klein import Response
from twisted.internet import defer
from twisted.logger import Logger
from twisted.web.iweb import IRenderable
from twisted.web.resource import IResource, Resource, getChildForRequest
from twisted.web.server import NOT_DONE_YET
from twisted.web.template import renderElement

from nevowcache._adapters.webfront import _send
from nevowcache._compat import textType

__all__ = []

_log = Logger()



def _failed(reason, request):
    """
    A route failed on a capture: the capture fails (never stored), and the
    failure goes to Klein on the live request; if it had already finished,
    the failure is logged.
    """
    if request.finished:
        _log.failure(u"Route failed after answering {request!r}", reason, request=request)
    else:
        request.processingFailed(reason)



def _process(result, request):
    """
    Write what a route returned on C{request} (a capture), as Klein's
    C{KleinResource} does: a L{klein.Response} applied to it; a resource
    rendered on it; an C{IRenderable} rendered with
    L{twisted.web.template.renderElement} (whose C{200} error page the
    capture refuses to store); text (UTF-8) or bytes written; then the
    request finished.
    """
    if isinstance(result, Response):
        d = defer.maybeDeferred(result._applyToRequest, request)
        return d.addCallback(_process, request)
    if IResource.providedBy(result):
        request.render(getChildForRequest(result, request))
        return None
    if IRenderable.providedBy(result):
        renderElement(request, result)
        return None
    if isinstance(result, textType):
        result = result.encode("utf-8")
    if isinstance(result, bytes):
        request.write(result)
    if not request.finished:
        request.finish()
    return None



class _Answered(Resource):
    """
    What a cached route returns to Klein: a resource that writes the
    cache's answer on the live request (or, with none, nothing: the route
    dropped the connection).
    """
    isLeaf = True

    def __init__(self, answer):
        Resource.__init__(self)
        self._answer = answer


    def render(self, request):
        if self._answer is not None and not getattr(request, "_disconnected", False):
            _send(self._answer, request)
        return NOT_DONE_YET
