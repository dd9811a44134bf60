"""How the Monitor panel shows a drift report: the summary line, the drift table with a
reference/current histogram per feature, the detail of the selected feature, the plots (drift
over time, predictions, metric trend) and the alert (status bar, tray, message bar).

A mixin of ``MonitorPanel``, which owns the widgets it fills (``summary``, ``table``,
``detail``, ``export_button``, ``messages``, ``_canvases``, ``_jobs``) and the ``report_shown`` and
``alert_raised`` signals. Histograms in the table are painted with QPainter; the plots are
matplotlib canvases made on first use.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QSystemTrayIcon,
    QTableWidgetItem,
)

from app.ui.job_bridge import JobBridge
from app.ui.panels.monitor_jobs import export_report

STATUS_COLORS = {"ok": "#2e7d32", "warning": "#ef6c00", "alert": "#c62828"}
REF_COLOR, CUR_COLOR = "#1f77b4", "#ff7f0e"
COLUMNS = (
    "Feature",
    "Kind",
    "Method",
    "Value",
    "Threshold",
    "PSI",
    "Status",
    "Reference / current",
)


def histogram_pixmap(hist: dict[str, Any], width: int = 120, height: int = 28) -> QPixmap:
    """Reference (blue) and current (orange) shares per bin, drawn without matplotlib."""
    pix = QPixmap(width, height)
    pix.fill(Qt.GlobalColor.transparent)
    ref, cur = hist.get("reference") or [], hist.get("current") or []
    if not ref:
        return pix
    top = max(max(ref), max(cur or [0]), 1e-12)
    step = width / len(ref)
    bar = max(step / 2 - 0.5, 0.5)
    painter = QPainter(pix)
    for i, (r, c) in enumerate(zip(ref, cur or [0.0] * len(ref), strict=False)):
        for off, value, color in ((0.0, r, REF_COLOR), (bar, c, CUR_COLOR)):
            h = height * value / top
            painter.fillRect(
                int(i * step + off), int(height - h), max(1, int(bar)), int(h), QColor(color)
            )
    painter.end()
    return pix


class MonitorReportMixin:
    """``show_report``, the drawing behind it and the report's export, for ``MonitorPanel``."""

    def show_report(self, report: Any, trend: list[dict[str, Any]], *, fresh: bool = False) -> None:
        """Show ``report``; a ``fresh`` alert (just computed, not read back) notifies."""
        self.report, self.trend = report, trend
        self.export_button.setEnabled(True)
        model = report.model or {}
        window = f" · {report.window['start'][:16]}" if report.window else ""
        self.summary.setText(
            f"<b style='color:{STATUS_COLORS[report.status]}'>{report.status.upper()}</b> — "
            f"{model.get('name')}@{model.get('version')} · {report.n_drifted} of "
            f"{len(report.features)} features drifted ({report.drift_share:.0%}) · current: "
            f"{report.current.get('label')} ({report.current.get('rows'):,} rows){window}"
            + (f"<br>{escape(report.verdict)}" if report.verdict else "")
        )
        rows = list(report.features) + ([report.prediction] if report.prediction else [])
        with QSignalBlocker(self.table):
            self.table.setRowCount(len(rows))
            for r, f in enumerate(rows):
                psi = f.stats.get("psi")
                cells = (
                    f.name,
                    f.kind,
                    f.method,
                    "–" if f.value is None else f"{f.value:.4g}",
                    f"{f.threshold:g}",
                    "–" if psi is None else f"{psi:.3g}",
                    f.status,
                )
                for c, text in enumerate(cells):
                    item = QTableWidgetItem(text)
                    if c == 6:
                        item.setForeground(QColor(STATUS_COLORS.get(f.status, "#000")))
                    if f.reasons:
                        item.setToolTip("; ".join(f.reasons))
                    self.table.setItem(r, c, item)
                label = QLabel()
                label.setPixmap(histogram_pixmap(f.histogram))
                self.table.setCellWidget(r, 7, label)
            self.table.resizeRowsToContents()
        if rows:
            self.table.selectRow(0)
            self._show_detail(rows[0])
        self._draw_trend()
        self._draw_prediction()
        self._draw_metrics()
        if fresh and report.status == "alert":
            self._alert(report)
        self.report_shown.emit(report)

    # -- export ---------------------------------------------------------------------------

    def export_dialog(self, kind: str) -> None:
        if self.report is None:
            return
        model = self.report.model or {}
        start = str(
            Path.home() / f"drift-{model.get('name', 'model')}-{self.report.id or 'new'}.{kind}"
        )
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Export drift report",
            start,
            "HTML (*.html)" if kind == "html" else "JSON (*.json)",
        )
        if path:
            self.export(path)

    def export(self, path: str) -> JobBridge | None:
        if self.report is None:
            return None
        return self._jobs.start(
            export_report,
            self._monitoring,
            self.report,
            path,
            name="Export drift report",
            done=lambda _b, p: self.messages.info(f"Wrote {p}."),
        )

    # -- drawing ---------------------------------------------------------------------------

    def _canvas(self, key: str) -> Any:
        from app.ui.widgets.plot_canvas import PlotCanvas

        holder = self._canvases[key]
        canvas = holder.findChild(PlotCanvas)
        if canvas is None:
            canvas = PlotCanvas(holder, figsize=(5, 3), export_name=f"monitor-{key}")
            holder.layout().addWidget(canvas)
        canvas.figure.clear()
        return canvas

    def _show_detail(self, f: Any) -> None:
        lines = [
            f"<h3>{f.name} — <span style='color:{STATUS_COLORS[f.status]}'>{f.status}</span></h3>",
            f"<p>{f.method} = {f.value if f.value is None else format(f.value, '.4g')} "
            f"(threshold {f.threshold:g}); rows: {f.rows['reference']:,} reference, "
            f"{f.rows['current']:,} current; missing {f.missing['reference']:.1%} → "
            f"{f.missing['current']:.1%}</p>",
        ]
        if f.reasons:
            lines.append("<p>" + "<br>".join(f.reasons) + "</p>")
        stats = {k: v for k, v in f.stats.items() if isinstance(v, int | float)}
        lines.append(
            "<table>"
            + "".join(f"<tr><td>{k}</td><td>{v:.4g}</td></tr>" for k, v in stats.items())
            + "</table>"
        )
        if f.stats.get("unseen"):
            lines.append(
                "<p>Unseen categories: "
                + ", ".join(f"{k} ({n})" for k, n in f.stats["unseen"].items())
                + "</p>"
            )
        self.detail.setHtml("".join(lines))
        canvas = self._canvas("detail")
        if f.histogram:
            self._overlay(canvas.figure.add_subplot(111), f.histogram)
        canvas.draw_idle()

    def _overlay(self, ax: Any, hist: dict[str, Any]) -> None:
        import numpy as np

        ref, cur = hist.get("reference") or [], hist.get("current") or []
        x = np.arange(len(ref))
        ax.bar(x - 0.2, ref, width=0.4, color=REF_COLOR, label="reference")
        ax.bar(x + 0.2, cur, width=0.4, color=CUR_COLOR, label="current")
        if "categories" in hist:
            ax.set_xticks(x, hist["categories"], rotation=45, ha="right", fontsize=7)
        elif "edges" in hist:
            edges = hist["edges"]
            ticks = x[:: max(1, len(x) // 5)]
            ax.set_xticks(ticks, [f"{edges[i]:.3g}" for i in ticks], fontsize=7)
        ax.set_ylabel("share of rows")
        ax.legend(fontsize=7)

    def _draw_trend(self) -> None:
        from datetime import datetime

        canvas = self._canvas("trend")
        if not self.trend:
            canvas.clear("No stored reports yet.")
            return
        when = [datetime.fromisoformat(t["created_at"]) for t in self.trend]
        ax = canvas.figure.add_subplot(111)
        names = list(self.trend[-1].get("features", {}))
        for name in names:
            ys = [t.get("features", {}).get(name, {}).get("value") for t in self.trend]
            ax.plot(when, [float("nan") if y is None else y for y in ys], marker=".", label=name)
        ax.plot(
            when,
            [t["drift_share"] for t in self.trend],
            color="black",
            linewidth=2,
            label="share drifted",
        )
        ax.set_ylabel("deciding value / share")
        ax.legend(fontsize=7, ncol=2)
        canvas.figure.autofmt_xdate()
        canvas.draw_idle()

    def _draw_prediction(self) -> None:
        canvas = self._canvas("prediction")
        pred = self.report.prediction if self.report else None
        if pred is None or not pred.histogram:
            canvas.clear("No predictions in this report.")
            return
        self._overlay(canvas.figure.add_subplot(111), pred.histogram)
        canvas.draw_idle()

    def _draw_metrics(self) -> None:
        from datetime import datetime

        canvas = self._canvas("metrics")
        points = [
            (datetime.fromisoformat(t["created_at"]), t["metrics"])
            for t in self.trend
            if t.get("metrics")
        ]
        if not points:
            canvas.clear("No labelled batches yet: metrics need the target in the data.")
            return
        ax = canvas.figure.add_subplot(111)
        for name in list(points[-1][1])[:4]:
            ax.plot(
                [p[0] for p in points], [p[1].get(name) for p in points], marker="o", label=name
            )
        ax.legend(fontsize=7)
        canvas.figure.autofmt_xdate()
        canvas.draw_idle()

    def _alert(self, report: Any) -> None:
        model = report.model or {}
        text = f"Drift alert: {model.get('name')}@{model.get('version')} — " + (
            report.verdict or f"{report.n_drifted} of {len(report.features)} features drifted"
        )
        window = self.window()
        if isinstance(window, QMainWindow):
            window.statusBar().showMessage(text, 15_000)
        if QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages():
            if self._tray is None:
                self._tray = QSystemTrayIcon(self.windowIcon(), self)
            self._tray.show()
            self._tray.showMessage("ModelDesk", text, QSystemTrayIcon.MessageIcon.Warning, 10_000)
        self.messages.warning(text, hint="Select a feature to see why; consider retraining.")
        self.alert_raised.emit(text)

    # -- slots ------------------------------------------------------------------------------

    def _on_table_selection_changed(self) -> None:
        if self.report is None:
            return
        rows = list(self.report.features) + (
            [self.report.prediction] if self.report.prediction else []
        )
        r = self.table.currentRow()
        if 0 <= r < len(rows):
            self._show_detail(rows[r])
