"""A real S3 API: ``moto_server`` started as a separate process on 127.0.0.1, a bucket in it,
and botocore's own variables pointing at it (as a user sets them for MinIO or AWS)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory) -> Iterator[str]:
    """The endpoint URL of a moto S3 server process; stopped at the end of the session."""
    import urllib.request

    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    exe = Path(sys.executable).with_name("moto_server")
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(exe), "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"moto_server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture
def s3_env(moto_endpoint, monkeypatch) -> dict[str, str]:
    """A new bucket; AWS_* set for this test (and the processes it starts)."""
    import boto3

    bucket = f"md-{uuid.uuid4().hex[:12]}"
    env = {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "md-test-key",
        "AWS_SECRET_ACCESS_KEY": "md-test-secret-value",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    boto3.client("s3", endpoint_url=moto_endpoint).create_bucket(Bucket=bucket)
    env["bucket"] = bucket
    return env


def s3_client(env: dict[str, str]):
    import boto3

    return boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"])


def object_keys(env: dict[str, str], prefix: str = "") -> list[str]:
    listed = s3_client(env).list_objects_v2(Bucket=env["bucket"], Prefix=prefix)
    return sorted(o["Key"] for o in listed.get("Contents", []))


@pytest.fixture
def s3_services(s3_env, tmp_path, monkeypatch):
    """Services on an SQLite store whose artifacts live in the bucket (cache in tmp)."""
    from app.bootstrap import build_services

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("MODELDESK_ARTIFACTS", f"s3://{s3_env['bucket']}/team/artifacts")
    svc = build_services(f"sqlite:///{tmp_path / 'store' / 'modeldesk.db'}")
    yield svc
    svc.close()


os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata probes
