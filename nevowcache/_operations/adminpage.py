# -*- test-case-name: tests.test_admin -*-
"""
The admin's HTML: the status page (figures, a chart of the last hour drawn
as inline SVG by L{nevowcache._operations.adminchart}, purge forms, the
counters explained) and the pages that answer its forms.  Self-contained:
one inline style sheet, no script, nothing from another host.
"""

from __future__ import absolute_import, division

import time

from nevowcache._operations.adminchart import chart
from nevowcache._operations.formatting import (
    escape, humanBytes, humanSeconds, number, percent)

__all__ = ["statusPage", "messagePage", "EXPLANATIONS"]


# What each counter of stats.json means (the page shows these next to the
# values; docs/operators.md says the same).
EXPLANATIONS = [
    ("hits", u"Fresh hits: answered from a stored entry, without rendering."),
    ("staleHits", u"Stale hits: answered at once from an entry past cacheTimeout "
                  u"(or softly invalidated), within cacheGrace, while one background "
                  u"render refreshes it."),
    ("misses", u"Lookups that found nothing to serve: the page was rendered "
               u"(collapsed waiters and the uncacheable included)."),
    ("uncacheable", u"Of the misses, those that could never have been stored: HEAD "
                    u"misses, and responses the storage rules refuse (session, cookies, "
                    u"a status other than 200, private, Vary: *, ...). The hit ratio "
                    u"leaves them out."),
    ("collapsed", u"Misses that waited for another request's render of the same key "
                  u"instead of rendering (single flight)."),
    ("bypasses", u"Requests that did not use the cache at all: methods other than "
                 u"GET/HEAD, Authorization, a body, a bad Host, ..."),
    ("renders", u"Renders started, for requests and for background refreshes."),
    ("renderFailures", u"Renders that failed (exception, errback, timeout)."),
    ("refusals", u"Rendered responses on a miss that were not stored (storage rules, "
                 u"too many variants)."),
    ("refreshes", u"Background refreshes started."),
    ("refreshFailures", u"Background refreshes that failed: the stale entry stays in "
                        u"service, retried after a back-off."),
    ("refreshesSkipped", u"Refreshes not started because maxRefreshes were running."),
    ("refreshesRunning", u"Background refreshes running now."),
    ("inFlight", u"Keys being rendered now (one render each)."),
    ("waiterTimeouts", u"Waiters that gave up after waitTimeout and rendered on their own."),
    ("storeErrors", u"Store calls that failed or timed out; those requests were served "
                    u"uncached."),
    ("varyOverflows", u"Variants not stored because their URL had maxVariants already."),
    ("unsafeInvalidations", u"URLs made stale by a successful POST, PUT, DELETE or PATCH."),
    ("leaseWaits", u"Misses that waited while another process rendered (shared stores)."),
    ("leaseTimeouts", u"Misses that stopped waiting for another process and rendered "
                      u"without storing."),
    ("leaseBusy", u"Refreshes left to another process that held the key's lease."),
    ("entries", u"Entries held by the store."),
    ("bytes", u"Memory the entries take, measured as stored (with the store's table)."),
    ("recordBytes", u"Memory of invalidation records and bookkeeping, charged to the "
                    u"same bound."),
    ("maxBytes", u"The store's byte bound."),
    ("maxEntries", u"The store's entry bound."),
    ("evictions", u"Least recently used entries dropped to stay within the bounds."),
    ("tooLarge", u"Responses larger than the store takes: served, not stored."),
    ("circuit", u"The shared store's circuit breaker: closed (in use), open (skipped "
                u"for a cool-down after failures), half-open (one probe)."),
    ("storeCalls", u"Calls made to the shared store."),
    ("storeFailures", u"Calls to the shared store that failed."),
    ("storeTimeouts", u"Calls to the shared store past their deadline."),
    ("shortCircuits", u"Calls skipped while the circuit was open."),
]

