"""Delivery tickets from a CSV upload, as a spreadsheet or a weighbridge exports them.

Columns `ticket`, `date`, `material`, `quantity`, `unit` and optionally `feature` (the
feature's index in the estimate) and `supersedes` (the id of a ticket it corrects), in any
order and letter case; `,`, `;` or tab separated, UTF-8 or Windows-1252. Quantities are read
with the upload's decimal mark, Indonesian by default ("9,8"; "1.250,5" with thousands),
dates as ISO (2026-12-01) or day first (01/12/2026). The rows become the same records as the
JSON body, for the same reader (`app.estimate.reconciliation.read_tickets`); a problem names
the CSV row (the header is row 1) and column.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.errors import InvalidInput
from app.io.pricelist import csv_rows, parse_number

REQUIRED = ("ticket", "date", "material", "quantity", "unit")
OPTIONAL = ("feature", "supersedes")
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


@dataclass(frozen=True)
class CsvRecords:
    """The rows of an upload as records, and the CSV row number of each."""

    records: list[dict[str, Any]]
    rows: list[int]

    def renamed(self, error: InvalidInput) -> InvalidInput:
        """A problem the reader found in record i, named by its CSV row and column."""
        where = dict(error.where)
        if "row" not in where:
            return error
        column = str(where.pop("field", "")).split(".")[0] or None
        return InvalidInput(error.detail, row=self.rows[where.pop("row")], column=column)


def _iso_date(text: str) -> str:
    """A day-first date (01/12/2026) as ISO; anything else as it is, for the reader to judge."""
    found = _DAY_FIRST.match(text)
    if found is None:
        return text
    day, month, year = found.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}"


def _header(names: Sequence[Any]) -> list[str]:
    columns = [str(name or "").strip().lower() for name in names]
    known = (*REQUIRED, *OPTIONAL)
    for position, name in enumerate(columns):
        if name not in known:
            raise InvalidInput(
                f"unknown column; the columns are {', '.join(known)}",
                row=1,
                column=str(names[position] or "").strip() or position + 1,
            )
        if columns.index(name) != position:
            raise InvalidInput(f"column {name} appears twice", row=1, column=name)
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise InvalidInput(f"no column {', '.join(missing)}", row=1)
    return columns


def read_ticket_csv(data: bytes, decimal: str = ",") -> CsvRecords:
    """Every non-blank row of the upload as a ticket record; blank cells are left out."""
    if decimal not in (",", "."):
        raise InvalidInput(f"decimal mark must be ',' or '.', got {decimal!r}", field="decimal")
    rows = [(number, row) for number, row in csv_rows(data) if any(str(c).strip() for c in row)]
    if not rows:
        raise InvalidInput("the CSV is empty: send a header row and one row per ticket")
    columns = _header(rows[0][1])
    if len(rows) == 1:
        raise InvalidInput("the CSV has a header but no tickets", row=2)
    records, numbers = [], []
    for number, row in rows[1:]:
        if len(row) > len(columns):
            raise InvalidInput(
                f"{len(row)} cells, but the header names {len(columns)} columns", row=number
            )
        record: dict[str, Any] = {}
        for name, cell in zip(columns, row, strict=False):
            text = str(cell).strip()
            if not text:
                continue
            if name == "quantity":
                try:
                    record[name] = float(parse_number(text, decimal))
                except ValueError as exc:
                    raise InvalidInput(str(exc), row=number, column=name) from None
            elif name == "date":
                record[name] = _iso_date(text)
            else:
                record[name] = text
        records.append(record)
        numbers.append(number)
    return CsvRecords(records, numbers)
