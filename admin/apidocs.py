"""
Build nevowcache's API reference with pydoctor (C{./dev docs}), and fail on
what makes it wrong: a docstring epytext cannot parse, a C{L{...}} link to a
name that does not exist, a documented parameter the function does not have.

    python admin/apidocs.py [--output DIR]   # default: build/apidocs

pydoctor cannot link to Twisted's or Python's own documentation here (the
build is offline), so it also reports links to names that do exist outside
nevowcache (C{L{twisted.web.resource.IResource}}, C{L{bytes}}); those are
accepted when the name imports in this interpreter (or is in Nevow, which
Python 3 cannot import). The short names of ALIASES
(C{L{Deferred}}) count as their full names. Any other name pydoctor could not
resolve is a broken link.

Exits 0 when there is nothing to fix, 1 otherwise (each problem printed as
C{path:line: message}).
"""

from __future__ import absolute_import, division, print_function

import argparse
import importlib
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Packages whose names a docstring may link to; Nevow only imports on 2.7.
UNIMPORTABLE_ROOTS = ("nevow",)

# Short names the docstrings use for Twisted's and Python's own: pydoctor
# cannot resolve them where the module does not import them, and they are no
# broken link when what they stand for exists.
ALIASES = {
    "Deferred": "twisted.internet.defer.Deferred",
    "Failure": "twisted.python.failure.Failure",
    "Headers": "twisted.web.http_headers.Headers",
    "IReactorTime": "twisted.internet.interfaces.IReactorTime",
    "IReactorTCP": "twisted.internet.interfaces.IReactorTCP",
    "IReactorFDSet": "twisted.internet.interfaces.IReactorFDSet",
    "IStreamClientEndpoint": "twisted.internet.interfaces.IStreamClientEndpoint",
    "IRenderable": "twisted.web.iweb.IRenderable",
    "OrderedDict": "collections.OrderedDict",
    "Componentized": "twisted.python.components.Componentized",
    "task": "twisted.internet.task",
}

_LINK = re.compile(r'^(?P<where>\S+:\d+): Cannot find link target for "(?P<name>[^"]+)"'
                   r'(?:, resolved from "(?P<alias>[^"]+)")?')
_WHERE = re.compile(r"^\S+\.py:\d+: ")


def version():
    """
    @return: C{nevowcache.__version__}, read without importing the package.
    """
    with open(os.path.join(ROOT, "nevowcache", "__init__.py")) as f:
        return re.search(r'^__version__ = "([^"]+)"', f.read(), re.M).group(1)


def exists(name):
    """
    Whether a dotted name outside nevowcache exists in this interpreter.

    @param name: a full dotted name (C{twisted.web.resource.IResource}) or a
        builtin (C{bytes}).
    @type name: L{str}
    @rtype: L{bool}
    """
    if name.split(".")[0] in UNIMPORTABLE_ROOTS:
        return True
    if name.startswith("nevowcache"):
        return False
    first, dot, rest = name.partition(".")
    if first in ALIASES:
        name = ALIASES[first] + dot + rest
    builtins = importlib.import_module("builtins")
    if "." not in name and hasattr(builtins, name):
        return True
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            try:
                obj = getattr(obj, attr)
            except AttributeError:
                # A zope.interface Interface's methods are not attributes.
                get = getattr(obj, "get", None)
                obj = get(attr) if callable(get) else None
                if obj is None:
                    return False
        return True
    return False


def problems(output):
    """
    The problems in pydoctor's output, less links to names that exist.

    @param output: what pydoctor printed.
    @type output: L{str}
    @return: the lines to fix.
    @rtype: L{list} of L{str}
    """
    found = []
    for line in output.splitlines():
        link = _LINK.match(line)
        if link:
            if not exists(link.group("name")):
                found.append(line.replace(
                    " (you can link to external docs with --intersphinx)", ""))
        elif _WHERE.match(line):
            found.append(line)
        elif "docstrings contain syntax errors" in line:
            found.append(line.strip())
    return sorted(set(found))


def build(output, package):
    """
    Run pydoctor over a package.

    @param output: the directory for the HTML.
    @param package: the package's directory.
    @return: C{(exit code, what pydoctor printed)}.
    """
    command = [
        sys.executable, "-m", "pydoctor",
        "--project-name=nevowcache",
        "--project-version=" + version(),
        "--project-base-dir=" + os.path.dirname(package),
        "--docformat=epytext",
        "--html-output=" + output,
        "--quiet",
        package,
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, cwd=ROOT)
    out = process.communicate()[0].decode("utf-8", "replace")
    return process.returncode, out.replace(os.path.dirname(package) + os.sep, "")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--output", default=os.path.join(ROOT, "build", "apidocs"))
    parser.add_argument("--package", default=os.path.join(ROOT, "nevowcache"),
                        help="another package to check (the tests' broken one)")
    args = parser.parse_args(argv[1:])
    rc, out = build(args.output, args.package)
    found = problems(out)
    for line in found:
        print(line)
    if rc not in (0, 3) and not found:
        print(out)
        print("apidocs: pydoctor failed (exit code %d)" % (rc,))
        return 1
    if found:
        print("apidocs: %d problem(s) to fix in the docstrings above" % (len(found),))
        return 1
    print("apidocs: %s written, no broken references"
          % (os.path.join(args.output, "index.html"),))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
