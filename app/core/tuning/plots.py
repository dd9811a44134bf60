"""Optuna's own plots (``optuna.visualization.matplotlib``) rendered to PNG or SVG bytes.

The plots are Optuna's, not re-derived: ModelDesk only picks the target for a multi-objective
study, and renders off-screen (Agg) so a worker thread can draw while the GUI thread shows the
previous picture. pyplot keeps global state, so renders are serialised by a lock; the
figures are closed after each render.
"""

from __future__ import annotations

import contextlib
import io
import threading
import warnings
from typing import Any

from app.core.errors import InvalidInput

#: kind → (title, needs a single objective, needs a multi-objective study)
PLOTS: dict[str, tuple[str, bool, bool]] = {
    "history": ("Optimisation history", False, False),
    "importances": ("Parameter importances", False, False),
    "slice": ("Slice", False, False),
    "contour": ("Contour", False, False),
    "parallel": ("Parallel coordinates", False, False),
    "intermediate": ("Intermediate values", True, False),
    "pareto": ("Pareto front", False, True),
    "timeline": ("Timeline", False, False),
    "edf": ("Empirical distribution", False, False),
}
FORMATS = ("png", "svg")
_LOCK = threading.Lock()


class NotEnoughTrials(InvalidInput):
    """The plot needs more finished trials than the study has yet."""


def available(objectives: int) -> list[str]:
    return [
        k
        for k, (_, single, multi) in PLOTS.items()
        if not (single and objectives > 1) and not (multi and objectives == 1)
    ]


def render(study: Any, kind: str, fmt: str = "png", *, dpi: int = 96, params: Any = None) -> bytes:
    if fmt not in FORMATS:
        raise InvalidInput(f"Plots are saved as PNG or SVG, not '{fmt}'.")
    fig = figure(study, kind, params=params, relayout=False)
    with _LOCK:
        fig.set_size_inches(7.5, 4.8)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, dpi=dpi)
        return buffer.getvalue()


def figure(study: Any, kind: str, *, params: Any = None, relayout: bool = True) -> Any:
    """Optuna's plot ``kind`` of ``study`` as a matplotlib ``Figure`` that no pyplot state
    holds any more, so that a window can adopt it onto its own canvas and redraw it at any
    size (``relayout``: its layout engine is "constrained", laid out again at every draw,
    unless the plot already made a colorbar, which keeps its own layout)."""
    if kind not in PLOTS:
        raise InvalidInput(f"There is no plot '{kind}'.", hint="Plots: " + ", ".join(PLOTS))
    import optuna

    objectives = len(study.directions)
    if kind not in available(objectives):
        which = "multi-objective" if PLOTS[kind][2] else "single-objective"
        raise InvalidInput(f"The {PLOTS[kind][0].lower()} plot is for {which} studies.")
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    needed = 2 if kind in ("importances", "contour", "parallel") else 1
    if kind not in ("timeline", "intermediate") and len(complete) < needed:
        raise NotEnoughTrials(
            f"The {PLOTS[kind][0].lower()} plot needs {needed} finished trial(s)."
        )
    with _LOCK:
        import matplotlib

        if not _pyplot_loaded():
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        if plt.get_backend().lower() != "agg":
            plt.switch_backend("Agg")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ax = _draw(study, kind, objectives, params)
        fig = _figure(ax)
        plt.close("all")  # pyplot forgets the figure; the figure itself lives on
        if relayout:
            with contextlib.suppress(RuntimeError):  # a colorbar pins the old layout
                fig.set_layout_engine("constrained")
        return fig


def _pyplot_loaded() -> bool:
    import sys

    return "matplotlib.pyplot" in sys.modules


def _figure(ax: Any) -> Any:
    if hasattr(ax, "figure"):
        return ax.figure
    return ax.flat[0].figure  # a grid of axes (slice, contour)


def _draw(study: Any, kind: str, objectives: int, params: Any) -> Any:
    from optuna.visualization import matplotlib as vm

    names = list(study.user_attrs.get("objectives") or [])
    target = None
    target_name = names[0] if names else "Objective value"
    if objectives > 1 and kind not in ("pareto", "timeline"):

        def target(t: Any) -> float:
            return t.values[0]

    if kind == "history":
        return vm.plot_optimization_history(study, target=target, target_name=target_name)
    if kind == "importances":
        return vm.plot_param_importances(study, target=target, target_name=target_name)
    if kind == "slice":
        return vm.plot_slice(study, params=params, target=target, target_name=target_name)
    if kind == "contour":
        return vm.plot_contour(
            study,
            params=params or _top_params(study, target),
            target=target,
            target_name=target_name,
        )
    if kind == "parallel":
        return vm.plot_parallel_coordinate(
            study, params=params, target=target, target_name=target_name
        )
    if kind == "intermediate":
        return vm.plot_intermediate_values(study)
    if kind == "pareto":
        return vm.plot_pareto_front(study, target_names=names or None)
    if kind == "edf":
        return vm.plot_edf(study, target=target, target_name=target_name)
    return vm.plot_timeline(study)


def _top_params(study: Any, target: Any) -> list[str] | None:
    """Contour of every pair is unreadable past a few parameters: the two most important."""
    import optuna

    try:
        importances = optuna.importance.get_param_importances(study, target=target)
    except (RuntimeError, ValueError):
        return None
    top = list(importances)[:2]
    return top if len(top) == 2 else None


# -- rendering in a helper process ------------------------------------------------------------

_STORAGES: dict[str, Any] = {}


def render_url(url: str, name: str, kind: str, fmt: str = "png") -> bytes | str:
    """``render`` for a helper process: opens the storage by URL (kept for later calls).

    Agg draws in C++ without releasing the GIL, so a plot drawn on a thread of the GUI process
    stalls the event loop for as long as it draws; a helper process never does. Returns the
    message instead of bytes when the study has too few trials for the plot yet.
    """
    from app.core.tuning import engine
    from app.core.tuning.store import load_study

    storage = _STORAGES.get(url)
    if storage is None:
        storage = _STORAGES[url] = engine.open_storage(url, heartbeat=None)
    try:
        return render(load_study(storage, name), kind, fmt)
    except NotEnoughTrials as exc:
        return exc.message


class RenderProcess:
    """One long-lived helper process that draws plots (started on first use)."""

    def __init__(self) -> None:
        self._pool: Any = None
        self._lock = threading.Lock()

    def render(self, url: str, name: str, kind: str, fmt: str = "png") -> bytes | str:
        with self._lock:
            if self._pool is None:
                import multiprocessing as mp
                from concurrent.futures import ProcessPoolExecutor

                self._pool = ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"))
            pool = self._pool
        future = pool.submit(render_url, url, name, kind, fmt)
        try:
            return future.result()
        except Exception as exc:  # a broken helper (killed): start a new one next time
            from concurrent.futures.process import BrokenProcessPool

            if isinstance(exc, BrokenProcessPool):
                with self._lock:
                    self._pool = None
            raise

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
