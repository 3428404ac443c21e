# -*- test-case-name: tests.test_packaging -*-
"""
The release artefacts: a wheel and an sdist built from the files a clean
clone has install into fresh virtualenvs on Python 2.7 (with Nevow and a
working C{twistd}: C{pip install 'nevowcache[nevow]'}) and on Python 3.

Runs in the tools' environment (C{./dev test} tells it where the other
interpreters are, found through pyenv); it needs PyPI (or pip's cache) for
the dependencies.
"""

from __future__ import absolute_import, division

import glob
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

from twisted.trial.unittest import SkipTest, TestCase

from tests._tools import ROOT, inToolsEnvironment, toolSkip


def run(command, cwd=None, timeout=600):
    """
    Run a command to completion.

    @return: C{(exit code, output)}, output being stdout and stderr.
    """
    # Without the source tree on the path: what runs is what was installed.
    env = dict((k, v) for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, env=env,
                               stderr=subprocess.STDOUT, cwd=cwd)
    out = process.communicate(timeout=timeout)[0].decode("utf-8", "replace")
    return process.returncode, out


def interpreters():
    """
    The interpreters C{./dev test} found, from C{NEVOWCACHE_INTERPRETERS}
    (C{"py27=/path/to/python py311=/path/to/python"}).

    @return: a L{dict} from environment name to interpreter.
    """
    found = {}
    for item in os.environ.get("NEVOWCACHE_INTERPRETERS", "").split():
        name, _, path = item.partition("=")
        found[name] = path
    return found


def cleanTree(destination):
    """
    Copy the files git tracks (as a clean clone would have them, with this
    worktree's edits) to C{destination}.

    @return: L{None}, or why it cannot (not a git checkout).
    """
    rc, out = run(["git", "ls-files", "-z"], cwd=ROOT)
    if rc != 0:
        return "not a git checkout: %s" % (out.strip(),)
    for name in out.split("\0"):
        source = os.path.join(ROOT, name)
        if not name or not os.path.isfile(source):
            continue
        target = os.path.join(destination, name)
        if not os.path.isdir(os.path.dirname(target)):
            os.makedirs(os.path.dirname(target))
        shutil.copy2(source, target)
    return None


_built = {}


def artefacts():
    """
    Build the sdist and the wheel, once per run.

    @return: a L{dict}: C{work} (a temporary directory), and C{sdist} and
        C{wheel} (paths), or C{problem} (why they could not be built).
    """
    if not _built:
        work = _built["work"] = tempfile.mkdtemp(prefix="nevowcache-packaging-")
        source = os.path.join(work, "clone")
        os.mkdir(source)
        problem = cleanTree(source)
        if problem:
            _built["problem"] = problem
            return _built
        # build makes the sdist, then the wheel from the sdist: a file
        # missing from the sdist is missing from the wheel too.
        rc, out = run([sys.executable, "-m", "build", "--outdir",
                       os.path.join(work, "dist"), source])
        if rc != 0:
            _built["problem"] = "python -m build failed:\n" + out
            return _built
        _built["sdist"], = glob.glob(os.path.join(work, "dist", "*.tar.gz"))
        _built["wheel"], = glob.glob(os.path.join(work, "dist", "*.whl"))
    return _built


