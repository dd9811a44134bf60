"""Delimited text (CSV, TSV, semicolon and pipe files) as people's tools export it.

Only small head samples are looked at in Python, to sniff the encoding, delimiter and decimal
mark; all parsing is done by pyarrow. The multi-threaded ``pyarrow.csv.read_csv`` is used rather
than the streaming ``open_csv``: the streaming reader was about 2× slower on the 1M × 21
benchmark file and, unlike ``read_csv``, fails when a column's type changes after the first
block. What the head cannot reveal (8-bit bytes, a quoted line break or a type change further
down, a row straddling blocks) is learnt from pyarrow's error and the read is retried with the
plan adjusted; rows with the wrong number of fields are named by line in the final message.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.errors import InvalidInput
from app.core.progress import Progress
from app.core.readers import sources
from app.core.readers.formats import SUPPORTED, SourceInfo, _looks_like
from app.core.readers.sources import _SAMPLE_SIZE, _Feed, _open, _read_exactly, _run_polled

if TYPE_CHECKING:
    import pyarrow as pa

_MAX_BLOCK_SIZE = 1 << 30
_MAX_SAMPLE_SIZE = 1 << 20
_DELIMITERS = ",\t;|"
_DELIMITER_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
_MAX_REPORTED_ROWS = 5

_RAGGED = re.compile(r"Expected (\d+) columns?, got (\d+)")
_CONVERSION = re.compile(
    r"In CSV column #(\d+): (?:Row #\d+: )?CSV conversion error to ([\w\[\], ]+?): "
    r"invalid value '(.*)'",
    re.DOTALL,
)
_DECIMAL_COMMA = re.compile(r"[-+]?\d+,\d+")
_DECIMAL_POINT = re.compile(r"[-+]?\d*\.\d+(?:[eE][-+]?\d+)?")


@dataclass
class _CsvPlan:
    label: str  # encoding as reported in options
    codec: str | None  # codec the feed transcodes from; None when pyarrow reads it as UTF-8
    delimiter: str
    newlines_in_values: bool
    header: list[str]
    decimal_point: str = "."
    column_types: dict[str, Any] = field(default_factory=dict)
    block_size: int = 0


def _head(path: Path, info: SourceInfo) -> tuple[bytes, bool]:
    """The first bytes (at least one full line if possible) and whether that is everything."""
    with _open(path, info) as opened:
        head = _read_exactly(opened.stream, _SAMPLE_SIZE)
        while len(head) < _MAX_SAMPLE_SIZE and b"\n" not in head and b"\r" not in head:
            more = _read_exactly(opened.stream, len(head))
            if not more:
                return head, True
            head += more
        complete = len(head) < _SAMPLE_SIZE or not opened.stream.read(1)
    return head, complete


def _sniff_encoding(head: bytes, complete: bool) -> tuple[str, str | None]:
    """(label, codec): UTF-8 needs no transcoding (pyarrow skips a UTF-8 BOM itself)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", None
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32", "utf-32"
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", "utf-16"
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", "utf-16"
    probe = head[:4096]
    if len(probe) >= 4:
        even, odd = probe[0::2], probe[1::2]
        if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
            return "utf-16-le", "utf-16-le"
        if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
            return "utf-16-be", "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8", None
    try:
        head.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1", "latin-1"
    return "cp1252", "cp1252"


