"""The Runs panel's plain widgets: the toolbar (search, filter, columns, actions) and the table
view. They hold no state beyond their widgets; the panel wires them to the model and jobs."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.ui import settings as app_settings
from app.ui.panels.runs_metrics import CV_PREFIX, EXTRAS, ORDER, STD_SUFFIX, TEST_PREFIX
from app.ui.panels.runs_table_model import RUN_ID_ROLE

FILTER_HINT = "metrics.accuracy > 0.9 and params.max_depth = 5 and status = 'finished'"
DEFAULT_METRIC_COLUMNS = 4
PREFERRED_COLUMNS = ("roc_auc", "accuracy", "f1_macro", "log_loss", "r2", "rmse", "mae")
FIXED_WIDTHS = (92, 56, 150, 140, 80, 80, 64, 140, 72)
MAX_MENU_KEYS = 200
MAX_KEPT_SELECTION = 1000


def default_columns(metrics: Sequence[str], task_primary: Sequence[str] = ()) -> list[str]:
    """The metric columns a new user sees: the well-known cross-validated metrics first."""
    plain = [
        m
        for m in metrics
        if not m.startswith((CV_PREFIX, TEST_PREFIX))
        and not m.endswith(STD_SUFFIX)
        and m not in EXTRAS
    ]
    ranked = [m for m in (*task_primary, *PREFERRED_COLUMNS, *ORDER) if m in plain]
    ranked += [m for m in plain if m not in ranked]
    return [f"metrics.{m}" for m in dict.fromkeys(ranked)][:DEFAULT_METRIC_COLUMNS]


def chooser_keys(metrics: Sequence[str]) -> list[str]:
    """Metric names offered as columns: not the per-fold ``cv.*`` series (their last value
    is just the last fold)."""
    return [m for m in metrics if not m.startswith(CV_PREFIX)]


class RunsToolbar(QWidget):
    column_toggled = Signal(str, bool)  # 'metrics.x' / 'params.y', shown?

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search name, estimator, target  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search runs")
        self.filter = QLineEdit()
        self.filter.setPlaceholderText(f"Filter, e.g. {FILTER_HINT}  (Enter)")
        self.filter.setClearButtonEnabled(True)
        self.filter.setAccessibleName("Filter expression")
        self.filter.setToolTip(
            "Clauses NAME OP VALUE joined by 'and'. NAME is metrics.K, params.K, tags.K or an "
            "attribute (status, estimator, target, task, name, id…); OP is = != < <= > >= like."
        )
        self.columns_button = QToolButton()
        self.columns_button.setText("Columns")
        self.columns_button.setToolTip("Choose the parameter and metric columns")
        self.columns_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.columns_menu = QMenu(self)
        self.columns_button.setMenu(self.columns_menu)
        self.show_deleted = QCheckBox("Show deleted")
        self.show_deleted.setToolTip("List deleted runs too (in italics), so you can restore them")
        self.include_partial = QCheckBox("Rank partial")
        self.include_partial.setToolTip(
            "Let the partial metrics of pruned, failed and cancelled runs count in metric sorts "
            "and filters (by default they sort last and match no metric clause)"
        )
        self.count_label = QLabel("Loading runs…")

        self.new_button = QPushButton("New run…")
        self.compare_button = QPushButton("Compare")
        self.compare_button.setToolTip("Compare the selected runs (select two or more)")
        self.reproduce_button = QPushButton("Reproduce")
        self.reproduce_button.setToolTip("Train the selected run's recipe again, same seed")
        self.export_button = QPushButton("Export code…")
        self.export_button.setToolTip("Save a standalone pandas + scikit-learn script")
        self.register_button = QPushButton("Register…")
        self.register_button.setToolTip("Register the selected run's model as a model version")
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Delete the selected runs (Del); Restore brings them back")
        self.restore_button = QPushButton("Restore")
        self.restore_button.setToolTip("Bring the selected deleted runs back")
        self.refresh_button = QToolButton()
        self.refresh_button.setText("Refresh")
        self.refresh_button.setToolTip("Read the runs again (F5)")
        self.refresh_button.setShortcut(QKeySequence.StandardKey.Refresh)

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.search, 2)
        bar.addWidget(self.filter, 3)
        bar.addWidget(self.columns_button)
        bar.addWidget(self.show_deleted)
        bar.addWidget(self.include_partial)
        actions = QHBoxLayout()
        actions.setContentsMargins(0, 0, 0, 0)
        for button in (
            self.new_button,
            self.register_button,
            self.compare_button,
            self.reproduce_button,
            self.export_button,
            self.delete_button,
            self.restore_button,
        ):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(self.count_label)
        actions.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addLayout(actions)

    @staticmethod
    def saved_columns(key: str) -> list[str] | None:
        """The columns the user chose last time (None: never chose)."""
        value = app_settings.settings().value(key)
        if value is None:
            return None
        columns = [value] if isinstance(value, str) else [str(v) for v in value]
        return [c for c in columns if c.startswith(("metrics.", "params."))]

    @staticmethod
    def save_columns(key: str, columns: Sequence[str]) -> None:
        app_settings.settings().setValue(key, list(columns) or "")

    def fill_columns_menu(
        self, params: Sequence[str], metrics: Sequence[str], chosen: Sequence[str]
    ) -> None:
        """Checkable metric and parameter names; toggling one emits ``column_toggled``."""
        menu = self.columns_menu
        menu.clear()
        shown = set(chosen)
        groups = (("Metrics", "metrics", chooser_keys(metrics)), ("Parameters", "params", params))
        for title, kind, names in groups:
            menu.addSection(title)
            if not names:
                menu.addAction("(none yet)").setEnabled(False)
            for name in list(names)[:MAX_MENU_KEYS]:
                key = f"{kind}.{name}"
                action = menu.addAction(name)
                action.setCheckable(True)
                action.setChecked(key in shown)
                action.toggled.connect(lambda on, k=key: self.column_toggled.emit(k, on))


class RunsTableView(QTableView):
    """Rows of fixed height (100,000 rows cost nothing to lay out), multi-select, sortable."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runs-table")
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setWordWrap(False)
        self.setAlternatingRowColors(True)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        rows = self.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 6)
        rows.setVisible(False)
        header = self.horizontalHeader()
        header.setSectionsMovable(True)
        header.setHighlightSections(False)

    def setModel(self, model) -> None:
        super().setModel(model)
        self._kept: tuple[list[int], int | None] = ([], None)
        model.modelAboutToBeReset.connect(self._on_model_about_to_be_reset)
        model.modelReset.connect(self._on_model_reset)
        # Indicator first: enabling sorting sorts by it, and id-descending is the default query.
        self.horizontalHeader().setSortIndicator(1, Qt.SortOrder.DescendingOrder)
        self.setSortingEnabled(True)
        for col, width in enumerate(FIXED_WIDTHS):
            self.setColumnWidth(col, width)

    def fit_extra_columns(self, first: int) -> None:
        """Parameter and metric columns as wide as their header (bounded), unless the user
        resized them."""
        model, metrics = self.model(), self.horizontalHeader().fontMetrics()
        for col in range(first, model.columnCount()):
            title = str(model.headerData(col, Qt.Orientation.Horizontal) or "")
            wanted = max(72, min(metrics.horizontalAdvance(title) + 28, 200))
            if not 60 <= self.columnWidth(col) <= 240 or self.columnWidth(col) == 100:
                self.setColumnWidth(col, wanted)

    # A new sort, filter or refresh resets the model; keep the selected runs selected when
    # they are among the rows already loaded.

    def _on_model_about_to_be_reset(self) -> None:
        selection = self.selectionModel()
        rows = selection.selectedRows()[:MAX_KEPT_SELECTION]
        current = selection.currentIndex()
        self._kept = (
            [i.data(RUN_ID_ROLE) for i in rows if i.data(RUN_ID_ROLE) is not None],
            current.data(RUN_ID_ROLE) if current.isValid() else None,
        )

    def _on_model_reset(self) -> None:
        ids, current = self._kept
        self._kept = ([], None)
        model, selection = self.model(), self.selectionModel()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for run_id in ids:
            row = model.row_of(run_id)
            if row is not None:
                selection.select(model.index(row, 0), flags)
        row = model.row_of(current) if current is not None else None
        if row is not None:
            keep = QItemSelectionModel.SelectionFlag.NoUpdate
            selection.setCurrentIndex(model.index(row, 0), keep)
