# -*- test-case-name: tests.test_metrics -*-
"""
A L{nevowcache.PageCache}'s metrics for monitoring systems.

The admin resource serves them at C{/_cache/metrics} in the Prometheus text
format.  Applications with a C{prometheus_client} registry of their own
register a collector instead::

    from prometheus_client import REGISTRY
    from nevowcache.metrics import PageCacheCollector
    REGISTRY.register(PageCacheCollector(cache))

(C{pip install nevowcache[prometheus]}; C{prometheus_client} is imported
only when collecting.)
"""

from __future__ import absolute_import, division

from nevowcache._operations.metrics import CONTENT_TYPE, PageCacheCollector, prometheusText

__all__ = ["PageCacheCollector", "prometheusText", "CONTENT_TYPE"]
