"""ProfileService: stored once per version and settings, served from the store, nothing stored
when cancelled or failed, clear messages for bad requests, self-contained exports."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sqlalchemy import func, select

from app.core.errors import Cancelled, InvalidInput
from app.core.profiling import ProfileSettings
from app.core.profiling import engine as engine_module
from app.core.store.models import ArtifactRow, ProfileRow


def frame(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.normal(50, 10, n)
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "age": rng.integers(18, 90, n),
            "income": np.round(rng.lognormal(10, 0.5, n), 2),
            "city": rng.choice(["Paris", "Lyon", "Nice"], n),
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), "D"),
            "churn": rng.random(n) < 0.2,
            "y": y,
            "y_twice": y * 2 + 1,
        }
    )


def add(services, df: pd.DataFrame, name: str = "sales"):
    table = pa.Table.from_pandas(df, preserve_index=False)
    return services.datasets.add_table(table, name=name, source_kind="test").version


def counts(services) -> tuple[int, int, list[str]]:
    with services.store.session() as s:
        profiles = s.scalar(select(func.count()).select_from(ProfileRow))
        artifacts = s.scalar(select(func.count()).select_from(ArtifactRow))
    root = services.artifacts.root
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    return profiles, artifacts, files


class Recorder:
    """A progress that remembers what it was told and cancels at a chosen status."""

    def __init__(self, cancel_at: str | None = None) -> None:
        self.cancel_at = cancel_at
        self.statuses: list[str] = []
        self.fractions: list[float] = []
        self._cancelled = False

    def update(self, fraction=None, status=None) -> None:
        if fraction is not None:
            self.fractions.append(fraction)
        if status:
            self.statuses.append(status)
            if self.cancel_at and status.startswith(self.cancel_at):
                self._cancelled = True

    def check_cancelled(self) -> None:
        if self._cancelled:
            raise Cancelled()


def test_profile_is_stored_and_the_second_request_is_served_from_the_store(
    services, monkeypatch
) -> None:
    v = add(services, frame())
    progress = Recorder()
    first = services.profiles.profile(v, progress=progress)
    assert not first.cached and services.profiles.computed == 1
    assert first.document["overview"]["rows"] == 3000
    assert progress.fractions == sorted(progress.fractions) and progress.fractions[-1] == 1.0
    assert any(s.startswith("Column") for s in progress.statuses)  # progress per stage

    def must_not_run(*args, **kwargs):
        raise AssertionError("recomputed a cached profile")

    monkeypatch.setattr(engine_module, "compute_profile", must_not_run)
    second = services.profiles.profile(f"{v.name}@{v.version}")
    assert second.cached and services.profiles.computed == 1
    assert second.id == first.id and second.document == first.document
    assert services.profiles.cached(v) is not None
    assert counts(services)[:2] == (1, 2)  # one profile row; dataset + profile artifacts


def test_cache_survives_a_restart(store_url, monkeypatch) -> None:
    from app.bootstrap import build_services

    svc = build_services(store_url)
    v = add(svc, frame())
    first = svc.profiles.profile(v, ProfileSettings(target="churn"))
    svc.close()
    monkeypatch.setattr(
        engine_module, "compute_profile", lambda *a, **k: pytest.fail("recomputed after a restart")
    )
    again = build_services(store_url)
    try:
        found = again.profiles.profile("sales", ProfileSettings(target="churn"))
        assert found.cached and found.document == first.document
        assert again.profiles.computed == 0
    finally:
        again.close()


def test_other_settings_are_another_entry_and_refresh_replaces(services) -> None:
    v = add(services, frame())
    plain = services.profiles.profile(v)
    with_target = services.profiles.profile(v, ProfileSettings(target="churn"))
    assert plain.settings_key != with_target.settings_key
    assert with_target.document["target"]["column"] == "churn"
    assert services.profiles.computed == 2
    refreshed = services.profiles.profile(v, refresh=True)
    assert not refreshed.cached and services.profiles.computed == 3
    assert len(services.profiles.list(v)) == 2
    summary = services.profiles.list(v)[0]["summary"]
    assert summary["rows"] == 3000 and "warnings" in summary


@pytest.mark.parametrize("stage", ["Statistics", "Column 3", "Associations", "Warnings", "Storing"])
def test_cancel_mid_run_stores_nothing(services, stage: str) -> None:
    v = add(services, frame())
    before = counts(services)
    with pytest.raises(Cancelled):
        services.profiles.profile(
            v, ProfileSettings(target="y"), progress=Recorder(cancel_at=stage)
        )
    assert counts(services) == before
    assert services.profiles.cached(v, ProfileSettings(target="y")) is None
    assert services.artifacts.orphans() == []


def test_a_failure_while_storing_leaves_nothing(services, monkeypatch) -> None:
    v = add(services, frame())
    before = counts(services)

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services.profiles, "_commit", broken)
    with pytest.raises(RuntimeError):
        services.profiles.profile(v)
    assert counts(services) == before


def test_bad_requests_give_clear_messages(services) -> None:
    v = add(services, frame())
    with pytest.raises(InvalidInput, match="has no column 'nope' to use as the target"):
        services.profiles.profile(v, ProfileSettings(target="nope"))
    with pytest.raises(InvalidInput, match="looks like an identifier"):
        services.profiles.profile(v, ProfileSettings(target="id"))
    with pytest.raises(InvalidInput, match="holds dates"):
        services.profiles.profile(v, ProfileSettings(target="when"))
    one = add(services, frame().iloc[:1], name="one-row")
    with pytest.raises(InvalidInput, match="needs at least two rows"):
        services.profiles.profile(one)
    df = frame()
    df["empty"] = np.nan
    df["inf"] = np.inf
    odd = add(services, df, name="odd")
    with pytest.raises(InvalidInput, match="'empty' has no values: all 3,000 rows"):
        services.profiles.profile(odd, ProfileSettings(target="empty"))
    with pytest.raises(InvalidInput, match="'inf' has no usable value"):
        services.profiles.profile(odd, ProfileSettings(target="inf"))
    # as plain columns they are described, not fatal
    result = services.profiles.profile(odd)
    kinds = {(w["kind"], w["columns"][0]) for w in result.warnings if w["columns"]}
    assert {("empty", "empty"), ("infinite", "inf")} <= kinds
    assert counts(services)[0] == 1  # only the successful profile was stored


def test_html_export_is_self_contained_and_json_export_is_the_document(services, tmp_path) -> None:
    v = add(services, frame())
    result = services.profiles.profile(v, ProfileSettings(target="y"))
    page = services.profiles.export_html(result, tmp_path / "report.html")
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html
    assert "<script" not in html and "<link" not in html
    addresses = set(re.findall(r"https?://[^\s\"'<>)]+", html))
    assert addresses <= {"http://www.w3.org/2000/svg"}  # the SVG namespace, not a fetch
    assert 'id="col-income"' in html and 'href="#col-y_twice"' in html  # warnings link
    assert "Possible target leakage" in html
    assert page.stat().st_size < 5_000_000
    dest = services.profiles.export_json(result, tmp_path / "profile.json")
    data = json.loads(dest.read_text())
    assert data["overview"] == result.document["overview"]
    assert data["stored"]["profile_id"] == result.id
    with pytest.raises(InvalidInput, match="does not exist"):
        services.profiles.export_html(result, tmp_path / "missing" / "r.html")


def test_reading_text_as_dictionaries_changes_no_statistic(services) -> None:
    from app.core.profiling.engine import compute_profile

    df = frame()
    df.loc[::7, "city"] = None
    v = add(services, df)
    stored = services.profiles.profile(v)
    table = services.datasets.load_table(v)
    in_memory = compute_profile(
        table, roles={c.name: c.role for c in v.schema}, settings=ProfileSettings()
    )
    for a, b in zip(stored.columns, in_memory["columns"], strict=True):
        a, b = dict(a), dict(b)
        a.pop("memory_bytes"), b.pop("memory_bytes")
        assert a == b, a["name"]
