"""
The Nevow demo site (L{demo.site}, Python 2.7) answers as the README says.
"""

from __future__ import absolute_import, division

from twisted.trial.unittest import SynchronousTestCase

from nevowcache import MemoryStore

from tests.test_demo3 import walkthrough

try:
    from nevow import appserver
    from demo import site
except ImportError:
    site = None



class DemoTests(SynchronousTestCase):
    """
    The README's walkthrough against the Nevow demo, in memory.
    """
    if site is None:
        skip = "Nevow runs only on Python 2.7"

    def setUp(self):
        freshCache()
        self.site = appserver.NevowSite(site.Root())


    def test_operatorResource(self):
        """
        The operator's resource is at C{/_cache/}, with the same pages as
        the twisted.web demo's, and the README's purge walkthrough works.
        """
        walkthrough(self, None, self.site)



def freshCache():
    """
    Give the Nevow demo's pages, which share the module's cache, an empty
    one with no counts.
    """
    site.cache.__init__(MemoryStore(maxBytes=16 * 1024 * 1024, maxEntries=5000))
