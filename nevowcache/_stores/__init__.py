"""
Where entries live: the store interfaces and one module per store (memory,
memcached, Redis, the near tier), with what the shared stores have in common
(their byte format, connections, deadlines and circuit breaker, coherence).

Private: the public names are in L{nevowcache}, L{nevowcache.web},
L{nevowcache.klein}, L{nevowcache.admin}, L{nevowcache.metrics}.
"""
