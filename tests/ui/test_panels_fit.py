"""Nothing clipped in any panel at 1000×650 and 1400×900, light and dark, in the real window,
on a store with a dataset, a run, a registered champion and a study: no label, button or tool
button whose size hint exceeds its size (text that may not fit is elided with the full text in
a tooltip, or wraps), and no panel that forces the window to grow."""

from __future__ import annotations

import time

import pytest
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QTabBar, QWidget

from app.ui.panels import PANEL_KEYS as PANELS

from .conftest import WAIT_MS, wait_idle


def clipped(panel: QWidget) -> list[str]:
    out = []
    for widget in panel.findChildren(QWidget):
        if not widget.isVisibleTo(panel) or isinstance(widget.parent(), QTabBar):
            continue  # a tab bar's own arrows are the tab bar's business
        if isinstance(widget, QLabel) and (widget.wordWrap() or not widget.text()):
            continue
        if not isinstance(widget, QLabel | QAbstractButton):
            continue
        hint, size = widget.sizeHint(), widget.size()
        if hint.width() > size.width() + 1 or hint.height() > size.height() + 1:
            text = widget.text() if hasattr(widget, "text") else ""
            out.append(
                f"{type(widget).__name__} {text!r}: hint {hint.toTuple()} > {size.toTuple()}"
            )
    return out


@pytest.fixture
def filled(services):
    import pyarrow as pa
    from sklearn.datasets import load_breast_cancer

    from app.core.training import TrainRequest
    from app.core.tuning import StudyRequest

    frame = load_breast_cancer(as_frame=True).frame.sample(n=120, random_state=0)
    services.datasets.add_table(
        pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False),
        name="breast_cancer_wisconsin_diagnostic",
        source_kind="test",
    )
    run = services.training.train_inline(
        TrainRequest("breast_cancer_wisconsin_diagnostic@1", "target", "logistic", folds=2)
    )
    services.registry.register(run.id, "breast_cancer_wisconsin_diagnostic")
    services.registry.set_alias("breast_cancer_wisconsin_diagnostic", "champion", 1)
    services.tuning.create(
        StudyRequest(
            dataset="breast_cancer_wisconsin_diagnostic",
            target="target",
            estimators="knn",
            name="bc-knn-study-with-a-long-name",
        )
    )
    return services


@pytest.fixture
def theme_put_back(qapp):
    """The palette is the application's: later tests get back the one it started with."""
    yield
    from app.ui.theme import apply_theme

    apply_theme(qapp, "system")


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("size", [(1000, 650), (1400, 900)], ids=["1000x650", "1400x900"])
def test_every_panel_fits(qtbot, make_window, filled, size, theme, theme_put_back) -> None:
    window = make_window()
    window.set_theme(theme)
    window.resize(*size)
    problems = {}
    for key in PANELS:
        window.show_panel(key)
        panel = window.panels[key]
        deadline = time.monotonic() + 3.0  # the lists come in from jobs
        while time.monotonic() < deadline:
            QApplication.processEvents()
        assert window.size().toTuple() == size, f"{key} forces the window to grow"
        found = clipped(panel)
        if found:
            problems[key] = found
    wait_idle(qtbot, window.runner, timeout=WAIT_MS)
    assert problems == {}
