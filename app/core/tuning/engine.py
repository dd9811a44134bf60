"""Optuna's parts as ModelDesk uses them: storage, samplers and pruners by name.

Studies live in Optuna's own RDB storage on the ModelDesk store URL: Optuna's tables
(``studies``, ``trials``…, its own ``alembic_version``) sit beside ours, whose version table is
``modeldesk_alembic_version``, so ``optuna.load_study(study_name=…, storage=store_url)`` and
optuna-dashboard open a study unchanged. Every worker process opens its own storage.

Dead workers: each trial beats a heartbeat; a trial silent for ``grace`` seconds is failed by
the next worker that asks for a trial and re-queued once by ``RetryHeartbeatStaleTrialCallback``.
"""

from __future__ import annotations

import importlib.util
import warnings
from contextlib import nullcontext
from typing import Any

from app.core.errors import InvalidInput

SAMPLERS = ("tpe", "random", "cmaes", "gp", "qmc", "nsga2")
PRUNERS = ("median", "halving", "hyperband", "none")
_PRUNER_ALIASES = {"sha": "halving", "successive_halving": "halving", "nop": "none"}
_SAMPLER_ALIASES = {"cma": "cmaes", "cma-es": "cmaes", "nsgaii": "nsga2", "nsga-ii": "nsga2"}
HEARTBEAT_INTERVAL = 5  # seconds (Optuna takes whole seconds)
MAX_RETRY = 2  # a trial whose worker died is run again at most this many times


def sampler_name(text: str | None, *, objectives: int) -> str:
    if not text:
        return "nsga2" if objectives > 1 else "tpe"
    name = _SAMPLER_ALIASES.get(text.lower(), text.lower())
    if name not in SAMPLERS:
        raise InvalidInput(f"There is no sampler '{text}'.", hint="Use " + ", ".join(SAMPLERS))
    if name == "cmaes" and importlib.util.find_spec("cmaes") is None:
        raise InvalidInput(
            "The CMA-ES sampler needs the 'cmaes' package, which is not installed.",
            hint="pip install cmaes, or choose tpe.",
        )
    if name == "gp" and importlib.util.find_spec("torch") is None:
        raise InvalidInput(
            "The Gaussian-process sampler needs PyTorch, which is not installed.",
            hint="pip install torch (the CPU build is enough), or choose tpe.",
        )
    if objectives > 1 and name in ("cmaes",):
        raise InvalidInput(
            "CMA-ES optimises one objective only.", hint="Use nsga2, tpe or random for two."
        )
    return name


def pruner_name(text: str | None, *, objectives: int) -> str:
    if not text:
        return "none" if objectives > 1 else "median"
    name = _PRUNER_ALIASES.get(text.lower(), text.lower())
    if name not in PRUNERS:
        raise InvalidInput(f"There is no pruner '{text}'.", hint="Use " + ", ".join(PRUNERS))
    if objectives > 1 and name != "none":
        raise InvalidInput(
            "Optuna prunes single-objective studies only.", hint="Use --pruner none."
        )
    return name


def make_sampler(name: str, seed: int | None, *, parallel: bool = False) -> Any:
    """The sampler; ``parallel`` makes TPE lie about running trials so workers spread out."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if name == "tpe":
            return optuna.samplers.TPESampler(
                seed=seed, multivariate=True, group=True, constant_liar=parallel
            )
        if name == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        if name == "cmaes":
            return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
        if name == "gp":
            return optuna.samplers.GPSampler(seed=seed)
        if name == "qmc":
            return optuna.samplers.QMCSampler(seed=seed, scramble=True)
        return optuna.samplers.NSGAIISampler(seed=seed)


def make_pruner(name: str, folds: int) -> Any:
    import optuna

    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(2, folds))
    return optuna.pruners.NopPruner()


def engine_kwargs(url: str, pool: Any = None) -> dict[str, Any]:
    """SQLite shared by several processes waits for the lock instead of failing at once; a
    server database borrows the store's bounded ``pool`` when given (one pool per process,
    optuna#1347), else gets a bounded pool of its own."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 60}}
    if pool is not None:
        return {"pool": pool}
    from app.core.store.server import engine_options

    return engine_options(url)


def open_storage(
    url: str,
    *,
    heartbeat: int | None = HEARTBEAT_INTERVAL,
    grace: int | None = None,
    pool: Any = None,
) -> Any:
    """Optuna's RDB storage on the store, with heartbeats and retry of dead workers' trials."""
    import optuna
    from filelock import FileLock

    from app.core.paths import sqlite_path

    # Optuna creates its tables on open; two processes (or threads) opening a fresh store at
    # once would both try, so the first open of a file is serialised.
    path = sqlite_path(url)
    lock = FileLock(str(path.with_suffix(".optuna.lock")), timeout=120) if path else nullcontext()
    with warnings.catch_warnings(), lock:
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.simplefilter("ignore", FutureWarning)
        callback = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY)
        storage = optuna.storages.RDBStorage(
            url,
            engine_kwargs=engine_kwargs(url, pool),
            heartbeat_interval=heartbeat,
            grace_period=grace if heartbeat else None,
            heartbeat_stale_trial_callback=callback if heartbeat else None,
        )
    if url.startswith("sqlite"):
        from sqlalchemy import event

        @event.listens_for(storage.engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:  # same file settings as ours
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

    return storage
