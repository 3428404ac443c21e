"""
What the operator sees: statistics, their report, the Prometheus metrics and
the admin resource and page.

Private: the public names are in L{nevowcache}, L{nevowcache.web},
L{nevowcache.klein}, L{nevowcache.admin}, L{nevowcache.metrics}.
"""
