"""What one client can cost the server, over real HTTP: a stalled body is a 408, and the bytes
of bodies worked on at once are bounded (a wait in line, then 503 with Retry-After), so six
concurrent 15 MB requests cost the memory of one, not six."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.serving.conftest import running

MB = 1024 * 1024
DEADLINE = 120.0


def _body_of(X, megabytes: float) -> bytes:
    """A dataframe_split body of at least ``megabytes`` (the cancer rows repeated)."""
    row_bytes = len(json.dumps(X.iloc[:50].to_numpy().tolist())) / 50
    reps = int(megabytes * MB / row_bytes / len(X)) + 1
    data = X.to_numpy().tolist() * reps
    return json.dumps({"dataframe_split": {"columns": list(X.columns), "data": data}}).encode()


def _peak_rss(pid: int) -> int:
    """The process's high-water mark of resident memory (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc")


def _burst(url: str, body: bytes, n: int = 6) -> list[httpx.Response]:
    """``n`` requests of ``body`` at once, each on its own connection."""
    start = threading.Barrier(n)
    out: list[httpx.Response | BaseException] = [None] * n  # type: ignore[list-item]

    def post(i: int) -> None:
        try:
            with httpx.Client(timeout=DEADLINE) as client:
                start.wait()
                out[i] = client.post(
                    url + "/invocations", content=body, headers={"content-type": "application/json"}
                )
        except BaseException as exc:  # reported below
            out[i] = exc

    threads = [threading.Thread(target=post, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(DEADLINE * 2)
    errors = [r for r in out if not isinstance(r, httpx.Response)]
    assert not errors, errors
    return out  # type: ignore[return-value]


def _growth(server, body: bytes) -> int:
    with server.client(timeout=DEADLINE) as client:  # warm: the first big request's own cost
        r = client.post("/invocations", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 200, r.text[:300]
    before = _peak_rss(server.proc.pid)
    answers = _burst(server.url, body)
    assert [r.status_code for r in answers] == [200] * 6, [r.text[:200] for r in answers]
    return _peak_rss(server.proc.pid) - before


def test_six_concurrent_15mb_requests_cost_the_memory_of_the_bound(
    bundles, server_logs, capsys
) -> None:
    bundle, _, X = bundles["cancer"]
    body = _body_of(X, 15)
    assert 15 * MB <= len(body) < 16 * MB
    limits = ("--max-body-mb", "16", "--queue-seconds", "300")
    with running(bundle, server_logs, *limits, "--max-inflight-mb", "16") as bounded:
        grown_bounded = _growth(bounded, body)
        metrics = httpx.get(bounded.url + "/metrics", timeout=30).text
    with running(bundle, server_logs, *limits, "--max-inflight-mb", "1000") as unbounded:
        grown_unbounded = _growth(unbounded, body)
    with capsys.disabled():
        print(
            f"\npeak RSS growth under 6 × {len(body) / MB:.1f} MB: bound 16 MB "
            f"{grown_bounded / MB:.0f} MB, unbounded {grown_unbounded / MB:.0f} MB"
        )
    assert "modeldesk_request_body_bytes_in_flight 0.0" in metrics
    assert grown_unbounded > 150 * MB  # six bodies at once really cost memory…
    # …and the bound holds it near one's (about 1/4 unloaded; a loaded machine overlaps the
    # unbounded requests less, so the margin is taken wide)
    assert grown_bounded < grown_unbounded / 2


@pytest.fixture(scope="module")
def strict(bundles, server_logs):
    """cancer with a 16 MB budget that admits one 15 MB body at once, no waiting in line,
    and a 2 s body timeout."""
    bundle, _, X = bundles["cancer"]
    args = ("--max-body-mb", "16", "--max-inflight-mb", "16", "--queue-seconds", "0",
            "--body-timeout", "2")  # fmt: skip
    with running(bundle, server_logs, *args) as server:
        yield server, X


def test_past_the_bound_is_503_with_retry_after(strict) -> None:
    server, X = strict
    answers = _burst(server.url, _body_of(X, 15))
    codes = sorted(r.status_code for r in answers)
    assert set(codes) <= {200, 503} and codes[0] == 200 and codes[-1] == 503, codes
    refused = next(r for r in answers if r.status_code == 503)
    assert int(refused.headers["retry-after"]) >= 1
    assert "busy" in refused.json()["error"]
    with server.client() as client:  # the bytes were given back: small requests pass
        rows = X.iloc[:2].to_numpy().tolist()
        r = client.post("/invocations", json={"dataframe_split": {"columns": list(X.columns),
                                                                   "data": rows}})  # fmt: skip
        assert r.status_code == 200, r.text


def test_a_stalled_body_is_408_and_the_connection_closed(strict) -> None:
    server, _ = strict
    host, port = server.url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=DEADLINE) as s:
        s.sendall(
            b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 5000\r\n\r\n{"dataframe_split": '
        )  # …and nothing more
        answer = b""
        while chunk := s.recv(65536):  # the server ends the connection after its answer
            answer += chunk
    waited = time.monotonic() - started
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), answer[:300]
    assert b"connection: close" in head.lower()
    assert "did not arrive within 2 s" in json.loads(body)["error"]
    assert waited >= 2
    with server.client() as client:  # and the server goes on
        assert client.get("/v2/health/ready").status_code == 200
