"""Switching to a panel that is already built keeps the GUI event loop free.

Every panel is shown once (built, its loading jobs awaited), then each is switched to in turn
while a ``QTimer`` probe on the GUI thread ticks every 10 ms: the longest gap between two
ticks, around a switch and the repaint it causes, stays under a generous bound (the goal of
issue 14 is 100 ms, measured by ``benchmarks/panel_switch.py``; this test runs on a loaded CI
machine, so it fails only on a real stall: a switch that reads the store or the daemon on
the GUI thread, or rebuilds a panel).
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer

from app.ui.panels import PANEL_KEYS

from .conftest import WAIT_MS, wait_idle

PROBE_MS = 10
BOUND_MS = 400  # generous: a loaded 2-core CI machine, offscreen painting


class Probe:
    """Records the gaps between ticks of a 10 ms timer on the GUI thread."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(PROBE_MS)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self._last) * 1000)
        self._last = now

    def start(self) -> None:
        self.gaps.clear()
        self._last = time.perf_counter()
        self.timer.start()


def test_switching_built_panels_never_stalls_the_event_loop(qtbot, window) -> None:
    window.resize(1400, 900)
    for key in PANEL_KEYS:  # build each panel once and let its loading jobs answer
        window.show_panel(key)
        wait_idle(qtbot, window.runner, timeout=WAIT_MS * 3)
    built = window.panels.built()
    assert set(built) == set(PANEL_KEYS)

    probe = Probe()
    probe.start()
    worst: dict[str, float] = {}
    for key in PANEL_KEYS[1:] + PANEL_KEYS[:1]:
        seen = len(probe.gaps)
        window.show_panel(key)
        assert window.stack.currentWidget() is built[key]  # the same panel, not rebuilt
        # two ticks after the switch: its slot and the repaint it queued have run
        qtbot.waitUntil(lambda s=seen: len(probe.gaps) >= s + 2, timeout=WAIT_MS)
        worst[key] = max(probe.gaps[seen:])
        wait_idle(qtbot, window.runner, timeout=WAIT_MS * 3)
    probe.timer.stop()
    assert window.panels.built() == built
    slow = {key: round(ms) for key, ms in worst.items() if ms > BOUND_MS}
    assert slow == {}, f"switching stalled the event loop (ms per panel): {worst}"
