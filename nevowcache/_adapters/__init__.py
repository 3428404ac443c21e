"""
The adapters: the one front every framework drives (C{front}), and
the thin layers for Nevow pages and sites, twisted.web resources and sites,
and Klein routes.

Private: the public names are in L{nevowcache}, L{nevowcache.web},
L{nevowcache.klein}, L{nevowcache.admin}, L{nevowcache.metrics}.
"""
