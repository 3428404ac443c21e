# -*- test-case-name: tests.test_metrics -*-
"""
A L{PageCache}'s figures for monitoring systems: the Prometheus text
exposition format (version 0.0.4), and a collector for applications that
register their metrics with C{prometheus_client}.

Labels are bounded: the only label of the per-page families is the page
class (at most C{CacheStatistics.maxPages}, the rest as C{(other)}); no URL
is ever a label.
"""

from __future__ import absolute_import, division

from nevowcache._operations.report import report

__all__ = ["families", "prometheusText", "PageCacheCollector", "CONTENT_TYPE"]

CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"

# Engine and store counters: (report name, metric name, help).
_COUNTERS = [
    ("collapsed", "collapsed", "Requests that waited for another request's render of their key."),
    ("renders", "renders", "Renders started (for requests and refreshes)."),
    ("renderFailures", "render_failures", "Renders that failed."),
    ("refreshes", "refreshes", "Background refreshes started."),
    ("refreshFailures", "refresh_failures", "Background refreshes that failed (stale kept)."),
    ("refreshesSkipped", "refreshes_skipped", "Refreshes not started: maxRefreshes were running."),
    ("bypasses", "bypasses", "Requests that did not use the cache (method, credentials, ...)."),
    ("refusals", "refusals", "Rendered responses not stored (storage rules, too many variants)."),
    ("waiterTimeouts", "waiter_timeouts", "Waiters that gave up on another's render."),
    ("storeErrors", "store_errors", "Store calls that failed or timed out (served uncached)."),
    ("varyOverflows", "vary_overflows", "Variants not stored: over maxVariants for their URL."),
    ("unsafeInvalidations", "unsafe_invalidations", "URLs invalidated by a successful unsafe request."),
    ("leaseWaits", "lease_waits", "Misses that waited for another process's render."),
    ("leaseTimeouts", "lease_timeouts", "Misses that stopped waiting for another process."),
    ("leaseBusy", "lease_busy", "Refreshes left to another process holding the lease."),
    ("evictions", "evictions", "Entries evicted to stay within the store's bounds."),
    ("tooLarge", "too_large", "Entries too large for the store."),
    ("storeCalls", "store_calls", "Calls to the shared store."),
    ("storeFailures", "store_failures", "Failed calls to the shared store."),
    ("storeTimeouts", "store_timeouts", "Calls to the shared store past their deadline."),
    ("shortCircuits", "store_short_circuits", "Store calls skipped while the circuit was open."),
]

# Gauges: (report name, metric name, help).
_GAUGES = [
    ("entries", "entries", "Entries in the store (this process's view)."),
    ("bytes", "bytes", "Bytes the store's entries take."),
    ("recordBytes", "record_bytes", "Bytes of records charged to the store's bound."),
    ("maxBytes", "max_bytes", "The store's byte bound."),
    ("maxEntries", "max_entries", "The store's entry bound."),
    ("inFlight", "in_flight", "Renders in flight (single-flight keys)."),
    ("refreshesRunning", "refreshes_running", "Background refreshes running."),
    ("uptime", "uptime_seconds", "Seconds since the cache started counting."),
    ("startedAt", "start_time_seconds", "When the cache started counting (Unix time)."),
]

# Per page class counters: (report page name, metric name, help).
_PAGE_COUNTERS = [
    ("hits", "hits", "Fresh hits."),
    ("staleHits", "stale_hits", "Stale hits (served while a refresh runs)."),
    ("misses", "misses", "Lookups that found nothing to serve (rendered)."),
    ("uncacheable", "uncacheable", "Misses that could never be stored (HEAD, refused responses)."),
    ("renderSecondsSaved", "render_seconds_saved",
     "Render time hits saved: hits times the mean render time."),
]



