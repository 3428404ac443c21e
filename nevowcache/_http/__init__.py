"""
HTTP responses and requests as the engine sees them: cache keys, capturing a
render, the storage rules, stored entries, replaying them, validators.

Private: the public names are in L{nevowcache}, L{nevowcache.web},
L{nevowcache.klein}, L{nevowcache.admin}, L{nevowcache.metrics}.
"""
