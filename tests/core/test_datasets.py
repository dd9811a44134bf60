"""Ingest, versions, recognition of known content, rename/delete/restore and export."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from app.core.errors import Cancelled, Conflict, InvalidInput, NotFound
from tests.conftest import store_snapshot
from tests.core import corpus

pytestmark = pytest.mark.both_stores


def test_add_file_stores_a_versioned_parquet_snapshot(services, small_csv: Path) -> None:
    result = services.datasets.add_file(small_csv)
    v = result.version
    assert result.created
    assert (v.name, v.version, v.rows, v.cols) == ("iris_like", 1, 60, 6)
    snapshot = services.artifacts.path_for(v.snapshot_sha256)
    assert snapshot.parent.name == v.snapshot_sha256[:2]
    assert services.artifacts.open_verified(v.snapshot_sha256) == snapshot
    expected = pd.read_csv(small_csv)
    got = services.datasets.load_table(v).to_pandas()
    pd.testing.assert_series_equal(got["petal"], expected["petal"])
    assert got["species"].tolist() == expected["species"].tolist()


def test_schema_roles_and_missing_counts(services, small_csv: Path) -> None:
    v = services.datasets.add_file(small_csv).version
    roles = {c.name: c.role for c in v.schema}
    assert roles == {
        "id": "identifier",
        "sepal": "numeric",
        "petal": "numeric",
        "species": "categorical",
        "flag": "boolean",
        "when": "datetime",
    }
    assert v.column("petal").missing == len([i for i in range(60) if i % 7 == 0])
    assert v.column("species").distinct == 3


def test_same_content_is_recognised_not_duplicated(services, small_csv: Path) -> None:
    first = services.datasets.add_file(small_csv)
    before = store_snapshot(services)
    again = services.datasets.add_file(small_csv)
    assert not again.created
    assert again.version.id == first.version.id
    assert store_snapshot(services) == before


def test_new_content_under_same_name_is_version_2(services, small_csv: Path, tmp_path) -> None:
    services.datasets.add_file(small_csv, name="iris")
    changed = tmp_path / "changed.csv"
    changed.write_text(small_csv.read_text() + "999,1.0,2.0,setosa,true,2024-02-01\n")
    v2 = services.datasets.add_file(changed, name="iris").version
    assert (v2.version, v2.rows) == (2, 61)
    assert services.datasets.resolve("iris").version == 2
    assert services.datasets.resolve("iris@1").rows == 60
    with pytest.raises(NotFound, match="no version 7"):
        services.datasets.resolve("iris@7")


def test_rename_delete_restore(services, small_csv: Path) -> None:
    services.datasets.add_file(small_csv, name="a")
    services.datasets.rename("a", "b")
    assert [d.name for d in services.datasets.list()] == ["b"]
    services.datasets.delete("b")
    assert services.datasets.list() == []
    assert services.datasets.list(include_deleted=True)[0].deleted
    with pytest.raises(Conflict, match="deleted dataset named 'b'"):
        services.datasets.add_table(pa.table({"x": [1, 2]}), name="b", source_kind="test")
    services.datasets.restore("b")
    assert services.datasets.get("b").latest.rows == 60


def test_rename_to_existing_name_is_refused(services, small_csv: Path) -> None:
    services.datasets.add_file(small_csv, name="a")
    services.datasets.add_table(pa.table({"x": [1]}), name="b", source_kind="test")
    with pytest.raises(Conflict, match="'b' already exists"):
        services.datasets.rename("a", "b")


@pytest.mark.parametrize("bad", ["", "  ", "x@2", "tab\tname"])
def test_bad_names_are_refused(services, small_csv: Path, bad: str) -> None:
    before = store_snapshot(services)
    with pytest.raises(InvalidInput):
        services.datasets.add_file(small_csv, name=bad)
    assert store_snapshot(services) == before


@pytest.mark.parametrize(
    "suffix", [".csv", ".tsv", ".parquet", ".feather", ".json", ".jsonl", ".xlsx"]
)
def test_export_round_trips(services, small_csv: Path, tmp_path: Path, suffix: str) -> None:
    v = services.datasets.add_file(small_csv).version
    out = services.datasets.export(v.ref, tmp_path / f"out{suffix}")
    again = services.datasets.add_file(out, name=f"again{suffix}").version
    assert (again.rows, again.cols) == (v.rows, v.cols)
    a = services.datasets.load_table(v).to_pandas()
    b = services.datasets.load_table(again).to_pandas()
    assert b["species"].tolist() == a["species"].tolist()
    assert b["sepal"].round(6).tolist() == a["sepal"].round(6).tolist()


def test_export_to_unknown_format_names_it(services, small_csv: Path, tmp_path: Path) -> None:
    v = services.datasets.add_file(small_csv).version
    with pytest.raises(InvalidInput, match=re.escape("unknown format '.docx'")):
        services.datasets.export(v.ref, tmp_path / "out.docx")


def test_cancel_stores_nothing(services, tmp_path: Path) -> None:
    path = tmp_path / "big.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("a,b\n")
        fh.writelines(f"{i},{i * 2}\n" for i in range(200_000))
    before = store_snapshot(services)

    class StopAtSnapshot:
        def update(self, fraction=None, status=None):
            self.status = status

        def check_cancelled(self):
            if getattr(self, "status", "") == "Writing snapshot":
                raise Cancelled()

    with pytest.raises(Cancelled):
        services.datasets.add_file(path, progress=StopAtSnapshot())
    assert store_snapshot(services) == before


def test_missing_file_is_a_clear_error(services, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=re.escape("nothere.csv")):
        services.datasets.add_file(tmp_path / "nothere.csv")


BAD_FILES = {
    "empty": (lambda d: corpus.empty(d), "empty.csv"),
    "header only": (corpus.header_only, "header_only.csv"),
    "binary garbage": (lambda d: corpus.random_bytes(d), "garbage.csv"),
    "png as parquet": (lambda d: corpus.png_named(d), "picture.parquet"),
    "ragged": (corpus.ragged, "line 7"),
    "duplicate names": (corpus.duplicate_columns, "'a' (columns 1 and 3)"),
    "blank names": (corpus.blank_columns, "columns 2 and 4"),
    "unsupported": (lambda d: corpus.unsupported(d), "report.docx"),
    "corrupt zip": (corpus.corrupt_zip, ".zip"),
    "truncated gzip": (corpus.truncated_gzip, ".gz"),
    "truncated parquet": (corpus.truncated_parquet, "cut.parquet"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_is_named_and_stores_nothing(services, small_csv, tmp_path, case) -> None:
    services.datasets.add_file(small_csv)  # a store that already holds something
    before = store_snapshot(services)
    make, expected = BAD_FILES[case]
    path = make(tmp_path)
    with pytest.raises(InvalidInput) as err:
        services.datasets.add_file(path)
    assert expected in str(err.value)
    assert err.value.hint
    assert store_snapshot(services) == before


# -- integrity of snapshots -----------------------------------------------------------------


def _iris_csv(tmp_path: Path) -> Path:
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame
    path = tmp_path / "iris.csv"
    frame.to_csv(path, index=False)
    return path


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_flipped_byte_in_a_snapshot_is_refused_by_every_reader(
    capsys, store_url: str, tmp_path: Path
) -> None:
    """Train, export and profile all refuse it with the model files' message; it is audited."""
    from app.bootstrap import build_services
    from app.cli import main

    assert main(["datasets", "add", str(_iris_csv(tmp_path)), "--store", store_url]) == 0
    services = build_services(store_url)
    try:
        v = services.datasets.resolve("iris")
        _flip_a_byte(services.artifacts.path_for(v.snapshot_sha256))
    finally:
        services.close()
    capsys.readouterr()
    commands = [
        ["train", "iris", "-t", "target", "--cv", "2", "--no-plots"],
        ["datasets", "export", "iris", "-o", str(tmp_path / "out.csv")],
        ["profile", "iris"],
    ]
    for argv in commands:
        code = main([*argv, "--store", store_url])
        out, err = capsys.readouterr()
        lines = err.strip().splitlines()
        assert code == 1, (argv, out, err)
        assert len(lines) == 1 and lines[0].startswith("error: "), (argv, err)
        assert "The snapshot of dataset iris@1" in err and "was changed after it was stored" in err
        assert "Traceback" not in err
    assert not (tmp_path / "out.csv").exists()
    services = build_services(store_url)
    try:
        refused = services.registry.audit_log("dataset:iris@1", action="artifact.load_refused")
        assert len(refused) == len(commands)
        assert refused[0].details["expected_sha256"] == v.snapshot_sha256
        assert refused[0].details["actual_sha256"] != v.snapshot_sha256
        from sqlalchemy import select

        from app.core.store.models import RunRow

        with services.store.session() as s:
            assert "finished" not in set(s.scalars(select(RunRow.status)))
    finally:
        services.close()


def test_an_unchanged_snapshot_is_hashed_once_per_process(
    services, small_csv: Path, monkeypatch
) -> None:
    from app.core import artifacts

    v = services.datasets.add_file(small_csv).version
    calls: list[Path] = []
    real = artifacts.sha256_file

    def counting(path: Path, *args) -> str:
        calls.append(Path(path))
        return real(path, *args)

    monkeypatch.setattr(artifacts, "sha256_file", counting)
    for _ in range(4):
        services.datasets.load_table(v, columns=["petal"])
    services.datasets.export(v, small_csv.with_name("again.parquet"))
    snapshot = services.artifacts.path_for(v.snapshot_sha256)
    assert calls.count(snapshot) == 1
    _flip_a_byte(snapshot)
    from app.core.errors import TamperedArtifact

    with pytest.raises(TamperedArtifact, match="was changed after it was stored"):
        services.datasets.load_table(v)
    assert calls.count(snapshot) == 2
