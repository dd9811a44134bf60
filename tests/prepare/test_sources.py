"""SQL queries (a real SQLite file, a real PostgreSQL server) and a watched folder."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app.core.errors import InvalidInput
from tests.conftest import store_snapshot


def _every_stored_text(services) -> str:
    """Everything the store holds as text: a password must appear nowhere in it."""
    engine = services.store.engine if hasattr(services.store, "engine") else None
    url = services.store.url
    engine = engine or create_engine(url)
    out = []
    with engine.connect() as conn:
        tables = [
            r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
        ]
        for table in tables:
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                out.append(" ".join(str(v) for v in row))
    return "\n".join(out)


def test_a_query_on_a_sqlite_file_becomes_a_dataset(services, tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER, city TEXT, amount REAL)")
        conn.executemany(
            "INSERT INTO orders VALUES (?, ?, ?)",
            [(i, ["Paris", "Lyon"][i % 2], i * 1.5) for i in range(120)],
        )
    result = services.datasets.add_sql(
        f"sqlite:///{db}", "SELECT id, city, amount FROM orders WHERE id >= 20", name="orders"
    )
    v = result.version
    assert (v.rows, v.cols, v.source_kind) == (100, 3, "sql")
    assert v.options["query"].startswith("SELECT id")
    frame = services.datasets.load_table(v).to_pandas()
    assert frame["amount"].sum() == pytest.approx(sum(i * 1.5 for i in range(20, 120)))
    again = services.datasets.add_sql(
        f"sqlite:///{db}", "SELECT id, city, amount FROM orders WHERE id >= 20", name="orders"
    )
    assert not again.created and again.version.id == v.id


def test_a_writing_statement_leaves_nothing_and_a_bad_query_stores_nothing(
    services, tmp_path: Path
) -> None:
    db = tmp_path / "x.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (a INTEGER)")
        conn.execute("INSERT INTO t VALUES (1)")
    before = store_snapshot(services)
    with pytest.raises(InvalidInput, match="no such table: nope"):
        services.datasets.add_sql(f"sqlite:///{db}", "SELECT * FROM nope", name="n")
    with pytest.raises(InvalidInput, match="returns no rows"):
        services.datasets.add_sql(f"sqlite:///{db}", "DELETE FROM t", name="n")
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 1
    assert store_snapshot(services) == before


@pytest.mark.postgres
def test_a_query_on_postgresql_keeps_the_password_out_of_the_store(
    services, postgres_url: str
) -> None:
    from sqlalchemy.engine import make_url

    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS md_sales"))
        conn.execute(text("CREATE TABLE md_sales (id int, region text, total numeric(10,2))"))
        conn.execute(
            text(
                "INSERT INTO md_sales SELECT g, 'r' || (g % 3), g * 2.5 "
                "FROM generate_series(1, 500) g"
            )
        )
    engine.dispose()
    password = make_url(postgres_url).password
    assert password
    result = services.datasets.add_sql(
        postgres_url, "SELECT * FROM md_sales ORDER BY id", name="sales"
    )
    v = result.version
    assert (v.rows, v.cols) == (500, 3)
    assert "***" in v.source_path and password not in v.source_path
    frame = services.datasets.load_table(v).to_pandas()
    assert float(frame["total"].astype(float).sum()) == pytest.approx(2.5 * 500 * 501 / 2)
    assert password not in _every_stored_text(services)
    bad = postgres_url.replace(password, "wrong-secret")
    with pytest.raises(InvalidInput) as info:
        services.datasets.add_sql(bad, "SELECT 1", name="x")
    assert "wrong-secret" not in str(info.value) and "***" in str(info.value)


def _slow_copy(src: Path, dest: Path, chunks: int = 8, pause: float = 0.3) -> None:
    data = src.read_bytes()
    step = len(data) // chunks + 1
    with dest.open("wb") as fh:
        for i in range(0, len(data), step):
            fh.write(data[i : i + step])
            fh.flush()
            time.sleep(pause)


def test_a_watched_folder_takes_a_slowly_copied_file_once(services, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    src = tmp_path / "batch.csv"
    src.write_text("a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(5000)))
    with services.datasets.watch_folder(inbox, name="batches", debounce=1.0, poll=0.1) as w:
        copier = threading.Thread(target=_slow_copy, args=(src, inbox / "batch.csv"))
        copier.start()
        (inbox / "other.csv.part").write_text("x\n1\n")  # a partial name: ignored
        copier.join()
        assert w.wait(1, timeout=20)
        time.sleep(2.0)  # more events of the same file must not add it again
        assert len(w.added) == 1
        # a second file, renamed into place as copy tools do, is the next version
        shutil.copy(src, inbox / "b2.tmp")
        with (inbox / "b2.tmp").open("a") as fh:
            fh.write("9999,1\n")
        (inbox / "b2.tmp").rename(inbox / "batch2.csv")
        assert w.wait(2, timeout=20)
    versions = services.datasets.get("batches").versions
    assert [v.rows for v in versions] == [5000, 5001]
    assert all(v.source_kind == "file" for v in versions)


@pytest.mark.parametrize(
    ("url", "secrets"),
    [
        ("postgresql://u:s3cret@h:5/db", ["s3cret"]),
        ("postgresql://u@h/db?password=s3cret&sslmode=require", ["s3cret"]),
        (
            "postgresql://u@h/db?PWD=s3cret&api_key=k3y-value&token=t0ken",
            ["s3cret", "k3y-value", "t0ken"],
        ),
        ("postgresql://u:p%40ss%2Fword@h/db?password=second%26one", ["p@ss/word", "second&one"]),
        (
            "mssql+pyodbc:///?odbc_connect=DRIVER%3D%7BODBC%7D%3BUID%3Dme%3BPWD%3Dodbc-secret",
            ["odbc-secret"],
        ),
    ],
)
def test_every_credential_form_is_masked(url: str, secrets: list[str]) -> None:
    from urllib.parse import quote, quote_plus

    from app.core.readers.sql import _scrub, masked_url

    shown = masked_url(url)
    assert "***" in shown
    message = "driver said: " + " | ".join(s for x in secrets for s in (x, quote_plus(x), quote(x)))
    scrubbed = _scrub(message, url)
    for secret in secrets:
        for form in (secret, quote_plus(secret), quote(secret, safe="")):
            assert form not in shown and form not in scrubbed
    assert "sslmode=require" in masked_url(url) or "sslmode" not in url


@pytest.mark.postgres
def test_a_password_in_the_query_string_stays_out_of_store_json_and_errors(
    services, postgres_url: str, capsys
) -> None:
    """``?password=`` is libpq's own form; it connects, and is masked everywhere after."""
    import json

    from sqlalchemy.engine import URL, make_url

    from app.cli import main

    real = make_url(postgres_url)
    password = real.password
    assert password
    url = URL.create(
        real.drivername, real.username, None, real.host, real.port, real.database,
        {"password": password},
    ).render_as_string(hide_password=False)  # fmt: skip
    assert f"password={password}" in url and f":{password}@" not in url
    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS md_qs"))
        conn.execute(text("CREATE TABLE md_qs AS SELECT g AS id FROM generate_series(1, 50) g"))
    engine.dispose()
    capsys.readouterr()
    store = services.store.url
    argv = ["datasets", "add-sql", url, "--query", "SELECT * FROM md_qs", "--name", "qs"]
    assert main([*argv, "--store", store, "--json"]) == 0
    out, err = capsys.readouterr()
    assert password not in out and password not in err
    doc = json.loads(out)
    assert "password=***" in json.dumps(doc)
    assert password not in _every_stored_text(services)
    bad = url.replace(password, "wrong-secret-qs")
    assert (
        main(["datasets", "add-sql", bad, "--query", "SELECT 1", "--name", "x", "--store", store])
        == 1
    )
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "wrong-secret-qs" not in err
    assert "***" in err
