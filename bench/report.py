"""
Turn a run's results (the dict L{bench.run} writes to C{latest.json}) into
the Markdown report and the PNG chart (Python 3; the chart needs
matplotlib).

    python -m bench.report bench/results/latest.json   # re-render both
"""

import json
import os
import statistics
import sys

__all__ = ["markdown", "chart"]

BASELINE = "bare27"

SIZE_NAMES = {"1k": "1 KB", "10k": "10.6 KB", "100k": "100 KB"}



def median(runs, field):
    """
    @return: The median of C{field} over C{runs}, or L{None}.
    """
    values = [r[field] for r in runs if r.get(field) is not None]
    return statistics.median(values) if values else None



def pairedRatio(runs, baseRuns, field="rps"):
    """
    The median, over rounds, of C{runs}' figure divided by C{baseRuns}'
    figure of the same round: each ratio compares two runs made seconds
    apart, so that a change in the machine's load between rounds cancels.

    @return: The ratio, or L{None}.
    """
    base = dict((r.get("round", i), r.get(field)) for i, r in enumerate(baseRuns))
    ratios = [r[field] / base[r.get("round", i)] for i, r in enumerate(runs)
              if r.get(field) is not None and base.get(r.get("round", i))]
    return statistics.median(ratios) if ratios else None



def _rate(value):
    if value is None:
        return "—"
    return "{:,.0f}".format(value) if value >= 100 else "{:.1f}".format(value)



def _ratio(value, baseline):
    if value is None or not baseline:
        return None
    return value / baseline



def _x(ratio):
    if ratio is None:
        return "—"
    return "%.2f×" % (ratio,) if ratio < 10 else "%.1f×" % (ratio,)



def _mib(n):
    return "%.1f MiB" % (n / 2 ** 20,) if n is not None else "—"



def _ms(value):
    if value is None:
        return "—"
    return "%.2f ms" % (value,) if value < 10 else "%.1f ms" % (value,)



def _servers(results, table):
    order = results.get("order") or sorted(results["labels"])
    return [n for n in order if n in table]



def _label(results, name):
    return "`%s` %s" % (name, results["labels"].get(name, name))



def throughput(results, size, concurrency):
    """
    @return: C{{server: (median req/s, ratio to the baseline)}} for one
        page size and concurrency, or L{None} if it was not measured.
    """
    runs = results["wrk"].get(size, {}).get(str(concurrency))
    if not runs:
        return None
    base = runs.get(BASELINE, [])
    out = {}
    for name, serverRuns in runs.items():
        out[name] = (median(serverRuns, "rps"), pairedRatio(serverRuns, base))
    return out



def _unavailable(results, lines):
    for name, why in sorted(results.get("unavailable", {}).items()):
        lines.append("| %s | %s |" % (_label(results, name), why))



