"""``report.html``: the batch report for people, crash-stats style. One self-contained page
(inline CSS and script, bars drawn with inline SVG), nothing fetched from the network, every
value escaped. The top signatures are ``<details>`` elements: each opens its drill-down (its
breakdowns, frame stack and newest dumps) without any script; the script only adds the
filter box. Lists are capped (``report.json``'s ``listed``) and the page says so.

The timings section sits between ``<!--timings-->`` and ``<!--/timings-->`` so that two runs
of the same batch can be compared with it cut out.
"""
from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

__all__ = ["render_html"]

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:72em;
color:#1d232a;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #d8dee4}
.sub{color:#57606a;margin-top:0}
.cards{display:flex;flex-wrap:wrap;gap:.8em;margin:1.2em 0}
.card{border:1px solid #d8dee4;border-radius:6px;padding:.6em 1em;min-width:7em}
.card b{display:block;font-size:1.6em}.card.bad b{color:#b42318}.card.ok b{color:#1a7f37}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(21em,1fr));gap:0 2em}
table{border-collapse:collapse;width:100%;margin:.4em 0 1em}
th,td{text-align:left;padding:.25em .5em;border-bottom:1px solid #eaeef2;vertical-align:top}
th{background:#f6f8fa;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.bar{width:30%;min-width:5em}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92em}
.muted{color:#57606a}.chain{color:#57606a;font-size:.9em}
.sigs{border-top:1px solid #d8dee4}
details.sig{border-bottom:1px solid #eaeef2}
details.sig>summary{display:grid;grid-template-columns:3em 1fr 5em 4.5em 11.5em 11.5em 7em;gap:.5em;
padding:.3em .2em;cursor:pointer;align-items:start}
details.sig>summary:hover{background:#f6f8fa}details.sig[open]>summary{background:#eef4ff}
.sighead{display:grid;grid-template-columns:3em 1fr 5em 4.5em 11.5em 11.5em 7em;gap:.5em;padding:.3em .2em;
font-weight:600;background:#f6f8fa}
.sigs span.n{text-align:right;font-variant-numeric:tabular-nums}.sigs span.mono{white-space:nowrap}
.drill{padding:.5em 1em 1em 3.5em}.drill h4{margin:.8em 0 .2em}
ol.frames{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;margin:.2em 0}
#filter{font:inherit;padding:.3em .5em;width:28em;max-width:100%}
"""

_SCRIPT = """
(function(){
  var box=document.getElementById('filter'), count=document.getElementById('shown');
  var sigs=Array.prototype.slice.call(document.querySelectorAll('details.sig'));
  box.hidden=false;
  function apply(){
    var q=box.value.trim().toLowerCase(), n=0;
    sigs.forEach(function(d){
      var hit=!q||d.textContent.toLowerCase().indexOf(q)>=0;
      d.hidden=!hit; if(hit){n++;}
    });
    count.textContent=q?(n+' of '+sigs.length+' signatures match'):'';
  }
  box.addEventListener('input',apply);
  apply();
  var wanted=location.hash&&document.getElementById(location.hash.slice(1));
  if(wanted&&wanted.tagName==='DETAILS'){wanted.open=true;}
})();
"""


def _wbr(text: str) -> str:
    """Escaped, with line-break chances after ``_``, ``/`` and ``\\`` (long names and paths)."""
    out = escape(text)
    for sep in ("_", "/", "\\"):
        out = out.replace(sep, sep + "<wbr>")
    return out


def _bar(count: int, peak: int, color: str) -> str:
    width = 0.0 if peak <= 0 else 100.0 * count / peak
    return (f'<svg width="100%" height="12" role="img" aria-label="{count}">'
            f'<rect x="0" y="1" width="{width:.1f}%" height="10" rx="2" fill="{color}"/></svg>')


def _count_table(title: str, rows: list[dict[str, Any]], color: str = "#0969da", limit: int = 30) -> str:
    if not rows:
        return f"<div><h3>{escape(title)}</h3><p class=muted>none</p></div>"
    peak = max(r["count"] for r in rows)
    body = "".join(
        f"<tr><td><code>{_wbr(str(r['name']))}</code></td><td class=n>{r['count']:,}</td>"
        f"<td class=bar>{_bar(r['count'], peak, color)}</td></tr>" for r in rows[:limit])
    more = f"<p class=muted>… and {len(rows) - limit} more</p>" if len(rows) > limit else ""
    return (f"<div><h3>{escape(title)}</h3><table><tr><th>name</th><th>count</th><th></th></tr>"
            f"{body}</table>{more}</div>")


def _place(path: str, chain: list[str]) -> str:
    inside = "".join(f'<div class=chain>in {_wbr(c)}</div>' for c in reversed(chain))
    return f"<code>{_wbr(path)}</code>{inside}"


def _cards(t: dict[str, Any]) -> str:
    cards = [("files examined", t["files"], ""), ("dumps read", t["dumps"], "ok"),
             ("unreadable", t["errors"], "bad" if t["errors"] else "ok"),
             ("duplicates", t["duplicates"], ""), ("containers", t["containers"], "")]
    return "<div class=cards>" + "".join(
        f"<div class='card {cls}'><b>{n:,}</b>{escape(label)}</div>" for label, n, cls in cards) + "</div>"


def _small_counts(title: str, rows: list[dict[str, Any]]) -> str:
    items = "".join(f"<li><code>{_wbr(r['name'])}</code> <span class=muted>{r['count']:,}</span></li>"
                    for r in rows)
    return f"<div><h4>{escape(title)}</h4><ul>{items}</ul></div>"


def _frames(frames: list[dict[str, Any]]) -> str:
    if not frames:
        return "<p class=muted>no frames</p>"
    items = "".join(
        f"<li>{escape(f['module'] or '?')}!{escape(f['function'] or f['offset'])}"
        + ("" if f["function"] is None else f" <span class=muted>{escape(f['offset'])}</span>") + "</li>"
        for f in frames)
    return f"<ol class=frames start=0>{items}</ol>"


def _dumps(sig: dict[str, Any]) -> str:
    body = "".join(
        f"<tr><td>{_place(x['path'], x['container'])}</td>"
        f"<td class=mono>{escape(x['created'] or 'unknown')}</td>"
        f"<td><code>{escape(x['reason'] or '')}</code></td>"
        f"<td><a class=doc href='{escape(x['document'])}'>document</a></td></tr>" for x in sig["dumps"])
    more = (f"<p class=muted>the {len(sig['dumps']):,} newest are listed; {sig['dumps_omitted']:,} more: "
            f"<code>tables/dumps.parquet</code> or dumps.ndjson</p>" if sig["dumps_omitted"] else "")
    return ("<table><tr><th>dump (and its containers)</th><th>date</th><th>crash reason</th><th></th></tr>"
            f"{body}</table>{more}")


def _signatures(d: dict[str, Any], listed: dict[str, int]) -> str:
    rows = d["top_signatures"]
    if not rows:
        return "<p class=muted>no crash signatures</p>"
    peak = max(r["count"] for r in rows)
    cap = (f"the top {len(rows):,} of {d['signatures']:,} signatures are listed, each with its "
           f"{listed['dumps_per_signature']:,} newest dumps at most; every dump is in "
           "<code>tables/dumps.parquet</code>" if d["signatures"] > len(rows) else
           f"all {len(rows):,} signatures, each with its {listed['dumps_per_signature']:,} "
           "newest dumps at most")
    items = []
    for rank, r in enumerate(rows, 1):
        items.append(
            f"<details class=sig id='sig-{rank}'><summary><span class=n>{rank}</span>"
            f"<code class=signame>{_wbr(r['signature'])}</code><span class=n>{r['count']:,}</span>"
            f"<span class=n>{100 * r['share']:.2f}%</span>"
            f"<span class=mono>{escape(r['first_seen'] or '-')}</span>"
            f"<span class=mono>{escape(r['last_seen'] or '-')}</span>{_bar(r['count'], peak, '#8250df')}"
            "</summary><div class=drill><div class=grid>"
            f"{_small_counts('OS and version', r['by_os'])}{_small_counts('CPU', r['by_arch'])}"
            f"{_small_counts('main module', r['by_main_module'])}</div>"
            f"<h4>frames of the crashing thread (in {escape(r['example']['path'])})</h4>"
            f"{_frames(r['frames'])}"
            f"<h4>dumps</h4>{_dumps(r)}</div></details>")
    return (f"<p class=muted>{cap}. Open a signature for its dumps and frames.</p>"
            "<p><input id=filter type=search hidden placeholder='filter: signature, module, path, OS…' "
            "aria-label='filter signatures'> <span id=shown class=muted></span></p>"
            "<div class=sigs><div class=sighead><span>#</span><span>signature</span><span>dumps</span>"
            "<span>share</span><span>first seen</span><span>last seen</span><span></span></div>"
            + "".join(items) + "</div>")


def _failures(f: dict[str, Any]) -> str:
    return _item_table(
        f, "every file was read", ("file", "reason", "message", "offset", ""), " in dumps.ndjson",
        lambda i: (f"<tr><td>{_place(i['path'], i['container'])}</td>"
                   f"<td><code>{escape(i['code'])}</code></td><td>{escape(i['message'])}</td>"
                   f"<td class=mono>{escape(i['offset'] or '')}</td>"
                   f"<td><a href='{escape(i['document'])}'>document</a></td></tr>"))


def _duplicates(d: dict[str, Any]) -> str:
    return _item_table(
        d, "no duplicates", ("file", "same bytes as", "sha256"), "",
        lambda i: (f"<tr><td>{_place(i['path'], i['container'])}</td>"
                   f"<td>{_place(i['duplicate_of']['path'], i['duplicate_of']['container'])}</td>"
                   f"<td class=mono>{escape(i['sha256'][:16])}…</td></tr>"))


def _item_table(section: dict[str, Any], empty: str, heads: tuple[str, ...], more_where: str,
                row: Callable[[dict[str, Any]], str]) -> str:
    """A report section's ``items`` as a table (a row each), with a line for ``items_omitted``."""
    if not section["items"]:
        return f"<p class=muted>{empty}</p>"
    body = "".join(row(item) for item in section["items"])
    omitted = section["items_omitted"]
    more = f"<p class=muted>{omitted:,} more{more_where}</p>" if omitted else ""
    return "<table><tr>" + "".join(f"<th>{h}</th>" for h in heads) + f"</tr>{body}</table>{more}"


def _minidumps(m: dict[str, Any] | None) -> str:
    if m is None:
        return ""
    skipped = _count_table("not shrunk (reason)", m["skipped"], "#9a6700") if m["skipped"] else ""
    return (f"<h2>Reduced minidumps</h2><p>{m['written']:,} written to <a href='{escape(m['folder'])}'>"
            f"{escape(m['folder'])}</a>, {m['bytes'] / 1e6:,.1f} MB in all, at most "
            f"{m['max_size']:,} bytes each.</p>{skipped}")


def _timings(t: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td><code>{escape(r['format'])}</code></td><td class=n>{r['count']:,}</td>"
        f"<td class=n>{r['total_s']:.2f}</td><td class=n>{r['mean_ms']:.1f}</td>"
        f"<td class=n>{r['max_ms']:.1f}</td></tr>"
        for r in t["by_format"])
    slow = "".join(f"<tr><td>{_place(r['path'], r['container'])}</td><td class=n>{r['seconds']:.3f}</td></tr>"
                   for r in t["slowest"])
    return (f"<p>discovery {t['discovery_s']:.2f} s · documents {t['normalize_s']:.2f} s · report "
            f"{t['report_s']:.2f} s · {t['documents_made']:,} documents made in this run, "
            f"{t['documents_reused']:,} already on disk</p>"
            "<div class=grid><div><table><tr><th>format</th><th>made</th><th>total s</th><th>mean ms</th>"
            f"<th>max ms</th></tr>{rows}</table></div><div><table><tr><th>slowest</th><th>s</th></tr>{slow}"
            "</table></div></div>")


def render_html(report: dict[str, Any]) -> str:
    """The whole page for ``report`` (a validated ``report.json`` object)."""
    d, f = report["dumps"], report["failures"]
    inputs = "".join(f"<li><code>{escape(p)}</code></li>" for p in report["inputs"])
    grid = "".join([
        _count_table("operating system and version", d["by_os_version"]),
        _count_table("CPU", d["by_arch"]), _count_table("format", d["by_format"]),
        _count_table("main module and version", d["by_main_module"]),
        _count_table("crash", d["by_crash"], "#cf222e"),
        _count_table("crash kind", d["by_crash_kind"], "#cf222e"), _count_table("variant", d["by_variant"]),
        _count_table("diagnostics (dumps with each code)", d["diagnostics"], "#9a6700"),
    ])
    fail_grid = _count_table("reason", f["by_reason"], "#b42318") + _count_table(
        "detected format", f["by_format"], "#b42318")
    return f"""<!doctype html>
<html lang=en><head><meta charset=utf-8><meta name=viewport content="width=device-width,initial-scale=1">
<title>dumpkit report {escape(report['batch'])}</title><style>{_CSS}</style></head><body>
<h1>Crash archive report</h1>
<p class=sub>dumpkit {escape(report['dumpkit_version'])} · batch <code>{escape(report['batch'])}</code></p>
<ul>{inputs}</ul>
{_cards(report['totals'])}
<h2>Top crash signatures <span class=muted>({d['signatures']:,} distinct)</span></h2>
{_signatures(d, report['listed'])}
<h2>Dumps</h2>
<div class=grid>{grid}</div>
<h2>Unreadable files</h2>
<div class=grid>{fail_grid}</div>
{_failures(f)}
<h2>Duplicates</h2>
{_duplicates(report['duplicates'])}
{_minidumps(report['minidumps'])}
<!--timings-->
<h2>Timings</h2>
{_timings(report['timings'])}
<!--/timings-->
<p class=muted>Documents: <a href="docs/">docs/</a> and <a href="errors/">errors/</a>; all of them,
one per line: <a href="dumps.ndjson">dumps.ndjson</a>; typed tables: <a href="tables/">tables/</a>
(Parquet); this report as data: <a href="report.json">report.json</a>.</p>
<script>{_SCRIPT}</script>
</body></html>
"""
