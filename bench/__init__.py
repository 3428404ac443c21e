"""
The nevowcache benchmark suite: run on demand with C{./dev bench} (see
C{bench/README.md}); never part of the test suite or CI.
"""
