"""
The benchmark's servers.  Each is a small script that the runner
(L{bench.run}) starts as its own process on 127.0.0.1:

  - L{bench.servers.nevowsite}: Nevow 0.14.5 pages on Python 2.7 (uncached,
    the naive 2005 dict cache, nevowcache's C{CachedPage}, and
    C{nevowcache.CachingSite} when there is one);
  - L{bench.servers.website}: twisted.web resources on Python 2.7 or 3 (a
    bare C{Resource} returning the page's bytes, and nevowcache's
    C{CachedResource} in front of the same).

nginx, the out-of-process ceiling, is configured by the runner itself.
"""
