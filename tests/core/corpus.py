"""Awkward data files, written on demand into a test's tmp folder.

Each helper writes one file and returns its path. They exist so reader tests can say what is
special about a file ("ragged rows at lines 7 and 9") instead of spelling out its bytes.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import random
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.ipc as ipc

# -- well-formed data in every format --------------------------------------------------------

FORMATS = (
    "csv",
    "tsv",
    "parquet",
    "feather",
    "arrow_stream",
    "xlsx",
    "json_records",
    "json_columns",
    "jsonl",
)
COMPRESSIONS = (None, "gz", "bz2", "xz", "zip")
DATE_COLUMNS = ("day", "stamp")


def mixed_frame() -> pd.DataFrame:
    """Ints, floats with NaN, text with commas/quotes/unicode/missing, dates, booleans."""
    return pd.DataFrame(
        {
            "id": np.arange(8, dtype="int64"),
            "amount": [1.5, np.nan, -2.25, 1e10, 0.1, 3.0, np.nan, 123456.789],
            "label": [
                "plain",
                "has, comma",
                'has "quotes"',
                "café €",
                "日本語 テキスト",
                None,
                "semi; pipe |",
                "  padded  ",
            ],
            "day": pd.to_datetime(["2024-01-05", "2023-12-31", "2000-02-29", "1999-07-01"] * 2),
            "stamp": pd.to_datetime(
                [
                    "2024-01-05 10:30:00",
                    "2023-12-31 23:59:59",
                    "2000-02-29 00:00:01",
                    "1999-07-01 12:00:00",
                ]
                * 2
            ),
            "flag": [True, False, True, True, False, False, True, False],
        }
    )


def write_format(frame: pd.DataFrame, folder: Path, fmt: str) -> Path:
    """``frame`` written the way pandas/pyarrow users write it, named by format."""
    if fmt == "csv":
        path = folder / "sample.csv"
        frame.to_csv(path, index=False)
    elif fmt == "tsv":
        path = folder / "sample.tsv"
        frame.to_csv(path, index=False, sep="\t")
    elif fmt == "parquet":
        path = folder / "sample.parquet"
        frame.to_parquet(path, index=False)
    elif fmt == "feather":
        path = folder / "sample.feather"
        frame.to_feather(path)
    elif fmt == "arrow_stream":
        path = folder / "sample.arrow"
        table = pa.Table.from_pandas(frame, preserve_index=False)
        with pa.OSFile(str(path), "wb") as sink, ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table, max_chunksize=3)
    elif fmt == "xlsx":
        path = folder / "sample.xlsx"
        frame.to_excel(path, index=False, sheet_name="Data")
    elif fmt == "json_records":
        path = folder / "sample.json"
        frame.to_json(path, orient="records", date_format="iso", force_ascii=False)
    elif fmt == "json_columns":
        path = folder / "sample.json"
        frame.to_json(path, orient="columns", date_format="iso", force_ascii=False)
    elif fmt == "jsonl":
        path = folder / "sample.jsonl"
        frame.to_json(path, orient="records", lines=True, date_format="iso", force_ascii=False)
    else:  # pragma: no cover
        raise ValueError(fmt)
    return path


def read_with_pandas(path: Path, fmt: str) -> pd.DataFrame:
    """What pandas itself makes of an uncompressed file written by ``write_format``.

    Dates are parsed where pyarrow would infer them. pandas 3's default float parser is
    correctly rounded, like pyarrow's, so floats must match exactly. JSON keeps its values
    as written (``dtype=False``), as the reader does.
    """
    if fmt == "csv":
        return pd.read_csv(path, parse_dates=list(DATE_COLUMNS))
    if fmt == "tsv":
        return pd.read_csv(path, sep="\t", parse_dates=list(DATE_COLUMNS))
    if fmt == "parquet":
        return pd.read_parquet(path)
    if fmt == "feather":
        return pd.read_feather(path)
    if fmt == "arrow_stream":
        with pa.OSFile(str(path)) as source:
            return ipc.open_stream(source).read_pandas()
    if fmt == "xlsx":
        return pd.read_excel(path)
    if fmt == "json_records":
        return pd.read_json(path, orient="records", dtype=False)
    if fmt == "json_columns":
        return pd.read_json(path, orient="columns", dtype=False)
    if fmt == "jsonl":
        return pd.read_json(path, lines=True, dtype=False)
    raise ValueError(fmt)  # pragma: no cover


def compress(path: Path, compression: str | None, *, macosx_junk: bool = False) -> Path:
    """``path`` wrapped in ``compression`` (a single-member zip for 'zip')."""
    if compression is None:
        return path
    data = path.read_bytes()
    if compression == "zip":
        target = path.with_name(path.stem + ".zip")
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(path.name, data)
            if macosx_junk:
                archive.writestr(f"__MACOSX/._{path.name}", b"\x00\x05\x16\x07junk")
        return target
    target = path.with_name(f"{path.name}.{compression}")
    if compression == "gz":
        target.write_bytes(gzip.compress(data, compresslevel=1))
    elif compression == "bz2":
        target.write_bytes(bz2.compress(data, compresslevel=1))
    else:
        target.write_bytes(lzma.compress(data, preset=1))
    return target


# -- encodings and delimiters ----------------------------------------------------------------

TEXT_ROWS = [("café", "€ 12"), ("naïve", "crème brûlée"), ("plain", "x")]


def encoded_csv(folder: Path, encoding: str, *, bom: bool = False) -> Path:
    """A two-column CSV with accents and the euro sign in ``encoding``."""
    text = "name,note\n" + "".join(f"{a},{b}\n" for a, b in TEXT_ROWS)
    data = text.encode(encoding)
    if bom and encoding == "utf-8":
        data = b"\xef\xbb\xbf" + data
    elif bom and encoding == "utf-16-le":
        data = b"\xff\xfe" + data
    elif bom and encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    path = folder / f"enc_{encoding}{'_bom' if bom else ''}.csv"
    path.write_bytes(data)
    return path


def delimited(folder: Path, delimiter: str, name: str) -> Path:
    rows = [
        ["city", "count", "note"],
        ["Paris", "3", "a, b"],
        ["Lyon", "4", "c"],
        ["Nice", "", "d"],
    ]
    lines = [
        delimiter.join(f'"{v}"' if "," in v and delimiter == "," else v for v in r) for r in rows
    ]
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- broken and awkward files ----------------------------------------------------------------


def empty(folder: Path, name: str = "empty.csv") -> Path:
    path = folder / name
    path.write_bytes(b"")
    return path


def header_only(folder: Path) -> Path:
    path = folder / "header_only.csv"
    path.write_text("a,b,c\n", encoding="utf-8")
    return path


def random_bytes(folder: Path, name: str = "garbage.csv", size: int = 4096) -> Path:
    path = folder / name
    path.write_bytes(random.Random(1234).randbytes(size))
    return path


def png_named(folder: Path, name: str = "picture.parquet") -> Path:
    """A (tiny, real) PNG under a data file's name."""
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
        b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18"
        b"\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    path = folder / name
    path.write_bytes(png)
    return path


