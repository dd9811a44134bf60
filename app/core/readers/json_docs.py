"""JSON documents and JSON Lines as tables.

JSON Lines goes through pyarrow's threaded reader (with the polled feed, so it is cancellable);
single-document JSON has no pyarrow reader and is parsed by the stdlib ``json`` module, which
also takes over for JSON Lines that pyarrow refuses, so that the message can name the line.
The usual table layouts (records, columns, pandas' split/table) are recognised.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.errors import InvalidInput
from app.core.progress import Progress
from app.core.readers import sources
from app.core.readers.formats import SourceInfo
from app.core.readers.sources import _Feed, _open, _read_all, _run_polled

if TYPE_CHECKING:
    import pyarrow as pa


def _read_json(
    path: Path, info: SourceInfo, sheet: str | None, progress: Progress
) -> tuple[pa.Table, dict[str, Any]]:
    raw = _read_all(path, info, progress)
    encoding = "utf-8"
    try:
        document = json.loads(raw)
    except UnicodeDecodeError:
        encoding = "cp1252"
        try:
            document = json.loads(raw.decode("cp1252", errors="modeldesk-latin1"))
        except json.JSONDecodeError as exc:
            raise _json_syntax_error(path, exc) from exc
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":
            # Several documents one after another: JSON Lines with a .json name.
            table = _json_lines_table(raw, path)
            return table, {"orient": "lines"}
        raise _json_syntax_error(path, exc) from exc
    progress.check_cancelled()
    orient, columns = _json_columns(document, path)
    options: dict[str, Any] = {"orient": orient}
    if encoding != "utf-8":
        options["encoding"] = encoding
    return _columns_table(columns), options


def _json_syntax_error(path: Path, exc: json.JSONDecodeError) -> InvalidInput:
    return InvalidInput(
        f"{path.name} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
        hint="Fix the file at that position, or export the data again.",
    )


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _json_columns(document: Any, path: Path) -> tuple[str, dict[str, list[Any]]]:
    """Records, columns (dict of dicts or of lists) and pandas' split/table layouts."""
    shapes = (
        'an array of records ([{"col": 1, ...}, ...]) or an object of columns '
        '({"col": [1, ...]} or {"col": {"0": 1, ...}})'
    )
    if isinstance(document, list):
        for i, item in enumerate(document):
            if not isinstance(item, dict):
                raise InvalidInput(
                    f"{path.name} is not a table: item {i + 1} of its top-level array is "
                    f"{_kind(item)}, not a record (an object).",
                    hint=f"A JSON table must be {shapes}.",
                )
        return "records", _records_to_columns(document)
    if isinstance(document, dict) and document:
        values = list(document.values())
        if set(document) >= {"columns", "data"} and isinstance(document["data"], list):
            data, names = document["data"], document["columns"]
            if isinstance(names, list) and all(isinstance(r, list) for r in data):
                if any(len(r) != len(names) for r in data):
                    raise InvalidInput(
                        f"{path.name} ('split' layout) has rows whose length differs from "
                        f"its {len(names)} columns.",
                        hint="Every row in 'data' needs one value per column.",
                    )
                return "split", {str(n): [r[i] for r in data] for i, n in enumerate(names)}
        if (
            "schema" in document
            and isinstance(document.get("data"), list)
            and all(isinstance(r, dict) for r in document["data"])
        ):
            return "table", _records_to_columns(document["data"])
        if all(isinstance(v, dict) for v in values):
            index = dict.fromkeys(k for column in values for k in column)
            return "columns", {k: [c.get(i) for i in index] for k, c in document.items()}
        if all(isinstance(v, list) for v in values):
            lengths = {k: len(v) for k, v in document.items()}
            if len(set(lengths.values())) > 1:
                described = ", ".join(f"'{k}' has {n}" for k, n in lengths.items())
                raise InvalidInput(
                    f"{path.name}: the columns have different lengths ({described}).",
                    hint="Every column needs one value per row.",
                )
            return "columns", dict(document)
        odd = next(k for k, v in document.items() if not isinstance(v, dict | list))
        raise InvalidInput(
            f"{path.name} is JSON but not a table: the value of '{odd}' is "
            f"{_kind(document[odd])}, not a column.",
            hint=f"A JSON table must be {shapes}.",
        )
    found = "an empty object" if isinstance(document, dict) else _kind(document)
    raise InvalidInput(
        f"{path.name} is JSON but not a table: it holds {found}.",
        hint=f"A JSON table must be {shapes}.",
    )


def _records_to_columns(records: list[dict[str, Any]]) -> dict[str, list[Any]]:
    keys = dict.fromkeys(k for record in records for k in record)
    return {k: [record.get(k) for record in records] for k in keys}


def _columns_table(columns: dict[str, list[Any]]) -> pa.Table:
    import pyarrow as pa

    arrays = [_json_array(values) for values in columns.values()]
    return pa.Table.from_arrays(arrays, names=[str(k) for k in columns])


def _json_array(values: list[Any]) -> pa.Array:
    """pyarrow's inference (ints with nulls stay ints); mixed kinds become text."""
    import pyarrow as pa

    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
        return pa.array(
            [
                v if v is None or isinstance(v, str) else json.dumps(v, ensure_ascii=False)
                for v in values
            ],
            type=pa.string(),
        )


def _read_jsonl(
    path: Path, info: SourceInfo, sheet: str | None, progress: Progress
) -> tuple[pa.Table, dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.json as pajson

    read_options = pajson.ReadOptions(use_threads=True, block_size=sources._BLOCK_SIZE)
    parse_options = pajson.ParseOptions(unexpected_field_behavior="infer")
    try:
        with _open(path, info) as opened:
            feed = _Feed(opened.stream)
            source = pa.PythonFile(feed, mode="r")
            table = _run_polled(
                lambda: pajson.read_json(
                    source, read_options=read_options, parse_options=parse_options
                ),
                feed,
                opened,
                progress,
                f"Reading {path.name}",
            )
    except pa.ArrowInvalid:
        # A type that changes between lines, a BOM, or a broken line: the line-by-line path
        # copes with the first two and names the line of the third.
        table = _json_lines_table(_read_all(path, info, progress), path)
    return table, {"orient": "lines"}


def _json_lines_table(raw: bytes, path: Path) -> pa.Table:
    records = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8 text"
            raise InvalidInput(
                f"Line {number} of {path.name} is not valid JSON: {reason}.",
                hint="JSON Lines needs one complete JSON object per line; fix that line.",
            ) from exc
        if not isinstance(record, dict):
            raise InvalidInput(
                f"Line {number} of {path.name} is {_kind(record)}, not a JSON object.",
                hint='JSON Lines needs one object per line, like {"col": 1}.',
            )
        records.append(record)
    return _columns_table(_records_to_columns(records))
