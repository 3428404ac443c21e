"""
Where the checks that need the tools (pydoctor, mypy, virtualenv) run.

C{./dev test} installs the tools (C{requirements/tools.txt}) in the default
Python 3 environment only, and tells each run which environment it is
(C{NEVOWCACHE_ENV}) and which one has the tools (C{NEVOWCACHE_TOOLS_ENV}).
There a missing tool is a failure; elsewhere the check is skipped, saying
where it runs.
"""

from __future__ import absolute_import, division

import importlib
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def inToolsEnvironment():
    """
    @return: whether C{./dev test} runs this interpreter as the one with the
        tools.
    @rtype: L{bool}
    """
    env = os.environ.get("NEVOWCACHE_ENV")
    return env is not None and env == os.environ.get("NEVOWCACHE_TOOLS_ENV")


def toolSkip(*modules):
    """
    The reason to skip a check that imports C{modules}, or L{None} to run it.

    @param modules: module names (C{"pydoctor"}).
    @return: L{None} when they import, or in the tools' environment (where
        the check then fails on the import); else a reason naming the
        environment that runs the check.
    """
    if inToolsEnvironment():
        return None
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            return ("%s is not installed in this environment (Python %s): the "
                    "check runs in the default Python 3 environment, "
                    ".venv/%s (requirements/tools.txt)"
                    % (name, sys.version.split()[0],
                       os.environ.get("NEVOWCACHE_TOOLS_ENV", "py3")))
    return None
