"""
REDbot, the HTTP linter, against live cached servers of both adapters.

Each adapter's pages (L{tests.lintsite}) are served by a process of their
own on a loopback port: the Nevow adapter under C{CachingSite} on Python
2.7, the twisted.web adapter and the Klein adapter on this interpreter.  REDbot (Python 3, as a
library: L{tests.redbotcheck}, one URL per process, with a watchdog) lints
a fresh hit, a stale hit, a C{304}, C{HEAD}, gzip through
C{EncodingResourceWrapper} (twisted.web), C{cacheControl = "public"}, a
page with its own C{Cache-Control} and a render that crosses a second
boundary.  No note may be of level "bad"; a "warning" only if
L{ALLOWED_WARNINGS} lists it, and docs/http.md says why it stays.
"""

from __future__ import absolute_import, division

import json
import os
import subprocess
import sys
import time

from twisted.trial.unittest import SkipTest, TestCase

try:
    import redbot.resource
    import thor
except ImportError as e:
    skipReason = "redbot cannot be imported: %s" % (e,)
else:
    skipReason = None

if sys.version_info[0] >= 3:
    from urllib.request import Request, urlopen
else:
    from urllib2 import Request, urlopen

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The warnings that stay, by note, with the pages they may come from (None:
# any); docs/http.md says why for each.
ALLOWED_WARNINGS = {
    # cacheControl = "public" says public.
    "STORE_PUBLIC_UNNECESSARY": ("public",),
}

# Each check: (name, path, method, request headers, adapters, prime).
CHECKS = [
    ("slow", "/slow", "GET", [], ("web", "nevow", "klein"), False),
    ("fresh", "/fresh", "GET", [], ("web", "nevow", "klein"), True),
    ("304", "/fresh", "GET", ["If-None-Match: {etag}"], ("web", "nevow", "klein"), True),
    ("head", "/fresh", "HEAD", [], ("web", "nevow", "klein"), True),
    ("stale", "/stale", "GET", [], ("web", "nevow", "klein"), True),
    ("public", "/public", "GET", [], ("web", "nevow", "klein"), True),
    ("own", "/own", "GET", [], ("web", "nevow", "klein"), True),
    ("gzip", "/gzip", "GET", [], ("web",), True),
    ("gzip-asked", "/gzip", "GET", ["Accept-Encoding: gzip"], ("web",), True),
]

# Where the notes of the last run are written (for the record).
NOTES_FILE = os.path.join(ROOT, ".venv", "redbot-notes.json")



def _python27():
    return os.environ.get("NEVOWCACHE_LINT_PY27") or os.path.join(
        ROOT, ".venv", "py27", "bin", "python")



class _Server(object):
    """
    A L{tests.lintsite} process, stopped by closing its standard input.
    """

    def __init__(self, python, adapter):
        env = dict(os.environ, PYTHONPATH=ROOT)
        self.process = subprocess.Popen(
            [python, "-m", "tests.lintsite", "--adapter", adapter],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, env=env)
        line = self.process.stdout.readline().decode("ascii")
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError("lint site (%s) did not start: %r" % (adapter, line))
        self.base = "http://127.0.0.1:%d" % (int(line.split()[1]),)


    def get(self, path, headers=()):
        request = Request(self.base + path)
        for name, value in headers:
            request.add_header(name, value)
        response = urlopen(request, timeout=30)
        response.read()
        return response


    def stop(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()



def lintAll(server, adapter):
    """
    Prime the pages, then lint every check of C{adapter}, all at once, one
    REDbot process each.

    @return: A L{dict} of check names to REDbot's results.
    """
    checks = [c for c in CHECKS if adapter in c[4]]
    etag = None
    for name, path, method, headers, adapters, prime in checks:
        if prime:
            response = server.get(path)
            etag = etag or (response.headers.get("ETag") if path == "/fresh" else None)
    # The stale page is fresh for 1 s.
    time.sleep(1.2)
    env = dict(os.environ, PYTHONPATH=ROOT)
    running = {}
    for name, path, method, headers, adapters, prime in checks:
        argv = [sys.executable, "-m", "tests.redbotcheck", server.base + path,
                "--method", method, "--timeout", "30"]
        for header in headers:
            argv += ["--header", header.format(etag=etag)]
        running[name] = subprocess.Popen(argv, stdout=subprocess.PIPE, cwd=ROOT, env=env)
    results = {}
    for name, process in running.items():
        out, _ = process.communicate(timeout=60)
        results[name] = json.loads(out.decode("utf-8")) if out else {
            "complete": False, "notes": [], "status": None}
    return results



class RedbotTests(TestCase):
    """
    REDbot finds nothing bad, and warns only of what L{ALLOWED_WARNINGS}
    lists.
    """
    skip = skipReason
    timeout = 180

    def lint(self, python, adapter):
        server = _Server(python, adapter)
        try:
            results = lintAll(server, adapter)
        finally:
            server.stop()
        self._record(adapter, results)
        return results


    def _record(self, adapter, results):
        try:
            with open(NOTES_FILE) as f:
                recorded = json.load(f)
        except (IOError, OSError, ValueError):
            recorded = {}
        recorded[adapter] = results
        try:
            with open(NOTES_FILE, "w") as f:
                json.dump(recorded, f, indent=1, sort_keys=True)
        except (IOError, OSError):
            pass


    def assertClean(self, adapter, results):
        problems = []
        for name, result in sorted(results.items()):
            if not result["complete"]:
                problems.append("%s: REDbot did not finish" % (name,))
            for note in result["notes"]:
                level = note["level"]
                allowed = ALLOWED_WARNINGS.get(note["name"], ())
                if level == "bad" or (level == "warning" and not (
                        note["name"] in ALLOWED_WARNINGS
                        and (allowed is None or name in allowed))):
                    problems.append("%s %s (%s): %s %s" % (
                        name, level, note["check"], note["name"], note["summary"]))
        self.assertEqual(problems, [], "%s adapter" % (adapter,))
        # REDbot did look: the requests it made got what they were sent for.
        self.assertEqual(results["304"]["status"], 304)
        for name in ("fresh", "stale", "public", "own", "slow", "head"):
            self.assertEqual(results[name]["status"], 200, name)
        names = set(n["name"] for n in results["fresh"]["notes"])
        self.assertTrue(set(["INM_304", "IMS_304"]) <= names, names)
        if "gzip" in results:
            names = set(n["name"] for n in results["gzip"]["notes"])
            self.assertIn("CONNEG_GZIP_GOOD", names)


    def test_web(self):
        """
        The twisted.web adapter.
        """
        self.assertClean("web", self.lint(sys.executable, "web"))


    def test_klein(self):
        """
        The Klein adapter: a Klein app's routes behind
        L{nevowcache.klein.cached}.
        """
        try:
            import klein  # noqa: F401
        except ImportError:
            raise SkipTest("Klein (requirements/py3.txt) is installed on Python 3 only")
        self.assertClean("klein", self.lint(sys.executable, "klein"))


    def test_nevow(self):
        """
        The Nevow adapter (under C{CachingSite}), on Python 2.7.
        """
        python = _python27()
        self.assertTrue(os.path.exists(python),
                        "no Python 2.7 virtualenv at %s (./dev setup)" % (python,))
        self.assertClean("nevow", self.lint(python, "nevow"))


    def test_warningsDocumented(self):
        """
        Every warning allowed to stay is in docs/http.md.
        """
        with open(os.path.join(ROOT, "docs", "http.md")) as f:
            text = f.read()
        for name in ALLOWED_WARNINGS:
            self.assertIn(name, text)
