"""
Tests for nevowcache.  Run with C{./dev test} (both interpreters).
"""
