"""The runs table: a window onto the store, never a copy of it.

``RunsTableModel`` reports ``total`` rows (from ``RunPage.total``) but holds at most
``max_pages`` pages of ``page_size`` runs. A cell whose page is not cached shows nothing and
asks for that page; requests are coalesced on the next event-loop turn, so only the pages the
view actually painted are fetched. Every query runs on the job runner (never on the GUI
thread) and is tagged with the model's *generation*: changing the sort, filter, search text,
columns or the deleted toggle starts a new generation, and pages of an older one are dropped
when they arrive. Until the first page of a new generation arrives the old rows stay on
screen, so re-sorting never flashes an empty table.

Sorting and filtering happen in SQL (``TrackingService.search``): clicking a header calls
``sort()``, which re-queries with ``sort=``; nothing is sorted in Python.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QStyle

from app.ui.job_bridge import JobBridge

if TYPE_CHECKING:
    from app.core.tracking import RunPage, RunSummary, TrackingService
    from app.jobs.runner import JobRunner

RUN_ID_ROLE = Qt.ItemDataRole.UserRole
SORT_VALUE_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class FixedColumn:
    title: str
    sort: str | None  # the search() sort key, None when the column cannot be sorted in SQL
    tip: str


FIXED_COLUMNS: tuple[FixedColumn, ...] = (
    FixedColumn(
        "Status", "status", "queued, running, finished, failed, cancelled or pruned after fold k"
    ),
    FixedColumn("ID", "id", "The run's number in this store"),
    FixedColumn("Name", "name", "The run's name"),
    FixedColumn("Estimator", "estimator", "The model that was trained"),
    FixedColumn("Target", "target", "The column the model predicts"),
    FixedColumn("Task", "task", "binary, multiclass or regression"),
    FixedColumn("Dataset", "dataset_version_id", "The dataset version's id"),
    FixedColumn("Started", "started_at", "When the run started (local time)"),
    FixedColumn("Duration", None, "Wall-clock time from start to end"),
)
STATUS_COLUMN, ID_COLUMN = 0, 1

_STATUS_ICONS = {
    "finished": QStyle.StandardPixmap.SP_DialogApplyButton,
    "failed": QStyle.StandardPixmap.SP_MessageBoxCritical,
    "running": QStyle.StandardPixmap.SP_BrowserReload,
    "queued": QStyle.StandardPixmap.SP_MediaPause,
    "cancelled": QStyle.StandardPixmap.SP_DialogCancelButton,
    "pruned": QStyle.StandardPixmap.SP_MediaSkipForward,
}


@dataclass(frozen=True)
class RunQuery:
    """Everything that decides which runs the table shows, and in which order."""

    filter: str = ""
    text: str = ""
    sort: str = "id"
    descending: bool = True
    columns: tuple[str, ...] = ()
    include_deleted: bool = False
    include_partial: bool = False  # let failed/pruned runs' partial metrics sort and filter


def fetch_page(
    tracking: TrackingService, query: RunQuery, offset: int, limit: int, *, progress: Any
) -> RunPage:
    """Job body: one page of runs (a worker thread runs it); the runs of pruned trials (stored
    as "cancelled") come back with the status "pruned after fold k"."""
    progress.check_cancelled()
    page = tracking.search(
        filter=query.filter or None,
        sort=query.sort,
        descending=query.descending,
        limit=limit,
        offset=offset,
        columns=list(query.columns),
        include_deleted=query.include_deleted,
        text=query.text or None,
        include_partial=query.include_partial,
    )
    return _mark_pruned(tracking, page, include_deleted=query.include_deleted)


def _mark_pruned(tracking: TrackingService, page: RunPage, *, include_deleted: bool) -> RunPage:
    """One query finds the page's pruned trial runs; each one's note gives its fold."""
    from dataclasses import replace

    candidates = [r.id for r in page.runs if r.status == "cancelled" and r.parent_run_id]
    if not candidates:
        return page
    texts = tracking.partial_states(candidates)
    runs = [replace(r, status=texts[r.id]) if r.id in texts else r for r in page.runs]
    return type(page)(runs, page.total)


def is_partial(status: str) -> bool:
    """A run whose metrics are partial: pruned ("pruned after fold k"), failed or cancelled."""
    return status.startswith("pruned") or status in ("failed", "cancelled")


def column_title(key: str) -> str:
    """'metrics.roc_auc' → 'roc_auc', 'params.max_depth' → 'max_depth' (header text)."""
    return key.partition(".")[2] or key


def format_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3e}"
    return str(value)


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def local_time(moment: datetime | None) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


class RunsTableModel(QAbstractTableModel):
    # signals
    page_loaded = Signal(int, int)  # generation, page number
    total_changed = Signal(int)
    query_failed = Signal(object, str)  # the exception, its traceback text
    sort_changed = Signal(int, Qt.SortOrder)  # the header should show this (column, order)
    loading_changed = Signal(bool)

    def __init__(
        self,
        *,
        tracking: TrackingService,
        runner: JobRunner,
        page_size: int = 200,
        max_pages: int = 8,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._tracking = tracking
        self._runner = runner
        self.page_size = page_size
        self.max_pages = max(2, max_pages)
        self._query = RunQuery()
        self._shown_query = RunQuery()  # the query whose rows are on screen
        self._generation = 0
        self._shown_generation = -1
        self._total = 0
        self._pages: OrderedDict[int, list[RunSummary]] = OrderedDict()  # LRU order
        self._in_flight: dict[int, JobBridge] = {}  # page → bridge (current generation)
        self._wanted: set[int] = set()
        self._flush = QTimer(self)
        self._flush.setSingleShot(True)
        self._flush.setInterval(0)
        self._flush.timeout.connect(self._on_flush_timeout)
        self.last_query_seconds = 0.0
        self._stopped = False
        self._icons: dict[str, QIcon] = {}

    # -- the query ---------------------------------------------------------------------------

    @property
    def query(self) -> RunQuery:
        return self._query

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def loading(self) -> bool:
        return self._shown_generation != self._generation

    def set_query(self, query: RunQuery) -> None:
        if query != self._query:
            self._query = query
            self.refresh()

    def update_query(self, **changes: Any) -> None:
        self.set_query(replace(self._query, **changes))

    def stop(self) -> None:
        """No more queries (the view is closing); results on their way are dropped."""
        self._stopped = True
        self._flush.stop()
        self._generation += 1
        for bridge in self._in_flight.values():
            bridge.cancel()
        self._in_flight.clear()

    def refresh(self) -> None:
        """Start a new generation: fetch page 0 (and the total) for the current query."""
        if self._stopped:
            return
        self._generation += 1
        for bridge in self._in_flight.values():
            bridge.cancel()
        self._in_flight.clear()
        self._wanted.clear()
        self.loading_changed.emit(True)
        self._request(0)

    # -- reading -----------------------------------------------------------------------------

    @property
    def total(self) -> int:
        return self._total

    def columns(self) -> tuple[str, ...]:
        return self._shown_query.columns

    def cached_row_count(self) -> int:
        return sum(len(rows) for rows in self._pages.values())

    def run_at(self, row: int) -> RunSummary | None:
        """The run on ``row`` if its page is in memory (touching it keeps it there)."""
        page, within = divmod(row, self.page_size)
        rows = self._pages.get(page)
        if rows is None or within >= len(rows):
            return None
        self._pages.move_to_end(page)
        return rows[within]

    def row_of(self, run_id: int) -> int | None:
        for page, rows in self._pages.items():
            for i, run in enumerate(rows):
                if run.id == run_id:
                    return page * self.page_size + i
        return None

    def sort_key(self, column: int) -> str | None:
        if column < len(FIXED_COLUMNS):
            return FIXED_COLUMNS[column].sort
        extra = self._shown_query.columns
        index = column - len(FIXED_COLUMNS)
        return extra[index] if index < len(extra) else None

    def column_of_sort(self, sort: str) -> int:
        for i, col in enumerate(FIXED_COLUMNS):
            if col.sort == sort:
                return i
        if sort in self._shown_query.columns:
            return len(FIXED_COLUMNS) + self._shown_query.columns.index(sort)
        return -1

    # -- Qt model API ------------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._total

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(FIXED_COLUMNS) + len(self._shown_query.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return section + 1
            return None
        extra = self._shown_query.columns
        if role == Qt.ItemDataRole.DisplayRole:
            if section < len(FIXED_COLUMNS):
                return FIXED_COLUMNS[section].title
            return column_title(extra[section - len(FIXED_COLUMNS)])
        if role == Qt.ItemDataRole.ToolTipRole:
            if section < len(FIXED_COLUMNS):
                return FIXED_COLUMNS[section].tip
            return extra[section - len(FIXED_COLUMNS)]
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        run = self.run_at(index.row())
        if run is None:
            if role == Qt.ItemDataRole.DisplayRole and index.column() == ID_COLUMN:
                self._want(index.row() // self.page_size)
                return "…"
            if role == Qt.ItemDataRole.DisplayRole:
                self._want(index.row() // self.page_size)
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(run, col)
        if role == RUN_ID_ROLE:
            return run.id
        if role == SORT_VALUE_ROLE:
            return self._raw(run, col)
        if role == Qt.ItemDataRole.DecorationRole and col == STATUS_COLUMN:
            return self._status_icon(run.status)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            raw = self._raw(run, col)
            if col == ID_COLUMN or isinstance(raw, int | float) or col == 8:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        if role == Qt.ItemDataRole.FontRole and run.deleted:
            font = QFont()
            font.setItalic(True)
            font.setStrikeOut(col == 2)
            return font
        partial = col >= len(FIXED_COLUMNS) and is_partial(run.status)
        if role == Qt.ItemDataRole.ForegroundRole and (run.deleted or partial):
            return QApplication.palette().brush(QPalette.ColorRole.PlaceholderText)
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == STATUS_COLUMN:
                return f"{run.status} (deleted)" if run.deleted else run.status
            raw = self._raw(run, col)
            if partial and raw is not None:
                who = "the pruner" if run.status.startswith("pruned") else "the run"
                return (
                    f"{raw!r}: partial, from the folds finished before {who} stopped; "
                    "left out of metric sorts and filters unless partial metrics are included"
                )
            return repr(raw) if isinstance(raw, float) else None
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Re-query with ``sort=`` (in SQL). Unsortable columns keep the current sort."""
        key = self.sort_key(column)
        descending = order == Qt.SortOrder.DescendingOrder
        if key is None:
            current = self.column_of_sort(self._query.sort)
            shown = (
                Qt.SortOrder.DescendingOrder
                if self._query.descending
                else (Qt.SortOrder.AscendingOrder)
            )
            QTimer.singleShot(0, lambda: self.sort_changed.emit(current, shown))
            return
        self.update_query(sort=key, descending=descending)

    # -- fetching ----------------------------------------------------------------------------

    def _want(self, page: int) -> None:
        if page in self._in_flight or page in self._wanted or self.loading:
            return  # while a new query loads, the old rows' pages are not worth fetching
        self._wanted.add(page)
        if not self._flush.isActive():
            self._flush.start()

    def _on_flush_timeout(self) -> None:
        wanted, self._wanted = self._wanted, set()
        # Only the newest requests matter (the view painted them just now); bound the burst.
        for page in sorted(wanted)[: self.max_pages // 2]:
            if page not in self._pages and page not in self._in_flight:
                self._request(page)

    def _request(self, page: int) -> None:
        if self._stopped:
            return
        generation, query = self._generation, self._query
        job = self._runner.submit(
            fetch_page,
            self._tracking,
            query,
            page * self.page_size,
            self.page_size,
            name=f"Runs page {page}",
        )
        bridge = JobBridge(
            job, self, generation=generation, page=page, query=query, started=time.perf_counter()
        )
        self._in_flight[page] = bridge
        bridge.succeeded.connect(lambda result, b=bridge: self._on_page_fetched(b, result))
        bridge.failed.connect(lambda error, tb, b=bridge: self._on_page_failed(b, error, tb))
        bridge.cancelled.connect(lambda b=bridge: self._forget(b))

    def _forget(self, bridge: JobBridge) -> None:
        page = bridge.context["page"]
        if self._in_flight.get(page) is bridge:
            del self._in_flight[page]

    def _on_page_fetched(self, bridge: JobBridge, result: RunPage) -> None:
        self._forget(bridge)
        ctx = bridge.context
        if ctx["generation"] != self._generation:
            return  # an older sort/filter: its rows must never show under the new one
        page = ctx["page"]
        self.last_query_seconds = time.perf_counter() - ctx["started"]
        if self._shown_generation != self._generation:
            if page != 0:
                return
            self._show_first_page(ctx["query"], result)
        else:
            self._store_page(page, result.runs)
            if result.total != self._total:  # runs came or went meanwhile: start over
                self.refresh()
                return
            first = page * self.page_size
            last = min(first + len(result.runs), self._total) - 1
            if last >= first:
                self.dataChanged.emit(
                    self.index(first, 0), self.index(last, self.columnCount() - 1)
                )
        self.page_loaded.emit(self._generation, page)

    def _show_first_page(self, query: RunQuery, result: RunPage) -> None:
        columns_changed = query.columns != self._shown_query.columns
        self.beginResetModel()
        self._shown_query = query
        self._shown_generation = self._generation
        self._pages.clear()
        self._total = result.total
        self._store_page(0, result.runs)
        self.endResetModel()
        self.total_changed.emit(self._total)
        if columns_changed:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, self.columnCount() - 1)
        column = self.column_of_sort(query.sort)
        order = Qt.SortOrder.DescendingOrder if query.descending else Qt.SortOrder.AscendingOrder
        self.sort_changed.emit(column, order)
        self.loading_changed.emit(False)

    def _store_page(self, page: int, runs: list[RunSummary]) -> None:
        self._pages[page] = list(runs)
        self._pages.move_to_end(page)
        while len(self._pages) > self.max_pages:
            self._pages.popitem(last=False)

    def _on_page_failed(self, bridge: JobBridge, error: BaseException, tb: str) -> None:
        self._forget(bridge)
        if bridge.context["generation"] != self._generation:
            return
        if self._shown_generation != self._generation:
            # The new query is unusable (a bad filter): keep showing the previous rows.
            self._query = self._shown_query
            self._generation += 1
            self._shown_generation = self._generation
            self.loading_changed.emit(False)
        self.query_failed.emit(error, tb)

    # -- cells -------------------------------------------------------------------------------

    def _raw(self, run: RunSummary, col: int) -> Any:
        if col >= len(FIXED_COLUMNS):
            extra = self._shown_query.columns
            key = extra[col - len(FIXED_COLUMNS)]
            return run.values.get(key)
        if col == 0:
            return run.status
        if col == 1:
            return run.id
        if col == 2:
            return run.name
        if col == 3:
            return run.estimator
        if col == 4:
            return run.target
        if col == 5:
            return run.task
        if col == 6:
            return run.dataset_version_id
        if col == 7:
            return run.started_at
        return _duration(run)

    def _display(self, run: RunSummary, col: int) -> str:
        raw = self._raw(run, col)
        if col == 7:
            return local_time(raw)
        if col == 8:
            return format_duration(raw)
        if col == 2 and not raw:
            return f"run {run.id}"
        if col >= len(FIXED_COLUMNS) and raw is not None and is_partial(run.status):
            return f"{format_value(raw)} (partial)"
        return format_value(raw)

    def _status_icon(self, status: str) -> QIcon | None:
        if status.startswith("pruned"):
            status = "pruned"
        icon = self._icons.get(status)
        if icon is None and status in _STATUS_ICONS:
            icon = QApplication.style().standardIcon(_STATUS_ICONS[status])
            self._icons[status] = icon
        return icon


def _duration(run: RunSummary) -> float | None:
    if run.ended_at is None:
        return None
    return (run.ended_at - run.started_at).total_seconds()
