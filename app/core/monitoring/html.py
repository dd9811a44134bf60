"""A drift report as one self-contained HTML file: inline CSS and SVG, no script, no link.

It opens from an e-mail attachment or a CI artifact years later, offline, exactly as the
panel showed it. Charts are drawn as SVG by hand (a histogram overlay and a trend line are a
few rectangles and a polyline), which keeps matplotlib out of headless runs.
"""

from __future__ import annotations

from html import escape
from typing import Any

from app.core.monitoring.report import DriftReport, FeatureDrift

COLORS = {"ok": "#2e7d32", "warning": "#ef6c00", "alert": "#c62828"}
REF_COLOR, CUR_COLOR = "#1f77b4", "#ff7f0e"

CSS = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;font-size:13px}
td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:middle}
th{background:#f4f4f4}.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{color:#fff;border-radius:4px;padding:2px 8px;font-weight:600}
.muted{color:#777}.legend span{margin-right:16px}
"""


def fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return escape(str(value))


def badge(status: str) -> str:
    color = COLORS.get(status, "#555")
    return f'<span class="badge" style="background:{color}">{escape(status)}</span>'


def histogram_svg(hist: dict[str, Any], width: int = 160, height: int = 40) -> str:
    """Reference (blue) and current (orange) shares per bin, side by side."""
    ref, cur = hist.get("reference") or [], hist.get("current") or []
    if not ref:
        return ""
    top = max(max(ref), max(cur or [0]), 1e-12)
    step = width / len(ref)
    bar = max(step / 2 - 0.5, 0.5)
    parts = [f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">']
    for i, (r, c) in enumerate(zip(ref, cur or [0] * len(ref), strict=False)):
        x = i * step
        for off, v, color in ((0, r, REF_COLOR), (bar, c, CUR_COLOR)):
            h = height * v / top
            parts.append(
                f'<rect x="{x + off:.1f}" y="{height - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{color}" fill-opacity="0.8"/>'
            )
    parts.append("</svg>")
    return "".join(parts)


def trend_svg(
    points: list[tuple[str, float]],
    threshold: float | None = None,
    width: int = 520,
    height: int = 120,
) -> str:
    if not points:
        return ""
    values = [v for _, v in points]
    top = max([*values, threshold or 0]) or 1.0
    n = len(points)
    xs = [20 + (width - 40) * (i / max(n - 1, 1)) for i in range(n)]
    ys = [height - 15 - (height - 30) * v / top for v in values]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    parts = [
        f'<svg width="{width}" height="{height}" role="img">',
        f'<polyline points="{line}" fill="none" stroke="{CUR_COLOR}" stroke-width="2"/>',
    ]
    parts += [
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{CUR_COLOR}"/>'
        for x, y in zip(xs, ys, strict=True)
    ]
    if threshold is not None:
        ty = height - 15 - (height - 30) * threshold / top
        parts.append(
            f'<line x1="20" x2="{width - 20}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'stroke="{COLORS["alert"]}" stroke-dasharray="4 3"/>'
        )
    parts.append(
        f'<text x="20" y="{height - 2}" font-size="10" fill="#777">'
        f"{escape(points[0][0][:16])}</text>"
    )
    parts.append(
        f'<text x="{width - 20}" y="{height - 2}" font-size="10" fill="#777" '
        f'text-anchor="end">{escape(points[-1][0][:16])}</text></svg>'
    )
    return "".join(parts)


def _feature_row(f: FeatureDrift) -> str:
    reasons = "; ".join(f.reasons) or "—"
    return (
        f"<tr><td>{escape(f.name)}</td><td>{f.kind}</td><td>{f.method}</td>"
        f'<td class="num">{fmt(f.value)}</td><td class="num">{fmt(f.threshold)}</td>'
        f'<td class="num">{fmt(f.stats.get("psi"))}</td>'
        f'<td class="num">{"–" if f.importance is None else f"{f.importance:.1%}"}</td>'
        f'<td class="num">{f.missing.get("change", 0):+.1%}</td>'
        f"<td>{badge(f.status)}</td><td>{histogram_svg(f.histogram)}</td>"
        f'<td class="muted">{escape(reasons)}</td></tr>'
    )


def render_html(report: DriftReport, trend: list[dict[str, Any]] | None = None) -> str:
    """The whole report; ``trend`` (stored summaries, oldest first) adds a drift-over-time chart."""
    model = report.model or {}
    title = (
        f"Drift report — {model.get('name', '')}@{model.get('version', '')}"
        if model
        else "Drift report"
    )
    window = ""
    if report.window:
        window = f" · window {escape(report.window['start'])} – {escape(report.window['end'])}"
    head = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(title)} {badge(report.status)}</h1>",
        f"<p>Reference: {escape(str(report.reference.get('label')))} "
        f"({report.reference.get('rows'):,} rows) · "
        f"Current: {escape(str(report.current.get('label')))} "
        f"({report.current.get('rows'):,} rows){window} · "
        f"computed {escape(report.created_at[:19])} UTC</p>",
        f"<p><b>{escape(report.verdict or report.status)}</b></p>",
        f"<p>{report.n_drifted} of {len(report.features)} features drifted "
        f"({report.drift_share:.0%}; the dataset drifts from "
        f"{report.settings.get('drift_share', 0.5):.0%}). "
        f"Dataset drift: <b>{'yes' if report.dataset_drift else 'no'}</b>.</p>",
        '<p class="legend"><span style="color:#1f77b4">■ reference</span>'
        '<span style="color:#ff7f0e">■ current</span></p>',
    ]
    for note in report.notes:
        head.append(f'<p class="muted">{escape(note)}</p>')
    table = [
        "<h2>Features</h2><table><tr><th>feature</th><th>kind</th><th>method</th><th>value</th>"
        "<th>threshold</th><th>PSI</th><th>importance</th><th>missing Δ</th><th>status</th>"
        "<th>distribution</th><th>why</th></tr>",
        *(_feature_row(f) for f in report.features),
        "</table>",
    ]
    body = head + table
    if report.prediction is not None:
        body += [
            "<h2>Prediction drift</h2><table><tr><th>output</th><th>kind</th><th>method</th>"
            "<th>value</th><th>threshold</th><th>PSI</th><th>importance</th><th>missing Δ</th>"
            "<th>status</th><th>distribution</th><th>why</th></tr>",
            _feature_row(report.prediction),
            "</table>",
        ]
    if report.metrics:
        body.append(
            "<h2>Model quality on the labelled rows</h2><table><tr><th>metric</th>"
            "<th>training</th><th>current</th><th>change</th><th>status</th></tr>"
        )
        for r in report.metrics.get("rows", []):
            body.append(
                f"<tr><td>{escape(r['metric'])}</td><td class='num'>{fmt(r['training'])}</td>"
                f"<td class='num'>{fmt(r['current'])}</td><td class='num'>{fmt(r['change'])}</td>"
                f"<td>{badge(r['status'])}</td></tr>"
            )
        body.append("</table>")
    if trend:
        points = [(t["created_at"], t["drift_share"]) for t in trend]
        body += [
            "<h2>Share of drifted features over time</h2>",
            trend_svg(points, report.settings.get("drift_share")),
        ]
    body.append("</body></html>")
    return "\n".join(body)
