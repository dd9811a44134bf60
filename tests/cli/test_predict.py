"""`modeldesk predict`: a real registered model scores files; bad rows are named, never dropped."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from app.cli import main
from app.core.errors import Cancelled, InvalidInput, TamperedArtifact
from app.core.progress import CancelToken
from app.core.scoring import score_file
from app.core.training import TrainRequest


def frame(n: int = 240, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    city = rng.choice(["Paris", "Lyon", "Nice"], n)
    label = np.where(x1 + 0.5 * x2 + (city == "Nice") + rng.normal(0, 0.3, n) > 0.3, "yes", "no")
    return pd.DataFrame(
        {"id": np.arange(n) + 1000, "x1": x1, "x2": x2, "city": city, "label": label}
    )


@pytest.fixture
def model(services, store_url) -> str:
    """A forest trained by ModelDesk on numbers and a category, registered as churn@1."""
    services.datasets.add_table(pa.Table.from_pandas(frame()), name="churn", source_kind="test")
    request = TrainRequest(
        "churn@1",
        "label",
        "random_forest",
        params={"n_estimators": 10},
        folds=2,
        plots=False,
        test_size=0.0,
        exclude=("id",),
    )
    run = services.training.train_inline(request)
    services.registry.register(run.id, "churn")
    return "churn@1"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_scores_in_row_order_like_the_pipeline(capsys, services, store_url, model, tmp_path):
    data = frame(500, seed=7).drop(columns="label").sample(frac=1.0, random_state=3)
    source = tmp_path / "new.csv"
    data.to_csv(source, index=False)
    out = tmp_path / "scores.parquet"
    code, stdout, err = run(
        capsys, "predict", model, str(source), "-o", str(out), "--proba", "--keep", "id",
        "--store", store_url, "--json",
    )  # fmt: skip
    assert code == 0, err
    payload = json.loads(stdout)
    assert (payload["rows"], payload["scored"], payload["failed"]) == (500, 500, 0)
    got = pq.read_table(out).to_pandas()
    assert list(got.columns) == ["id", "prediction", "proba_no", "proba_yes"]
    assert got["id"].tolist() == data["id"].tolist()  # order kept, every row present
    pipeline = services.registry.load_model(model)
    expected = pipeline.predict(data.drop(columns="id"))
    assert got["prediction"].tolist() == list(expected)
    np.testing.assert_allclose(
        got[["proba_no", "proba_yes"]].to_numpy(), pipeline.predict_proba(data.drop(columns="id"))
    )


def test_any_ingest_format_in_csv_out_and_an_alias(capsys, services, store_url, model, tmp_path):
    services.registry.set_alias("churn", "champion", 1)
    data = frame(80, seed=2).drop(columns="label")
    source = tmp_path / "new.jsonl"
    data.to_json(source, orient="records", lines=True)
    out = tmp_path / "scores.csv"
    code, stdout, err = run(capsys, "predict", "churn@champion", str(source), "-o", str(out),
                            "--store", store_url)  # fmt: skip
    assert code == 0, err
    assert "Scored 80 of 80 rows" in stdout
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    expected = services.registry.load_model(model).predict(data.drop(columns="id"))
    assert [r["prediction"] for r in rows] == list(expected)


def test_a_missing_column_is_named_and_nothing_is_written(capsys, store_url, model, tmp_path):
    source = tmp_path / "new.csv"
    frame(20).drop(columns=["label", "x2"]).to_csv(source, index=False)
    out = tmp_path / "scores.csv"
    code, stdout, err = run(capsys, "predict", model, str(source), "-o", str(out),
                            "--store", store_url)  # fmt: skip
    assert code == 1 and stdout == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: new.csv has no column 'x2'")
    assert "x1" in lines[0] and "city" in lines[0]
    assert not out.exists()


def bad_file(tmp_path: Path) -> Path:
    data = frame(30, seed=5).drop(columns="label").astype({"x1": object, "x2": object})
    data.loc[3, "x1"] = "abc"  # data row 4
    data.loc[7, "x2"] = "twelve"  # data row 8
    source = tmp_path / "bad.csv"
    data.to_csv(source, index=False)
    return source


def test_rows_that_cannot_be_scored_stop_with_their_numbers(capsys, store_url, model, tmp_path):
    out = tmp_path / "scores.csv"
    code, stdout, err = run(capsys, "predict", model, str(bad_file(tmp_path)), "-o", str(out),
                            "--store", store_url, "--json")  # fmt: skip
    assert code == 1
    assert json.loads(stdout)["error"] == "InvalidInput"
    (line,) = err.strip().splitlines()
    assert line.startswith("error: 2 rows of bad.csv cannot be scored")
    assert "row 4: Column 'x1' has text ('abc')" in line
    assert "row 8: Column 'x2' has text ('twelve')" in line
    assert "--errors" in line
    assert not out.exists()


def test_with_errors_the_others_are_scored_and_the_bad_ones_listed(
    capsys, services, store_url, model, tmp_path
):
    source = bad_file(tmp_path)
    out, report = tmp_path / "scores.parquet", tmp_path / "errors.csv"
    code, stdout, err = run(capsys, "predict", model, str(source), "-o", str(out),
                            "--errors", str(report), "--store", store_url, "--json")  # fmt: skip
    assert code == 0, err
    assert json.loads(stdout)["failed"] == 2
    got = pq.read_table(out).to_pandas()
    assert list(got.columns) == ["row", "prediction"] and got["row"].tolist() == list(range(1, 31))
    assert got["prediction"].isna().tolist() == [i in (3, 7) for i in range(30)]
    clean = (
        pd.read_csv(source).drop(index=[3, 7]).drop(columns="id").astype({"x1": float, "x2": float})
    )
    expected = services.registry.load_model(model).predict(clean)
    assert got["prediction"].dropna().tolist() == list(expected)
    with open(report, newline="") as f:
        listed = list(csv.DictReader(f))
    assert [(r["row"], r["column"], r["value"]) for r in listed] == [
        ("4", "x1", "abc"),
        ("8", "x2", "twelve"),
    ]


@pytest.fixture
def strict_model(services, tmp_path) -> str:
    """An outside skops pipeline that refuses missing values (no imputer), imported."""
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    data = frame(200)
    model = LogisticRegression().fit(data[["x1", "x2"]], data["label"])
    path = tmp_path / "outside.skops"
    sio.dump(model, path)
    services.registry.import_file(path, "outside", trust=[])
    return "outside@1"


def test_rows_the_model_itself_refuses_are_isolated(services, strict_model, tmp_path):
    data = frame(1000, seed=9)[["x1", "x2"]]
    data.loc[[17, 640, 641], "x2"] = np.nan
    source = tmp_path / "gaps.parquet"
    data.to_parquet(source)
    out, report = tmp_path / "scores.csv", tmp_path / "errors.csv"
    result = score_file(services.registry, strict_model, source, out, errors=report, batch_rows=300)
    assert [e.row for e in result.errors] == [18, 641, 642]
    assert all("NaN" in e.problem and "outside@1 refused it" in e.problem for e in result.errors)
    got = pd.read_csv(out)
    assert got["row"].tolist() == list(range(1, 1001))
    assert got["prediction"].isna().sum() == 3
    expected = services.registry.load_model(strict_model).predict(data.dropna())
    assert got["prediction"].dropna().tolist() == list(expected)

    with pytest.raises(InvalidInput, match=r"3 rows of gaps.parquet cannot be scored.*row 18"):
        score_file(services.registry, strict_model, source, tmp_path / "again.csv")
    assert not (tmp_path / "again.csv").exists()


def test_a_changed_model_file_is_refused(services, model, tmp_path):
    version = services.registry.resolve(model)
    path = services.artifacts.path_for(version.artifact_sha256)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    source = tmp_path / "new.csv"
    frame(10).to_csv(source, index=False)
    with pytest.raises(TamperedArtifact):
        score_file(services.registry, model, source, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


class Recording(CancelToken):
    def __init__(self, cancel_at: float | None = None) -> None:
        super().__init__()
        self.fractions: list[float] = []
        self.cancel_at = cancel_at

    def update(self, fraction=None, status=None) -> None:
        super().update(fraction, status)
        if fraction is not None:
            self.fractions.append(fraction)
            if self.cancel_at is not None and fraction >= self.cancel_at:
                self.cancel()


def test_progress_moves_per_batch_and_cancel_writes_nothing(services, model, tmp_path):
    source = tmp_path / "new.csv"
    frame(1000).to_csv(source, index=False)
    progress = Recording()
    score_file(services.registry, model, source, tmp_path / "a.csv", batch_rows=100,
               progress=progress)  # fmt: skip
    scoring = [f for f in progress.fractions if 0.3 < f < 0.96]
    assert len(scoring) >= 10 and scoring == sorted(scoring)
    assert progress.fractions[-1] == 1.0

    with pytest.raises(Cancelled):
        score_file(services.registry, model, source, tmp_path / "b.csv", batch_rows=100,
                   progress=Recording(cancel_at=0.5))  # fmt: skip
    assert not list(tmp_path.glob("*b.csv*"))


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["-o", "{tmp}/scores.txt"], "Name the output file .csv or .parquet"),
        (["-o", "{tmp}/nowhere/scores.csv"], "does not exist"),
        (["-o", "{tmp}/s.csv", "--keep", "nosuch"], "no column 'nosuch' to keep"),
        (["-o", "{tmp}/s.csv", "--errors", "{tmp}/e.csv", "--max-errors", "0"], "--max-errors"),
    ],
)
def test_bad_requests_are_one_error_line(capsys, store_url, model, tmp_path, extra, needle):
    source = tmp_path / "new.csv"
    frame(10).to_csv(source, index=False)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in extra]
    code, stdout, err = run(capsys, "predict", model, str(source), *argv, "--store", store_url)
    assert code == 1 and stdout == ""
    (line,) = err.strip().splitlines()
    assert line.startswith("error: ") and needle in line


def test_an_unknown_model_is_not_found(capsys, store_url, model, tmp_path):
    source = tmp_path / "new.csv"
    frame(10).to_csv(source, index=False)
    code, _, err = run(capsys, "predict", "nosuch@1", str(source), "-o", str(tmp_path / "o.csv"),
                       "--store", store_url)  # fmt: skip
    assert code == 1 and err.startswith("error: ") and "nosuch" in err


def test_a_terminal_sees_a_progress_bar(services, store_url, model, tmp_path):
    """stderr a terminal (a pseudo-terminal here): tqdm draws the bar; a pipe gets none."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios

    import app

    source = tmp_path / "new.csv"
    frame(2000).to_csv(source, index=False)
    argv = [sys.executable, "-m", "app", "predict", model, str(source), "-o",
            str(tmp_path / "o.csv"), "--store", store_url]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path(app.__file__).resolve().parents[1])}
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a real size
    try:
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=slave)
        os.close(slave)
        drawn = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed its end
                break
            if not chunk:
                break
            drawn += chunk
        assert proc.wait(timeout=300) == 0
    finally:
        os.close(master)
    assert b"Scoring with churn@1" in drawn and b"%" in drawn
    piped = subprocess.run(argv, env=env, capture_output=True, timeout=300)
    assert piped.returncode == 0 and piped.stderr == b""


def test_a_column_of_the_wrong_type_is_refused_as_a_whole(capsys, store_url, model, tmp_path):
    source = tmp_path / "new.csv"
    data = frame(10).drop(columns="label")
    data["x1"] = [True, False] * 5
    data.to_csv(source, index=False)
    code, stdout, err = run(capsys, "predict", model, str(source), "-o", str(tmp_path / "o.csv"),
                            "--store", store_url)  # fmt: skip
    assert code == 1 and stdout == ""
    (line,) = err.strip().splitlines()
    assert "Column 'x1' of new.csv holds true/false values; churn@1 expects numbers" in line
