"""A road inventory as columns: the fields a programme reads, found by their Indonesian names.

Inventories are kept by public-works offices in spreadsheets whose headers say `nama_ruas`,
`kecamatan`, `panjang`, `lebar`, `perkerasan`, `kondisi`, `iri`, `pci` (and `fungsi`, the road
class, and `penanganan`, a treatment chosen by hand). A column map finds each field under
those names or their English twins, case aside; a caller's own map names other headers.
Numbers written with a decimal comma are read by the CSV's decimal mark. A value that cannot
be read is that row's problem, naming the row and the column; the row is never dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from app.batch.planning import RowErrors
from app.errors import InvalidInput
from app.io.csvin import parse_numbers

FIELDS: dict[str, tuple[str, ...]] = {
    "nama_ruas": ("nama_ruas", "nama_jalan", "nama", "name"),
    "kelurahan": ("kelurahan", "desa", "village"),
    "kecamatan": ("kecamatan", "district"),
    "panjang": ("panjang", "panjang_m", "length_m", "length"),
    "lebar": ("lebar", "lebar_m", "width_m", "width"),
    "perkerasan": ("perkerasan", "jenis_perkerasan", "pavement"),
    "kondisi": ("kondisi", "condition"),
    "iri": ("iri",),
    "pci": ("pci",),
    "fungsi": ("fungsi", "kelas_jalan", "road_class"),
    "penanganan": ("penanganan", "treatment"),
}
"""Each field an inventory may have, and the headers it is found under (first found wins)."""
NUMBER_FIELDS = ("panjang", "lebar", "iri", "pci")
TEXT_FIELDS = tuple(name for name in FIELDS if name not in NUMBER_FIELDS)

FloatArray = npt.NDArray[np.float64]
TextArray = npt.NDArray[np.object_]


def column_map(columns: Sequence[str], given: Mapping[str, str] | None = None) -> dict[str, str]:
    """Field -> the input's column holding it, for the fields the input has.

    `given` maps fields to the caller's own headers; naming an unknown field or a column the
    input lacks is an error naming it.
    """
    given = dict(given or {})
    if unknown := sorted(set(given) - set(FIELDS)):
        raise InvalidInput(
            f"the column map names no field {', '.join(unknown)}; fields: {', '.join(FIELDS)}",
            field="columns",
        )
    found: dict[str, str] = {}
    by_lower = {column.strip().lower(): column for column in columns}
    for field, header in given.items():
        if header not in columns:
            raise InvalidInput(
                f"the column map reads {field} from {header!r}, which the inventory lacks; "
                f"its columns: {', '.join(columns)}",
                field="columns",
            )
        found[field] = header
    for field, names in FIELDS.items():
        if field in found:
            continue
        for name in names:
            if name in by_lower:
                found[field] = by_lower[name]
                break
    return found


def parse_column_map(pairs: Sequence[str]) -> dict[str, str]:
    """`field=header` pairs (command-line form) as a map."""
    result = {}
    for pair in pairs:
        field, sep, header = pair.partition("=")
        if not sep or not field.strip() or not header.strip():
            raise InvalidInput(f"a column map entry is field=header, got {pair!r}", field="columns")
        result[field.strip()] = header.strip()
    return result


@dataclass(frozen=True)
class InventoryColumns:
    """One chunk of an inventory: numbers (NaN: not given) and texts (None: not given),
    normalised (trimmed, lower case for the coded fields), by field name."""

    numbers: dict[str, FloatArray]
    texts: dict[str, TextArray]

    def __len__(self) -> int:
        return len(next(iter(self.numbers.values())))


def _text(column: pa.ChunkedArray | pa.Array, lower: bool) -> TextArray:
    text = pc.utf8_trim_whitespace(column.cast(pa.string()))
    if lower:
        text = pc.utf8_lower(text)
    values = np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)
    values[values == ""] = None
    return values


def read_columns(
    table: pa.Table, columns: Mapping[str, str], decimal: str, errors: RowErrors
) -> InventoryColumns:
    """The inventory fields of one chunk; a cell that is not a number is its row's problem."""
    count = table.num_rows
    numbers: dict[str, FloatArray] = {}
    for field in NUMBER_FIELDS:
        if field not in columns:
            numbers[field] = np.full(count, np.nan)
            continue
        column = table.column(columns[field])
        if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
            values = column.to_numpy(zero_copy_only=False).astype(np.float64)
            bad = np.zeros(count, dtype=bool)
        else:
            values, bad = parse_numbers(column.cast(pa.string()), decimal)
        for row in np.flatnonzero(bad).tolist():
            errors.add(row, columns[field], f"{field} is not a number")
        numbers[field] = values
    texts: dict[str, TextArray] = {}
    for field in TEXT_FIELDS:
        if field not in columns:
            texts[field] = np.full(count, None, dtype=object)
            continue
        coded = field in ("perkerasan", "kondisi", "fungsi", "penanganan")
        texts[field] = _text(table.column(columns[field]), lower=coded)
    return InventoryColumns(numbers, texts)
