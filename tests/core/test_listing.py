"""The list commands' SQL (``app.core.store.listing``) answers as the services do.

The same store is read three ways: the services (SQLAlchemy ORM), the listing SQL through the
open store (``EngineReader``, SQLite and PostgreSQL) and the listing SQL through the stdlib
driver (``SqliteReader``). Every sort, column choice, limit and deleted flag the CLI offers
must give the same dictionaries, so the fast path cannot drift from the services.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.bootstrap import _any_stale
from app.core.store import listing
from app.core.store.lite import EngineReader
from app.core.store.lite import open_reader as _open_reader
from tests.registry.conftest import backend_url


def open_reader(url: str):
    return _open_reader(url, _any_stale)


@pytest.fixture(params=["sqlite", "postgresql"])
def filled(request, tmp_path: Path):
    """Services on a store with datasets, runs (some values missing, one deleted) and models."""
    from app.bootstrap import build_services

    with backend_url(request, tmp_path, "md_listing") as url:
        services = build_services(url, artifacts_dir=tmp_path / "artifacts")
        try:
            _fill(services, tmp_path)
            yield services, url
        finally:
            services.close()


def _fill(services, tmp_path: Path) -> None:
    import pyarrow as pa
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    for name, rows in (("beta", 5), ("alpha", 3), ("gamma", 4)):
        services.datasets.add_table(
            pa.table({"x": list(range(rows)), "y": [i % 2 for i in range(rows)]}),
            name=name,
            source_kind="test",
        )
    services.datasets.add_table(
        pa.table({"x": [1, 2], "y": [0, 1], "z": [3, 4]}), name="alpha", source_kind="test"
    )
    services.datasets.delete("gamma")
    tracking = services.tracking
    for i in range(12):
        run = tracking.create_run(
            name=f"r{i}",
            estimator=("knn", "tree", None)[i % 3],
            target="y" if i % 4 else None,
            task="binary",
            params={"depth": str(i % 5)} if i % 3 else {},
        )
        if i % 2:
            tracking.log_metrics(run, {"accuracy": (i * 7 % 11) / 11, "r2": i / 12})
        if i == 3:  # a pruned trial's run: the best accuracy, but partial
            tracking.set_tags(run, {"trial_state": "PRUNED"})
            tracking.finish(run, "cancelled", "Pruned by the median pruner after fold 2.")
        elif i == 9:
            tracking.finish(run, "failed", "boom")
        elif i % 5:
            tracking.finish(run)
        if i == 4:
            tracking.delete(run)
    path = tmp_path / "m.skops"
    sio.dump(LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]), path)
    for name in ("zeta", "Alpha", "mid"):
        services.registry.import_file(path, name, trust=[], description=f"the {name} model")
    services.registry.import_file(path, "zeta", trust=[])
    services.registry.update_model("mid", tags={"team": "core"})
    services.registry.set_alias("zeta", "staging", 1)


RUN_QUERIES = [
    {},
    {"sort": "metrics.accuracy", "columns": ["metrics.accuracy"]},
    {"sort": "metrics.accuracy", "descending": False, "columns": ["metrics.r2"], "limit": 5},
    {"sort": "params.depth", "columns": ["params.depth", "metrics.accuracy"], "limit": 3},
    {"sort": "estimator", "limit": None, "include_deleted": True},
    {"sort": "target", "descending": False, "limit": 4, "columns": ["params.depth"]},
    {"sort": "started_at", "limit": None, "columns": ["metrics.r2"]},
    {"sort": "id", "descending": False, "limit": 7, "include_deleted": True},
    {"sort": "metrics.accuracy", "columns": ["metrics.accuracy"], "include_partial": True},
    {"sort": "metrics.r2", "descending": False, "limit": 4, "include_partial": True},
]


@pytest.mark.parametrize("query", RUN_QUERIES, ids=lambda q: ",".join(map(str, q.values())))
def test_runs_page_equals_the_tracking_search(filled, query) -> None:
    services, _ = filled
    query = {"sort": "id", "descending": True, "limit": 20, "columns": [], **query}
    page = services.tracking.search(**query)
    total, runs = listing.runs_page(EngineReader(services.store), **query)
    assert total == page.total
    assert runs == [r.to_dict() for r in page.runs]
    assert listing.run_keys(EngineReader(services.store)) == services.tracking.keys()
    ids = [r["id"] for r in runs]
    states = listing.partial_states(EngineReader(services.store), ids)
    assert states == services.tracking.partial_states(ids)


def test_partial_metrics_sort_last_on_the_fast_path_unless_asked(filled) -> None:
    services, _ = filled
    reader = EngineReader(services.store)
    _, ranked = listing.runs_page(reader, sort="metrics.accuracy", columns=["metrics.accuracy"])
    states = listing.partial_states(reader, [r["id"] for r in ranked])
    assert sorted(states.values()) == ["failed", "pruned after fold 2"]
    with_value = [r for r in ranked if r["metrics.accuracy"] is not None]
    finished = [r for r in with_value if r["id"] not in states]
    assert with_value[: len(finished)] == finished  # the partial ones come after every finished
    _, asked = listing.runs_page(
        reader, sort="metrics.accuracy", columns=["metrics.accuracy"], include_partial=True
    )
    assert asked[0]["name"] == "r3"  # its partial 10/11 tops the sort only when asked


def test_datasets_and_models_equal_the_services(filled) -> None:
    services, _ = filled
    reader = EngineReader(services.store)
    for deleted in (False, True):
        expected = [
            {
                "name": d.name,
                "versions": len(d.versions),
                "latest": d.latest.version,
                "rows": d.latest.rows,
                "cols": d.latest.cols,
                "deleted": d.deleted,
                "created_at": d.created_at.isoformat(),
            }
            for d in services.datasets.list(include_deleted=deleted)
        ]
        assert listing.datasets(reader, include_deleted=deleted) == expected
    assert [d["name"] for d in listing.datasets(reader)] == ["alpha", "beta"]
    for search in ("", "ALPHA", "the", "nothing"):
        expected = [m.to_dict() for m in services.registry.list_models(search)]
        assert listing.models(reader, search) == expected
    (zeta,) = listing.models(reader, "zeta")
    assert (zeta["versions"], zeta["aliases"]) == (2, {"staging": 1})


def test_the_stdlib_reader_reads_what_the_engine_reads(filled) -> None:
    services, url = filled
    if not services.store.is_sqlite:
        assert open_reader(url) is None  # a server is read through SQLAlchemy
        return
    lite = open_reader(url)
    assert lite is not None
    engine = EngineReader(services.store)
    try:
        for query in RUN_QUERIES:
            assert listing.runs_page(lite, **query) == listing.runs_page(engine, **query)
        assert listing.datasets(lite, include_deleted=True) == listing.datasets(
            engine, include_deleted=True
        )
        assert listing.models(lite) == listing.models(engine)
    finally:
        lite.close()


def test_a_store_that_needs_work_at_open_gets_no_stdlib_reader(tmp_path: Path) -> None:
    """New, old-schema, unguarded or half-written stores are opened the full way."""
    from app.bootstrap import build_services

    db = tmp_path / "store" / "md.db"
    url = f"sqlite:///{db}"
    assert open_reader(url) is None  # no file yet: the full open creates it
    build_services(url).close()
    lite = open_reader(url)
    assert lite is not None
    lite.close()

    def changed(sql: str) -> None:
        con = sqlite3.connect(db)
        con.execute(sql)
        con.commit()
        con.close()

    changed("DROP TRIGGER audit_log_no_delete")
    assert open_reader(url) is None
    build_services(url).close()  # puts the guard back
    assert open_reader(url) is not None

    (tmp_path / "store" / "artifacts" / "tmp").mkdir(parents=True, exist_ok=True)
    (tmp_path / "store" / "artifacts" / "tmp" / "host-999999-x").write_bytes(b"half")
    assert open_reader(url) is None
    (tmp_path / "store" / "artifacts" / "tmp" / "host-999999-x").unlink()

    from app.core.owners import owner_tag

    services = build_services(url)
    run = services.tracking.create_run(name="live")  # owned by this process, alive
    services.close()
    changed(f"UPDATE runs SET owner = '{owner_tag()}' WHERE id = {run}")
    lite = open_reader(url)
    assert lite is not None  # a live owner's run is never failed: nothing to do
    lite.close()
    host = owner_tag().split(":")[0]
    changed(f"UPDATE runs SET owner = '{host}:999999@1.0' WHERE id = {run}")
    assert open_reader(url) is None  # its owner died: the full open fails the run

    changed("UPDATE modeldesk_alembic_version SET version_num = '0009'")
    assert open_reader(url) is None


def test_a_damaged_file_is_reported_in_words(tmp_path: Path) -> None:
    from app.core.errors import StoreUnavailable

    db = tmp_path / "md.db"
    db.write_bytes(b"this is not a database at all, " * 100)
    with pytest.raises(StoreUnavailable, match="is damaged"):
        open_reader(f"sqlite:///{db}")