def _decode_head(head: bytes, label: str) -> str:
    codec = {"utf-8": "utf-8-sig", "utf-16-le": "utf-16", "utf-16-be": "utf-16"}.get(label, label)
    if label in ("utf-16-le", "utf-16-be") and not head.startswith(
        (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    ):
        codec = label
    return head.decode(codec, errors="replace")


def _is_binary(head: bytes, text: str, label: str) -> bool:
    if not label.startswith(("utf-16", "utf-32")) and b"\x00" in head:
        return True
    sample = text[:8192]
    controls = sum(
        1 for ch in sample if (ord(ch) < 32 and ch not in "\t\n\r\f\v") or 0x7F <= ord(ch) < 0xA0
    )
    return controls * 100 > len(sample)


def _records(sample: str, delimiter: str, complete: bool) -> list[list[str]]:
    try:
        rows = [r for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if r]
    except csv.Error:
        return []
    if not complete and len(rows) > 1:
        rows.pop()  # probably cut in the middle
    return rows


def _consistency(rows: list[list[str]]) -> tuple[float, int]:
    """(share of data rows with the header's field count, header field count)."""
    if not rows:
        return 0.0, 0
    width = len(rows[0])
    data = rows[1:]
    share = 1.0 if not data else sum(len(r) == width for r in data) / len(data)
    return share, width


def _sniff_delimiter(text: str, inner_name: str, complete: bool) -> str:
    suffix = Path(inner_name).suffix.lower()
    if suffix in (".tsv", ".tab"):
        return "\t"
    if suffix == ".psv":
        return "|"
    lines = text.splitlines(keepends=True)
    sample = "".join(lines[:200])
    scores = {d: _consistency(_records(sample, d, complete)) for d in _DELIMITERS}
    try:
        guess: str | None = csv.Sniffer().sniff("".join(lines[:50]), _DELIMITERS).delimiter
    except csv.Error:
        guess = None
    if guess in scores and scores[guess][1] > 1 and scores[guess][0] >= 0.9:
        return guess
    best = max(_DELIMITERS, key=lambda d: (scores[d][1] > 1, scores[d][0], scores[d][1]))
    return best if scores[best][1] > 1 else ","


def _plan_csv(path: Path, info: SourceInfo) -> _CsvPlan:
    head, complete = _head(path, info)
    label, codec = _sniff_encoding(head, complete)
    text = _decode_head(head, label)
    if not text.strip():
        raise InvalidInput(
            f"{path.name} contains no data (only blank space).",
            hint="Export the data again; the file has no header and no rows.",
        )
    looks = _looks_like(head)
    if looks is not None or _is_binary(head, text, label):
        what = looks[0] if looks else "binary data"
        raise InvalidInput(
            f"{path.name} is not delimited text; it looks like {what}.",
            hint="Choose the CSV export of the data, or give the file its real extension "
            f"(supported: {', '.join(SUPPORTED)}).",
        )
    delimiter = _sniff_delimiter(text, info.inner_name, complete)
    rows = _records(text, delimiter, complete)
    header = rows[0] if rows else []
    newlines = any("\n" in value or "\r" in value for row in rows for value in row)
    return _CsvPlan(
        label,
        codec,
        delimiter,
        newlines,
        header,
        decimal_point=_sniff_decimal_point(rows[1:], delimiter),
        block_size=sources._BLOCK_SIZE,
    )


def _sniff_decimal_point(rows: list[list[str]], delimiter: str) -> str:
    """',' for the semicolon/tab exports of comma-decimal locales ("1,5;2,25"), else '.'.

    Only when the head has comma decimals and no point decimals, so a file that mixes them
    keeps its text as text.
    """
    if delimiter == ",":
        return "."
    cells = [value.strip() for row in rows for value in row]
    if any(_DECIMAL_COMMA.fullmatch(v) for v in cells) and not any(
        _DECIMAL_POINT.fullmatch(v) for v in cells
    ):
        return ","
    return "."


def _csv_pass(
    path: Path,
    info: SourceInfo,
    plan: _CsvPlan,
    progress: Progress,
    *,
    invalid_row_handler: Callable[[Any], str] | None = None,
) -> pa.Table:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    read_options = pacsv.ReadOptions(
        use_threads=invalid_row_handler is None, block_size=plan.block_size
    )
    parse_options = pacsv.ParseOptions(
        delimiter=plan.delimiter,
        newlines_in_values=plan.newlines_in_values,
        # Empty lines count as rows while hunting for bad rows, so row numbers are line numbers.
        ignore_empty_lines=invalid_row_handler is None,
        invalid_row_handler=invalid_row_handler,
    )
    convert_options = pacsv.ConvertOptions(
        strings_can_be_null=True,
        column_types=plan.column_types or None,
        decimal_point=plan.decimal_point,
    )
    with _open(path, info) as opened:
        feed = _Feed(opened.stream, plan.codec)
        source = pa.PythonFile(feed, mode="r")
        return _run_polled(
            lambda: pacsv.read_csv(
                source,
                read_options=read_options,
                parse_options=parse_options,
                convert_options=convert_options,
            ),
            feed,
            opened,
            progress,
            f"Reading {path.name}",
        )


def _read_csv(
    path: Path, info: SourceInfo, sheet: str | None, progress: Progress
) -> tuple[pa.Table, dict[str, Any]]:
    import pyarrow as pa

    plan = _plan_csv(path, info)
    for _attempt in range(4 + 2 * max(1, len(plan.header))):
        try:
            table = _csv_pass(path, info, plan, progress)
        except pa.ArrowInvalid as exc:
            message = str(exc)
            if "invalid UTF8" in message and plan.codec is None:
                plan.label, plan.codec = "cp1252", "cp1252"
                continue
            if "straddl" in message and plan.block_size < _MAX_BLOCK_SIZE:
                plan.block_size *= 4
                continue
            if "Empty CSV file" in message:
                raise InvalidInput(
                    f"{path.name} contains no data.",
                    hint="Export the data again; the file has no header and no rows.",
                ) from exc
            if _RAGGED.search(message) or "out of sync with chunker" in message:
                if not plan.newlines_in_values:
                    # A quoted value with a line break beyond the sniffed head looks ragged.
                    plan.newlines_in_values = True
                    continue
                raise _ragged_error(path, info, plan, progress, message) from exc
            conversion = _CONVERSION.search(message)
            if conversion and _widen(plan, conversion):
                continue
            raise
        if plan.codec is None and any(pa.types.is_binary(t) for t in table.schema.types):
            # Valid UTF-8 in the head, other bytes further down: an 8-bit export.
            plan.label, plan.codec = "cp1252", "cp1252"
            continue
        options = {
            "delimiter": plan.delimiter,
            "encoding": plan.label,
            "newlines_in_values": plan.newlines_in_values,
            "decimal_point": plan.decimal_point,
        }
        if plan.column_types:
            options["column_types"] = {k: str(v) for k, v in plan.column_types.items()}
        return table, options
    raise InvalidInput(
        f"{path.name} could not be read: the column types kept changing.",
        hint="Check that every column holds one kind of value.",
    )


def _widen(plan: _CsvPlan, match: re.Match[str]) -> bool:
    """After a type change below the first block (older pyarrow): ints become floats if the
    new value is a number, anything else becomes text. False if there is nothing left to try."""
    import pyarrow as pa

    index, target, value = int(match.group(1)), match.group(2), match.group(3)
    if index >= len(plan.header):
        return False
    name = plan.header[index]
    current = plan.column_types.get(name)
    if current == pa.string():
        return False
    numeric = True
    try:
        float(value)
    except ValueError:
        numeric = False
    if target.startswith(("int", "uint")) and numeric and current is None:
        plan.column_types[name] = pa.float64()
    else:
        plan.column_types[name] = pa.string()
    return True


def _ragged_error(
    path: Path, info: SourceInfo, plan: _CsvPlan, progress: Progress, message: str
) -> InvalidInput:
    """Re-read single-threaded (pyarrow only numbers rows then) to name the first bad rows."""
    import pyarrow as pa

    bad: list[tuple[int | None, int, int, str]] = []

    def handler(row: Any) -> str:
        if row.actual_columns == 1 and not row.text.strip():
            return "skip"  # an empty line, counted so that numbers stay line numbers
        bad.append((row.number, row.actual_columns, row.expected_columns, row.text))
        return "skip" if len(bad) < _MAX_REPORTED_ROWS else "error"

    with contextlib.suppress(pa.ArrowInvalid):
        _csv_pass(path, info, plan, progress, invalid_row_handler=handler)
    delimiter = _DELIMITER_NAMES.get(plan.delimiter, repr(plan.delimiter))
    if not bad:
        return InvalidInput(
            f"{path.name} has rows with the wrong number of fields: {message}",
            hint=f"Every row needs as many {delimiter}-separated fields as the header.",
        )
    parts = []
    for number, actual, expected, text in bad:
        where = f"Row at line {number}" if number is not None and number > 0 else f"Row {text!r}"
        parts.append(f"{where} has {actual} fields, expected {expected}")
    more = " (and possibly more)" if len(bad) >= _MAX_REPORTED_ROWS else ""
    expected = bad[0][2]
    return InvalidInput(
        f"{path.name} has rows with the wrong number of fields: {'; '.join(parts)}{more}.",
        hint=f"Every row needs {expected} {delimiter}-separated fields like the header. Fix "
        f"those lines, or put values that contain a {delimiter} in double quotes.",
    )
