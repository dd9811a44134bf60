"""`modeldesk models …` and `modeldesk audit …`: JSON documents, exit 3 on a refused promotion."""

from __future__ import annotations

import json
import sqlite3

from app.cli import main

from .conftest import train


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_models_cli_end_to_end(capsys, services, good_and_bad_runs, store_url, tmp_path) -> None:
    good, bad = good_and_bad_runs
    services.close()  # the CLI opens the store itself
    s = ("--store", store_url)

    code, out, err = run(
        capsys, "models", "register", str(good.id), "--name", "churn", *s, "--json"
    )
    assert code == 0, err
    assert json.loads(out)["version"] == 1
    code, out, _ = run(
        capsys, "models", "register", str(bad.id), "--name", "churn", "--tag", "t=1", *s
    )
    assert code == 0 and "churn@2" in out

    assert run(capsys, "models", "alias", "churn", "champion", "1", *s)[0] == 0
    code, out, err = run(capsys, "models", "alias", "churn", "champion", "2", *s)
    assert code == 3 and "worse" in err and err.startswith("error: churn@2 was not made champion")
    code, out, _ = run(capsys, "models", "alias", "churn", "champion", "2", *s, "--json")
    assert code == 3 and json.loads(out)["error"] == "PolicyRefused"
    code, out, err = run(
        capsys, "models", "alias", "churn", "champion", "2", "--force", "--reason", "A/B", *s
    )
    assert code == 0 and "forced" in out

    code, out, _ = run(capsys, "models", "list", *s, "--json")
    assert json.loads(out)["models"][0]["aliases"] == {"champion": 2}
    code, out, _ = run(capsys, "models", "list", "churn", *s)
    assert "champion" in out and out.splitlines()[1].startswith("2")
    code, out, _ = run(capsys, "models", "show", "churn@champion", *s, "--json")
    shown = json.loads(out)
    assert shown["version"] == 2 and [n["kind"] for n in shown["lineage"]["nodes"]][-1] == (
        "model_version"
    )
    code, out, _ = run(capsys, "models", "show", "churn@1", *s)
    assert "Signature" in out and "x1" in out

    target = tmp_path / "out" / "churn.skops"
    target.parent.mkdir()  # -o writes into an existing folder (a missing one is an error)
    code, out, _ = run(capsys, "models", "export", "churn@1", "-o", str(target), *s, "--json")
    assert code == 0 and target.exists() and (tmp_path / "out" / "churn.skops.json").exists()
    code, out, err = run(capsys, "models", "import", str(target), "--name", "copy", *s)
    assert code == 1 and "sklearn.tree._tree.Tree" in err and "--trust" in err
    trust = json.loads(run(capsys, "models", "show", "churn@1", *s, "--json")[1])["trusted_types"]
    code, out, err = run(
        capsys, "models", "import", str(target), "--name", "copy", "--trust", ",".join(trust), *s
    )
    assert code == 0, err
    assert "copy@1" in out

    onnx = tmp_path / "churn.onnx"
    code, out, err = run(
        capsys, "models", "export", "churn@1", "--format", "onnx", "-o", str(onnx), *s
    )
    assert code == 0, err
    assert onnx.stat().st_size > 0

    for name in ("card.md", "card.html"):
        code, out, err = run(capsys, "models", "card", "churn@2", "-o", str(tmp_path / name), *s)
        assert code == 0, err
    assert (tmp_path / "card.md").read_text().startswith("# Model card: churn@2")
    assert "<h1>Model card: churn@2</h1>" in (tmp_path / "card.html").read_text()

    code, out, _ = run(capsys, "audit", "log", "--subject", "churn@2", *s, "--json")
    actions = [e["action"] for e in json.loads(out)["entries"]]
    assert actions[:3] == ["version.register", "alias.refused", "alias.refused"]
    assert "alias.set" in actions
    code, out, _ = run(capsys, "audit", "verify", *s, "--json")
    assert code == 0 and json.loads(out)["ok"] is True

    db = sqlite3.connect(services.store.db_path)
    db.execute("DROP TRIGGER audit_log_no_update")
    db.execute("UPDATE audit_log SET actor = 'mallory' WHERE id = 4")
    db.commit()
    db.close()
    code, out, err = run(capsys, "audit", "verify", *s)
    assert code == 1 and "broken at entry 4" in err


def test_unknown_model_and_bad_ref_are_clear(capsys, store_url) -> None:
    code, _, err = run(capsys, "models", "show", "nothing", "--store", store_url)
    assert code == 1 and "No registered model named 'nothing'" in err
    code, _, err = run(capsys, "models", "show", "@3", "--store", store_url)
    assert code == 1 and "not a model reference" in err


def test_register_from_cli_after_training(capsys, services, numeric, store_url) -> None:
    r = train(services, numeric)
    services.close()
    code, out, err = run(
        capsys, "models", "register", str(r.id), "--name", "n", "--store", store_url, "--json"
    )
    assert code == 0, err
    assert json.loads(out)["ref"] == "n@1"
