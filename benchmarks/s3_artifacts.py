"""Artifacts on S3: ModelDesk's write (hash, claim, atomic upload, cache) and verified read
(download into the cache, SHA-256) against a bare ``s3fs`` put/get of the same bytes, same
run, same moto server (started here as a separate process on 127.0.0.1).

Goal (issue 18): ModelDesk ≥ 0.8 × the bare s3fs throughput, for write and for read.

    .venv/bin/python -m benchmarks.s3_artifacts [--mb 64] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path


def _moto() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(exe), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=2)
            return proc, url
        except OSError:
            time.sleep(0.1)
    raise SystemExit("moto_server did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    proc, endpoint = _moto()
    work = Path(tempfile.mkdtemp(prefix="md-s3-bench-"))
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench-secret",
        AWS_DEFAULT_REGION="us-east-1",
        XDG_CACHE_HOME=str(work / "cache"),
        MODELDESK_CONFIG_DIR=str(work / "config"),
    )
    try:
        import boto3
        import s3fs

        from app.core.artifact_backends import CHUNK
        from app.core.artifacts import ArtifactStore
        from app.core.store import Store

        bucket = f"bench-{uuid.uuid4().hex[:8]}"
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
        fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": endpoint})
        store = Store(f"sqlite:///{work / 'store' / 'md.db'}", artifacts_dir=f"s3://{bucket}/md")
        artifacts = ArtifactStore(store)
        bare = {"write": float("inf"), "read": float("inf")}
        ours = {"write": float("inf"), "read": float("inf")}
        for i in range(args.repeat):
            data = os.urandom(args.mb << 20)  # new bytes each round: nothing deduplicated
            src = work / f"src-{i}.bin"
            src.write_bytes(data)
            t = time.perf_counter()
            fs.put_file(str(src), f"{bucket}/bare/{i}", chunksize=CHUNK)
            bare["write"] = min(bare["write"], time.perf_counter() - t)
            t = time.perf_counter()
            fs.get_file(f"{bucket}/bare/{i}", str(work / f"back-{i}.bin"))
            bare["read"] = min(bare["read"], time.perf_counter() - t)

            t = time.perf_counter()
            pending = artifacts.put_file(lambda fh, d=data: fh.write(d), kind="bench")
            store.write(pending.mark_stored)
            ours["write"] = min(ours["write"], time.perf_counter() - t)
            shutil.rmtree(artifacts.root / pending.sha256[:2])  # a cold cache
            t = time.perf_counter()
            artifacts.open_verified(pending.sha256)
            ours["read"] = min(ours["read"], time.perf_counter() - t)
        mb = args.mb
        result = {
            "mb": mb,
            "bare_s3fs_s": bare,
            "modeldesk_s": ours,
            "ratio_write": round(bare["write"] / ours["write"], 3),
            "ratio_read": round(bare["read"] / ours["read"], 3),
        }
        print(json.dumps(result, indent=1))
        store.dispose()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
