"""The bill of materials as a table: its lines, then subtotal, markups and total.

The workbook's Summary sheet and the CLI's closing table both show these rows, so a bill
reads the same in a spreadsheet and in a terminal.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.estimate.bom import BillOfMaterials

HEADER = ("No", "Code", "Description", "Uraian", "Unit", "Quantity", "Unit rate", "Amount")


def total_lines(bill: BillOfMaterials) -> list[tuple[str, Decimal]]:
    """(label, amount) of the subtotal, overhead & profit, VAT and total."""
    totals = bill.totals
    return [
        ("Subtotal / Jumlah", totals.subtotal),
        (f"Overhead & profit {bill.overhead_profit_pct} %", totals.overhead_profit),
        (f"VAT / PPN {bill.vat_pct} %", totals.tax),
        (f"Total ({bill.currency})", totals.total),
    ]


def summary_rows(bill: BillOfMaterials) -> list[tuple[Any, ...]]:
    """One row per line (`HEADER`'s columns), then one per total (label and amount only)."""
    rows: list[tuple[Any, ...]] = [
        (
            number,
            line.code,
            line.description.en,
            line.description.id,
            line.unit,
            line.quantity,
            line.unit_rate,
            line.amount,
        )
        for number, line in enumerate(bill.items, start=1)
    ]
    rows += [
        (None, None, label, None, None, None, None, amount) for label, amount in total_lines(bill)
    ]
    return rows
