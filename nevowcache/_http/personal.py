# -*- test-case-name: tests.test_capture -*-
"""
The reads of a request that make a response personal, as a
L{nevowcache._http.capture.CaptureRequest} offers them: each notes what it
read (a request header) or why the response may not be shared (a cookie,
the session, the client's address, credentials) before answering from the
request.
"""

from __future__ import absolute_import, division

from nevowcache._compat import textType

__all__ = ["PersonalReads"]



def _lowerBytes(name):
    if isinstance(name, textType):
        name = name.encode("ascii", "replace")
    return name.lower()



class PersonalReads(object):
    """
    twisted.web's request methods that read what the key does not hold,
    each noting the read on the capture.

    A base of L{nevowcache._http.capture.CaptureRequest}, which provides
    C{_underlying} (the request read), C{requestHeaders} (a
    L{nevowcache._http.offered.RecordingHeaders} of it), C{headersRead} and
    C{refuse}.
    """

    def _readHeader(self, name):
        self.headersRead.add(_lowerBytes(name))


    def getHeader(self, key):
        self._readHeader(key)
        return self.requestHeaders._headers.getRawHeaders(key, [None])[-1]


    def getAllHeaders(self):
        self._readHeader(b"*")
        return self._underlying.getAllHeaders()


    def getCookie(self, key):
        self.refuse(b"cookie-read")
        return self._underlying.getCookie(key)


    @property
    def received_cookies(self):
        self.refuse(b"cookie-read")
        return self._underlying.received_cookies


    def getSession(self, *args, **kwargs):
        self.refuse(b"session")
        return self._underlying.getSession(*args, **kwargs)


    @property
    def session(self):
        self.refuse(b"session")
        return self._underlying.session


    def getClientIP(self):
        self.refuse(b"client-address")
        return self._underlying.getClientIP()


    def getClientAddress(self):
        self.refuse(b"client-address")
        return self._underlying.getClientAddress()


    @property
    def client(self):
        self.refuse(b"client-address")
        return self._underlying.client


    def getUser(self):
        self.refuse(b"authorization")
        return self._underlying.getUser()


    def getPassword(self):
        self.refuse(b"authorization")
        return self._underlying.getPassword()
