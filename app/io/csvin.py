"""CSV as people really save it, read in bounded chunks without losing a row.

Spreadsheets save `,` or `;` separated text, decimal commas in the Indonesian or European
locale, UTF-8 with or without a byte-order mark, and quoted fields. `sniff_csv` detects the
separator and the decimal mark from the first lines; `read_csv_chunks` cuts the file into
pieces at row boundaries (outside quotes), parses each piece with Arrow's multi-threaded
reader and falls back to Python's `csv` module only for a piece with a broken row, so every
row keeps its place and a broken one becomes a row-level error instead of stopping the file.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from app.errors import InvalidInput

SEPARATORS = (",", ";", "\t", "|")
DEFAULT_CHUNK_BYTES = 16 << 20
_SAMPLE_BYTES = 256 << 10
_BOM = codecs.BOM_UTF8
_QUOTE = ord('"')
_COMMA_NUMBER = re.compile(r"^\s*[+-]?\d+,\d+\s*$")
_POINT_NUMBER = re.compile(r"^\s*[+-]?\d+\.\d+\s*$")
_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
MAX_COLUMNS = 1_000
"""More columns than any road table has: a header beyond it is not a table of roads."""

# A long road's WKT is easily over the csv module's default field limit of 128 KiB.
csv.field_size_limit(2**31 - 1)


@dataclass(frozen=True)
class CsvDialect:
    """How one CSV file is written: separator, decimal mark, text encoding."""

    separator: str = ","
    decimal: str = "."
    encoding: str = "utf-8"


@dataclass
class CsvChunk:
    """Consecutive rows as text columns; `broken` holds rows that could not be split."""

    table: pa.Table
    broken: dict[int, str] = field(default_factory=dict)


def _sample(path: Path, encoding: str) -> str:
    """The first lines of the file, without a byte-order mark and a last line cut short."""
    with path.open("rb") as stream:
        head = stream.read(_SAMPLE_BYTES)
        whole = not stream.read(1)
    if head.startswith(_BOM):
        head = head[len(_BOM) :]
    if not whole and b"\n" not in head:
        raise InvalidInput(
            f"{path.name}: the header row is longer than {_SAMPLE_BYTES >> 10} KiB", field="file"
        )
    if not whole:
        head = head[: head.rfind(b"\n") + 1]
    return head.decode(encoding, errors="replace")


def _sample_rows(text: str, separator: str) -> list[list[str]]:
    """The sampled rows that read as CSV (reading stops at the first one that does not)."""
    rows: list[list[str]] = []
    with contextlib.suppress(csv.Error):
        rows.extend(csv.reader(io.StringIO(text, newline=""), delimiter=separator))
    return rows


def sniff_csv(
    path: Path,
    separator: str | None = None,
    decimal: str | None = None,
    encoding: str = "utf-8",
) -> CsvDialect:
    """The file's dialect; what is given is kept, what is not is detected.

    The separator is the candidate that splits the header into the most columns and every
    sampled row into that many; a decimal comma is assumed when the separator is not a comma
    and the sampled cells have numbers like `3,5` but none like `3.5`.
    """
    text = _sample(path, encoding)
    if separator is None:
        header = text.splitlines()[0] if text else ""
        counts = {sep: len(next(csv.reader([header], delimiter=sep), [])) for sep in SEPARATORS}
        separator = max(SEPARATORS, key=lambda sep: (counts[sep], sep == ","))
    if decimal is None:
        decimal = "."
        if separator != ",":
            cells = [cell for row in _sample_rows(text, separator)[1:] for cell in row]
            commas = sum(1 for cell in cells if _COMMA_NUMBER.match(cell))
            points = sum(1 for cell in cells if _POINT_NUMBER.match(cell))
            decimal = "," if commas and not points else "."
    if decimal not in (".", ","):
        raise InvalidInput(f"decimal mark must be '.' or ',', got {decimal!r}", field="decimal")
    return CsvDialect(separator=separator, decimal=decimal, encoding=encoding)


def read_header(path: Path, dialect: CsvDialect) -> list[str]:
    """Column names of the file, in order; a clear error for an empty, unreadable, repeated
    or overlong header."""
    lines = io.StringIO(_sample(path, dialect.encoding), newline="")
    try:
        header = next(csv.reader(lines, delimiter=dialect.separator), [])
    except csv.Error as exc:
        raise InvalidInput(
            f"{path.name}: the header row is not CSV ({exc})", field="file"
        ) from None
    if not any(cell.strip() for cell in header):
        raise InvalidInput(f"{path.name} has no header row", field="file")
    if "\ufffd" in "".join(header) or any(not cell.isprintable() for cell in header):
        raise InvalidInput(
            f"{path.name}: the header row is not text (is it a CSV file, saved as UTF-8?)",
            field="file",
        )
    if len(header) > MAX_COLUMNS:
        raise InvalidInput(
            f"{path.name} has {len(header)} columns; at most {MAX_COLUMNS} are read", field="file"
        )
    names = [cell.strip() for cell in header]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InvalidInput(f"{path.name} repeats column names: {', '.join(repeated)}", field="file")
    return names


def _pieces(path: Path, chunk_bytes: int) -> Iterator[tuple[bytes, bytes]]:
    """(header line, piece of whole rows): pieces end at a newline outside quotes."""
    with path.open("rb") as stream:
        data = stream.read(chunk_bytes)
        if data.startswith(_BOM):
            data = data[len(_BOM) :]
        header_end = _row_end(data, 0, len(data))
        while header_end < 0:
            more = stream.read(chunk_bytes)
            if not more:
                header_end = len(data)
                break
            data += more
            header_end = _row_end(data, 0, len(data))
        header, data = data[: header_end + 1], data[header_end + 1 :]
        whole_row = True  # whether `data` ends a row somewhere (unknown until looked for)
        while True:
            if not whole_row or len(data) < chunk_bytes // 2:  # the first read is a piece
                more = stream.read(chunk_bytes)
                if not more:
                    if data.strip():
                        yield header, data if data.endswith(b"\n") else data + b"\n"
                    return
                data += more
            cut = _last_row_end(data)
            whole_row = cut >= 0
            if whole_row:
                yield header, data[: cut + 1]
                data = data[cut + 1 :]


def _row_end(data: bytes, start: int, stop: int) -> int:
    """The first newline in data[start:stop] with an even number of quotes before it."""
    position = data.find(b"\n", start, stop)
    while position >= 0 and data.count(b'"', start, position) % 2:
        position = data.find(b"\n", position + 1, stop)
    return position


def _last_row_end(data: bytes) -> int:
    """The last newline outside quotes (quotes balance between row boundaries)."""
    position = data.rfind(b"\n")
    quotes = np.count_nonzero(np.frombuffer(data, np.uint8, max(position, 0)) == _QUOTE)
    while position >= 0 and quotes % 2:
        previous = data.rfind(b"\n", 0, position)
        quotes -= data.count(b'"', max(previous, 0), position)
        position = previous
    return position


def _arrow_options(
    columns: list[str], dialect: CsvDialect, invalid: list[int]
) -> tuple[pacsv.ReadOptions, pacsv.ParseOptions, pacsv.ConvertOptions]:
    def count_invalid(_row: object) -> str:
        invalid.append(1)
        return "skip"

    return (
        pacsv.ReadOptions(column_names=columns, skip_rows=1, block_size=1 << 26),
        pacsv.ParseOptions(
            delimiter=dialect.separator, newlines_in_values=True, invalid_row_handler=count_invalid
        ),
        pacsv.ConvertOptions(
            column_types=dict.fromkeys(columns, pa.string()),
            strings_can_be_null=True,
            null_values=[""],
            quoted_strings_can_be_null=True,
        ),
    )


def _python_parse(piece: bytes, columns: list[str], dialect: CsvDialect) -> CsvChunk:
    """The slow, exact path for a piece with broken rows: every row in its place."""
    text = piece.decode("utf-8", errors="replace")
    values: list[list[str | None]] = [[] for _ in columns]
    broken: dict[int, str] = {}
    for index, (row, unreadable) in enumerate(_csv_rows(text, dialect.separator)):
        if unreadable is not None:
            broken[index] = unreadable
        elif "\ufffd" in "".join(row):
            broken[index] = (
                "the row is not UTF-8 text (save the file as CSV UTF-8, or give its encoding)"
            )
        elif len(row) != len(columns):
            broken[index] = (
                f"{len(row)} fields where the header has {len(columns)} "
                f"(separator {dialect.separator!r}; check quoting)"
            )
        if len(row) > len(columns):  # keep every field so the row can be fixed and re-sent
            row = [*row[: len(columns) - 1], dialect.separator.join(row[len(columns) - 1 :])]
        for position, column in enumerate(values):
            column.append((row[position] if position < len(row) else None) or None)
    table = pa.table(
        {name: pa.array(column, pa.string()) for name, column in zip(columns, values, strict=True)}
    )
    return CsvChunk(table, broken)


def _csv_rows(text: str, separator: str) -> Iterator[tuple[list[str], str | None]]:
    """The rows of `text`, each with why the csv module could not split it (None: it could);
    an unsplittable row keeps its place as one empty field."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield [""], f"the row cannot be read as CSV ({exc})"
            continue
        if row:  # Arrow skips blank lines too
            yield row, None


