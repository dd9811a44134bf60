"""Artifacts on S3 (a real S3 API: moto in server mode, a separate process on 127.0.0.1):
ingest, train, register and bundle read back the same bytes from the bucket through an
emptied cache; a changed object is refused; credentials never reach the database; an upload
killed half-way leaves no visible object and no row."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import select

from app.core.errors import TamperedArtifact
from app.core.store.models import ArtifactRow
from tests.artifacts.conftest import object_keys, s3_client
from tests.registry.conftest import numeric_table, train

PREFIX = "team/artifacts"


def _rows():
    import pandas as pd

    return pd.DataFrame({"x1": [2.0, -2.0], "x2": [1.0, -1.0], "x3": [0.0, 0.0]})


def _stored(services) -> list[str]:
    with services.store.session() as s:
        return sorted(s.scalars(select(ArtifactRow.sha256).where(ArtifactRow.state == "stored")))


def test_the_journey_reads_back_the_same_bytes_from_s3(s3_services, s3_env, tmp_path) -> None:
    from app.core.bundle import bundle_from_version

    svc = s3_services
    assert svc.artifacts.location == f"s3://{s3_env['bucket']}/{PREFIX}"
    svc.datasets.add_table(numeric_table(), name="numeric", source_kind="test")
    run = train(svc, "numeric@1", "random_forest", n_estimators=8)
    version = svc.registry.register(run.id, "churn")
    predicted = list(svc.registry.load_model("churn@1").predict(_rows()))

    # every stored artifact is an object in the bucket whose bytes hash to its name
    shas = _stored(svc)
    assert version.artifact_sha256 in shas and len(shas) >= 2
    keys = object_keys(s3_env, PREFIX)
    assert keys == sorted(f"{PREFIX}/{sha[:2]}/{sha}" for sha in shas)
    client = s3_client(s3_env)
    for key in keys:
        body = client.get_object(Bucket=s3_env["bucket"], Key=key)["Body"].read()
        assert hashlib.sha256(body).hexdigest() == key.rsplit("/", 1)[1]

    # an emptied local cache: everything is fetched back from S3 (and verified)
    shutil.rmtree(svc.artifacts.root)
    assert list(svc.registry.load_model("churn@1").predict(_rows())) == predicted
    assert svc.datasets.load_table("numeric@1").equals(numeric_table())
    folder, _ = bundle_from_version(svc.registry, "churn@1", tmp_path / "bundle")
    model_file = next(p for p in folder.iterdir() if p.is_file() and p.suffix != ".json")
    assert hashlib.sha256(model_file.read_bytes()).hexdigest() == version.artifact_sha256

    # the credentials are nowhere in the store
    db = (
        svc.store.db_path.read_bytes()
        + svc.store.db_path.with_name("modeldesk.db-wal").read_bytes()
    )
    for secret in (s3_env["AWS_SECRET_ACCESS_KEY"], s3_env["AWS_ACCESS_KEY_ID"]):
        assert secret.encode() not in db
    assert all(secret not in str(e.to_dict()) for e in svc.registry.audit_log(None)
               for secret in (s3_env["AWS_SECRET_ACCESS_KEY"],))  # fmt: skip


def test_a_changed_object_is_refused_not_cached(s3_services, s3_env) -> None:
    svc = s3_services
    svc.datasets.add_table(numeric_table(), name="numeric", source_kind="test")
    run = train(svc, "numeric@1", "dummy")
    version = svc.registry.register(run.id, "churn")
    sha = version.artifact_sha256
    s3_client(s3_env).put_object(
        Bucket=s3_env["bucket"], Key=f"{PREFIX}/{sha[:2]}/{sha}", Body=b"not the model"
    )
    shutil.rmtree(svc.artifacts.root)
    with pytest.raises(TamperedArtifact, match="changed after it was written"):
        svc.registry.load_model("churn@1")
    assert not (svc.artifacts.root / sha[:2] / sha).exists()


_UPLOAD = """
import os, sys
from app.bootstrap import build_services
svc = build_services(sys.argv[1])
print("ready", flush=True)
with open(sys.argv[2], "rb") as fh:
    data = fh.read()
svc.artifacts.put_bytes(data, kind="big")  # killed during the multipart upload
print("finished", flush=True)
"""


def test_an_upload_killed_half_way_leaves_no_object_and_no_row(
    s3_env, tmp_path, monkeypatch
) -> None:
    from app.bootstrap import build_services

    url = f"sqlite:///{tmp_path / 'store' / 'modeldesk.db'}"
    env = {
        **os.environ,
        "MODELDESK_ARTIFACTS": f"s3://{s3_env['bucket']}/{PREFIX}",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(48 << 20))  # six 8 MiB parts
    sha = hashlib.sha256(big.read_bytes()).hexdigest()
    child = subprocess.Popen(
        [sys.executable, "-c", _UPLOAD, url, str(big)], env=env, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout.readline().strip() == "ready"
    client = s3_client(s3_env)
    deadline = time.monotonic() + 120
    while not client.list_multipart_uploads(Bucket=s3_env["bucket"]).get("Uploads"):
        assert child.poll() is None, "the upload ended before it could be interrupted"
        assert time.monotonic() < deadline, "no multipart upload was seen"
        time.sleep(0.01)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)

    assert object_keys(s3_env, PREFIX) == []  # nothing visible under the artifact prefix
    monkeypatch.setenv("XDG_CACHE_HOME", env["XDG_CACHE_HOME"])
    monkeypatch.setenv("MODELDESK_ARTIFACTS", env["MODELDESK_ARTIFACTS"])
    svc = build_services(url)  # start-up recovery: the dead writer's claim goes
    with svc.store.session() as s:
        assert s.get(ArtifactRow, sha) is None
        assert s.scalars(select(ArtifactRow)).all() == []
    svc.close()
    assert object_keys(s3_env, PREFIX) == []


def test_store_copy_moves_a_personal_store_onto_s3(s3_env, tmp_path, monkeypatch) -> None:
    """`store copy SRC DEST --artifacts s3://…`: the copy's model is read back from S3."""
    from app.bootstrap import build_services
    from app.core.registry import load_model
    from app.core.store import Store

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    source = f"sqlite:///{tmp_path / 'personal' / 'modeldesk.db'}"
    svc = build_services(source)
    svc.datasets.add_table(numeric_table(), name="numeric", source_kind="test")
    run = train(svc, "numeric@1", "dummy")
    sha = svc.registry.register(run.id, "churn").artifact_sha256
    predicted = list(svc.registry.load_model("churn@1").predict(_rows()))
    svc.close()
    location = f"s3://{s3_env['bucket']}/{PREFIX}"
    dest = f"sqlite:///{tmp_path / 'team' / 'modeldesk.db'}"
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "store", "copy", source, dest, "--artifacts", location],
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    assert f"{PREFIX}/{sha[:2]}/{sha}" in object_keys(s3_env, PREFIX)
    team = Store(dest, artifacts_dir=location)
    assert list(load_model("churn@1", store=team).predict(_rows())) == predicted
    team.dispose()
