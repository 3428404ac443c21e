"""
Tests for L{nevowcache._adapters.formless}: formless's actions, which write whatever
the request's method, are seen as writes.
"""

from __future__ import absolute_import, division

from twisted.trial.unittest import SynchronousTestCase
from twisted.web.http_headers import Headers

from nevowcache import MemoryStore, PageCache
from nevowcache._adapters.formless import isFormlessAction, markAction



class _Request(object):
    def __init__(self, path, method=b"GET"):
        self.path = path
        self.method = method
        self.requestHeaders = Headers({b"host": [b"example.com"]})



class IsFormlessActionTests(SynchronousTestCase):
    """
    L{isFormlessAction} finds the segments Nevow's
    C{FreeformChildMixin.locateChild} dispatches on.
    """

    def test_actions(self):
        """
        A segment starting with C{freeform_post!} or
        C{freeform-action-post!}, anywhere in the path, percent-encoded or
        not, is an action.
        """
        for path in (b"/freeform_post!!update", b"/a/b/freeform_post!conf!bind",
                     b"/freeform-action-post!conf!actee/x",
                     b"/freeform%5Fpost%21%21delete", b"/%66reeform_post!!x"):
            self.assertTrue(isFormlessAction(path), path)


    def test_notActions(self):
        """
        Other paths are not, even with the words elsewhere in a segment.
        """
        for path in (b"/", b"", b"/freeform_post", b"/freeform_hand",
                     b"/x/afreeform_post!!x", b"/freeform-post!!x", b"/%2F"):
            self.assertFalse(isFormlessAction(path), path)


    def test_markAction(self):
        """
        L{markAction} marks the request (C{nevowcacheActs}) and says so.
        """
        action, other = _Request(b"/freeform_post!!go"), _Request(b"/p")
        self.assertTrue(markAction(action))
        self.assertIs(action.nevowcacheActs, True)
        self.assertFalse(markAction(other))
        self.assertIs(other.nevowcacheActs, False)



class EngineTests(SynchronousTestCase):
    """
    The engine treats a request marked as acting as an unsafe one.
    """

    def test_bypassed(self):
        """
        A marked C{GET} is never looked up (C{fwd=method}).
        """
        cache = PageCache(MemoryStore())
        request = _Request(b"/freeform_post!!go")
        self.assertIsNone(cache.bypassReason(request))
        markAction(request)
        self.assertEqual(cache.bypassReason(request), b"method")