_STYLE = u"""
:root{--ink:#1d2330;--muted:#5d6678;--line:#dfe3ea;--card:#fff;--bg:#f4f6f9;
--hit:#2e9e5b;--stale:#8fd19e;--miss:#e8833a;--unc:#b0b7c3;--accent:#2f5fb3}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
header{background:#1f2a3d;color:#fff;padding:14px 28px;display:flex;
align-items:baseline;gap:18px;flex-wrap:wrap}
header h1{margin:0;font-size:20px;font-weight:600}
header span{color:#c5cede;font-size:13px}
header a{color:#9fc1ff}
main{max-width:1220px;margin:0 auto;padding:18px 28px 40px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(210px,1fr));gap:12px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px}
.card h2{margin:0 0 4px;font-size:12px;font-weight:600;color:var(--muted);
text-transform:uppercase;letter-spacing:.04em}
.big{font-size:26px;font-weight:600}
.sub{color:var(--muted);font-size:12px}
.bar{height:10px;background:#e7eaf0;border-radius:5px;overflow:hidden;margin:6px 0 4px}
.bar div{height:100%;background:var(--accent)}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;
padding:12px 16px;margin-top:14px}
section h2{margin:0 0 8px;font-size:15px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);
vertical-align:top}
thead th{font-size:12px;color:var(--muted);font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.url{word-break:break-all;font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12px}
.legend span{display:inline-block;margin-right:14px;font-size:12px;color:var(--muted)}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px}
.two{display:grid;grid-template-columns:1fr 1fr;gap:14px}
.two section{margin-top:14px}
form{display:flex;gap:8px;align-items:center;margin:6px 0;flex-wrap:wrap}
form label.what{width:70px;color:var(--muted)}
input[type=text]{flex:1;min-width:260px;padding:5px 8px;border:1px solid #c4cad6;border-radius:5px}
button{padding:5px 14px;border:0;border-radius:5px;background:var(--accent);color:#fff;
cursor:pointer}
.empty{color:var(--muted);font-style:italic}
details summary{cursor:pointer;color:var(--accent)}
.ok{color:var(--hit)} .bad{color:#c0392b}
svg text{font-size:11px;fill:var(--muted)}
"""



def _card(title, big, *subs):
    return (u'<div class="card"><h2>%s</h2><div class="big">%s</div>%s</div>'
            % (title, big, u"".join(u'<div class="sub">%s</div>' % (s,) for s in subs)))



def _table(head, rows, numeric, empty):
    if not rows:
        return u'<p class="empty">%s</p>' % (empty,)
    out = [u"<table><thead><tr>"]
    for index, title in enumerate(head):
        out.append(u'<th class="n">%s</th>' % (title,) if index in numeric
                   else u"<th>%s</th>" % (title,))
    out.append(u"</tr></thead><tbody>")
    for row in rows:
        out.append(u"<tr>")
        for index, cell in enumerate(row):
            cls = u' class="n"' if index in numeric else (
                u' class="url"' if cell.startswith(u"\x00") else u"")
            out.append(u"<td%s>%s</td>" % (cls, cell.lstrip(u"\x00")))
        out.append(u"</tr>")
    out.append(u"</tbody></table>")
    return u"".join(out)



def _when(stamp, now):
    return u"%s (%s ago)" % (time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp)),
                             humanSeconds(max(0, now - stamp)))



