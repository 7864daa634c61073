"""A programme as an XLSX workbook: the totals, every segment, and the funded works of each
kecamatan as a priced bill in the RAB layout (DKH with its REKAPITULASI below it, written by
the same functions as an estimate's RAB and REKAPITULASI sheets).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from app.errors import TooLarge
from app.io.rows import OutputChunk, output_table
from app.io.safety import neutralise_table
from app.io.xlsx import MAX_ROWS, put_cell, write_rab, write_rekapitulasi
from app.programme.run import Programme

_SHEET_CHARACTERS = re.compile(r"[\[\]:*?/\\']")
_SHEET_NAME = 31
"""Excel's longest sheet name."""


def sheet_names(kecamatan: Iterable[str], taken: set[str]) -> dict[str, str]:
    """A valid, unique sheet name for each kecamatan ("RAB <name>", cut to 31 characters)."""
    names: dict[str, str] = {}
    used = {name.lower() for name in taken}
    for key in kecamatan:
        base = _SHEET_CHARACTERS.sub("_", f"RAB {key}")[:_SHEET_NAME]
        name, number = base, 1
        while name.lower() in used:
            number += 1
            suffix = f" ({number})"
            name = base[: _SHEET_NAME - len(suffix)] + suffix
        used.add(name.lower())
        names[key] = name
    return names


def write_workbook(
    programme: Programme, chunks: Iterable[OutputChunk], path: Path, wkt_column: str | None
) -> None:
    """Programme (totals), Segments (every row) and one RAB sheet per kecamatan."""
    import xlsxwriter

    book = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    bold = book.add_format({"bold": True})
    summary = programme.summary()
    totals_sheet = book.add_worksheet("Programme")
    segments = book.add_worksheet("Segments")
    bills = programme.funded_bills()
    for key, name in sheet_names(bills, {"Programme", "Segments"}).items():
        sheet = book.add_worksheet(name)
        put_cell(sheet, 0, 0, f"Kecamatan {key}: pekerjaan yang didanai / funded works", bold)
        sums, row = write_rab(book, sheet, bills[key], first_row=2)
        write_rekapitulasi(book, sheet, bills[key], sums, first_row=row + 1, columns=(1, 2, 6))
    _summary_sheet(totals_sheet, summary, bold)
    row = 0
    for chunk in chunks:
        table = neutralise_table(output_table(chunk, wkt_column, errors_only=False))
        if row == 0:
            for column, name in enumerate(table.column_names):
                put_cell(segments, 0, column, name, bold)
            row = 1
        if row + table.num_rows > MAX_ROWS:
            raise TooLarge(
                f"more than {MAX_ROWS:,} segments do not fit in an Excel sheet; write CSV or "
                "GeoPackage",
                field="output",
            )
        for values in table.to_pylist():
            for column, value in enumerate(values.values()):
                put_cell(segments, row, column, value)
            row += 1
    book.close()


def _summary_sheet(sheet: Any, summary: dict[str, Any], bold: Any) -> None:
    """The data versions, the budget line, then totals per kecamatan and per treatment."""
    totals = summary["totals"]
    lines: list[tuple[str, Any]] = [
        ("Rule set", f"{summary['rule_set']['slug']} v{summary['rule_set']['version']}"),
        ("Catalog", f"{summary['catalog']['slug']} v{summary['catalog']['version']}"),
        ("Currency", summary["currency"]),
        ("Budget", _number(summary["budget"])),
        ("Needed", _number(totals["needed"])),
        ("Funded", _number(totals["funded"])),
        ("Funding gap", _number(totals["funding_gap"])),
        ("Budget left", _number(totals["budget_left"])),
        ("Segments", totals["segments"]),
        ("Funded segments", totals["funded_segments"]),
        ("Not funded segments", totals["unfunded_segments"]),
        ("No works", totals["no_works"]),
        ("Rows with errors", totals["errors"]),
    ]
    sheet.set_column(0, 0, 28)
    for row, (label, value) in enumerate(lines):
        put_cell(sheet, row, 0, label, bold)
        put_cell(sheet, row, 1, value)
    row = len(lines) + 1
    for key, title in (("by_kecamatan", "kecamatan"), ("by_treatment", "treatment")):
        header = (title, "segments", "length_m", "cost", "funded", "not_funded")
        for column, name in enumerate(header):
            put_cell(sheet, row, column, name, bold)
        for group in summary[key]:
            row += 1
            for column, name in enumerate(header):
                value = group[name]
                put_cell(sheet, row, column, _number(value) if column >= 3 else value)
        row += 2


def _number(value: str | None) -> Any:
    """A money figure written as text in the summary, as a number for the sheet."""
    if value is None:
        return None
    number = float(value)
    return int(number) if number.is_integer() else number
