"""The Explore panel's Columns tab: a sortable column list with small histograms, and the
detail of the selected column (its statistics, warnings and plots).

The list is a table model over the profile document's columns; the histogram in each row is
painted by a delegate from the stored counts (no matplotlib per row). The detail draws one
figure on a shared ``PlotCanvas`` when a column is selected.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QRectF,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QIcon, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

SORT_ROLE = Qt.ItemDataRole.UserRole
BARS_ROLE = Qt.ItemDataRole.UserRole + 1
HEADERS = ("Column", "Role", "Missing", "Distinct", "Distribution")
DIST_COLUMN = 4
_Index = QModelIndex | QPersistentModelIndex


MAX_BARS = 25


def distribution(col: dict[str, Any]) -> list[float]:
    """The bar heights of a column's small histogram (at most ``MAX_BARS``)."""
    if col.get("numeric"):
        counts = col["numeric"]["histogram"]["counts"]
    elif col.get("datetime"):
        counts = col["datetime"]["period"]["counts"]
    else:
        return [float(c) for _, c in (col.get("top_values") or [])]
    if len(counts) > MAX_BARS:  # sum neighbours
        step = -(-len(counts) // MAX_BARS)
        counts = [sum(counts[i : i + step]) for i in range(0, len(counts), step)]
    return [float(c) for c in counts]


class ColumnListModel(QAbstractTableModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._columns: list[dict[str, Any]] = []
        self._flagged: dict[str, int] = {}
        self._warning_icon: QIcon | None = None

    def set_columns(self, columns: list[dict[str, Any]], warnings: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self._columns = list(columns)
        self._flagged = {}
        for w in warnings:
            for name in w["columns"][:1]:
                self._flagged[name] = self._flagged.get(name, 0) + 1
        self.endResetModel()

    def _icon(self) -> QIcon:
        if self._warning_icon is None:
            from PySide6.QtWidgets import QApplication

            self._warning_icon = QApplication.style().standardIcon(
                QStyle.StandardPixmap.SP_MessageBoxWarning
            )
        return self._warning_icon

    def column_at(self, row: int) -> dict[str, Any] | None:
        return self._columns[row] if 0 <= row < len(self._columns) else None

    def row_of(self, name: str) -> int | None:
        for i, col in enumerate(self._columns):
            if col["name"] == name:
                return i
        return None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        col = self._columns[index.row()]
        c = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if c == 0:
                return col["name"]
            if c == 1:
                return col["role"]
            if c == 2:
                return f"{col['missing_share'] * 100:.1f}%"
            if c == 3:
                d = col.get("distinct")
                return "" if d is None else f"{d:,}"
            return None
        if role == SORT_ROLE:
            return (
                col["name"].lower(),
                col["role"],
                col["missing_share"],
                col.get("distinct") or 0,
                0,
            )[c]
        if role == BARS_ROLE and c == DIST_COLUMN:
            return distribution(col)
        if role == Qt.ItemDataRole.ToolTipRole:
            n = self._flagged.get(col["name"], 0)
            tip = f"{col['name']} ({col['role']}, {col['physical_type']})"
            return tip + (f" — {n} warning{'s' if n != 1 else ''}" if n else "")
        if role == Qt.ItemDataRole.DecorationRole and c == 0 and self._flagged.get(col["name"]):
            return self._icon()
        if role == Qt.ItemDataRole.TextAlignmentRole and c in (2, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class SparklineDelegate(QStyledItemDelegate):
    """Paints a row's distribution as small bars in the highlight colour."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        bars = index.data(BARS_ROLE)
        if not bars:
            super().paint(painter, option, index)
            return
        style = option.widget.style() if option.widget else None
        if style is not None:
            style.drawPrimitive(
                QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, option.widget
            )
        rect = QRectF(option.rect).adjusted(3, 3, -3, -3)
        top = max(bars) or 1.0
        width = rect.width() / len(bars)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        colour = option.palette.color(
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Highlight
        )
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        for i, v in enumerate(bars):
            h = rect.height() * v / top
            gap = 1.0 if width >= 4 else 0.0
            painter.drawRect(
                QRectF(rect.left() + i * width, rect.bottom() - h, max(width - gap, 1.0), h)
            )
        painter.restore()


class _SortProxy(QSortFilterProxyModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setFilterKeyColumn(0)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)


class ColumnsView(QWidget):
    """Column list on the left, the selected column's detail on the right."""

    column_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from app.ui.widgets.plot_canvas import PlotCanvas

        self._warnings: list[dict[str, Any]] = []
        self.model = ColumnListModel(self)
        self.proxy = _SortProxy(self)
        self.proxy.setSourceModel(self.model)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter columns")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QTableView()
        self.table.setObjectName("explore-columns")
        self.table.setModel(self.proxy)
        self.table.setItemDelegateForColumn(DIST_COLUMN, SparklineDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c, w in ((1, 82), (2, 62), (3, 70), (4, 96)):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.Interactive)
            self.table.setColumnWidth(c, w)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_changed)

        self.title = QLabel("Select a column.")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)
        self.stats = QTableWidget(0, 2)
        self.stats.setHorizontalHeaderLabels(["Statistic", "Value"])
        self.stats.verticalHeader().setVisible(False)
        self.stats.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.stats.horizontalHeader().setStretchLastSection(True)
        self.stats.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.stats.setColumnWidth(0, 110)
        self.stats.setMinimumWidth(300)
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.notes.setTextFormat(Qt.TextFormat.RichText)
        self.canvas = PlotCanvas(export_name="column")
        self.canvas.setObjectName("explore-column-plot")
        self.canvas.setMinimumHeight(260)

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.filter)
        ll.addWidget(self.table, 1)
        info = QWidget()
        il = QVBoxLayout(info)
        il.setContentsMargins(0, 0, 0, 0)
        il.addWidget(self.stats, 1)
        il.addWidget(self.notes)
        detail = QSplitter(Qt.Orientation.Horizontal)
        detail.addWidget(info)
        detail.addWidget(self.canvas)
        detail.setStretchFactor(1, 2)
        detail.setSizes([320, 640])
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.title)
        rl.addWidget(detail, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([440, 960])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

    def set_profile(self, columns: list[dict[str, Any]], warnings: list[dict[str, Any]]) -> None:
        self._warnings = warnings
        self.model.set_columns(columns, warnings)
        if columns:
            self.select(columns[0]["name"])

    def select(self, name: str) -> None:
        row = self.model.row_of(name)
        if row is None:
            return
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():  # filtered out: clear the filter to show it
            self.filter.clear()
            index = self.proxy.mapFromSource(self.model.index(row, 0))
        self.table.selectRow(index.row())
        self.table.scrollTo(index)
        self._show(name)

    def current(self) -> str | None:
        index = self.table.selectionModel().currentIndex()
        if not index.isValid():
            return None
        col = self.model.column_at(self.proxy.mapToSource(index).row())
        return col["name"] if col else None

    def _on_table_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        col = self.model.column_at(self.proxy.mapToSource(current).row())
        if col is not None:
            self._show(col["name"])

    def _show(self, name: str) -> None:
        from app.core.profiling import plots
        from app.core.profiling.report_html import stats_rows
        from app.core.profiling.report_svg import when

        row = self.model.row_of(name)
        col = self.model.column_at(row) if row is not None else None
        if col is None:
            return
        self.title.setText(
            f"<b style='font-size:15px'>{_esc(name)}</b> &nbsp; "
            f"{_esc(col['role'])} · {_esc(col['physical_type'])}"
        )
        rows = stats_rows(col)
        top = col.get("top_values") or []
        shown = (
            (lambda v: when(v))
            if col.get("datetime")
            else (lambda v: "(empty)" if v == "" else str(v))
        )
        rows += [(f"Top {i + 1}", f"{shown(v)} ({c:,})") for i, (v, c) in enumerate(top[:5])]
        self.stats.setRowCount(len(rows))
        for r, (k, v) in enumerate(rows):
            self.stats.setItem(r, 0, QTableWidgetItem(k))
            item = QTableWidgetItem(str(v))
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.stats.setItem(r, 1, item)
        mine = [w for w in self._warnings if name in w["columns"]]
        notes = [f"⚠ {_esc(w['message'])}" for w in mine] + [_esc(n) for n in col["notes"]]
        self.notes.setText("<br>".join(notes))
        self.notes.setVisible(bool(notes))
        plots.draw_column(self.canvas.figure, col)
        self.canvas.export_name = f"column-{name}"
        self.canvas.draw_idle()
        self.column_selected.emit(name)


def _esc(text: Any) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
