"""The table view every panel uses for data: a ``QTableView`` over a ``DataFrameModel``.

Rows have a fixed height (a million rows cost nothing to lay out) and columns get a width
from their header and first rows when a table is set, bounded, in O(columns × 64).

Select-all, copy and sort stay fluid on a million rows:
- the column header is painted without asking the selection model whether each column is
  selected: Qt answers that by visiting every row of the column (``isColumnSelected``), which
  made one repaint after Ctrl+A cost 10 × the rows in model calls (16 s on 1M rows);
- Ctrl+C and a click on a column header start a job on the runner (``table_jobs``) with
  progress and cancel; the result lands on the GUI thread as a ready clipboard payload or a
  permutation the model shows its rows through.
"""

from __future__ import annotations

import atexit
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QMimeData, QRect, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent, QKeySequence, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyle,
    QStyleOptionHeader,
    QTableView,
    QWidget,
)

from app.ui.widgets.dataframe_model import DataFrameModel
from app.ui.widgets.table_jobs import CellRange, copy_cells, sort_order

if TYPE_CHECKING:
    import pyarrow as pa

    from app.jobs.runner import Job, JobRunner

MIN_WIDTH, MAX_WIDTH, SAMPLE_ROWS = 56, 320, 64
COPY_MIME = "text/tab-separated-values"


