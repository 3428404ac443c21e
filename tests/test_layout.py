# -*- test-case-name: tests.test_layout -*-
"""
The source tree points at what exists: every C{test-case-name} header (what
C{trial --testmodule} and editors run for a module) names test modules and
test cases that can be imported.
"""

from __future__ import absolute_import, division

import io
import os
import re

from twisted.python.reflect import namedAny
from twisted.trial.unittest import SynchronousTestCase

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Emacs-style, on one of the first two lines, as Twisted writes it.
HEADER = re.compile(r"-\*-.*test-case-name:\s*([\w.,]+)")



def testCaseNames(root=ROOT, folders=("nevowcache", "tests", "demo", "bench")):
    """
    The C{test-case-name} headers of the Python files below C{folders}.

    @return: A L{list} of (file path relative to C{root}, dotted name), one
        for each name a header gives.
    """
    found = []
    for folder in folders:
        for directory, subdirectories, files in os.walk(os.path.join(root, folder)):
            subdirectories[:] = [d for d in subdirectories
                                 if not d.startswith((".", "_trial_temp", "__pycache__"))]
            for name in sorted(files):
                if not name.endswith(".py"):
                    continue
                path = os.path.join(directory, name)
                with io.open(path, encoding="utf-8", errors="replace") as f:
                    head = f.readline() + f.readline()
                match = HEADER.search(head)
                if match is not None:
                    for dotted in match.group(1).split(","):
                        found.append((os.path.relpath(path, root), dotted.strip()))
    return found



class TestCaseNameTests(SynchronousTestCase):
    """
    Every C{test-case-name} header names something importable.
    """

    def test_headersFound(self):
        """
        The headers are found: the engine's, the web adapter's, this
        module's own.
        """
        files = set(path for path, dotted in testCaseNames())
        for path in ("nevowcache/_engine/pagecache.py", "nevowcache/web.py", "tests/test_layout.py"):
            self.assertIn(path.replace("/", os.sep), files)


    def test_namesImportable(self):
        """
        Each name a header gives is a module, or a test case in one, that
        can be imported.
        """
        # From the project's root, as trial run there resolves them (on
        # Python 2.7 the tests package's path is relative to it).
        self.addCleanup(os.chdir, os.getcwd())
        os.chdir(ROOT)
        broken = []
        for path, dotted in testCaseNames():
            try:
                namedAny(dotted)
            except Exception as e:
                broken.append((path, dotted, "%s: %s" % (type(e).__name__, e)))
        self.assertEqual(broken, [])


    def test_missingNameFound(self):
        """
        A header naming a module that does not exist is reported.
        """
        root = self.mktemp()
        os.makedirs(os.path.join(root, "nevowcache"))
        with open(os.path.join(root, "nevowcache", "gone.py"), "w") as f:
            f.write("# -*- test-case-name: tests.test_nothingHere -*-\n")
        self.assertEqual(testCaseNames(root), [
            (os.path.join("nevowcache", "gone.py"), "tests.test_nothingHere")])
        self.assertRaises(Exception, namedAny, "tests.test_nothingHere")
