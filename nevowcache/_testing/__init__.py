"""
What an application's own tests use: a client that sends requests to a site
in memory, a store that fails on demand.

Private: the public names are in L{nevowcache.testing}.
"""
