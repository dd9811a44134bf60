"""Balanced deployments on the real daemon behind a real HAProxy container: canary share,
stickiness, fallback from a killed canary, a rolling update under load, promote/abort/scale.

Every request goes over real HTTP to the balancer; the variant that answered is read from
``X-Model-Version``, which HAProxy sets per server.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

import httpx
import pytest

from app.cli import main

pytestmark = [pytest.mark.docker, pytest.mark.timeout(900)]

BODY = {"dataframe_records": [{"tenure": 12.0, "charges": 70.5, "plan": "basic"}]}


def _post(client: httpx.Client, url: str, headers: dict[str, str] | None = None) -> str:
    response = client.post(f"{url}/invocations", json=BODY, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.headers["X-Model-Version"]


def _wait(condition, timeout: float = 60.0, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout} s")


class Load:
    """Constant traffic on its own thread; counts answers per version and failures."""

    def __init__(self, url: str) -> None:
        self.url, self.seen, self.failures = url, Counter(), []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                try:
                    response = client.post(f"{self.url}/invocations", json=BODY)
                    if response.status_code == 200:
                        self.seen[response.headers.get("X-Model-Version")] += 1
                    else:
                        self.failures.append(response.status_code)
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)


def _spread(url: str, n: int, workers: int = 8) -> Counter:
    """The versions that answered ``n`` requests sent by ``workers`` keep-alive clients."""
    from concurrent.futures import ThreadPoolExecutor

    def batch(count: int) -> Counter:
        with httpx.Client(timeout=30) as client:
            return Counter(_post(client, url) for _ in range(count))

    with ThreadPoolExecutor(workers) as pool:
        return sum(pool.map(batch, [n // workers] * workers), Counter())


def _store_url(services) -> str:
    return services.store.url


def test_canary_share_fallback_on_kill_and_abort(deploy_env, capsys):
    services, deploy, versions = deploy_env
    v1, v2 = versions[0].version, versions[1].version
    dep = deploy.deploy_variants(versions[0].ref, canary=versions[1].ref, weight=10)
    try:
        assert dep.kind == "balanced" and [v.role for v in dep.variants] == ["primary", "canary"]
        seen = _spread(dep.url, 2000)
        assert set(seen) == {str(v1), str(v2)}
        assert 0.08 <= seen[str(v2)] / 2000 <= 0.12, seen

        canary = next(v for v in dep.variants if v.role == "canary")
        replica = deploy.deployment(canary.replica_ids[0])
        with Load(dep.url) as load:
            _wait(lambda: load.seen[str(v2)] > 0, what="a canary answer")
            deploy.client().containers.get(replica.container_id).kill()
            killed = time.monotonic()
            fallen = _wait(lambda: deploy.check_fallback(dep.id), what="the fallback")
            took = time.monotonic() - killed
            before = sum(load.seen.values())
            _wait(lambda: sum(load.seen.values()) > before + 50, what="traffic after fallback")
        assert len(load.failures) <= 1, load.failures  # at most the request in flight
        assert fallen[0].status == "fallen_back" and "down" in fallen[0].reason
        assert took < 10
        entries = services.registry.audit_log(action="deployment.fallback")
        assert any(e.details.get("deployment") == dep.id for e in entries)
        with httpx.Client(timeout=30) as client:
            assert {_post(client, dep.url) for _ in range(50)} == {str(v1)}

        code = main(["deployments", "list", "--json", "--store", _store_url(services)])
        listed = json.loads(capsys.readouterr().out)["deployments"]
        assert code == 0
        mine = next(d for d in listed if d["id"] == dep.id)
        assert [v["status"] for v in mine["variants"]] == ["active", "fallen_back"]
        assert all(d["variant_id"] is None for d in listed)  # replicas sit under their parent

        code = main(["deployments", "abort", str(dep.id), "--store", _store_url(services)])
        _, err = capsys.readouterr()
        assert code == 1 and err.startswith("error:") and "no active canary" in err
    finally:
        deploy.stop(dep.id)
    assert deploy.deployment(dep.id).status == "stopped"
    assert not [d for d in deploy.deployments(active_only=True) if d.id == dep.id or d.variant_id]


def test_sticky_key_meets_one_variant_and_promote(deploy_env, capsys):
    services, deploy, versions = deploy_env
    dep = deploy.deploy_variants(
        versions[0].ref, canary=versions[1].ref, weight=30, sticky="X-User"
    )
    try:
        met: dict[str, set[str]] = {}
        with httpx.Client(timeout=30) as client:
            for key in range(60):
                for _ in range(2):
                    met.setdefault(str(key), set()).add(
                        _post(client, dep.url, {"X-User": f"user-{key}"})
                    )
        assert all(len(v) == 1 for v in met.values()), met
        assert {next(iter(v)) for v in met.values()} == {
            str(versions[0].version),
            str(versions[1].version),
        }
        code = main(["deployments", "promote", str(dep.id), "--store", _store_url(services)])
        out, err = capsys.readouterr()
        assert code == 0, err
        assert "retired" in out
        with httpx.Client(timeout=30) as client:
            answers = {_post(client, dep.url, {"X-User": f"user-{k}"}) for k in range(60)}
        assert answers == {str(versions[1].version)}
        assert services.registry.audit_log(action="deployment.promoted")
    finally:
        deploy.stop(dep.id)


def test_rolling_update_and_scale_lose_no_request(deploy_env, capsys):
    services, deploy, versions = deploy_env
    dep = deploy.deploy_variants(versions[0].ref, replicas=2)
    try:
        assert len(dep.variants[0].replica_ids) == 2
        with Load(dep.url) as load:
            _wait(lambda: sum(load.seen.values()) > 20, what="traffic")
            updated = deploy.update(dep.id, versions[1].ref)
            _wait(lambda: load.seen[str(versions[1].version)] > 20, what="the new version")
            code = main(["deployments", "scale", str(dep.id), "1", "--store", _store_url(services)])
            assert code == 0, capsys.readouterr().err
            before = sum(load.seen.values())
            _wait(lambda: sum(load.seen.values()) > before + 50, what="traffic after scaling")
        assert load.failures == []
        primary = next(v for v in updated.variants if v.status == "active")
        assert primary.version == str(versions[1].version) and len(primary.replica_ids) == 2
        scaled = deploy.balanced(dep.id)
        assert [len(v.replica_ids) for v in scaled.variants if v.status == "active"] == [1]
        assert services.registry.audit_log(action="deployment.scaled")
    finally:
        deploy.stop(dep.id)


def test_bad_variant_arguments_are_one_error_line(deploy_env, capsys):
    services, _, versions = deploy_env
    url = _store_url(services)
    for argv, words in (
        (["--canary", versions[1].ref, "--weight", "150"], "between 1 and 99"),
        (["--replicas", "0"], "between 1 and"),
        (["--sticky", "bad header"], "not an HTTP header name"),
    ):
        code = main(["deploy", versions[0].ref, *argv, "--store", url])
        _, err = capsys.readouterr()
        assert code == 1, err
        assert err.startswith("error:") and words in err and "Traceback" not in err
    code = main(["deployments", "scale", "999999", "2", "--store", url])
    assert code == 1 and "no deployment 999999" in capsys.readouterr().err
