"""The profile as one self-contained HTML file: inline CSS, inline SVG plots, no script and
no network. Every bar and heatmap cell carries a ``<title>`` so the values show on hover.

The SVG is written by hand (rectangles, lines, text) rather than by matplotlib: it is a few
kilobytes per plot, renders in any browser, and a 1M-row profile's report stays well under
1 MB. Everything shown comes from the profile document.
"""

from __future__ import annotations

from typing import Any

from app.core.profiling.report_svg import (
    _anchor,
    _bytes,
    _e,
    _fmt,
    _pct,
    heatmap_table,
    svg_bars,
    svg_hbars,
    svg_missing_matrix,
    when,
)
from app.core.profiling.warnings import KINDS

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d2433;
background:#f5f7fa}
header{background:#1d2433;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#c5cde0}
nav{position:sticky;top:0;background:#fff;border-bottom:1px solid #dde3ec;padding:8px 28px;
z-index:2}nav a{margin-right:16px;color:#3b5b8f;text-decoration:none;font-weight:600}
main{padding:16px 28px;max-width:1400px}section{margin-bottom:28px}
h2{font-size:18px;border-bottom:2px solid #dde3ec;padding-bottom:4px}h3{font-size:15px;margin:0}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{background:#fff;border:1px solid #dde3ec;
border-radius:8px;padding:10px 16px;min-width:130px}.card b{display:block;font-size:20px}
.card span{color:#5b6475;font-size:12px}
.col{background:#fff;border:1px solid #dde3ec;border-radius:8px;padding:12px 16px;margin:12px 0;
display:grid;grid-template-columns:minmax(260px,1fr) 2fr;gap:16px}
.tag{display:inline-block;font-size:11px;padding:1px 7px;border-radius:9px;background:#e3ebf8;
color:#2b4f8a;margin-left:6px}
table.stats{border-collapse:collapse;font-size:12.5px;width:100%}
table.stats td{padding:2px 6px;border-bottom:1px solid #eef1f5}
table.stats td:first-child{color:#5b6475}table.stats td:last-child{text-align:right}
.warn{padding:6px 10px;margin:4px 0;border-left:4px solid #e0a43b;background:#fff}
.warn.warning{border-color:#d8573b}.warn a{font-weight:600}
table.heat{border-collapse:collapse;font-size:11px}table.heat td{width:42px;height:26px;
text-align:center;border:1px solid #fff}table.heat th{font-weight:500;padding:2px 6px;
text-align:right;white-space:nowrap}table.heat thead th{writing-mode:vertical-rl;
transform:rotate(180deg);text-align:left;height:auto;vertical-align:bottom}
table.list{border-collapse:collapse;font-size:12.5px;background:#fff}
table.list td,table.list th{border:1px solid #dde3ec;padding:3px 8px;text-align:left}
.note{color:#5b6475;font-size:12.5px}details{margin:8px 0}summary{cursor:pointer;font-weight:600}
svg text{font-family:system-ui,sans-serif}
"""


# -- sections ---------------------------------------------------------------------------------


def _overview(doc: dict[str, Any]) -> str:
    ov = doc["overview"]
    dup = ov.get("duplicates") or {}
    cards = [
        ("Rows", f"{ov['rows']:,}"),
        ("Columns", f"{ov['columns']:,}"),
        ("Missing cells", _pct(ov["missing_share"])),
        ("Rows with missing", f"{ov.get('rows_with_missing', 0):,}"),
        ("Duplicate rows", f"{dup.get('count', 0):,}"),
        ("Memory", _bytes(ov["memory_bytes"])),
        ("Warnings", f"{len(doc['warnings'])}"),
    ]
    roles = ", ".join(f"{n} {r}" for r, n in sorted(ov["roles"].items()))
    card_html = "".join(
        f'<div class="card"><b>{_e(v)}</b><span>{_e(k)}</span></div>' for k, v in cards
    )
    notes = [
        f"{s['part'].capitalize()}: a sample of {s['rows']:,} of {s['of']:,} rows."
        for s in doc.get("samples", [])
        if s["rows"] < s["of"]
    ]
    notes.append(doc.get("exact", ""))
    dup_html = ""
    if dup.get("examples"):
        head = "".join(f"<th>{_e(c)}</th>" for c in ["rows", *dup.get("columns", [])])
        body = "".join(
            "<tr><td>"
            + _e(ex["count"])
            + "</td>"
            + "".join(f"<td>{_e(_fmt(v))}</td>" for v in ex["values"])
            + "</tr>"
            for ex in dup["examples"]
        )
        dup_html = (
            f'<details><summary>Most repeated rows</summary><table class="list">'
            f"<tr>{head}</tr>{body}</table></details>"
        )
    return (
        f'<section id="overview"><h2>Overview</h2><div class="cards">{card_html}</div>'
        f'<p class="note">Roles: {_e(roles)}.</p>'
        + "".join(f'<p class="note">{_e(n)}</p>' for n in notes if n)
        + dup_html
        + "</section>"
    )


def _warnings(doc: dict[str, Any]) -> str:
    items = []
    for w in doc["warnings"]:
        links = ", ".join(f'<a href="#{_anchor(c)}">{_e(c)}</a>' for c in w["columns"])
        kind = KINDS.get(w["kind"], w["kind"])
        items.append(
            f'<div class="warn {_e(w["severity"])}"><b>{_e(kind)}</b> '
            f"{links + ' — ' if links else ''}{_e(w['message'])}</div>"
        )
    body = "".join(items) or '<p class="note">No warning.</p>'
    return f'<section id="warnings"><h2>Warnings ({len(items)})</h2>{body}</section>'


def stats_rows(col: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [
        ("Present", f"{col['count']:,}"),
        ("Missing", f"{col['missing']:,} ({_pct(col['missing_share'])})"),
        ("Distinct", f"{_fmt(col.get('distinct'))} ({_pct(col.get('distinct_share'))})"),
        ("Memory", _bytes(col["memory_bytes"])),
    ]
    num = col.get("numeric")
    if num:
        q = num["quantiles"]
        rows += [
            ("Mean", _fmt(num["mean"])),
            ("Std", _fmt(num["std"])),
            ("Min", _fmt(num["min"])),
            *((f"{float(k) * 100:g}%", _fmt(v)) for k, v in q.items()),
            ("Max", _fmt(num["max"])),
            ("IQR", _fmt(num["iqr"])),
            ("Skewness", _fmt(num["skewness"])),
            ("Kurtosis", _fmt(num["kurtosis"])),
            ("Zeros", f"{num['zeros']:,}"),
            ("Negatives", f"{num['negatives']:,}"),
            ("Outliers (IQR)", f"{num['outliers']['count']:,}"),
            ("Infinite", f"{col.get('infinite', 0):,}"),
        ]
    dt = col.get("datetime")
    if dt:
        rows += [
            ("From", when(dt["min"])),
            ("To", when(dt["max"])),
            ("Median", when(dt["median"])),
            ("Largest gap", _duration(dt["largest_gap_seconds"])),
            (f"Empty {dt['period']['unit']}s", f"{dt['period']['empty_periods']:,}"),
        ]
    b = col.get("boolean")
    if b:
        rows += [("True", f"{b['true']:,} ({_pct(b['true_share'])})"), ("False", f"{b['false']:,}")]
    text = col.get("text")
    if text and text.get("length_max") is not None:
        rows += [
            (
                "Length",
                f"{text['length_min']}–{text['length_max']} (mean {text['length_mean']:.1f})",
            ),
            ("Empty strings", f"{text.get('empty', 0):,}"),
        ]
        kinds = text.get("kinds") or {}
        if len(kinds) > 1:
            rows.append(("Kinds", ", ".join(f"{k} {v:,}" for k, v in kinds.items())))
    if col.get("monotonic"):
        rows.append(("Order", col["monotonic"]))
    return rows


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def _column_plot(col: dict[str, Any]) -> str:
    num = col.get("numeric")
    if num:
        h = num["histogram"]
        e, c = h["edges"], h["counts"]
        tips = [
            f"[{_fmt(a)}, {_fmt(b)}): {n:,} rows" for a, b, n in zip(e[:-1], e[1:], c, strict=True)
        ]
        return svg_bars(c, tips, axis=(_fmt(e[0]), _fmt(e[-1])))
    dt = col.get("datetime")
    if dt:
        p = dt["period"]
        tips = [f"{s}: {n:,} rows" for s, n in zip(p["starts"], p["counts"], strict=True)]
        return (
            svg_bars(p["counts"], tips, axis=(p["starts"][0], p["starts"][-1]))
            + f'<p class="note">Rows per {p["unit"]}.</p>'
        )
    top = col.get("top_values") or []
    if top:
        labels = [("(empty)" if v == "" else str(v)) for v, _ in top]
        values = [c for _, c in top]
        rest = col["count"] - sum(values)
        if rest > 0:
            labels.append(f"other ({(col.get('distinct') or 0) - len(top):,} values)")
            values.append(rest)
        return svg_hbars(labels, values, fmt=lambda v: f"{int(v):,}")
    return ""


def _columns(doc: dict[str, Any]) -> str:
    parts = ['<section id="columns"><h2>Columns</h2>']
    for col in doc["columns"]:
        table = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in stats_rows(col))
        notes = "".join(f'<p class="note">{_e(n)}</p>' for n in col.get("notes", []))
        parts.append(
            f'<div class="col" id="{_anchor(col["name"])}"><div><h3>{_e(col["name"])}'
            f'<span class="tag">{_e(col["role"])}</span><span class="tag">'
            f'{_e(col["physical_type"])}</span></h3><table class="stats">{table}</table>'
            f"{notes}</div><div>{_column_plot(col)}</div></div>"
        )
    parts.append("</section>")
    return "".join(parts)


def _associations(doc: dict[str, Any]) -> str:
    a = doc.get("associations") or {}
    if not a:
        return ""
    note = (
        f"Computed on a sample of {a['sample_rows']:,} of {a['rows']:,} rows."
        if a.get("sampled")
        else f"Computed on all {a['rows']:,} rows."
    )
    excluded = ", ".join(f"{k} ({v})" for k, v in a.get("excluded", {}).items())
    parts = [
        f'<section id="associations"><h2>Associations</h2><p class="note">{_e(note)} '
        "Hover a cell for its value.</p>"
    ]
    for title, rows, cols, key, signed in (
        ("Pearson r", a["numeric"], a["numeric"], "pearson", True),
        ("Spearman ρ", a["numeric"], a["numeric"], "spearman", True),
        ("Cramér's V (bias-corrected)", a["categorical"], a["categorical"], "cramers_v", False),
        (
            "Correlation ratio η (numeric × categorical)",
            a["numeric"],
            a["categorical"],
            "correlation_ratio",
            False,
        ),
    ):
        parts.append(
            f"<details open><summary>{_e(title)}</summary>"
            f"{heatmap_table(rows, cols, a[key], title, signed=signed)}</details>"
        )
    if excluded:
        parts.append(f'<p class="note">Not compared: {_e(excluded)}.</p>')
    parts.append("</section>")
    return "".join(parts)


def _missing(doc: dict[str, Any]) -> str:
    m = doc.get("missing") or {}
    if not m:
        return ""
    co = m["cooccurrence"]
    parts = [
        '<section id="missing"><h2>Missing values</h2>',
        f'<p class="note">Matrix of {len(m["matrix"]["rows"]):,} randomly sampled rows in '
        "file order (dark: missing).</p>",
        svg_missing_matrix(m),
    ]
    if co["columns"]:
        parts.append(
            "<details open><summary>Nullity correlation (exact, all rows)</summary>"
            + heatmap_table(co["columns"], co["columns"], co["correlation"], "nullity correlation")
            + "</details>"
        )
        counts = [[float(v) for v in row] for row in co["counts"]]
        top = max((max(r) for r in counts), default=1) or 1
        scaled = [[v / top for v in row] for row in counts]
        parts.append(
            "<details><summary>Rows missing in both (counts)</summary>"
            + heatmap_table(
                co["columns"], co["columns"], scaled, "share of the largest count", signed=False
            )
            + "</details>"
        )
    else:
        parts.append('<p class="note">No value is missing.</p>')
    parts.append("</section>")
    return "".join(parts)


def _target(doc: dict[str, Any]) -> str:
    t = doc.get("target")
    if not t:
        return ""
    parts = [
        f'<section id="target"><h2>Target: {_e(t["column"])} ({_e(t["task"])})</h2>',
        f'<p class="note">Mutual information and leakage scores on a sample of '
        f"{t['sample_rows']:,} rows.</p>",
    ]
    if t.get("classes"):
        labels = [str(c["value"]) for c in t["classes"]]
        parts.append(
            "<h3>Class balance</h3>"
            + svg_hbars(
                labels,
                [c["count"] for c in t["classes"]],
                fmt=lambda v: (
                    f"{int(v):,} ({v / sum(c['count'] for c in t['classes']) * 100:.1f}%)"
                ),
            )
        )
    feats = t.get("features", [])
    parts.append(
        "<h3>Mutual information with the target (nats, ranked)</h3>"
        + svg_hbars(
            [f["name"] for f in feats],
            [f["mutual_information"] or 0.0 for f in feats],
            fmt=lambda v: f"{v:.4f}",
            colour="#7aa6e0",
        )
    )
    rows = "".join(
        f'<tr><td><a href="#{_anchor(f["name"])}">{_e(f["name"])}</a></td>'
        f"<td>{_fmt(f['mutual_information'])}</td><td>{_fmt(f.get('normalized'))}</td>"
        f"<td>{_fmt(f.get('leakage_score'))}</td><td>{_fmt(f.get('pearson'))}</td>"
        f"<td>{_fmt(f.get('spearman'))}</td><td>{_feature_svg(f)}</td></tr>"
        for f in feats
    )
    parts.append(
        '<table class="list"><tr><th>Feature</th><th>MI</th><th>MI / H(target)</th>'
        "<th>Held-out score</th><th>Pearson</th><th>Spearman</th>"
        f"<th>Against the target</th></tr>{rows}</table></section>"
    )
    return "".join(parts)


def _feature_svg(feat: dict[str, Any]) -> str:
    plot = feat.get("plot") or {}
    kind = plot.get("kind")
    if kind in ("histogram", "categories"):
        counts = plot["counts"]
        first = [(r[0] / (sum(r) or 1)) for r in counts]  # share of the first class
        cls = plot["classes"][0] if plot["classes"] else "?"
        groups = plot["groups"]
        names = groups if kind == "categories" else [f"≥ {g}" for g in groups[:-1]]
        tips = [
            f"{g}: {s * 100:.1f}% {cls} ({sum(r):,} rows)"
            for g, s, r in zip(names, first, counts, strict=True)
        ]
        return svg_bars(first, tips, width=240, height=60, colour="#7aa6e0")
    if kind == "binned":
        bins = plot["bins"]
        tips = [
            f"{feat['name']} ≈ {_fmt(b['x'])}: mean {_fmt(b['mean'])}, n {b['count']:,}"
            for b in bins
        ]
        lo = min(b["mean"] for b in bins) if bins else 0
        return svg_bars(
            [b["mean"] - lo + 1e-9 for b in bins], tips, width=240, height=60, colour="#7aa6e0"
        )
    if kind == "boxes":
        boxes = plot["boxes"]
        return svg_hbars(
            [b["group"] for b in boxes],
            [b["mean"] for b in boxes],
            width=240,
            label_width=90,
            colour="#7aa6e0",
        )
    return ""


def render_html(doc: dict[str, Any]) -> str:
    ds = doc.get("dataset") or {}
    ref = ds.get("ref", "dataset")
    ov = doc["overview"]
    title = f"Profile of {ref}"
    nav = "".join(
        f'<a href="#{k}">{v}</a>'
        for k, v in (
            ("overview", "Overview"),
            ("warnings", "Warnings"),
            ("columns", "Columns"),
            ("associations", "Associations"),
            ("missing", "Missing values"),
            ("target", "Target"),
        )
        if k != "target" or doc.get("target")
    )
    body = (
        _overview(doc)
        + _warnings(doc)
        + _columns(doc)
        + _associations(doc)
        + _missing(doc)
        + _target(doc)
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width"><title>{_e(title)}</title>'
        f"<style>{_CSS}</style></head><body><header><h1>{_e(title)}</h1>"
        f"<p>{ov['rows']:,} rows × {ov['columns']} columns · made by ModelDesk on "
        f"{_e(doc.get('created_at', '')[:19].replace('T', ' '))} UTC</p></header>"
        f"<nav>{nav}</nav><main>{body}</main></body></html>"
    )
