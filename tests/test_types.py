# -*- test-case-name: tests.test_types -*-
"""
The type information nevowcache ships (C{nevowcache/*.pyi}, C{py.typed}):
it matches the runtime (C{mypy.stubtest}), a typed application passes
C{mypy --strict} against it, and the mistakes it should catch are caught.
"""

from __future__ import absolute_import, division

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

from twisted.trial.unittest import TestCase

from tests._tools import ROOT, toolSkip

CONFIG = os.path.join(ROOT, "tests", "typecheck.ini")
ALLOWLIST = os.path.join(ROOT, "tests", "stubtest-allowlist.txt")
PUBLIC = ("__init__", "web", "admin", "testing", "metrics", "klein")



class TypeTests(TestCase):
    """
    mypy reads the stubs as an installed package's: copied alone (no
    C{.py} beside them) onto its path, outside the source tree.
    """

    skip = toolSkip("mypy", "mypy_zope")

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="nevowcache-types-")
        self.addCleanup(shutil.rmtree, self.work, True)
        self.stubs = os.path.join(self.work, "stubs", "nevowcache")
        os.makedirs(self.stubs)
        for path in glob.glob(os.path.join(ROOT, "nevowcache", "*.pyi")):
            shutil.copy(path, self.stubs)
        self.run = os.path.join(self.work, "run")
        os.mkdir(self.run)


    def mypy(self, module, *args):
        """
        Run a mypy tool (C{mypy}, C{mypy.stubtest}) in this interpreter.

        @return: C{(exit code, output)}.
        """
        env = dict(os.environ)
        env["MYPYPATH"] = os.path.dirname(self.stubs)
        # The runtime (for stubtest) is the source tree.
        env["PYTHONPATH"] = ROOT
        env["MYPY_CACHE_DIR"] = os.path.join(self.work, "cache")
        process = subprocess.Popen(
            [sys.executable, "-m", module] + list(args),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=self.run, env=env)
        out = process.communicate()[0].decode("utf-8", "replace")
        return process.returncode, out


    def stubtest(self):
        return self.mypy("mypy.stubtest", "--mypy-config-file", CONFIG,
                         "--allowlist", ALLOWLIST, "nevowcache")


    def test_everyPublicModuleHasStubs(self):
        """
        Each public module has its stub, and the package says it is typed.
        """
        for name in PUBLIC:
            self.assertTrue(os.path.exists(os.path.join(ROOT, "nevowcache", name + ".pyi")),
                            name)
        self.assertTrue(os.path.exists(os.path.join(ROOT, "nevowcache", "py.typed")))


    def test_stubsMatchRuntime(self):
        """
        C{mypy.stubtest} finds no difference between the stubs and the
        modules: every public name, method and parameter is in both.
        """
        rc, out = self.stubtest()
        self.assertEqual(rc, 0, "the stubs (nevowcache/*.pyi) disagree with the "
                         "modules; add or fix these in the stubs:\n" + out)


    def test_stubDriftFound(self):
        """
        A stub that lost a method, or a parameter, fails C{stubtest}.
        """
        path = os.path.join(self.stubs, "__init__.pyi")
        with open(path) as f:
            text = f.read()
        broken = re.sub(r"\n    def lookUpEarly\((?:.|\n)*?: \.\.\.\n", "\n", text)
        broken = broken.replace("def stats(self) -> _Stats: ...\n\n\ndefaultPageCache",
                                "def stats(self, extra: int) -> _Stats: ...\n\n\n"
                                "defaultPageCache")
        self.assertNotEqual(broken, text)
        with open(path, "w") as f:
            f.write(broken)
        rc, out = self.stubtest()
        self.assertNotEqual(rc, 0, out)
        self.assertIn("nevowcache.PageCache.lookUpEarly is not present in stub", out)
        self.assertIn("nevowcache.PageCache.stats is inconsistent", out)


    def test_pageCacheInheritedInStubs(self):
        """
        Every public name L{nevowcache.PageCache} has from its private parts
        (its constructor and settings, C{CacheWiring}; invalidation and
        counters, C{CacheManagement}) is in its stub, which C{stubtest}
        does not check: it looks for the names a class defines itself.
        """
        with open(os.path.join(ROOT, "nevowcache", "__init__.pyi")) as f:
            text = f.read()
        self.assertEqual(_inheritedMissing(text, "PageCache"), [])
        broken = re.sub(r"\n    def invalidateTag\(.*\n", "\n", text)
        self.assertNotEqual(broken, text)
        self.assertEqual(_inheritedMissing(broken, "PageCache"), ["invalidateTag"])


    def test_typedApplication(self):
        """
        A typed application using the public API (tests/_typedapp.py)
        passes C{mypy --strict}.
        """
        shutil.copy(os.path.join(ROOT, "tests", "_typedapp.py"), self.run)
        rc, out = self.mypy("mypy", "--config-file", CONFIG, "_typedapp.py")
        self.assertEqual(rc, 0, out)
        self.assertIn("Success", out)


    def test_mistakesCaught(self):
        """
        Each line of tests/_typederrors.py marked C{# error: NAME} is
        reported, and nothing else: the stubs type what they cover.
        """
        source = os.path.join(ROOT, "tests", "_typederrors.py")
        shutil.copy(source, self.run)
        with open(source) as f:
            expected = sorted(number for number, line in enumerate(f, 1)
                              if "# error:" in line)
        rc, out = self.mypy("mypy", "--config-file", CONFIG, "_typederrors.py")
        reported = sorted(set(int(n) for n in
                              re.findall(r"^_typederrors\.py:(\d+): error:", out, re.M)))
        self.assertEqual(reported, expected, out)



def _inheritedMissing(stub, name):
    """
    @param stub: The text of C{nevowcache/__init__.pyi}.
    @param name: A class of C{nevowcache}.

    @return: The sorted public names the class has from its bases in
        nevowcache's private modules that its stub does not declare.
    """
    import ast
    import nevowcache
    cls = getattr(nevowcache, name)
    inherited = set()
    for base in cls.__mro__[1:]:
        if base.__module__.startswith("nevowcache._"):
            inherited.update(n for n in vars(base) if not n.startswith("_"))
    declared = set()
    for node in ast.parse(stub).body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    declared.add(item.name)
                elif isinstance(item, ast.AnnAssign):
                    declared.add(item.target.id)
    return sorted(inherited - declared)