def read_csv_chunks(
    path: Path,
    dialect: CsvDialect,
    columns: list[str],
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> Iterator[CsvChunk]:
    """The file's rows as text columns (empty cells null), a piece of `chunk_bytes` at a time."""
    for header, piece in _pieces(path, chunk_bytes):
        if dialect.encoding.replace("-", "").lower() != "utf8":
            piece = piece.decode(dialect.encoding, errors="replace").encode("utf-8")
        invalid: list[int] = []
        read, parse, convert = _arrow_options(columns, dialect, invalid)
        try:
            table = pacsv.read_csv(
                pa.py_buffer(header + piece),
                read_options=read,
                parse_options=parse,
                convert_options=convert,
            )
        except pa.ArrowInvalid:
            invalid.append(1)
        if invalid:
            yield _python_parse(piece, columns, dialect)
        else:
            yield CsvChunk(table)


def parse_numbers(
    values: pa.Array | pa.ChunkedArray, decimal: str = "."
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Numbers of a text column (NaN where empty) and where a cell is not a number.

    A column of plain numbers (nearly every one) converts in one cast; only a column with
    something else in it is matched cell by cell to find which."""
    text = pc.utf8_trim_whitespace(values)
    if decimal == ",":
        text = pc.replace_substring(text, ",", ".")
    given = pc.fill_null(pc.not_equal(text, ""), False)
    with contextlib.suppress(pa.ArrowInvalid):
        cast = text.cast(pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)
        if np.isfinite(cast[np.asarray(given)]).all():  # the cast reads inf and nan: no widths
            return cast, np.zeros(len(cast), dtype=bool)
    number = pc.match_substring_regex(text, _NUMBER)
    numbers = pc.if_else(number, text, pa.scalar(None, pa.string())).cast(pa.float64())
    floats = numbers.to_numpy(zero_copy_only=False).astype(np.float64)
    bad = np.asarray(pc.and_(given, pc.invert(pc.fill_null(number, False))))
    return floats, bad