def markdown(results):
    """
    @return: The report, as Markdown text.
    """
    s = results["settings"]
    m = results["machine"]
    lines = []
    add = lines.append
    add("# nevowcache benchmark results")
    add("")
    add("Machine: %d CPUs (`nproc`), %s, %s RAM, Linux %s; %s. Load average %s at the "
        "start, %s at the end (the machine is shared: other work may have run meanwhile)." % (
            m["nproc"], m["cpu"], m["memory"], m["kernel"], m["date"], m.get("loadavg", "?"),
            m.get("loadavgEnd", "?")))
    add("Code: commit %s. Tools: %s." % (m["commit"], ", ".join(
        m[k] for k in ("wrk", "ab", "nginx") if m.get(k))))
    add("Run: `%s` mode, %d interleaved round(s) per figure (medians), wrk runs of %d s "
        "(`-t1`, keep-alive, `--latency`), %s; extra render cost %g ms; took %.0f s." % (
            s["mode"], s["rounds"], s["duration"],
            "servers pinned to CPU 0 and clients to CPU 1" if s["pinned"] else "not pinned",
            s["renderMs"], results.get("elapsed", 0)))
    cpu = results.get("cpu")
    if cpu:
        add("CPU time during the run: this run's processes %.0f CPU-s, other processes %.0f "
            "CPU-s (%.0f%% of the %d CPUs over %.0f s)." % (
                cpu["ours"], cpu["others"],
                100 * cpu["others"] / (cpu["wall"] * cpu["cpus"]) if cpu["wall"] else 0,
                cpu["cpus"], cpu["wall"]))
    add("Page: %s bytes (the seed's 10,606-byte page: a Nevow table of 100 rows through "
        "data/render methods); also %s and %s bytes." % tuple(
            "{:,}".format(results["pageBytes"][k]) for k in ("10k", "1k", "100k")))
    add("")
    add("Every throughput is also given as a ratio (×) to `%s`, the bare twisted.web "
        "Resource on Python 2.7 / Twisted 20.3 serving the same bytes, measured in the "
        "same run with the same client and concurrency: the median over rounds of the "
        "ratio to the baseline's run of the same round." % (BASELINE,))
    add("")
    for note in results.get("notes", []):
        add("- Note: %s" % (note,))
    if results.get("notes"):
        add("")

    # wrk, 10.6 KB
    table = results["wrk"].get("10k")
    if table:
        cs = [c for c in s["concurrency"] if str(c) in table]
        add("## Throughput, 10.6 KB page (wrk)")
        add("")
        add("Requests per second (median) and × baseline, by wrk connections.")
        add("")
        add("| server | " + " | ".join("c=%d" % c for c in cs) + " |")
        add("| --- | " + " | ".join("---:" for _ in cs) + " |")
        per = dict((c, throughput(results, "10k", c)) for c in cs)
        for name in _servers(results, table[str(cs[0])]):
            cells = []
            for c in cs:
                rps, ratio = per[c].get(name, (None, None))
                cells.append("%s · **%s**" % (_rate(rps), _x(ratio)))
            add("| %s | %s |" % (_label(results, name), " | ".join(cells)))
        _unavailable(results, lines)
        errors = []
        for c in cs:
            for name, runs in table[str(c)].items():
                bad = sum(r["errors"] + r["non2xx"] for r in runs)
                if bad:
                    errors.append("%s c=%d: %d" % (name, c, bad))
        add("")
        if errors:
            add("Socket errors or non-2xx responses: " + "; ".join(errors) + ".")
        else:
            add("No socket errors, no non-2xx responses.")
        add("")

    # ab
    if results.get("ab"):
        add("## The seed's command: `ab -n %d -c %d` (HTTP/1.0, no keep-alive)"
            % (s["abRequests"], s["abConcurrency"]))
        add("")
        base = results["ab"].get(BASELINE, [])
        add("| server | req/s (median) | × baseline | failed |")
        add("| --- | ---: | ---: | ---: |")
        for name in _servers(results, results["ab"]):
            runs = results["ab"][name]
            add("| %s | %s | **%s** | %d |" % (_label(results, name), _rate(median(runs, "rps")),
                                             _x(pairedRatio(runs, base)),
                                             sum(r["failed"] for r in runs)))
        add("")
        add("(The 2005 patch measured 7 req/s uncached and 227 req/s cached with this "
            "command on its page; `nc-miss` is not run with ab, which asks for one URL.)")
        add("")

    # sizes
    c = s["sizeConcurrency"]
    per = dict((size, throughput(results, size, c)) for size in ("1k", "10k", "100k"))
    if per["1k"] or per["100k"]:
        sizes = [k for k in ("1k", "10k", "100k") if per[k]]
        add("## Page sizes (wrk, c=%d)" % (c,))
        add("")
        add("| server | " + " | ".join("%s (%s B)" % (SIZE_NAMES[k], "{:,}".format(
            results["pageBytes"][k])) for k in sizes) + " |")
        add("| --- | " + " | ".join("---:" for _ in sizes) + " |")
        names = _servers(results, per[sizes[0]])
        for name in names:
            if name in ("nc-miss", "nc-stale"):
                continue
            cells = []
            for k in sizes:
                rps, ratio = per[k].get(name, (None, None))
                cells.append("%s · **%s**" % (_rate(rps), _x(ratio)))
            add("| %s | %s |" % (_label(results, name), " | ".join(cells)))
        add("")

    # stale vs fresh
    if table and "nc-stale" in table.get(str(s["concurrency"][0]), {}):
        add("## Latency: stale hits while refreshes run vs fresh hits (wrk --latency, 10.6 KB)")
        add("")
        add("`nc-stale` has `cacheTimeout = %g s`: its entry goes stale almost at once, so "
            "background refreshes run all the time; `nc-fresh` never refreshes. wrk is "
            "closed-loop: a stalled reactor shows in the tail, not as lost requests."
            % (s["staleTimeout"],))
        add("")
        add("| c | fresh p50 | fresh p99 | stale p50 | stale p99 | stale p99 ÷ fresh p99 | "
            "stale share of hits | refreshes/s |")
        add("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for c in s["concurrency"]:
            runs = table.get(str(c))
            if not runs or not runs.get("nc-stale") or not runs.get("nc-fresh"):
                continue
            fresh, stale = runs["nc-fresh"], runs["nc-stale"]
            f99, s99 = median(fresh, "p99"), median(stale, "p99")
            counts = {}
            for r in stale:
                for k, v in r.get("cache", {}).items():
                    counts[k] = counts.get(k, 0) + v
            hits = counts.get("hits", 0) + counts.get("staleHits", 0)
            share = counts.get("staleHits", 0) / hits if hits else None
            seconds = len(stale) * s["duration"]
            add("| %d | %s | %s | %s | %s | **%s** | %s | %.1f |" % (
                c, _ms(median(fresh, "p50")), _ms(f99), _ms(median(stale, "p50")), _ms(s99),
                _x(_ratio(s99, f99)), "%.0f%%" % (100 * share,) if share is not None else "—",
                counts.get("refreshes", 0) / seconds if seconds else 0))
        add("")

    # burst
    if results.get("burst"):
        add("## Cold burst")
        add("")
        add("%d connections opened, then one GET each sent at once for one cold URL of a "
            "cached 10.6 KB page whose data takes %g ms to arrive (a Deferred); renders "
            "counted by the server." % (s["burst"], s["burstDelayMs"]))
        add("")
        add("| server | requests | renders | 200 | full bodies | Cache-Status | p50 | slowest | "
            "errors |")
        add("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
        for name, b in sorted(results["burst"].items()):
            statuses = ", ".join("%s × %d" % (k, v) for k, v in sorted(
                b["cacheStatus"].items(), key=lambda kv: -kv[1]))
            add("| %s | %d | **%d** | %d | %d | %s | %s | %s | %d |" % (
                _label(results, name), b["count"], b["renders"],
                b["statuses"].get("200", b["statuses"].get(200, 0)), b["bodyOk"], statuses,
                _ms(b.get("p50")), _ms(b.get("max")), sum(b["errors"].values())))
        add("")

    # flood
    f = results.get("flood")
    if f:
        growth = f["afterRss"] - f["baselineRss"]
        peakGrowth = f["peakRss"] - f["baselineRss"]
        store = f["store"]
        add("## Memory flood")
        add("")
        add("%s distinct query-string URLs (`/%s?r=N`, %s-byte page) sent over 16 keep-alive "
            "connections, 8 pipelined requests at a time, to nevowcache's %s adapter (Python %s, Twisted %s) with a "
            "`MemoryStore(maxBytes=%s)`; RSS from `/proc/PID/status`." % (
                "{:,}".format(f["urls"]), s["floodSize"], "{:,}".format(f["pageBytes"]),
                "Nevow" if f["server"] == "nevow" else "twisted.web", f["python"],
                f["twisted"], "{:,}".format(f["maxBytes"])))
        add("")
        add("| | |")
        add("| --- | ---: |")
        add("| store byte bound | %s |" % (_mib(f["maxBytes"]),))
        add("| RSS before (warmed up, 1 entry) | %s |" % (_mib(f["baselineRss"]),))
        add("| RSS after | %s |" % (_mib(f["afterRss"]),))
        add("| peak RSS (VmHWM) | %s |" % (_mib(f["peakRss"]),))
        add("| growth after ÷ byte bound | **%.2f×** |" % (growth / f["maxBytes"],))
        add("| peak growth ÷ byte bound | %.2f× |" % (peakGrowth / f["maxBytes"],))
        add("| entries at the end, accounted bytes | {:,}, {} |".format(
            store["entries"], _mib(store["bytes"])))
        # Invalidation records and the engine's per-URL records, charged
        # within the same bound (stores from before they were have none).
        records = store.get("recordBytes", 0)
        if records:
            add("| per-URL records, accounted bytes | %s |" % (_mib(records),))
        add("| real bytes per entry (growth ÷ entries) vs accounted | {:,.0f} vs {:,.0f} |"
            .format(growth / store["entries"] if store["entries"] else 0,
                    (store["bytes"] + records) / store["entries"] if store["entries"] else 0))
        add("| evictions | {:,} |".format(store.get("evictions", 0)))
        add("| responses | %s in %.0f s (%.0f/s) |" % (
            ", ".join("%s × %s" % (k, "{:,}".format(v)) for k, v in f["statuses"].items()),
            f["elapsed"], f["urls"] / f["elapsed"] if f["elapsed"] else 0))
        add("")

    # profile
    p = results.get("profile")
    if p:
        keys = [k for k in ("py27", "py3") if k in p]
        add("## The hit path in process (no sockets)")
        add("")
        add("Microseconds per request through Twisted's HTTP parser and serializer over a "
            "StringTransport (median of 5 runs), and the cache's own work on a hit timed "
            "directly (the best of 5 batches).")
        add("")
        add("| | " + " | ".join("Python %s, Twisted %s" % (p[k]["python"], p[k]["twisted"])
                                  for k in keys) + " |")
        add("| --- | " + " | ".join("---:" for _ in keys) + " |")
        rows = [("bare", "bare twisted.web Resource"),
                ("web", "nevowcache.web CachedResource hit"),
                ("nevow", "Nevow page, uncached"), ("naive", "naive 2005 dict cache hit"),
                ("nc-fresh", "nevowcache CachedPage hit"),
                ("nc-site", "nevowcache.CachingSite hit")]
        for key, label in rows:
            if any(key in p[k]["usPerRequest"] for k in keys):
                add("| %s | %s |" % (label, " | ".join(
                    "%.0f µs" % p[k]["usPerRequest"][key] if key in p[k]["usPerRequest"]
                    else "—" for k in keys)))
        for key, label in (("bypassReason", "cache's own work: `bypassReason`"),
                           ("policy", "cache's own work: `CachePolicy.fromPage`"),
                           ("keyFor", "cache's own work: `keyFor`"),
                           ("answerAtOnce", "cache's own work: `answerAtOnce` (the "
                            "synchronous hit decision adapters try first)"),
                           ("serve", "(the general path instead: `serve`, lookup + "
                            "decide through a Deferred)"),
                           ("replay", "(a hit that cannot be written directly: "
                            "`Answer.replay`)"),
                           ("writeDirect", "cache's own work: `Answer.writeDirect` "
                            "(status line, headers and body in one write)"),
                           ("total", "**cache's own work per hit, total** (bypass, "
                            "policy, key, `answerAtOnce`, `writeDirect`)")):
            if not all(key in p[k]["ownWork"] for k in keys):
                continue
            add("| %s | %s |" % (label, " | ".join(
                "%.1f µs" % p[k]["ownWork"][key] for k in keys)))
        add("| share of the profiled hit in nevowcache's functions (cProfile) | %s |" % (
            " | ".join("%.0f%% (%s)" % (100 * p[k]["profileShare"], p[k]["profiled"])
                       for k in keys),))
        add("")
        for k in keys:
            top = p[k].get("profileTop", [])
            if top:
                add("Top nevowcache functions by own time, %s (µs per request under "
                    "cProfile, which inflates them): %s." % (k, ", ".join(
                        "`%s` %.1f" % (t["function"], t["usPerRequest"]) for t in top[:6])))
                add("")

    # targets
    add("## Issue #6 targets")
    add("")
    add("| target | measured | met |")
    add("| --- | --- | :---: |")
    for target, measured, met in targets(results):
        add("| %s | %s | %s |" % (target, measured, {True: "yes", False: "**no**",
                                                       None: "—"}[met]))
    add("")
    add("![chart](chart.png)")
    add("")
    return "\n".join(lines) + "\n"



def targets(results):
    """
    Check the measured figures against the targets of issue #6.

    @return: C{[(target, measured, met)]}; C{met} is L{None} when not
        measured.
    """
    s = results["settings"]
    out = []
    cs = s["concurrency"]

    table = results["wrk"].get("10k", {})

    def ratios(name, over=BASELINE):
        values = {}
        for c in cs:
            runs = table.get(str(c), {})
            if runs.get(name) and runs.get(over):
                values[c] = pairedRatio(runs[name], runs[over])
        return dict((c, v) for c, v in values.items() if v is not None)

    def check(target, values, threshold, absent="not measured"):
        if not values:
            out.append((target, absent, None))
            return
        text = ", ".join("c=%d: %s" % (c, _x(v)) for c, v in sorted(values.items()))
        out.append((target, text, min(values.values()) >= threshold))

    for name in ("nc-fresh", "nc-site"):
        absent = results.get("unavailable", {}).get(name, "not measured")
        check("`%s` ≥ 0.9× bare py2.7 Resource (wrk, 10.6 KB)" % (name,), ratios(name), 0.9,
              absent)
        check("`%s` ≥ 2× naive dict cache" % (name,), ratios(name, "naive"), 2.0, absent)
    check("`naive` at 0.45–0.65× bare (the issue's estimate; for reference)",
          ratios("naive"), 0.0)
    out[-1] = (out[-1][0], out[-1][1], None)
    check("`web3` ≥ 0.9× bare py3 Resource", ratios("web3", "bare3"), 0.9)
    # Issue 18: a near-tier hit costs what a MemoryStore hit through the
    # same site kind costs; a shared-store hit without one, at least twice
    # what it cost before (0.28× bare for memcached, 0.21× for Redis).
    for near, memory in (("nc-redis-near", "nc-fresh"), ("nc-mc-near", "nc-fresh"),
                         ("site-redis-near", "nc-site"), ("site-mc-near", "nc-site"),
                         ("web3-redis-near", "web3"), ("web3-mc-near", "web3")):
        absent = results.get("unavailable", {}).get(near, "not measured")
        check("`%s` ≥ 0.9× `%s` (a near-tier hit, a MemoryStore hit)" % (near, memory),
              ratios(near, memory), 0.9, absent)
    for name, before in (("nc-mc", 0.28), ("nc-redis", 0.21), ("site-mc", 0.28),
                         ("site-redis", 0.21)):
        absent = results.get("unavailable", {}).get(name, "not measured")
        check("`%s` ≥ %.2f× bare (2× the %.2f× before issue 18)" % (name, 2 * before, before),
              ratios(name), 2 * before, absent)
    stale = {}
    for c in cs:
        runs = table.get(str(c), {})
        if runs.get("nc-stale") and runs.get("nc-fresh"):
            stale[c] = median(runs["nc-stale"], "p99") / median(runs["nc-fresh"], "p99")
    if stale:
        text = ", ".join("c=%d: %s" % (c, _x(v)) for c, v in sorted(stale.items()))
        out.append(("stale-hit p99 ≤ 1.3× fresh-hit p99", text, max(stale.values()) <= 1.3))
    else:
        out.append(("stale-hit p99 ≤ 1.3× fresh-hit p99", "not measured", None))
    for name, b in sorted(results.get("burst", {}).items()):
        out.append(("cold burst on `%s`: exactly 1 render" % (name,),
                    "%d render(s) for %d requests" % (b["renders"], b["count"]),
                    b["renders"] == 1))
    f = results.get("flood")
    if f:
        growth = f["afterRss"] - f["baselineRss"]
        out.append(("flood: RSS ≤ baseline + 1.1 × byte bound",
                    "%s over a %s baseline, bound %s (%.2f×)" % (
                        _mib(growth), _mib(f["baselineRss"]), _mib(f["maxBytes"]),
                        growth / f["maxBytes"]),
                    growth <= 1.1 * f["maxBytes"]))
    for k, p in sorted(results.get("profile", {}).items()):
        total = p["ownWork"]["total"]
        out.append(("cache's own work per hit in single-digit µs (%s)" % (k,),
                    "%.1f µs" % (total,), total < 10))
    return out



def chart(results, path):
    """
    Draw the chart: throughput ratios by concurrency, by page size, and
    fresh vs stale latency.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = results["settings"]
    m = results["machine"]
    fig, axes = plt.subplots(1, 3, figsize=(17, 7.5),
                             gridspec_kw={"width_ratios": [1.5, 1.1, 0.9]})
    colors = ["#4c72b0", "#55a868", "#c44e52", "#8172b2", "#ccb974", "#64b5cd"]

    # 1: throughput ratio by concurrency, 10.6 KB.
    ax = axes[0]
    cs = [c for c in s["concurrency"] if throughput(results, "10k", c)]
    if cs:
        per = dict((c, throughput(results, "10k", c)) for c in cs)
        names = [n for n in results["labels"] if n in per[cs[0]]]
        height = 0.8 / len(cs)
        for i, c in enumerate(cs):
            ys = [j + i * height for j in range(len(names))]
            xs = [per[c].get(n, (None, None))[1] or 0 for n in names]
            ax.barh(ys, xs, height=height, color=colors[i % len(colors)], label="c=%d" % c)
        ax.set_yticks([j + 0.4 - height / 2 for j in range(len(names))])
        ax.set_yticklabels(names)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.axvline(0.9, color="grey", linewidth=0.8, linestyle="--")
        ax.set_xlabel("throughput ÷ bare py2.7 Resource (log scale)")
        ax.set_title("10.6 KB page, wrk keep-alive, by connections")
        ax.legend(loc="upper right", fontsize=8)
        ax.grid(axis="x", which="both", alpha=0.3)

    # 2: by page size.
    ax = axes[1]
    c = s["sizeConcurrency"]
    sizes = [k for k in ("1k", "10k", "100k") if throughput(results, k, c)]
    if sizes:
        per = dict((k, throughput(results, k, c)) for k in sizes)
        names = [n for n in results["labels"]
                 if all(n in per[k] for k in sizes) and n not in ("nc-stale", "nc-miss")]
        height = 0.8 / len(sizes)
        for i, k in enumerate(sizes):
            ys = [j + i * height for j in range(len(names))]
            xs = [per[k][n][1] or 0 for n in names]
            ax.barh(ys, xs, height=height, color=colors[(i + 3) % len(colors)],
                    label=SIZE_NAMES[k])
        ax.set_yticks([j + 0.4 - height / 2 for j in range(len(names))])
        ax.set_yticklabels(names)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.set_xlabel("throughput ÷ bare py2.7 Resource (log scale)")
        ax.set_title("by page size, c=%d" % (c,))
        ax.legend(loc="upper right", fontsize=8)
        ax.grid(axis="x", which="both", alpha=0.3)

    # 3: latency, fresh vs stale.
    ax = axes[2]
    table = results["wrk"].get("10k", {})
    cs = [c for c in s["concurrency"]
          if table.get(str(c), {}).get("nc-stale") and table.get(str(c), {}).get("nc-fresh")]
    if cs:
        for name, color in (("nc-fresh", colors[0]), ("nc-stale", colors[2])):
            for field, style in (("p50", "--"), ("p99", "-")):
                ax.plot(cs, [median(table[str(c)][name], field) for c in cs], style,
                        marker="o", color=color, label="%s %s" % (name, field))
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(cs)
        ax.set_xticklabels([str(c) for c in cs])
        ax.set_xlabel("wrk connections")
        ax.set_ylabel("latency (ms, log scale)")
        ax.set_title("fresh vs stale hits (timeout %g s)" % (s["staleTimeout"],))
        ax.legend(fontsize=8)
        ax.grid(which="both", alpha=0.3)

    fig.suptitle("nevowcache benchmark — %d CPUs, %s — %s — commit %s" % (
        m["nproc"], m["cpu"], m["date"], m["commit"]), fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(path, dpi=90)
    plt.close(fig)



def main(argv):
    path = argv[1] if len(argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "results", "latest.json")
    with open(path) as f:
        results = json.load(f)
    directory = os.path.dirname(path)
    with open(os.path.join(directory, "latest.md"), "w") as f:
        f.write(markdown(results))
    chart(results, os.path.join(directory, "chart.png"))
    sys.stdout.write(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
