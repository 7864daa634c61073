"""RAB-style Excel workbook: Summary, Items (per feature) and Assumptions sheets.

Numbers are written as numbers with their unit in the header, money with the currency's
decimals, and every text cell that came from a user or a data file is neutralised against
formula injection.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from io import BytesIO
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from app import __version__
from app.io.flat import money_number
from app.io.safety import neutralise

if TYPE_CHECKING:
    from app.estimate.catalogs import RateCatalog
    from app.estimate.templates import Template
    from app.pipeline import EstimateResult

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOLD = Font(bold=True)


def _cell(value: Any) -> Any:
    return neutralise(money_number(value))


def _write(sheet: Worksheet, rows: Iterable[Sequence[Any]], header: Sequence[str]) -> None:
    sheet.append(list(header))
    for cell in sheet[sheet.max_row]:
        cell.font = BOLD
    for row in rows:
        sheet.append([_cell(value) for value in row])


def _money_format(exponent: int) -> str:
    return "#,##0" + ("." + "0" * exponent if exponent else "")


def _format_columns(sheet: Worksheet, columns: dict[str, str]) -> None:
    for letter, number_format in columns.items():
        for cell in sheet[letter][1:]:
            cell.number_format = number_format
        sheet.column_dimensions[letter].width = 18


def _summary(sheet: Worksheet, result: EstimateResult) -> None:
    bill = result.bill
    items = [
        (
            position,
            line.code,
            line.description.en,
            line.description.id,
            line.unit,
            line.quantity,
            line.unit_rate,
            line.amount,
        )
        for position, line in enumerate(bill.items, start=1)
    ]
    header = ["No", "Code", "Description", "Uraian", "Unit", "Quantity", "Unit rate", "Amount"]
    _write(sheet, items, header)
    totals = bill.totals
    op, vat = bill.overhead_profit_pct, bill.vat_pct
    for label, amount in (
        ("Subtotal / Jumlah", totals.subtotal),
        (f"Overhead & profit {op} %", totals.overhead_profit),
        (f"VAT / PPN {vat} %", totals.tax),
        (f"Total ({bill.currency})", totals.total),
    ):
        sheet.append([None, None, label, None, None, None, None, _cell(amount)])
        sheet.cell(sheet.max_row, 3).font = BOLD
    money = _money_format(bill.currency_exponent)
    _format_columns(sheet, {"F": "#,##0.000", "G": money, "H": money})
    sheet.column_dimensions["C"].width = 40
    sheet.column_dimensions["D"].width = 40


def _items(sheet: Worksheet, result: EstimateResult) -> None:
    bill = result.bill
    rows = []
    for index in range(len(bill)):
        template = bill.templates[bill.features.template[index]].slug
        for line in bill.feature_lines(index):
            rows.append(
                (
                    index,
                    result.plan.names[index],
                    template,
                    line.code,
                    line.description.en,
                    line.unit,
                    line.quantity,
                    line.unit_rate,
                    line.amount,
                )
            )
    header = [
        "Feature",
        "Name",
        "Template",
        "Code",
        "Description",
        "Unit",
        "Quantity",
        "Unit rate",
        "Amount",
    ]
    _write(sheet, rows, header)
    money = _money_format(bill.currency_exponent)
    _format_columns(sheet, {"G": "#,##0.000", "H": money, "I": money})


def _assumptions(
    sheet: Worksheet,
    result: EstimateResult,
    templates: Sequence[Template],
    catalog: RateCatalog,
    generated_at: datetime,
) -> None:
    general: list[Sequence[Any]] = [
        ("Service", "Takeoff", __version__),
        ("Generated (UTC)", generated_at.isoformat(timespec="seconds"), None),
        ("Catalog", catalog.slug, catalog.version),
        ("Catalog label", catalog.label, None),
        ("Catalog source", catalog.provenance, None),
        ("Catalog valid from", catalog.valid_from.isoformat(), None),
        ("Currency", catalog.currency, None),
        ("Overhead & profit %", result.bill.overhead_profit_pct, None),
        ("VAT %", result.bill.vat_pct, None),
        ("Features", len(result.bill), None),
    ]
    _write(sheet, general, ["Assumption", "Value", "Version"])
    sheet.append([])
    layers: list[Sequence[Any]] = []
    for template in templates:
        layers.append((template.slug, template.version, "default width", template.default_width_m))
        for item in template.items:
            parameters = item.model_dump(mode="json", exclude={"code", "sources"})
            for name, value in parameters.items():
                parameter = f"{item.code} {name}"
                source = item.sources.get(name)
                layers.append((template.slug, template.version, parameter, value, source))
    _write(sheet, layers, ["Template", "Version", "Parameter", "Value", "Source"])
    for letter, width in (("A", 24), ("B", 40), ("C", 28), ("E", 60)):
        sheet.column_dimensions[letter].width = width


def estimate_workbook(
    result: EstimateResult,
    templates: Sequence[Template],
    catalog: RateCatalog,
    generated_at: datetime | None = None,
) -> bytes:
    """The workbook as bytes."""
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "Summary"
    _summary(summary, result)
    _items(book.create_sheet("Items"), result)
    _assumptions(
        book.create_sheet("Assumptions"),
        result,
        templates,
        catalog,
        generated_at or datetime.now(UTC),
    )
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
