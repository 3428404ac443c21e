# -*- test-case-name: tests.test_key -*-
"""
Whether a request came over TLS (L{isSecure}), the scheme of its URL
identity: C{request.isSecure()}, without adapting the transport to
L{ISSLTransport} again on every request.
"""

from __future__ import absolute_import, division

from twisted.internet.interfaces import ISSLTransport
from twisted.web import http

from nevowcache._compat import functionOf
from nevowcache._engine.memo import remember

__all__ = ["isSecure"]



# twisted.web's own isSecure, of requests and of HTTP/1 channels.
_REQUEST_IS_SECURE = functionOf(http.Request, "isSecure")
_CHANNEL_IS_SECURE = functionOf(http.HTTPChannel, "isSecure")

# Classes, by whether their isSecure is twisted.web's own.
_plainSecure = {}

# Transport classes, by whether an adapter makes them ISSLTransport.
_adaptedSecure = {}



def _twistedIsSecure(cls, own):
    """
    @return: Whether C{cls}'s C{isSecure} is C{own}, twisted.web's.
    """
    plain = _plainSecure.get(cls)
    if plain is None:
        plain = remember(_plainSecure, cls, functionOf(cls, "isSecure") is own, 256)
    return plain



def isSecure(request):
    """
    C{request.isSecure()}, without adapting the transport to
    L{ISSLTransport} again on every request: when the request's and its
    channel's C{isSecure} are twisted.web's own, a transport that does not
    provide it is adapted once per class (no adapter is registered for a
    transport in practice, and a transport made secure later, by
    C{startTLS}, provides it).

    @param request: A L{twisted.web.server.Request}, or any object with an
        C{isSecure} method.
    @rtype: L{bool}
    """
    plain = _plainSecure.get(request.__class__)
    if plain is None:
        plain = _twistedIsSecure(request.__class__, _REQUEST_IS_SECURE)
    if not plain:
        return request.isSecure()
    if request._forceSSL:
        return True
    channel = getattr(request, "channel", None)
    if channel is None:
        return False
    plain = _plainSecure.get(channel.__class__)
    if plain is None:
        plain = _twistedIsSecure(channel.__class__, _CHANNEL_IS_SECURE)
    if not plain:
        return channel.isSecure()
    transport = channel.transport
    if ISSLTransport.providedBy(transport):
        return True
    transportClass = transport.__class__
    adapted = _adaptedSecure.get(transportClass)
    if adapted is None:
        adapted = remember(_adaptedSecure, transportClass,
                           ISSLTransport(transport, None) is not None, 256)
    return adapted
