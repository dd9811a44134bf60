"""The Prepare panel's preview: the job that computes it, its table and its summary line.

``compute_preview`` runs on a worker thread (it also turns the 'after' sample into Arrow
there, so that the GUI thread only swaps the table in). ``PreviewModel`` tints the columns
the step changed or added, in tints of the palette (``app.ui.widgets.colors``: amber and green
mixed into the base colour, light or dark); ``summary_text`` is the before/after line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication

from app.core.recipes.steps import describe
from app.ui.widgets.colors import Tone, color
from app.ui.widgets.dataframe_model import DataFrameModel

if TYPE_CHECKING:
    from app.core.recipes import Preview

SAMPLE_ROWS = 1000


def compute_preview(frame: Any, steps: list[dict], upto: int | None, *, progress: Any) -> Any:
    """The preview and, for the table, its 'after' frame as Arrow (made here, off the GUI)."""
    import pyarrow as pa

    from app.core.recipes import preview_steps

    result = preview_steps(frame, steps, upto)
    shown = result.after.head(SAMPLE_ROWS)
    table = pa.Table.from_pandas(shown.reset_index(drop=True), preserve_index=False)
    return result, table


def summary_text(preview: Preview, steps: list[dict[str, Any]], *, full: bool) -> str:
    """'After step 2 (…): rows 1,000 → 980; columns …; missing …. added x; changed y'."""
    b, a = preview.summary["before"], preview.summary["after"]
    step = steps[preview.upto] if preview.upto < len(steps) else None
    where = f"step {preview.upto + 1} ({describe(step)})" if step else "the recipe"
    changes = []
    if preview.added:
        changes.append("added " + ", ".join(preview.added))
    if preview.changed:
        changes.append("changed " + ", ".join(preview.changed))
    if preview.removed:
        changes.append("removed " + ", ".join(preview.removed))
    return (
        f"After {where}: rows {b['rows']:,} → {a['rows']:,}; columns {b['columns']} → "
        f"{a['columns']}; missing {b['missing']:,} → {a['missing']:,}"
        f"{' (full data)' if full else ''}. "
        + ("; ".join(changes) or "No value changed.")
        + f"  [{preview.seconds * 1000:.0f} ms]"
    )


class PreviewModel(DataFrameModel):
    """The 'after' sample; changed and added columns tinted from the palette."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(None, parent)
        self.changed: set[str] = set()
        self.added: set[str] = set()

    def set_preview(self, table: Any, changed: set[str], added: set[str]) -> None:
        self.changed, self.added = changed, added
        self.set_table(table)

    def _tint(self, column: int) -> QColor | None:
        name = self.column_names()[column] if column < self.columnCount() else None
        palette = QGuiApplication.palette()  # read each time: the theme may have changed
        if name in self.added:
            return color(Tone.ADDED, palette)
        if name in self.changed:
            return color(Tone.CHANGED, palette)
        return None

    def data(self, index: Any, role: int = 0) -> Any:
        if role == Qt.ItemDataRole.BackgroundRole:
            tint = self._tint(index.column())
            return QBrush(tint) if tint is not None else None
        return super().data(index, role)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.BackgroundRole:
            tint = self._tint(section)
            return QBrush(tint) if tint is not None else None
        return super().headerData(section, orientation, role)
