"""app.core.readers: every format and compression, awkward encodings, and clear errors."""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core import readers
from app.core.errors import Cancelled, InvalidInput
from app.core.progress import CancelToken
from app.core.readers import delimited, sources
from tests.core import corpus

# -- comparing tables with what pandas reads -------------------------------------------------


def _cell(value: Any) -> tuple[str, Any] | None:
    """A value with only representation removed: 1 == 1.0, but True != 1 and '1' != 1."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float | np.floating) and math.isnan(value):
        return None
    if isinstance(value, dt.date | np.datetime64):  # datetime, date, Timestamp
        return ("time", pd.Timestamp(value))
    if isinstance(value, bool | np.bool_):
        return ("bool", bool(value))
    if isinstance(value, int | float | np.integer | np.floating):
        return ("num", value.item() if isinstance(value, np.generic) else value)
    if isinstance(value, str):
        return ("str", value)
    return ("other", value)


def assert_same_values(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    assert list(ours.columns) == [str(c) for c in theirs.columns]
    assert len(ours) == len(theirs)
    for position, name in enumerate(ours.columns):
        got = [_cell(v) for v in ours.iloc[:, position].tolist()]
        want = [_cell(v) for v in theirs.iloc[:, position].tolist()]
        assert got == want, f"column {name!r} differs"


# -- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("compression", corpus.COMPRESSIONS)
@pytest.mark.parametrize("fmt", corpus.FORMATS)
def test_round_trip_matches_pandas(tmp_path: Path, fmt: str, compression: str | None) -> None:
    plain = corpus.write_format(corpus.mixed_frame(), tmp_path, fmt)
    expected = corpus.read_with_pandas(plain, fmt)
    path = corpus.compress(plain, compression, macosx_junk=True)

    result = readers.read_table(path)

    assert_same_values(result.table.to_pandas(), expected)
    assert result.info.compression == compression
    assert result.info.inner_name == plain.name
    assert json.loads(json.dumps(result.options)) == result.options  # JSON-serialisable


def test_round_trip_keeps_pyarrow_types(tmp_path: Path) -> None:
    path = corpus.write_format(corpus.mixed_frame(), tmp_path, "csv")
    schema = readers.read_table(path).table.schema
    assert schema.field("id").type == pa.int64()
    assert schema.field("amount").type == pa.float64()
    assert schema.field("label").type == pa.string()
    assert schema.field("day").type == pa.date32()
    assert pa.types.is_timestamp(schema.field("stamp").type)
    assert schema.field("flag").type == pa.bool_()


def test_pandas_reads_compressed_text_the_same(tmp_path: Path) -> None:
    """For text formats pandas can read the compressed file itself: same values."""
    plain = corpus.write_format(corpus.mixed_frame(), tmp_path, "csv")
    for compression in ("gz", "bz2", "xz", "zip"):
        path = corpus.compress(plain, compression)
        direct = pd.read_csv(path, parse_dates=list(corpus.DATE_COLUMNS))
        assert_same_values(readers.read_table(path).table.to_pandas(), direct)


def test_feather_v1_and_ipc_file(tmp_path: Path) -> None:
    old = readers.read_table(corpus.feather_v1(tmp_path))
    assert old.table.to_pydict() == {"a": [1, 2, 3], "b": ["x", "y", None]}
    assert old.options == {"ipc": "feather-v1"}
    arrow = readers.read_table(corpus.write_format(corpus.mixed_frame(), tmp_path, "feather"))
    assert arrow.options == {"ipc": "file"}
    stream = readers.read_table(corpus.write_format(corpus.mixed_frame(), tmp_path, "arrow_stream"))
    assert stream.options == {"ipc": "stream"}


def test_json_layouts(tmp_path: Path) -> None:
    lists = corpus.json_file(tmp_path, {"a": [1, None, 3], "b": ["x", "y", "z"]}, "lists.json")
    result = readers.read_table(lists)
    assert result.options["orient"] == "columns"
    assert result.table.schema.field("a").type == pa.int64()  # nulls do not make it float
    assert result.table.to_pydict() == {"a": [1, None, 3], "b": ["x", "y", "z"]}

    records = corpus.json_file(tmp_path, [{"a": 1, "b": "x"}, {"a": "two", "c": True}], "r.json")
    result = readers.read_table(records)
    assert result.options["orient"] == "records"
    assert result.table.to_pydict() == {"a": ["1", "two"], "b": ["x", None], "c": [None, True]}

    lines = tmp_path / "lines.json"
    lines.write_text('{"a": 1}\n{"a": 2}\n', encoding="utf-8")
    result = readers.read_table(lines)
    assert result.options["orient"] == "lines"
    assert result.table.to_pydict() == {"a": [1, 2]}


def test_jsonl_type_change_and_late_key(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sources, "_BLOCK_SIZE", 1 << 14)
    table = readers.read_table(corpus.jsonl_type_change(tmp_path)).table
    assert table.column_names == ["a", "b", "c"]
    assert table.schema.field("a").type == pa.string()
    assert table.column("a")[0].as_py() == "0"
    assert table.column("a")[-1].as_py() == "many"
    assert table.column("c").to_pylist()[-2:] == [None, True]


# -- encodings and delimiters ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "bom", "label"),
    [
        ("utf-8", False, "utf-8"),
        ("utf-8", True, "utf-8-sig"),
        ("utf-16-le", True, "utf-16-le"),
        ("utf-16-be", True, "utf-16-be"),
        ("utf-16-le", False, "utf-16-le"),
        ("cp1252", False, "cp1252"),
    ],
)
def test_encodings(tmp_path: Path, encoding: str, bom: bool, label: str) -> None:
    result = readers.read_table(corpus.encoded_csv(tmp_path, encoding, bom=bom))
    assert result.table.column_names == ["name", "note"]
    assert result.table.to_pylist() == [{"name": a, "note": b} for a, b in corpus.TEXT_ROWS]
    assert result.options["encoding"] == label


def test_non_utf8_after_the_sniffed_head(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sources, "_BLOCK_SIZE", 1 << 16)
    result = readers.read_table(corpus.late_cp1252(tmp_path))
    assert result.options["encoding"] == "cp1252"
    assert result.table.column("name")[-1].as_py() == "café €"
    assert result.table.column("name")[0].as_py() == "item0"


@pytest.mark.parametrize(
    ("delimiter", "name"),
    [(";", "semi.csv"), ("|", "pipe.csv"), ("\t", "tabs.txt"), (",", "comma.txt"), ("\t", "t.tsv")],
)
def test_delimiters_are_sniffed(tmp_path: Path, delimiter: str, name: str) -> None:
    result = readers.read_table(corpus.delimited(tmp_path, delimiter, name))
    assert result.options["delimiter"] == delimiter
    assert result.table.column_names == ["city", "count", "note"]
    assert result.table.column("count").to_pylist() == [3, 4, None]
    assert result.table.column("note").to_pylist() == ["a, b", "c", "d"]


def test_decimal_comma_with_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "fr.csv"
    path.write_bytes("ville;prix;qté\nParis;1,5;3\nLyon;-2,25;4\n".encode("cp1252"))
    result = readers.read_table(path)
    assert result.options["decimal_point"] == ","
    assert result.table.to_pydict() == {
        "ville": ["Paris", "Lyon"],
        "prix": [1.5, -2.25],
        "qté": [3, 4],
    }


def test_points_and_commas_mixed_stay_text(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text("a;b\n1,5;x\n2.5;y\n", encoding="utf-8")
    result = readers.read_table(path)
    assert result.options["decimal_point"] == "."
    assert result.table.column("a").to_pylist() == ["1,5", "2.5"]


def test_single_column_text(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text('word\nhello\n"a, b"\nworld\n', encoding="utf-8")
    result = readers.read_table(path)
    assert result.table.to_pydict() == {"word": ["hello", "a, b", "world"]}


# -- type changes below the first block ------------------------------------------------------


def test_late_type_change_keeps_every_value(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sources, "_BLOCK_SIZE", 1 << 16)
    table = readers.read_table(corpus.late_type_change(tmp_path)).table
    assert table.schema.field("id").type == pa.int64()
    assert table.schema.field("code").type == pa.string()
    assert table.schema.field("price").type == pa.float64()
    assert table.column("code")[0].as_py() == "0"
    assert table.column("code")[-1].as_py() == "A-17"
    assert table.column("price")[-1].as_py() == 2.5


def test_widen_fallback_for_older_pyarrow() -> None:
    """pyarrow < 17 fails instead of widening; the retry plan picks float, then text."""
    plan = delimited._CsvPlan("utf-8", None, ",", False, ["id", "code", "price"])
    message = "In CSV column #2: Row #70001: CSV conversion error to int64: invalid value '2.5'"
    assert delimited._widen(plan, delimited._CONVERSION.search(message))
    assert plan.column_types == {"price": pa.float64()}
    message = "In CSV column #2: CSV conversion error to double: invalid value 'n/k'"
    assert delimited._widen(plan, delimited._CONVERSION.search(message))
    assert plan.column_types == {"price": pa.string()}
    assert not delimited._widen(plan, delimited._CONVERSION.search(message))


def test_quoted_newline_below_the_head(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sources, "_BLOCK_SIZE", 1 << 16)
    result = readers.read_table(corpus.late_newline(tmp_path))
    assert result.table.column("text")[-1].as_py() == "two\nlines"
    assert result.table.column("text")[0].as_py() == "plain"
    assert result.table.num_rows == 80_000
    assert result.options["newlines_in_values"] is True


# -- Excel -----------------------------------------------------------------------------------


def test_excel_sheets(tmp_path: Path) -> None:
    path = corpus.workbook(
        tmp_path,
        {"First": pd.DataFrame({"a": [1, 2]}), "Second": pd.DataFrame({"b": ["x", 5]})},
    )
    assert readers.list_sheets(path) == ["First", "Second"]
    assert readers.read_table(path).table.to_pydict() == {"a": [1, 2]}
    second = readers.read_table(path, sheet="Second")
    assert second.options == {"sheet": "Second"}
    assert second.table.to_pydict() == {"b": ["x", "5"]}  # mixed kinds become text
    for compression in ("gz", "zip"):
        assert readers.list_sheets(corpus.compress(path, compression)) == ["First", "Second"]


def test_list_sheets_is_empty_for_other_formats(tmp_path: Path) -> None:
    assert readers.list_sheets(corpus.write_format(corpus.mixed_frame(), tmp_path, "csv")) == []


def test_excel_unknown_sheet(tmp_path: Path) -> None:
    path = corpus.workbook(tmp_path, {"First": pd.DataFrame({"a": [1]}), "Extra": pd.DataFrame()})
    with pytest.raises(InvalidInput) as err:
        readers.read_table(path, sheet="Nope")
    assert "book.xlsx has no sheet named 'Nope'" in err.value.message
    assert "First, Extra" in err.value.hint


def test_excel_header_problems(tmp_path: Path) -> None:
    blank = corpus.workbook_rows(tmp_path, [["a", None, "c"], [1, 2, 3]], "blank.xlsx")
    with pytest.raises(InvalidInput) as err:
        readers.read_table(blank)
    assert "blank.xlsx" in err.value.message
    assert "column B has values but no name" in err.value.message

    dupes = corpus.workbook_rows(tmp_path, [["a", "b", "a"], [1, 2, 3]], "dupes.xlsx")
    with pytest.raises(InvalidInput) as err:
        readers.read_table(dupes)
    assert "dupes.xlsx" in err.value.message
    assert "'a' (columns A and C)" in err.value.message


def test_excel_empty_unnamed_columns_are_dropped(tmp_path: Path) -> None:
    path = corpus.workbook_rows(tmp_path, [[None, "a", None, "b"], [None, 1, None, "x"]])
    assert readers.read_table(path).table.to_pydict() == {"a": [1], "b": ["x"]}


def test_sheet_for_a_csv_is_refused(tmp_path: Path) -> None:
    path = corpus.write_format(corpus.mixed_frame(), tmp_path, "csv")
    with pytest.raises(InvalidInput, match=r"sample\.csv is not an Excel workbook"):
        readers.read_table(path, sheet="Sheet1")


# -- detect ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt", "compression", "inner"),
    [
        ("a.csv", "csv", None, "a.csv"),
        ("A.TSV", "csv", None, "A.TSV"),
        ("a.txt.gz", "csv", "gz", "a.txt"),
        ("a.parquet.bz2", "parquet", "bz2", "a.parquet"),
        ("a.pq", "parquet", None, "a.pq"),
        ("a.ipc.xz", "feather", "xz", "a.ipc"),
        ("a.ndjson", "jsonl", None, "a.ndjson"),
        ("a.json", "json", None, "a.json"),
        ("a.xlsx.gz", "xlsx", "gz", "a.xlsx"),
    ],
)
def test_detect(tmp_path: Path, name: str, fmt: str, compression: str | None, inner: str) -> None:
    info = readers.detect(tmp_path / name)
    assert (info.format, info.compression, info.inner_name) == (fmt, compression, inner)


def test_detect_zip_uses_its_member(tmp_path: Path) -> None:
    path = corpus.zip_with(
        tmp_path, {"folder/data.parquet": b"x", "__MACOSX/folder/._data.parquet": b"y"}
    )
    info = readers.detect(path)
    assert (info.format, info.compression, info.inner_name) == (
        "parquet",
        "zip",
        "folder/data.parquet",
    )


# -- errors ----------------------------------------------------------------------------------


def _error(path: Path, **kwargs: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as err:
        readers.read_table(path, **kwargs)
    assert err.value.hint, "every error says what to do"
    return err.value


def test_missing_file(tmp_path: Path) -> None:
    assert "nope.csv does not exist" in _error(tmp_path / "nope.csv").message


def test_file_deleted_while_reading(tmp_path: Path) -> None:
    path = corpus.write_format(corpus.mixed_frame(), tmp_path, "csv")

    class DeletesTheFile(CancelToken):
        def update(self, fraction: float | None = None, status: str | None = None) -> None:
            path.unlink(missing_ok=True)

    with pytest.raises(InvalidInput) as err:
        readers.read_table(path, progress=DeletesTheFile())
    assert err.value.message == "sample.csv was moved or deleted while it was being read."


def test_empty_file(tmp_path: Path) -> None:
    assert "empty.csv is empty (0 bytes)" in _error(corpus.empty(tmp_path)).message


def test_empty_after_decompression(tmp_path: Path) -> None:
    path = corpus.compress(corpus.empty(tmp_path, "nothing.csv"), "gz")
    assert "nothing.csv.gz contains no data" in _error(path).message


def test_header_only(tmp_path: Path) -> None:
    message = _error(corpus.header_only(tmp_path)).message
    assert message == "header_only.csv has a header row but no data rows."


def test_binary_garbage_named_csv(tmp_path: Path) -> None:
    message = _error(corpus.random_bytes(tmp_path)).message
    assert "garbage.csv is not delimited text" in message


def test_excel_named_csv(tmp_path: Path) -> None:
    message = _error(corpus.csv_bytes_in_zip(tmp_path)).message
    assert "actually_excel.csv is not delimited text; it looks like a zip archive" in message


def test_png_named_parquet(tmp_path: Path) -> None:
    message = _error(corpus.png_named(tmp_path)).message
    assert message == "picture.parquet is not a valid Parquet file; it looks like a PNG image."


@pytest.mark.parametrize("name", ["garbage.parquet", "garbage.feather", "garbage.xlsx"])
def test_random_bytes_with_binary_extensions(tmp_path: Path, name: str) -> None:
    message = _error(corpus.random_bytes(tmp_path, name)).message
    assert message.startswith(f"{name} could not be read as ")


def test_csv_named_parquet(tmp_path: Path) -> None:
    path = tmp_path / "text.parquet"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    assert "text.parquet is not a valid Parquet file; it looks like text" in _error(path).message


def test_truncated_parquet(tmp_path: Path) -> None:
    assert (
        "cut.parquet is damaged or incomplete" in _error(corpus.truncated_parquet(tmp_path)).message
    )


def test_ragged_rows_name_their_lines(tmp_path: Path) -> None:
    error = _error(corpus.ragged(tmp_path))
    assert "ragged.csv" in error.message
    assert "Row at line 7 has 4 fields, expected 3" in error.message
    assert "Row at line 9 has 2 fields, expected 3" in error.message
    assert "comma" in error.hint


def test_duplicate_column_names(tmp_path: Path) -> None:
    message = _error(corpus.duplicate_columns(tmp_path)).message
    assert (
        message == "dupes.csv repeats column names: 'a' (columns 1 and 3); 'b' (columns 2 and 5)."
    )


def test_blank_column_names(tmp_path: Path) -> None:
    message = _error(corpus.blank_columns(tmp_path)).message
    assert message == "blanks.csv: columns 2 and 4 have no name in the header row."


def test_trailing_delimiter_column_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "trailing.csv"
    path.write_text("a;b;\n1;x;\n2;y;\n", encoding="utf-8")
    result = readers.read_table(path)
    assert result.table.to_pydict() == {"a": [1, 2], "b": ["x", "y"]}
    assert result.options["dropped_empty_columns"] == [3]


def test_pandas_index_column(tmp_path: Path) -> None:
    error = _error(corpus.pandas_index_csv(tmp_path))
    assert "with_index.csv: column 1 has no name" in error.message
    assert "index" in error.hint


@pytest.mark.parametrize("name", ["report.docx", "old.xls", "data.gz", "noext"])
def test_unsupported_extension(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidInput) as err:
        readers.detect(corpus.unsupported(tmp_path, name))
    assert name in err.value.message
    assert ".csv" in err.value.hint and ".parquet" in err.value.hint and ".xlsx" in err.value.hint
    with pytest.raises(InvalidInput):
        readers.read_table(tmp_path / name)


def test_corrupt_zip(tmp_path: Path) -> None:
    assert (
        "broken.zip is not a readable zip archive" in _error(corpus.corrupt_zip(tmp_path)).message
    )


def test_zip_with_several_members(tmp_path: Path) -> None:
    path = corpus.zip_with(tmp_path, {"a.csv": b"x\n1\n", "b.csv": b"y\n2\n", "__MACOSX/._a": b""})
    message = _error(path).message
    assert message == "bundle.zip contains 2 files (a.csv, b.csv); expected exactly one data file."


def test_zip_without_data(tmp_path: Path) -> None:
    path = corpus.zip_with(tmp_path, {"__MACOSX/._a.csv": b"junk"}, "hollow.zip")
    assert "hollow.zip contains no files" in _error(path).message


def test_zip_with_unsupported_member(tmp_path: Path) -> None:
    path = corpus.zip_with(tmp_path, {"notes.docx": b"x"}, "docs.zip")
    assert "docs.zip contains notes.docx" in _error(path).message


def test_truncated_gzip(tmp_path: Path) -> None:
    message = _error(corpus.truncated_gzip(tmp_path)).message
    assert "cut.csv.gz could not be decompressed (gz)" in message


@pytest.mark.parametrize(
    ("document", "fact"),
    [
        ([1, 2, 3], "item 1 of its top-level array is a number"),
        ({"a": 1, "b": 2}, "the value of 'a' is a number"),
        ("text", "it holds a string"),
        ({}, "it holds an empty object"),
        ([{"a": 1}, [1]], "item 2 of its top-level array is an array"),
    ],
)
def test_json_that_is_not_a_table(tmp_path: Path, document: object, fact: str) -> None:
    message = _error(corpus.json_file(tmp_path, document)).message
    assert "doc.json" in message
    assert fact in message


def test_json_columns_of_different_lengths(tmp_path: Path) -> None:
    path = corpus.json_file(tmp_path, {"a": [1, 2], "b": [1]})
    assert "'a' has 2, 'b' has 1" in _error(path).message


def test_json_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('[{"a": 1},\n {"a": ]', encoding="utf-8")
    assert "broken.json is not valid JSON" in _error(path).message
    assert "line 2" in _error(path).message


def test_jsonl_bad_line(tmp_path: Path) -> None:
    assert (
        "Line 3 of bad.jsonl is not valid JSON"
        in _error(corpus.jsonl_with_bad_line(tmp_path)).message
    )


def test_jsonl_line_that_is_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "arrays.jsonl"
    path.write_text('{"a": 1}\n[1, 2]\n', encoding="utf-8")
    assert "Line 2 of arrays.jsonl is an array, not a JSON object" in _error(path).message


# -- progress and cancel ---------------------------------------------------------------------


class CancelAfterFirstCheck:
    def __init__(self) -> None:
        self.checks = 0
        self.fractions: list[float] = []

    def update(self, fraction: float | None = None, status: str | None = None) -> None:
        if fraction is not None:
            self.fractions.append(fraction)

    def check_cancelled(self) -> None:
        self.checks += 1
        if self.checks > 1:
            raise Cancelled()


def _reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "modeldesk-reader"]


@pytest.mark.parametrize("compression", [None, "gz"])
def test_cancel_stops_a_big_csv(tmp_path: Path, monkeypatch, compression: str | None) -> None:
    monkeypatch.setattr(sources, "_POLL_SECONDS", 0.001)
    monkeypatch.setattr(sources, "_BLOCK_SIZE", 1 << 20)
    path = corpus.compress(corpus.big_csv(tmp_path), compression)
    assert path.stat().st_size > 4_000_000
    progress = CancelAfterFirstCheck()
    with pytest.raises(Cancelled):
        readers.read_table(path, progress=progress)
    assert progress.checks == 2
    # The refusal came from the watch loop while pyarrow was still reading (it reports a
    # fraction before each check), not from the check after a finished read.
    assert len(progress.fractions) >= 2
    assert progress.fractions[-1] < 1.0
    assert not _reader_threads()


@pytest.mark.parametrize("compression", [None, "zip"])
def test_progress_is_only_called_from_the_callers_thread(
    tmp_path: Path, monkeypatch, compression: str | None
) -> None:
    """Runner progress objects (a pipe to the parent process) are not thread-safe."""
    monkeypatch.setattr(sources, "_POLL_SECONDS", 0.001)
    monkeypatch.setattr(sources, "_BLOCK_SIZE", 1 << 20)
    threads: set[int] = set()

    class Recording(CancelToken):
        def update(self, fraction: float | None = None, status: str | None = None) -> None:
            threads.add(threading.get_ident())
            super().update(fraction, status)

        def check_cancelled(self) -> None:
            threads.add(threading.get_ident())

    path = corpus.compress(corpus.big_csv(tmp_path, megabytes=8), compression)
    progress = Recording()
    readers.read_table(path, progress=progress)
    assert threads == {threading.get_ident()}
    assert progress.fraction == 1.0


def test_progress_reaches_one(tmp_path: Path) -> None:
    token = CancelToken()
    readers.read_table(corpus.write_format(corpus.mixed_frame(), tmp_path, "csv"), progress=token)
    assert token.fraction == 1.0


@pytest.mark.parametrize("fmt", ["parquet", "feather", "xlsx", "json_records", "jsonl"])
def test_cancel_before_reading_any_format(tmp_path: Path, fmt: str) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        readers.read_table(corpus.write_format(corpus.mixed_frame(), tmp_path, fmt), progress=token)


# -- generated CSVs --------------------------------------------------------------------------

_NAME = st.text(alphabet='abcxyz019 _-,"é', min_size=1, max_size=8).filter(
    lambda s: s.strip() == s and s != ""
)
# Text always holds one of q/x/z so that neither reader can take it for a number, boolean,
# date or missing-value marker ("NA", "null", "nan", "true", ...).
_TEXT = st.text(alphabet="abqxz é€日,\"' \n", min_size=1, max_size=12).filter(
    lambda s: any(c in "qxz" for c in s)
)
_KINDS = {
    "int": st.integers(min_value=-(10**12), max_value=10**12),
    "float": st.floats(allow_nan=False, allow_infinity=False),
    "text": _TEXT,
}


@st.composite
def _frames(draw: st.DrawFn) -> pd.DataFrame:
    names = draw(st.lists(_NAME, min_size=1, max_size=6, unique=True))
    rows = draw(st.integers(min_value=1, max_value=12))
    columns: dict[str, list[Any]] = {}
    for i, name in enumerate(names):
        kind = draw(st.sampled_from(sorted(_KINDS)))
        values = _KINDS[kind] if i == 0 else st.one_of(st.none(), _KINDS[kind])
        columns[name] = draw(st.lists(values, min_size=rows, max_size=rows))
    return pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=_frames())
def test_generated_csv_round_trips(tmp_path_factory: pytest.TempPathFactory, frame) -> None:
    path = tmp_path_factory.mktemp("gen") / "generated.csv"
    frame.to_csv(path, index=False)
    expected = pd.read_csv(path)
    assert_same_values(readers.read_table(path).table.to_pandas(), expected)