def statusPage(figures, base, csrf, now=None):
    """
    The status page.

    @param figures: What L{nevowcache._operations.report.report} returns.
    @param base: The admin's own URL relative to the page, without a
        trailing slash (text, unescaped): C{u"."}.
    @param csrf: The forms' CSRF token (text), or L{None}.
    @return: L{bytes}, UTF-8 HTML.
    """
    if now is None:
        now = time.time()
    f = figures
    base = escape(base)
    recent = f["recent"]
    recentMinutes = max(1, int(round(recent["seconds"] / 60.0)))
    out = [u'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
           u'<meta name="viewport" content="width=device-width, initial-scale=1">'
           u"<title>nevowcache \u2014 cache status</title><style>%s</style></head><body>"
           % (_STYLE,)]
    out.append(u'<header><h1>nevowcache</h1><span>version %s</span><span>store: %s</span>'
               u'<span>up %s, since %s</span><span><a href="%s/stats.json">stats.json</a> '
               u'\u00b7 <a href="%s/metrics">metrics</a></span></header><main>'
               % (escape(f["version"]), escape(f["store"]), humanSeconds(f["uptime"]),
                  escape(time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(f["startedAt"]))),
                  base, base))
    # The cards.
    cards = [
        _card(u"Hit ratio", percent(f["hitRatio"]),
              u"last %d min: <b>%s</b>" % (recentMinutes, percent(recent["hitRatio"])),
              u"%s hits, %s stale, %s misses (%s uncacheable)" % (
                  number(f["hits"]), number(f["staleHits"]), number(f["misses"]),
                  number(f["uncacheable"]))),
        _card(u"Requests per second", u"%.1f" % (recent["requestsPerSecond"],),
              u"last %d min; since start %.1f" % (recentMinutes, f["requestsPerSecond"]),
              u"%s requests, %s bypassed the cache" % (number(f["requests"]),
                                                      number(f["bypasses"]))),
    ]
    maxBytes, used = f.get("maxBytes"), f.get("bytes")
    if maxBytes and used is not None:
        share = min(1.0, used / float(maxBytes))
        cards.append(
            u'<div class="card"><h2>Memory</h2><div class="big">%s</div>'
            u'<div class="bar" title="%.1f%% of the bound"><div style="width:%.1f%%"></div>'
            u'</div><div class="sub">%.1f%% of %s</div><div class="sub">%s entries of %s, '
            u'%s evictions</div></div>'
            % (humanBytes(used), share * 100, share * 100, share * 100, humanBytes(maxBytes),
               number(f.get("entries")), number(f.get("maxEntries")),
               number(f.get("evictions"))))
    else:
        cards.append(_card(u"Entries", number(f.get("entries")),
                           u"held by the shared server; this process does not count them"))
    failures = f["recentRefreshFailures"]
    cards.append(_card(u"Refreshes", u"%d running" % (f["refreshesRunning"],),
                       u"%s started, %s failed, %s skipped" % (
                           number(f["refreshes"]), number(f["refreshFailures"]),
                           number(f["refreshesSkipped"])),
                       u"%d renders in flight" % (f["inFlight"],)))
    cards.append(_card(u"Render time saved", humanSeconds(f["renderSecondsSaved"]),
                       u"hits \u00d7 the mean render time of their page",
                       u"%s renders, %s failed" % (number(f["renders"]),
                                                   number(f["renderFailures"]))))
    out.append(u'<div class="cards">%s</div>' % (u"".join(cards),))
    # The chart.
    out.append(u'<section><h2>Hits and misses per minute, last hour</h2>%s'
               u'<div class="legend"><span><i style="background:var(--hit)"></i>hits</span>'
               u'<span><i style="background:var(--stale)"></i>stale hits</span>'
               u'<span><i style="background:var(--miss)"></i>misses</span>'
               u'<span><i style="background:var(--unc)"></i>uncacheable misses</span></div>'
               u"</section>" % (chart(f["history"]),))
    # Pages.
    rows = [[escape(p["name"]), number(p["hits"]), number(p["staleHits"]),
             number(p["misses"]), number(p["uncacheable"]), percent(p["hitRatio"]),
             percent(p["recentHitRatio"]), number(p["renders"]),
             humanSeconds(p["renderP50"]), humanSeconds(p["renderP99"]),
             humanSeconds(p["renderSecondsSaved"])] for p in f["pages"]]
    out.append(u"<section><h2>Page classes</h2>%s</section>" % (_table(
        [u"page class", u"hits", u"stale", u"misses", u"uncacheable", u"hit ratio",
         u"last %d min" % (recentMinutes,), u"renders", u"render p50", u"render p99",
         u"time saved"], rows, set(range(1, 11)),
        u"No cached page has been requested yet."),))
    # Top pages and failures.
    top = [[u"\x00" + escape(t["url"]), escape(t["page"]), u"\u2248" + number(t["hits"])]
           for t in f["top"]]
    fails = [[u"\x00" + escape(x["url"]), escape(x["error"]), escape(_when(x["at"], now))]
             for x in failures]
    out.append(u'<div class="two"><section><h2>Most hit pages</h2>%s<p class="sub">'
               u"Estimated from a sample of hits (a Space-Saving sketch of %d pages).</p>"
               u"</section><section><h2>Recent refresh failures</h2>%s</section></div>"
               % (_table([u"URL", u"page class", u"hits"], top, set([2]),
                         u"No hits yet."), 32,
                  _table([u"URL", u"error", u"when"], fails, set(),
                         u"No refresh has failed.")))
    # Store health.
    store = [(name, f.get(name)) for name in (
        "circuit", "storeCalls", "storeFailures", "storeTimeouts", "shortCircuits",
        "connects", "pendingInvalidations", "storeErrors", "tooLarge", "recordBytes")
        if f.get(name) is not None]
    health = []
    for name, value in store:
        if name == "circuit":
            value = u'<span class="%s">%s</span>' % (
                u"ok" if value == "closed" else u"bad", escape(value))
        elif name == "recordBytes":
            value = humanBytes(value)
        else:
            value = number(value)
        health.append([escape(name), value])
    out.append(u"<section><h2>Store: %s</h2>%s</section>" % (
        escape(f["store"]), _table([u"", u""], health, set([1]), u"")))
    # Purging.
    hidden = (u'<input type="hidden" name="csrf" value="%s">' % (escape(csrf),)
              if csrf else u"")
    forms = []
    for name, label, hint in [(u"url", u"URL", u"http://host:port/path?query"),
                              (u"prefix", u"Prefix", u"http://host:port/path/"),
                              (u"tag", u"Tag", u"news")]:
        forms.append(
            u'<form method="post" action="%s/purge"><label class="what" for="p-%s">%s</label>'
            u'<input type="text" id="p-%s" name="%s" placeholder="%s" required>'
            u'<label><input type="checkbox" name="hard" value="1"> hard (drop; '
            u'else stale)</label>%s<button>Purge</button></form>'
            % (base, name, label, name, name, escape(hint), hidden))
    out.append(u"<section><h2>Purge</h2>%s<p class=\"sub\">A soft purge makes the "
               u"entries stale: served within their grace while one refresh runs. A hard "
               u"purge drops them: the next request renders.</p></section>"
               % (u"".join(forms),))
    # Every counter, explained.
    known = set()
    rows = []
    for name, text in EXPLANATIONS:
        if name in f:
            known.add(name)
            rows.append(u"<tr><th>%s</th><td>%s</td><td>%s</td></tr>"
                        % (escape(name), escape(f[name]), escape(text)))
    out.append(u"<section><h2>Counters</h2><details open><summary>What each counter "
               u"counts</summary><table><tbody>%s</tbody></table></details></section>"
               % (u"".join(rows),))
    out.append(u"</main></body></html>")
    return u"".join(out).encode("utf-8")



def messagePage(title, message, back, ok=True):
    """
    A page answering a form: what was done, and a link back.

    @param message: Text (escaped here).
    @param back: The status page's URL, relative to the page (text,
        unescaped).
    @return: L{bytes}, UTF-8 HTML.
    """
    return (u'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            u"<title>nevowcache \u2014 %s</title><style>%s</style></head><body>"
            u"<header><h1>nevowcache</h1><span>%s</span></header><main><section>"
            u'<h2 class="%s">%s</h2><p>%s</p><p><a href="%s">Back to the cache '
            u"status</a></p></section></main></body></html>"
            % (escape(title), _STYLE, escape(title), u"ok" if ok else u"bad",
               escape(title), escape(message), escape(back))).encode("utf-8")
