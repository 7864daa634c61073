"""The bill of materials as a table: its lines, then subtotal, markups and total.

The workbook's Summary sheet and the CLI's closing table both show these rows, so a bill
reads the same in a spreadsheet and in a terminal: the VAT line named as the catalog names
it ("PPN 12 % x 11/12"), and the total rounded down as an RAB states it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.estimate.bom import BillOfMaterials
from app.estimate.grand_total import Language, rounded_total, total_in_words

HEADER = ("No", "Code", "Description", "Uraian", "Unit", "Quantity", "Unit rate", "Amount")


def vat_label(bill: BillOfMaterials) -> str:
    """The tax line's name: the catalog's ("PPN 12 % x 11/12"), else the percentage."""
    if bill.vat_label is not None:
        return bill.vat_label.id
    return f"VAT / PPN {bill.vat_pct} %"


def total_lines(bill: BillOfMaterials) -> list[tuple[str, Decimal]]:
    """(label, amount) of the subtotal, overhead & profit, VAT, total and rounded total."""
    totals = bill.totals
    return [
        ("Subtotal / Jumlah", totals.subtotal),
        (f"Overhead & profit {bill.overhead_profit_pct} %", totals.overhead_profit),
        (vat_label(bill), totals.tax),
        (f"Total ({bill.currency})", totals.total),
        ("Rounded / Dibulatkan", rounded_total(totals.total, bill.rounding_unit)),
    ]


def words(bill: BillOfMaterials, lang: Language) -> str:
    """The rounded total in words (terbilang)."""
    return total_in_words(rounded_total(bill.totals.total, bill.rounding_unit), lang, bill.currency)


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
