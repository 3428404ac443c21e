"""
The framework-neutral engine: L{PageCache} (C{pagecache}) and its collaborators,
one concept per module: keys are looked up, judged, rendered once, stored,
refreshed and invalidated here, for every adapter and every store.

Private: the public names are in L{nevowcache}, L{nevowcache.web},
L{nevowcache.klein}, L{nevowcache.admin}, L{nevowcache.metrics}.
"""