def families(figures, namespace="nevowcache"):
    """
    The metric families of a report.

    @param figures: What L{nevowcache._operations.report.report} returns.
    @return: C{[(name, type, help, [(sampleName, labels, value), ...]),
        ...]}, C{labels} a list of C{(name, value)}.
    """
    prefix = namespace + "_" if namespace else ""
    out = []
    pages = figures["pages"]
    for key, name, help in _PAGE_COUNTERS:
        full = prefix + name
        out.append((full, "counter", help,
                    [(full + "_total", [("page", page["name"])], page[key])
                     for page in pages]))
    for key, name, help in _COUNTERS:
        value = figures.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            full = prefix + name
            out.append((full, "counter", help, [(full + "_total", [], value)]))
    for key, name, help in _GAUGES:
        value = figures.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out.append((prefix + name, "gauge", help, [(prefix + name, [], value)]))
    circuit = figures.get("circuit")
    if circuit is not None:
        full = prefix + "store_circuit"
        out.append((full, "gauge", "The shared store's circuit breaker: 1 for its state.",
                    [(full, [("state", state)], int(state == circuit))
                     for state in ("closed", "open", "half-open")]))
    full = prefix + "render_seconds"
    samples = []
    bounds = figures["renderBuckets"]
    for page in pages:
        labels = [("page", page["name"])]
        cumulative = 0
        for bound, count in zip(bounds + [None], page["renderBuckets"]):
            cumulative += count
            samples.append((full + "_bucket", labels + [
                ("le", "+Inf" if bound is None else repr(float(bound)))], cumulative))
        samples.append((full + "_sum", labels, page["renderSeconds"]))
        samples.append((full + "_count", labels, page["renders"]))
    out.append((full, "histogram", "Time of finished renders, per page class.", samples))
    full = prefix + "info"
    out.append((full, "gauge", "nevowcache's version and store.",
                [(full, [("version", figures["version"]), ("store", figures["store"])], 1)]))
    return out



def _escape(value):
    return (value.replace(u"\\", u"\\\\").replace(u"\n", u"\\n")
            .replace(u'"', u'\\"'))



def _number(value):
    if isinstance(value, float):
        if value != value:
            return u"NaN"
        if value in (float("inf"), float("-inf")):
            return u"+Inf" if value > 0 else u"-Inf"
        return u"%r" % (value,)
    return u"%d" % (value,)



def prometheusText(cache, namespace="nevowcache"):
    """
    A cache's metrics in the Prometheus text exposition format 0.0.4
    (served as L{CONTENT_TYPE}).

    @param cache: A L{PageCache}.
    @return: L{bytes}, UTF-8.
    """
    lines = []
    for name, kind, help, samples in families(report(cache), namespace):
        # The text format names a counter by its samples' name (_total).
        if kind == "counter":
            name += "_total"
        lines.append(u"# HELP %s %s" % (name, help.replace(u"\\", u"\\\\")))
        lines.append(u"# TYPE %s %s" % (name, kind))
        for sampleName, labels, value in samples:
            if labels:
                labelText = u"{%s}" % (u",".join(
                    u'%s="%s"' % (label, _escape(text)) for label, text in labels),)
            else:
                labelText = u""
            lines.append(u"%s%s %s" % (sampleName, labelText, _number(value)))
    return (u"\n".join(lines) + u"\n").encode("utf-8")



class PageCacheCollector(object):
    """
    A C{prometheus_client} collector of a L{PageCache}'s metrics, for
    applications with a registry of their own::

        from prometheus_client import REGISTRY
        REGISTRY.register(PageCacheCollector(cache))

    The same families as C{/_cache/metrics}.  Needs C{prometheus_client}
    (an optional dependency: C{pip install nevowcache[prometheus]}).
    """

    def __init__(self, cache, namespace="nevowcache"):
        """
        @param cache: The L{PageCache}.
        @param namespace: The prefix of the metric names.
        """
        self.cache = cache
        self.namespace = namespace


    def collect(self):
        from prometheus_client.core import (
            CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily)
        from prometheus_client.samples import Sample
        kinds = {"counter": CounterMetricFamily, "gauge": GaugeMetricFamily,
                 "histogram": HistogramMetricFamily}
        for name, kind, help, samples in families(report(self.cache), self.namespace):
            family = kinds[kind](name, help, labels=())
            for sampleName, labels, value in samples:
                family.samples.append(Sample(sampleName, dict(labels), value, None, None))
            yield family


    def describe(self):
        """
        Nothing: the families depend on the pages seen, so the registry
        collects to learn them.
        """
        return []
