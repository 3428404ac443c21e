"""
Tests for nevowcache.  Run with C{./dev test} (both interpreters).
"""

from __future__ import absolute_import, division

from hypothesis import Phase, settings

# No test here steers Hypothesis with target(); its "target" phase then only
# optimises the Pareto front it keeps in the example database, which
# Hypothesis 4.57 (the Python 2.7 environment) can spend many minutes on in a
# single test.  Keep every other phase, the database's replay included.
settings.register_profile("nevowcache", phases=[
    Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])
settings.load_profile("nevowcache")
