"""Spreadsheet formula injection: text cells a spreadsheet would run as a formula.

One rule for every writer and every route (OWASP "CSV injection", CWE-1236): a text cell that
starts with `=`, `+`, `-`, `@`, a tab, a carriage return or NUL gets a leading `'`, unless the
whole cell is a plain number such as `-5` or `+1.5` (a spreadsheet reads those as numbers, not
formulas). The rule is two patterns, applied to one value (`neutralise`), to a pandas column
of any text dtype or to an Arrow text column (`neutralise_column`), or to every text column of
an Arrow table (`neutralise_table`), so a cell is treated the same whatever carried it.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

RISKY_START = "^[=+\\-@\t\r\x00]"  # = + - @, tab, carriage return, NUL
PLAIN_NUMBER = "^[+-]?([0-9]+([.,][0-9]*)?|[.,][0-9]+)([eE][+-]?[0-9]+)?$"
_RISKY = re.compile(RISKY_START)
_NUMBER = re.compile(PLAIN_NUMBER)

Column = TypeVar("Column", pa.Array, pa.ChunkedArray, pd.Series)


def neutralise(value: Any) -> Any:
    """`'` before text that starts like a formula; numbers and other values unchanged."""
    if isinstance(value, str) and _RISKY.match(value) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _is_arrow_text(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
    )


def _neutralise_arrow(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    if pa.types.is_dictionary(values.type):
        return _neutralise_arrow(values.cast(values.type.value_type))
    if not _is_arrow_text(values.type):
        return values
    if pa.types.is_string_view(values.type):
        values = values.cast(pa.large_string())
    risky = pc.fill_null(pc.match_substring_regex(values, RISKY_START), False)
    if not pc.any(risky).as_py():
        return values
    risky = pc.and_(risky, pc.invert(pc.match_substring_regex(values, PLAIN_NUMBER)))
    quote, empty = pa.scalar("'", values.type), pa.scalar("", values.type)
    return pc.if_else(risky, pc.binary_join_element_wise(quote, values, empty), values)


def _neutralise_pandas(values: pd.Series) -> pd.Series:
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return values
    text = values.map(lambda v: v if isinstance(v, str) else None).astype(object)
    risky = text.str.match(RISKY_START, na=False) & ~text.str.fullmatch(PLAIN_NUMBER, na=False)
    if not risky.any():
        return values
    out = values.copy()
    out[risky] = "'" + text[risky]
    return out


def neutralise_column(values: Column) -> Column:
    """`neutralise` on a whole column: Arrow string, large_string or string_view (also
    dictionary-encoded), or pandas text of any dtype (`object`, `str`, `string[pyarrow]`);
    other columns come back as they are."""
    if isinstance(values, pd.Series):
        return _neutralise_pandas(values)
    return _neutralise_arrow(values)


def neutralise_table(table: pa.Table) -> pa.Table:
    """Every text column of `table` neutralised, whatever it holds (names, WKT, results)."""
    for index, name in enumerate(table.column_names):
        column = table.column(index)
        guarded = neutralise_column(column)
        if guarded is not column:
            table = table.set_column(index, name, guarded)
    return table