def ragged(folder: Path) -> Path:
    """Header of 3 fields; line 7 has 4 fields and line 9 has 2 (line 1 is the header)."""
    lines = ["a,b,c", "1,2,3", "4,5,6", "7,8,9", "", "10,11,12", "13,14,15,16", "17,18,19", "20,21"]
    path = folder / "ragged.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def duplicate_columns(folder: Path) -> Path:
    path = folder / "dupes.csv"
    path.write_text("a,b,a,c,b\n1,2,3,4,5\n", encoding="utf-8")
    return path


def blank_columns(folder: Path) -> Path:
    path = folder / "blanks.csv"
    path.write_text("a,,c, \n1,2,3,4\n", encoding="utf-8")
    return path


def pandas_index_csv(folder: Path) -> Path:
    """What ``df.to_csv(path)`` writes by default: an unnamed index column first."""
    path = folder / "with_index.csv"
    pd.DataFrame({"x": [1, 2]}).to_csv(path)
    return path


def unsupported(folder: Path, name: str = "report.docx") -> Path:
    path = folder / name
    path.write_bytes(b"not really a document")
    return path


def corrupt_zip(folder: Path) -> Path:
    path = folder / "broken.zip"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 10 + b"this is not a zip at all")
    return path


def zip_with(folder: Path, members: dict[str, bytes], name: str = "bundle.zip") -> Path:
    path = folder / name
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return path


