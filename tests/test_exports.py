"""
The public surface of C{nevowcache}.
"""

from __future__ import absolute_import, division

import ast
import io
import os
import re
import subprocess
import sys

from twisted.trial.unittest import SynchronousTestCase

import nevowcache
from nevowcache._http import capture as _capture
from nevowcache._engine import pagecache as _engine
from nevowcache._engine import sitecaches as _sitecaches
from nevowcache._http import entry as _entry
from nevowcache._stores import interfaces as _interfaces
from nevowcache._http import key as _key
from nevowcache._stores import memory as _memory
from nevowcache._stores import near as _near

from tests._tools import ROOT

# What users use: application authors (the pages, CachingSite, PageCache and
# its stores), operators (the stores' stats), and authors of a store (the
# interfaces; the CacheKey, CacheEntry and Generation a store is given and
# answers with).
PUBLIC = [
    "CachedPage", "CachedPageMixin", "CachingSite", "PageCache", "defaultPageCache",
    "MemoryStore", "MemcachedStore", "RedisStore", "NearStore", "IPageStore",
    "IScopedStore", "IPeekableStore", "IChargedStore", "ISharedStore", "ILeaseStore",
    "INearStore", "CacheKey", "CacheEntry", "Generation"]



class ExportTests(SynchronousTestCase):
    """
    Public names are the private modules' objects.
    """

    def test_identity(self):
        """
        Each public name is the object of its private module.
        """
        self.assertIs(nevowcache.PageCache, _engine.PageCache)
        self.assertIs(nevowcache.defaultPageCache, _sitecaches.defaultPageCache)
        self.assertIs(nevowcache.MemoryStore, _memory.MemoryStore)
        self.assertIs(nevowcache.IPageStore, _interfaces.IPageStore)
        self.assertIs(nevowcache.CacheKey, _key.CacheKey)
        self.assertIs(nevowcache.CacheEntry, _entry.CacheEntry)
        self.assertIs(nevowcache.Generation, _interfaces.Generation)
        self.assertIs(nevowcache.NearStore, _near.NearStore)
        self.assertIs(nevowcache.INearStore, _interfaces.INearStore)


    def test_publicNames(self):
        """
        C{__all__} lists what an application, an operator or a store's
        author uses, and nothing the engine and the adapters only pass each
        other.
        """
        self.assertEqual(sorted(nevowcache.__all__), sorted(
            [n for n in PUBLIC if n in nevowcache.__all__]))
        self.assertEqual(
            sorted(n for n in nevowcache.__all__ if n not in nevowcache._NEVOW_NAMES),
            sorted(n for n in PUBLIC if n not in nevowcache._NEVOW_NAMES))
        for name in ("Answer", "CachePolicy", "CaptureRequest"):
            self.assertNotIn(name, nevowcache.__all__)


    def test_formerlyPublicImportable(self):
        """
        The names public in 0.1.0 that no longer are can still be imported
        from C{nevowcache}, for code written against 0.1.0: they are the
        private modules' objects.
        """
        self.assertIs(nevowcache.Answer, _engine.Answer)
        self.assertIs(nevowcache.CachePolicy, _engine.CachePolicy)
        self.assertIs(nevowcache.CaptureRequest, _capture.CaptureRequest)


    def test_stubNames(self):
        """
        The stub's C{__all__} is the module's, but for the Nevow names (the
        stub types the Python 3 package).
        """
        path = os.path.join(ROOT, "nevowcache", "__init__.pyi")
        with io.open(path, encoding="utf-8") as f:
            # Read as text: Python 2.7 cannot parse annotations.
            stubAll = re.search(r"^__all__ = (\[.*?\])", f.read(), re.M | re.S).group(1)
        self.assertEqual(
            sorted(ast.literal_eval(stubAll)),
            sorted(n for n in PUBLIC if n not in nevowcache._NEVOW_NAMES))


    def test_allNamesExist(self):
        """
        Every name in C{__all__} is there (the Nevow ones where Nevow is).
        """
        try:
            import nevow  # noqa: F401
        except ImportError:
            names = [n for n in nevowcache.__all__ if n not in nevowcache._NEVOW_NAMES]
        else:
            names = nevowcache.__all__
        for name in names:
            self.assertTrue(hasattr(nevowcache, name), name)


    def test_starImport(self):
        """
        C{from nevowcache import *} imports every public name there is: the
        Nevow ones only where Nevow is (without it, C{__all__} does not list
        them, which would make the import fail).
        """
        namespace = {}
        exec("from nevowcache import *", namespace)
        self.assertIn("PageCache", namespace)
        try:
            import nevow  # noqa: F401
        except ImportError:
            self.assertNotIn("CachedPage", namespace)
        else:
            self.assertIn("CachedPage", namespace)


    def test_nevowNamesWithoutNevow(self):
        """
        Without Nevow, C{CachedPage} is an C{ImportError} that says what to
        use instead.
        """
        try:
            import nevow  # noqa: F401
        except ImportError:
            pass
        else:
            raise self.skipTest("Nevow is installed here")
        with self.assertRaises(ImportError) as raised:
            nevowcache.CachedPage
        self.assertIn("nevowcache.web", str(raised.exception))


    def test_noOptionalImports(self):
        """
        Importing nevowcache does not import a Redis client, and its engine
        does not install a reactor (Nevow itself does, on Python 2.7).
        """
        code = ("import sys, nevowcache; "
                "sys.stdout.write('%s %s' % ('txredisapi' in sys.modules, "
                "'twisted.internet.reactor' in sys.modules))")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        redis, reactor = subprocess.check_output([sys.executable, "-c", code], env=env).split()
        self.assertEqual(redis, b"False")
        if "nevow" not in sys.modules:
            self.assertEqual(reactor, b"False")
