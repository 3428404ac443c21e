# -*- test-case-name: tests.test_capture -*-
"""
Recording a response: twisted.web's request methods that write one (body,
status, headers, cookies, validators, producers, finishing and failing),
as a L{nevowcache._http.capture.CaptureRequest} offers them, keeping every
part instead of sending it; and what was recorded, read back for storing.
"""

from __future__ import absolute_import, division

from twisted.internet import defer
from twisted.web import http

from nevowcache._compat import textType
from nevowcache._http.entry import HOP_BY_HOP
from nevowcache._http.validators import parseHTTPDate

__all__ = ["ResponseRecorder", "DistribViews"]



class ResponseRecorder(object):
    """
    The response side of a request, recorded: nothing is sent.

    C{setLastModified} and C{setETag} never answer C{http.CACHED} (the whole
    response is recorded, and the stored entry answers preconditions on
    replay).  A render that gives up (L{processingFailed}) ends the
    response, and L{notifyFinish} fails.

    A base of L{nevowcache._http.capture.CaptureRequest}, which provides
    C{refuse} (L{processingFailed} notes C{b"render-error"}).

    @ivar body: The chunks written, in order (L{value} joins them).
    @ivar cookies: The C{(args, kwargs)} of each C{addCookie}.
    @ivar lastModified: The latest time C{setLastModified} was given, or
        L{None}.
    @ivar etag: What C{setETag} was given last, or L{None}.
    @ivar finished: Whether the response was finished (or failed).
    """

    def __init__(self, responseHeaders=None):
        """
        @param responseHeaders: The L{Headers} to record the response's
            headers in, or L{None} for new ones.
        """
        self.code = http.OK
        self.code_message = http.RESPONSES[http.OK]
        if responseHeaders is None:
            responseHeaders = http.Headers()
        self.responseHeaders = responseHeaders
        self.body = []
        self.cookies = []
        self.lastModified = None
        self.etag = None
        self.finished = False
        self.startedWriting = False
        self._notifications = []
        self._failure = None
        self.producer = None
        self._producerStreaming = None


    def write(self, data):
        if self.finished:
            raise RuntimeError(
                "Request.write called on a request after Request.finish")
        if not isinstance(data, bytes):
            raise TypeError("Data must be bytes, not %r" % (type(data),))
        self.startedWriting = True
        if data:
            self.body.append(data)


    def writeSequence(self, data):
        for chunk in data:
            self.write(chunk)


    @property
    def sentLength(self):
        return sum(len(chunk) for chunk in self.body)


    def setHeader(self, name, value):
        self.responseHeaders.setRawHeaders(name, [value])


    def setResponseCode(self, code, message=None):
        if not isinstance(code, int):
            raise TypeError("HTTP response code must be int or long")
        self.code = code
        if message is None:
            message = http.RESPONSES.get(code, b"Unknown Status")
        if isinstance(message, textType):
            message = message.encode("ascii")
        self.code_message = message


    def redirect(self, url):
        self.setResponseCode(http.FOUND)
        self.setHeader(b"location", url)


    def addCookie(self, *args, **kwargs):
        self.cookies.append((args, kwargs))


    def setLastModified(self, when):
        """
        Record the validator.  Never C{http.CACHED}: the whole response is
        captured; the entry answers preconditions when replayed.
        """
        if self.lastModified is None or when > self.lastModified:
            self.lastModified = when
        return None


    def setETag(self, etag):
        """
        Record the validator.  Never C{http.CACHED}, as L{setLastModified}.
        """
        self.etag = etag
        return None


    def registerProducer(self, producer, streaming):
        """
        Take a producer's output as body.  A pull producer is pulled until
        it unregisters or the response is finished.
        """
        self.producer = producer
        self._producerStreaming = streaming
        if not streaming:
            while self.producer is producer and not self.finished:
                producer.resumeProducing()


    def unregisterProducer(self):
        self.producer = None


    @property
    def notifications(self):
        return self._notifications


    def notifyFinish(self):
        """
        @return: A L{Deferred} that fires with L{None} when the response is
            finished, or fails with the reason passed to
            L{processingFailed}.
        """
        d = defer.Deferred()
        if self._failure is not None:
            d.errback(self._failure)
        elif self.finished:
            d.callback(None)
        else:
            self._notifications.append(d)
        return d


    def finish(self):
        if self.finished:
            raise RuntimeError(
                "Request.finish called on a request after its connection "
                "was lost.")
        self.finished = True
        notifications, self._notifications[:] = self._notifications[:], []
        for d in notifications:
            d.callback(None)


    def processingFailed(self, reason):
        """
        The render gave up, as twisted.web code does with
        C{d.addErrback(request.processingFailed)}: instead of answering an
        error page on the real request, the capture ends and
        L{notifyFinish} fails with C{reason}, so that the render counts as
        failed and nothing is stored.

        @param reason: A L{Failure}.
        @return: C{reason}, as L{twisted.web.server.Request.processingFailed}
            does.
        """
        self.refuse(b"render-error")
        if self._failure is None and not self.finished:
            self._failure = reason
            self.finished = True
            notifications, self._notifications[:] = self._notifications[:], []
            for d in notifications:
                d.errback(reason)
        return reason


    def value(self):
        """
        @return: The body written so far.
        @rtype: L{bytes}
        """
        return b"".join(self.body)


    def validators(self):
        """
        @return: C{(etag, lastModified)} as the page set them (with
            C{setETag}/C{setLastModified} or as headers), each L{None} if
            not.
        """
        etag = self.etag
        if etag is None:
            etag = self.responseHeaders.getRawHeaders(b"etag", [None])[-1]
        lastModified = self.lastModified
        if lastModified is None:
            header = self.responseHeaders.getRawHeaders(b"last-modified", [None])[-1]
            if header is not None:
                lastModified = parseHTTPDate(header)
        return etag, lastModified


    def storedHeaders(self):
        """
        @return: The response headers to store: all but hop-by-hop and
            per-response ones, as C{((name, (value, ...)), ...)} sorted by
            name.
        """
        out = []
        for name, values in self.responseHeaders.getAllRawHeaders():
            lower = name.lower()
            if lower not in HOP_BY_HOP:
                out.append((lower, tuple(values)))
        out.sort()
        return tuple(out)



class DistribViews(object):
    """
    Twisted's PB view of a request (what L{twisted.web.distrib} calls on
    it), on a L{ResponseRecorder}: the same recording.
    """

    def view_write(self, issuer, data):
        self.write(data)


    def view_finish(self, issuer):
        self.finish()


    def view_addCookie(self, issuer, k, v, **kwargs):
        self.addCookie(k, v, **kwargs)


    def view_setHeader(self, issuer, k, v):
        self.setHeader(k, v)


    def view_setLastModified(self, issuer, when):
        self.setLastModified(when)


    def view_setETag(self, issuer, tag):
        self.setETag(tag)


    def view_setResponseCode(self, issuer, code, message=None):
        self.setResponseCode(code, message)


    def view_registerProducer(self, issuer, producer, streaming):
        self.registerProducer(producer, streaming)


    def view_unregisterProducer(self, issuer):
        self.unregisterProducer()
