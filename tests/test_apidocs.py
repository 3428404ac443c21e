# -*- test-case-name: tests.test_apidocs -*-
"""
The API reference (C{./dev docs}, L{admin/apidocs.py}) builds without broken
references.
"""

from __future__ import absolute_import, division

import os
import shutil
import subprocess
import sys
import tempfile

from twisted.trial.unittest import SynchronousTestCase

from tests._tools import ROOT, toolSkip

APIDOCS = os.path.join(ROOT, "admin", "apidocs.py")


def runApidocs(*args):
    """
    Run C{admin/apidocs.py} in this interpreter.

    @return: C{(exit code, output)}.
    """
    process = subprocess.Popen([sys.executable, APIDOCS] + list(args),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               cwd=ROOT)
    out = process.communicate()[0].decode("utf-8", "replace")
    return process.returncode, out


class ApiDocsTests(SynchronousTestCase):
    """
    pydoctor builds the reference of the package, and the check fails on
    what would make that reference wrong.
    """

    skip = toolSkip("pydoctor")

    def setUp(self):
        self.output = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.output, True)


    def test_packageBuildsClean(self):
        """
        The reference of C{nevowcache} builds with no broken C{L{...}} link,
        no docstring epytext cannot parse and no documented parameter that
        does not exist; its index and the public classes' pages are there.
        """
        rc, out = runApidocs("--output", self.output)
        self.assertEqual(rc, 0, out)
        self.assertIn("no broken references", out)
        names = os.listdir(self.output)
        self.assertIn("index.html", names)
        self.assertIn("nevowcache.html", names)
        self.assertIn("nevowcache.web.html", names)
        self.assertIn("nevowcache.klein.html", names)
        self.assertIn("nevowcache.admin.html", names)


    def test_brokenReferenceFails(self):
        """
        A package whose docstrings link to a name that does not exist, or
        that epytext cannot parse, fails the check, which names the line;
        links to Twisted's and Python's own names that exist do not.
        """
        package = os.path.join(self.output, "src", "brokenpkg")
        os.makedirs(package)
        with open(os.path.join(package, "__init__.py"), "w") as f:
            f.write('"""\nSee L{noSuchName}, L{Deferred},\n'
                    'L{twisted.web.resource.IResource} and L{bytes}.\n"""\n\n'
                    'def f(x):\n    """\n    @param y: Not a parameter.\n'
                    '    @param x: A parameter of L{twisted.web.NoSuchThing}.\n'
                    '    """\n')
        rc, out = runApidocs("--output", os.path.join(self.output, "html"),
                             "--package", package)
        self.assertEqual(rc, 1, out)
        self.assertIn('__init__.py:2: Cannot find link target for "noSuchName"', out)
        self.assertIn('"twisted.web.NoSuchThing"', out)
        self.assertIn('Documented parameter "y" does not exist', out)
        self.assertNotIn('"Deferred"', out)
        self.assertNotIn("IResource", out)
        self.assertNotIn('"bytes"', out)