def truncated_gzip(folder: Path) -> Path:
    data = gzip.compress(b"a,b\n" + b"1,2\n" * 5000)
    path = folder / "cut.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    return path


def truncated_parquet(folder: Path) -> Path:
    good = write_format(mixed_frame(), folder, "parquet")
    data = good.read_bytes()
    path = folder / "cut.parquet"
    path.write_bytes(data[: len(data) // 2])
    return path


def json_file(folder: Path, document: object, name: str = "doc.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def jsonl_with_bad_line(folder: Path) -> Path:
    path = folder / "bad.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n{"a": \n{"a": 4}\n', encoding="utf-8")
    return path


def jsonl_type_change(folder: Path) -> Path:
    """A column that is numbers for many lines, then text; plus a key that appears late."""
    lines = [json.dumps({"a": i, "b": "x"}) for i in range(3000)]
    lines.append(json.dumps({"a": "many", "b": "y", "c": True}))
    path = folder / "changing.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def workbook(folder: Path, sheets: dict[str, pd.DataFrame], name: str = "book.xlsx") -> Path:
    path = folder / name
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for sheet, frame in sheets.items():
            frame.to_excel(writer, sheet_name=sheet, index=False)
    return path


def workbook_rows(folder: Path, rows: list[list[object]], name: str = "rows.xlsx") -> Path:
    """A one-sheet workbook with exactly these cell rows (None leaves a cell empty)."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sheet1"
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is not None:
                sheet.cell(row=r, column=c, value=value)
    path = folder / name
    book.save(path)
    return path


def late_type_change(folder: Path, rows: int = 40_000) -> Path:
    """'code' is an integer for ``rows`` lines, then text; 'price' is an integer, then 2.5."""
    body = "".join(f"{i},{i % 97},{i % 13}\n" for i in range(rows))
    path = folder / "late.csv"
    path.write_text("id,code,price\n" + body + f"{rows},A-17,2.5\n", encoding="utf-8")
    return path


def late_cp1252(folder: Path, rows: int = 40_000) -> Path:
    """Pure ASCII for ``rows`` lines, then a cp1252 'café' and '€': an Excel export."""
    body = "".join(f"{i},item{i}\n" for i in range(rows))
    path = folder / "late_cp1252.csv"
    path.write_bytes(("id,name\n" + body).encode() + f"{rows},café €\n".encode("cp1252"))
    return path


def late_newline(folder: Path, rows: int = 40_000) -> Path:
    """Quoted values with line breaks only far below the sniffed head: ``rows`` plain lines,
    then ``rows`` values of two lines each, so that block boundaries fall inside some."""
    plain = "".join(f"{i},plain\n" for i in range(rows))
    split = "".join(f'{i},"two\nlines"\n' for i in range(rows, 2 * rows))
    path = folder / "late_newline.csv"
    path.write_text("id,text\n" + plain + split, encoding="utf-8")
    return path


def big_csv(folder: Path, megabytes: int = 16) -> Path:
    """A multi-megabyte mixed CSV (ints, floats, text, dates, booleans)."""
    rng = np.random.default_rng(7)
    rows = megabytes * 1_000_000 // 60
    frame = pd.DataFrame(
        {
            "id": np.arange(rows),
            "x": np.round(rng.normal(size=rows), 6),
            "city": rng.choice(["Paris", "Lyon", "Nice"], rows),
            "day": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 999, rows), "D"),
            "ok": rng.random(rows) < 0.5,
            "n": rng.integers(0, 10**9, rows),
        }
    )
    path = folder / "big.csv"
    frame.to_csv(path, index=False)
    return path


def feather_v1(folder: Path) -> Path:
    path = folder / "old.feather"
    table = pa.table({"a": [1, 2, 3], "b": ["x", "y", None]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        feather.write_feather(table, str(path), version=1)
    return path


def csv_bytes_in_zip(folder: Path) -> Path:
    """An .xlsx workbook named .csv — a common mix-up."""
    buffer = io.BytesIO()
    pd.DataFrame({"a": [1]}).to_excel(buffer, index=False)
    path = folder / "actually_excel.csv"
    path.write_bytes(buffer.getvalue())
    return path
