"""``report.html``: the batch report for people. One self-contained page (inline CSS, bars
drawn with inline SVG), nothing fetched from the network; every value escaped.

The timings section sits between ``<!--timings-->`` and ``<!--/timings-->`` so that two runs
of the same batch can be compared with it cut out.
"""
from __future__ import annotations

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


def _signatures(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p class=muted>no crash signatures</p>"
    peak = max(r["count"] for r in rows)
    body = "".join(
        f"<tr><td><code>{_wbr(r['signature'])}</code><div class=chain>e.g. "
        f"{_wbr(r['example']['path'])}</div></td><td class=n>{r['count']:,}</td>"
        f"<td class=bar>{_bar(r['count'], peak, '#8250df')}</td></tr>" for r in rows)
    return f"<table><tr><th>signature</th><th>dumps</th><th></th></tr>{body}</table>"


def _failures(f: dict[str, Any]) -> str:
    if not f["items"]:
        return "<p class=muted>every file was read</p>"
    body = "".join(
        f"<tr><td>{_place(i['path'], i['container'])}</td><td><code>{escape(i['code'])}</code></td>"
        f"<td>{escape(i['message'])}</td><td class=mono>{escape(i['offset'] or '')}</td>"
        f"<td><a href='{escape(i['document'])}'>document</a></td></tr>" for i in f["items"])
    more = f"<p class=muted>{f['items_omitted']:,} more in dumps.ndjson</p>" if f["items_omitted"] else ""
    return ("<table><tr><th>file</th><th>reason</th><th>message</th><th>offset</th><th></th></tr>"
            f"{body}</table>{more}")


def _duplicates(d: dict[str, Any]) -> str:
    if not d["items"]:
        return "<p class=muted>no duplicates</p>"
    body = "".join(
        f"<tr><td>{_place(i['path'], i['container'])}</td>"
        f"<td>{_place(i['duplicate_of']['path'], i['duplicate_of']['container'])}</td>"
        f"<td class=mono>{escape(i['sha256'][:16])}…</td></tr>" for i in d["items"])
    more = f"<p class=muted>{d['items_omitted']:,} more</p>" if d["items_omitted"] else ""
    return f"<table><tr><th>file</th><th>same bytes as</th><th>sha256</th></tr>{body}</table>{more}"


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
        _count_table("format", d["by_format"]), _count_table("operating system", d["by_os"]),
        _count_table("architecture", d["by_arch"]), _count_table("crash", d["by_crash"], "#cf222e"),
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
<h2>Dumps</h2>
<div class=grid>{grid}</div>
<h2>Top crash signatures <span class=muted>({d['signatures']:,} distinct)</span></h2>
{_signatures(d['top_signatures'])}
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
one per line: <a href="dumps.ndjson">dumps.ndjson</a>; this report as data:
<a href="report.json">report.json</a>.</p>
</body></html>
"""
