"""`modeldesk profile DATASET[@VERSION] [--target COL] [--html FILE] [--json]`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa

from app.cli import main


def seed_store(store_url: str) -> None:
    from app.bootstrap import build_services

    rng = np.random.default_rng(0)
    n = 2000
    y = rng.normal(size=n)
    df = pd.DataFrame(
        {"x": rng.normal(size=n), "city": rng.choice(["a", "b"], n), "y": y, "leak": y * 10}
    )
    svc = build_services(store_url)
    try:
        svc.datasets.add_table(
            pa.Table.from_pandas(df, preserve_index=False), name="sales", source_kind="test"
        )
    finally:
        svc.close()


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_prints_the_profile_document_and_html_writes_the_file(
    capsys, store_url, tmp_path
) -> None:
    seed_store(store_url)
    page = tmp_path / "sales.html"
    code, out, err = run(
        capsys,
        "profile",
        "sales@1",
        "--target",
        "y",
        "--html",
        str(page),
        "--store",
        store_url,
        "--json",
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["dataset"]["ref"] == "sales@1" and doc["overview"]["rows"] == 2000
    assert {c["name"] for c in doc["columns"]} == {"x", "city", "y", "leak"}
    assert doc["target"]["column"] == "y"
    assert any(w["kind"] == "leakage" and "leak" in w["columns"] for w in doc["warnings"])
    assert doc["stored"]["cached"] is False and doc["html"] == str(page)
    assert page.exists() and "<svg" in page.read_text(encoding="utf-8")

    code, out, _ = run(capsys, "profile", "sales", "--target", "y", "--store", store_url, "--json")
    assert code == 0 and json.loads(out)["stored"]["cached"] is True


def test_text_summary_and_clear_errors(capsys, store_url) -> None:
    seed_store(store_url)
    code, out, err = run(capsys, "profile", "sales", "--store", store_url)
    assert code == 0, err
    assert "sales@1  2,000 rows × 4 columns" in out and "WARNINGS" in out
    code, out, err = run(capsys, "profile", "sales", "--target", "nope", "--store", store_url)
    assert code == 1 and out == ""
    assert err.startswith("error: Dataset sales@1 has no column 'nope'")
    assert "Traceback" not in err
    code, out, _ = run(
        capsys, "profile", "sales", "--target", "nope", "--store", store_url, "--json"
    )
    assert code == 1 and json.loads(out)["error"] == "InvalidInput"


def test_thresholds_are_options(capsys, store_url) -> None:
    seed_store(store_url)
    code, out, err = run(
        capsys,
        "profile",
        "sales",
        "--threshold",
        "high_correlation=0.999",
        "--threshold",
        "skewness=5",
        "--store",
        store_url,
        "--json",
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["settings"]["thresholds"]["high_correlation"] == 0.999
    assert doc["settings"]["thresholds"]["skewness"] == 5.0
    code, _, err = run(capsys, "profile", "sales", "--threshold", "bogus=1", "--store", store_url)
    assert code == 1 and "'bogus=1' is not a threshold setting" in err
