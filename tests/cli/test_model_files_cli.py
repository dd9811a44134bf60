"""`models export` / `models import` from the command line on scikit-learn's own data."""

from __future__ import annotations

import json

from tests.cli.conftest import run_cli


def test_export_onnx_then_skops_round_trip_without_trust(
    capsys, store_url, add_sklearn, tmp_path
) -> None:
    add_sklearn("bc")
    s = ("--store", store_url)
    code, out, err = run_cli(
        capsys, "train", "bc", "-t", "target", "-e", "logistic", "--no-plots", *s, "--json"
    )
    assert code == 0, err
    run_id = json.loads(out)["run_id"]
    assert run_cli(capsys, "models", "register", str(run_id), "--name", "bc", *s)[0] == 0

    onnx = tmp_path / "bc.onnx"
    code, out, err = run_cli(
        capsys, "models", "export", "bc@1", "--format", "onnx", "-o", str(onnx), *s, "--json"
    )
    assert code == 0, err
    names = json.loads(out)["input_names"]
    assert names["mean radius"] == "mean_radius" and len(names) == 30
    code, out, _ = run_cli(capsys, "models", "export", "bc@1", "--format", "onnx",
                           "-o", str(onnx), *s)  # fmt: skip
    assert "30 column name(s) became ONNX identifiers" in out

    skops = tmp_path / "bc.skops"
    assert run_cli(capsys, "models", "export", "bc@1", "-o", str(skops), *s)[0] == 0
    code, out, err = run_cli(capsys, "models", "import", str(skops), "--name", "bc-copy", *s)
    assert code == 0, err
    assert out.strip() == f"Imported {skops} as bc-copy@1."