class ColumnHeader(QHeaderView):
    """A horizontal header that draws its sections without consulting the selection.

    Qt's own ``paintSection`` asks whether the section and its neighbours are selected, and
    for a column that means asking the model about every row. This one draws each section
    from its text, sort indicator and position alone.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setHighlightSections(False)
        self.setSectionsClickable(True)
        # shown, on no section: a click then flips it and says so (sortIndicatorChanged)
        self.setSortIndicatorShown(True)
        self.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)

    def paintSection(self, painter: QPainter, rect: QRect, logical: int) -> None:
        if not rect.isValid():
            return
        model = self.model()
        option = QStyleOptionHeader()
        self.initStyleOption(option)
        option.rect = rect
        option.section = logical
        option.text = str(model.headerData(logical, self.orientation()) or "")
        option.textAlignment = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        option.state |= QStyle.StateFlag.State_Enabled
        if self.sortIndicatorSection() == logical:
            ascending = self.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder
            option.sortIndicator = (
                QStyleOptionHeader.SortIndicator.SortUp
                if ascending
                else QStyleOptionHeader.SortIndicator.SortDown
            )
        visual = self.visualIndex(logical)
        count = self.count()
        if count == 1:
            option.position = QStyleOptionHeader.SectionPosition.OnlyOneSection
        elif visual == 0:
            option.position = QStyleOptionHeader.SectionPosition.Beginning
        elif visual == count - 1:
            option.position = QStyleOptionHeader.SectionPosition.End
        else:
            option.position = QStyleOptionHeader.SectionPosition.Middle
        option.selectedPosition = QStyleOptionHeader.SelectedPosition.NotAdjacent
        self.style().drawControl(QStyle.ControlElement.CE_Header, option, painter, self)


class LazyMimeData(QMimeData):
    """Clipboard data that stays in its Arrow buffer until someone pastes it.

    Turning hundreds of megabytes into a ``QByteArray`` costs seconds and holds the
    interpreter lock; a copy the person may never paste should not pay that on the GUI
    thread. Qt asks ``retrieveData`` when a paste (here or in another program) needs it.
    """

    def __init__(self, payload: Any, formats: tuple[str, ...]) -> None:
        super().__init__()
        self._payload = payload
        self._formats = formats

    def formats(self) -> list[str]:
        return list(self._formats)

    def hasFormat(self, mime_type: str) -> bool:
        return mime_type in self._formats

    def retrieveData(self, mime_type: str, preferred_type: Any) -> Any:
        if mime_type in self._formats:
            return QByteArray(self._payload.to_pybytes())
        return None


def _settle_clipboard() -> None:
    """At exit, swap lazy clipboard data for text the clipboard owns itself.

    A clipboard manager may still want the copy, and a ``QMimeData`` made in Python (any,
    not only this subclass) crashes PySide when Qt deletes it during interpreter shutdown
    (seen with PySide6 6.11); ``setText`` makes Qt own a C++ one instead.
    """
    app = QGuiApplication.instance()
    if app is None:
        return
    clipboard = QGuiApplication.clipboard()
    lazy = clipboard.mimeData()
    if isinstance(lazy, LazyMimeData):
        clipboard.setText(bytes(lazy.data("text/plain")).decode("utf-8", "replace"))


atexit.register(_settle_clipboard)


class DataTableView(QTableView):
    copied = Signal(int, int)  # rows, columns now on the clipboard
    sorted = Signal(int, object)  # column, Qt.SortOrder (column -1: the table's own order)
    job_started = Signal(object)  # the runner Job of a copy or sort (for a progress row)
    failed = Signal(str)  # a copy or sort that failed, as a sentence

    def __init__(
        self,
        parent: QWidget | None = None,
        model: DataFrameModel | None = None,
        *,
        runner: JobRunner | None = None,
    ) -> None:
        super().__init__(parent)
        self.runner = runner
        self._copy_job: Job | None = None
        self._sort_job: Job | None = None
        self.data_model = model or DataFrameModel(parent=self)
        self.setHorizontalHeader(ColumnHeader(self))
        self.setModel(self.data_model)
        self.setWordWrap(False)
        self.setAlternatingRowColors(True)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        rows = self.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.horizontalHeader().sortIndicatorChanged.connect(self._on_header_sort_indicator_changed)

    def set_table(self, table: pa.Table | None) -> None:
        self._cancel_jobs()
        header = self.horizontalHeader()
        with QSignalBlocker(header):
            header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.data_model.set_table(table)
        self.fit_columns()

    def fit_columns(self) -> None:
        model: Any = self.data_model
        cells = self.fontMetrics()
        header = self.horizontalHeader().fontMetrics()
        names = model.column_names()
        sample = min(model.rowCount(), SAMPLE_ROWS)
        for col, name in enumerate(names):
            width = header.horizontalAdvance(name) + 28
            for row in range(sample):
                width = max(width, cells.horizontalAdvance(model.display_text(row, col)) + 16)
            self.setColumnWidth(col, max(MIN_WIDTH, min(width, MAX_WIDTH)))

    # -- copy --------------------------------------------------------------------------------

    def selected_ranges(self) -> list[CellRange]:
        return [
            CellRange(r.top(), r.bottom(), r.left(), r.right())
            for r in self.selectionModel().selection()
            if r.isValid()
        ]

    def copy_selection(self) -> Job | None:
        """Put the selected cells on the clipboard as tab-separated text, in a job."""
        table = self.data_model.table()
        ranges = self.selected_ranges()
        if table is None or not ranges or self.runner is None:
            return None
        if self._copy_job is not None:
            self._copy_job.cancel()
        job = self.runner.submit(
            copy_cells, table, ranges, self.data_model.order(), name="Copy cells"
        )
        self._copy_job = job
        self._watch(job, self._deliver_copy)
        return job

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_selection()
            event.accept()
            return
        super().keyPressEvent(event)

    def _deliver_copy(self, job: Job, cells: Any) -> None:
        if job is not self._copy_job:
            return
        self._copy_job = None
        QGuiApplication.clipboard().setMimeData(
            LazyMimeData(cells.payload, ("text/plain", COPY_MIME))
        )
        self.copied.emit(cells.rows, cells.columns)

    # -- sort --------------------------------------------------------------------------------

    def sort_by(self, column: int, order: Qt.SortOrder) -> Job | None:
        """Show the rows sorted by ``column``; the permutation is computed in a job."""
        table = self.data_model.table()
        if table is None or self.runner is None or not 0 <= column < table.num_columns:
            return None
        if self._sort_job is not None:
            self._sort_job.cancel()
        descending = order == Qt.SortOrder.DescendingOrder
        job = self.runner.submit(sort_order, table, column, descending, name="Sort rows")
        self._sort_job = job

        def deliver(finished: Job, permutation: Any) -> None:
            if finished is not self._sort_job:
                return
            self._sort_job = None
            self.clearSelection()
            self.data_model.set_order(permutation)
            header = self.horizontalHeader()
            with QSignalBlocker(header):  # sort_by called directly: show what is shown
                header.setSortIndicator(column, order)
            self.sorted.emit(column, order)

        self._watch(job, deliver)
        return job

    def _on_header_sort_indicator_changed(self, column: int, order: Qt.SortOrder) -> None:
        if column >= 0:
            self.sort_by(column, order)

    # -- jobs --------------------------------------------------------------------------------

    def _watch(self, job: Job, deliver: Any) -> None:
        """Call ``deliver(job, result)`` on the GUI thread when ``job`` succeeds; a failure
        is said through ``failed`` (a cancel says nothing)."""
        from app.ui.job_bridge import JobBridge

        bridge = JobBridge(job, self)
        bridge.succeeded.connect(lambda result: deliver(job, result))
        bridge.failed.connect(lambda error, _tb: self.failed.emit(f"{job.name}: {error}"))
        bridge.finished.connect(bridge.deleteLater)
        self.job_started.emit(job)

    def _cancel_jobs(self) -> None:
        for job in (self._copy_job, self._sort_job):
            if job is not None:
                job.cancel()
        self._copy_job = self._sort_job = None
