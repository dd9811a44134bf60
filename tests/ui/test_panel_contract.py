"""Every panel keeps the one contract (app/ui/panels/contract.py), checked on the real panels
the window builds, and the small pieces the contract rests on behave as documented."""

from __future__ import annotations

import threading

import pytest

from app.jobs.runner import JobRunner
from app.ui.context import CurrentContext
from app.ui.job_bridge import JobSlot, PanelJobs
from app.ui.panels import PANELS
from app.ui.panels.contract import Panel, contract_problems

from .conftest import WAIT_MS


@pytest.mark.parametrize("spec", PANELS, ids=[p.key for p in PANELS])
def test_every_panel_keeps_the_contract(make_window, spec) -> None:
    window = make_window()
    panel = window.panels[spec.key]
    assert contract_problems(panel) == []
    assert isinstance(panel, Panel)
    assert panel.selected_item() is None or panel.selected_item().__module__ == "app.ui.items"


def test_context_tells_listeners_only_what_changed() -> None:
    context = CurrentContext()
    heard: list[frozenset[str]] = []
    unsubscribe = context.subscribe(lambda ctx, changed: heard.append(changed))
    context.update(dataset="bc", version=1, target="target")
    assert heard == [frozenset({"dataset", "version", "target"})]
    assert context.dataset_ref == "bc@1" and context.target == "target"
    context.update(version=1)  # no change: nobody is called
    assert len(heard) == 1
    context.update(dataset="iris", version=2)  # another dataset: the old target goes
    assert context.target is None and heard[-1] == frozenset({"dataset", "version", "target"})
    unsubscribe()
    context.update(model="bc", model_version=3)
    assert len(heard) == 2 and context.model_ref == "bc@3"
    with pytest.raises(TypeError, match="nosuch"):
        context.update(nosuch=1)


def test_job_slot_cancels_the_old_job_and_drops_its_result(qtbot, qapp) -> None:
    from PySide6.QtWidgets import QWidget

    owner = QWidget()
    qtbot.addWidget(owner)
    runner = JobRunner()
    try:
        slot = JobSlot(PanelJobs(owner, runner))
        release = threading.Event()
        results: list[str] = []

        def slow(progress) -> str:  # ignores cancel: its late result must still be dropped
            release.wait(WAIT_MS / 1000)
            return "old"

        def keep(_bridge, result: str) -> None:
            results.append(result)

        first = slot.start(slow, name="slow", done=keep)
        second = slot.start(lambda progress: "new", name="fast", done=keep)
        qtbot.waitUntil(lambda: results == ["new"], timeout=WAIT_MS)
        release.set()
        assert first.job.wait(WAIT_MS / 1000)
        for _ in range(5):  # deliver whatever the first job queued for the GUI thread
            qapp.processEvents()
        assert results == ["new"] and slot.current is second and not slot.busy
    finally:
        runner.shutdown(timeout=10)