class PackagingTests(TestCase):
    """
    Build the sdist and the wheel once, then install each in a fresh
    virtualenv per interpreter.
    """

    skip = toolSkip("build", "virtualenv")

    def setUp(self):
        built = artefacts()
        if "problem" in built:
            self.fail(built["problem"])
        self.work = tempfile.mkdtemp(dir=built["work"])
        self.addCleanup(shutil.rmtree, self.work, True)
        self.sdist, self.wheel = built["sdist"], built["wheel"]


    def interpreter(self, name):
        """
        The interpreter C{./dev test} found for an environment.
        """
        path = interpreters().get(name)
        if path is None:
            if inToolsEnvironment():
                self.fail("./dev test found no interpreter for %s" % (name,))
            raise SkipTest("run by ./dev test, which says where %s is" % (name,))
        return path


    def install(self, python, requirement):
        """
        Make a fresh virtualenv for C{python} and pip install C{requirement}
        into it.

        @return: the virtualenv's C{bin} directory.
        """
        venv = tempfile.mkdtemp(dir=self.work)
        os.rmdir(venv)
        rc, out = run([sys.executable, "-m", "virtualenv", "-q", "-p", python, venv])
        self.assertEqual(rc, 0, out)
        rc, out = run([os.path.join(venv, "bin", "python"), "-m", "pip", "install",
                       "-q", "--disable-pip-version-check", requirement])
        self.assertEqual(rc, 0, "pip install %s failed:\n%s" % (requirement, out))
        return os.path.join(venv, "bin")


    def assertRuns(self, command):
        """
        C{command} exits 0 (it is run outside the source tree).
        """
        rc, out = run(command, cwd=self.work)
        self.assertEqual(rc, 0, "%s failed:\n%s" % (" ".join(command), out))
        return out


    def checkPython2(self, artefact):
        bin = self.install(self.interpreter("py27"), artefact + "[nevow]")
        python = os.path.join(bin, "python")
        self.assertRuns([python, "-c", (
            "import nevow, nevowcache, nevowcache.web, nevowcache.admin\n"
            "from nevowcache import CachedPage, CachingSite\n"
            "from twisted.scripts import twistd\n"
            "assert nevowcache.__file__.startswith(%r), nevowcache.__file__\n"
            % (os.path.dirname(bin),))])
        out = self.assertRuns([os.path.join(bin, "twistd"), "--version"])
        self.assertIn("20.3.0", out)
        self.assertRuns([os.path.join(bin, "twistd"), "web", "--help"])


    def checkPython3(self, artefact, extra=""):
        bin = self.install(
            self.interpreter(os.environ.get("NEVOWCACHE_TOOLS_ENV", "py3")),
            artefact + extra)
        python = os.path.join(bin, "python")
        self.assertRuns([python, "-c", (
            "import os, nevowcache, nevowcache.web, nevowcache.admin\n"
            "assert nevowcache.__file__.startswith(%r), nevowcache.__file__\n"
            "here = os.path.dirname(nevowcache.__file__)\n"
            "for name in ('py.typed', '__init__.pyi', 'web.pyi', 'admin.pyi',\n"
            "             'testing.pyi', 'klein.pyi'):\n"
            "    assert os.path.exists(os.path.join(here, name)), name\n"
            % (os.path.dirname(bin),))])
        if extra == "[klein]":
            self.assertRuns([python, "-c", (
                "from nevowcache.klein import cached, invalidateRoute\n"
                "import klein\n"
                "app = klein.Klein()\n"
                "@app.route('/')\n"
                "@cached(cacheTimeout=5)\n"
                "def home(request):\n"
                "    return 'home'\n")])
        self.assertRuns([os.path.join(bin, "twistd"), "--version"])


    def test_wheelContents(self):
        """
        The wheel holds the package with its type information (stubs,
        C{py.typed}) and no tests, demo or benchmarks; the sdist also holds C{NEWS}, the
        tests and the requirements.
        """
        with zipfile.ZipFile(self.wheel) as wheel:
            names = wheel.namelist()
        self.assertIn("nevowcache/__init__.py", names)
        self.assertIn("nevowcache/_engine/pagecache.py", names)
        for name in ("py.typed", "__init__.pyi", "web.pyi", "admin.pyi", "testing.pyi",
                     "metrics.pyi", "klein.pyi"):
            self.assertIn("nevowcache/" + name, names)
        self.assertEqual([n for n in names if n.split("/")[0] in
                          ("tests", "demo", "bench", "admin")], [])
        with tarfile.open(self.sdist) as sdist:
            names = [n.split("/", 1)[1] for n in sdist.getnames() if "/" in n]
        for name in ("NEWS", "README.md", "LICENSE", "setup.py", "requirements/py27.txt",
                     "nevowcache/py.typed", "nevowcache/__init__.pyi",
                     "tests/test_behaviour.py", "tests/typecheck.ini"):
            self.assertIn(name, names)


    def test_wheelPython2(self):
        """
        C{pip install 'nevowcache-*.whl[nevow]'} on Python 2.7 gives a
        working Nevow, nevowcache and C{twistd}.
        """
        self.checkPython2(self.wheel)


    def test_sdistPython2(self):
        """
        The same from the sdist.
        """
        self.checkPython2(self.sdist)


    def test_wheelPython3(self):
        """
        The wheel installs on Python 3, with its type information, and with
        Klein for C{nevowcache.klein} (C{'nevowcache-*.whl[klein]'}).
        """
        self.checkPython3(self.wheel, "[klein]")


    def test_sdistPython3(self):
        """
        The same from the sdist.
        """
        self.checkPython3(self.sdist)
