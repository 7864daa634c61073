"""RAB-style Excel workbook streamed to disk: Summary, Items, Material and Assumptions sheets.

Summary is the bill of materials (`app.io.summary`), Items one row per feature or input row
(the same columns as the CSV, without WKT: a cell holds 32,767 characters), Assumptions the
catalog, percentages, row counts and every parameter of the templates the bill used. Numbers
are numbers, money in currency units; every text cell goes through the formula guard
(`app.io.safety`).
openpyxl is imported when a workbook is asked for, so other outputs start without it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app import __version__
from app.errors import InvalidInput, TooLarge
from app.estimate.bom import BillOfMaterials
from app.estimate.materials import MaterialView, material_view
from app.estimate.units import quantity_decimals
from app.io.csvout import CsvFormat
from app.io.rows import OutputChunk, money_number, output_table
from app.io.safety import neutralise, neutralise_table
from app.io.summary import HEADER, summary_rows

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    from app.io.writers import Outcome

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = 1_048_575  # Excel's 1,048,576 rows a sheet, less the header


def _cells(row: Iterable[Any]) -> list[Any]:
    return [neutralise(money_number(value)) for value in row]


def _number_format(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals else "")


class XlsxSink:
    """A write-only workbook: Items filled chunk by chunk, Summary and Assumptions at the end."""

    def __init__(self, path: Path, wkt_column: str | None, errors_only: bool = False) -> None:
        if errors_only:
            raise InvalidInput("write the error file as CSV, GeoJSON or GeoPackage", field="errors")
        from openpyxl import Workbook
        from openpyxl.styles import Font

        self.path = path
        self.wkt_column = wkt_column
        self.csv_format: CsvFormat | None = None
        self.book = Workbook(write_only=True)
        self.summary_sheet: WriteOnlyWorksheet = self.book.create_sheet("Summary")
        self.items: WriteOnlyWorksheet = self.book.create_sheet("Items")
        self._count = 0
        self._bold = Font(bold=True)

    def _header(self, sheet: WriteOnlyWorksheet, names: Sequence[str]) -> None:
        from openpyxl.cell import WriteOnlyCell

        cells = []
        for name in _cells(names):
            cell = WriteOnlyCell(sheet, value=name)
            cell.font = self._bold
            cells.append(cell)
        sheet.append(cells)

    def write(self, chunk: OutputChunk | None, encoded: tuple[bytes, bytes] | None) -> None:
        """Append the chunk's rows to the Items sheet."""
        assert chunk is not None
        table = neutralise_table(output_table(chunk, self.wkt_column, errors_only=False))
        if self._count == 0:
            self._header(self.items, table.column_names)
        self._count += table.num_rows
        if self._count > MAX_ROWS:
            raise TooLarge(
                f"more than {MAX_ROWS:,} rows do not fit in an Excel sheet; write CSV, "
                "GeoPackage or GeoParquet",
                field="output",
            )
        columns = [column.to_pylist() for column in table.columns]
        for row in zip(*columns, strict=True):
            self.items.append(list(row))

    def _summary(self, bill: BillOfMaterials) -> None:
        """The bill: quantities with their unit's decimals, money with the currency's."""
        from openpyxl.cell import WriteOnlyCell

        sheet = self.summary_sheet
        for letter, width in (("C", 40), ("D", 40), ("F", 14), ("G", 16), ("H", 18)):
            sheet.column_dimensions[letter].width = width
        self._header(sheet, HEADER)
        money = _number_format(bill.currency_exponent)
        for row in summary_rows(bill):
            unit = row[4]
            formats = {6: money, 7: money}
            if unit is not None:
                formats[5] = _number_format(quantity_decimals(unit))
            cells: list[Any] = []
            for position, value in enumerate(_cells(row)):
                cell = WriteOnlyCell(sheet, value=value)
                if position in formats:
                    cell.number_format = formats[position]
                cells.append(cell)
            sheet.append(cells)

    def close(self, outcome: Outcome) -> None:
        """Write the Summary and Assumptions sheets and save."""
        bill = outcome.bill
        assert bill is not None and outcome.catalog is not None
        self._summary(bill)
        catalog = outcome.catalog
        materials = outcome.materials
        if materials is None:  # a batch: the view of the whole file
            materials = material_view(bill.items, outcome.templates, catalog)
        material_sheet(self.book, self._header, materials)
        sheet = self.book.create_sheet("Assumptions")
        self._header(sheet, ["Assumption", "Value", "Version"])
        general: list[Sequence[Any]] = [
            ("Service", "Takeoff", __version__),
            ("Generated (UTC)", datetime.now(UTC).isoformat(timespec="seconds"), None),
            ("Catalog", catalog.slug, catalog.version),
            ("Catalog label", catalog.label, None),
            ("Catalog source", catalog.provenance, None),
            ("Catalog valid from", catalog.valid_from.isoformat(), None),
            ("Currency", catalog.currency, None),
            ("Overhead & profit %", bill.overhead_profit_pct, None),
            ("VAT %", bill.vat_pct, None),
            ("Rows", outcome.rows, None),
            ("Rows estimated", outcome.rows - outcome.failed, None),
            ("Rows with errors", outcome.failed, None),
        ]
        for fact in general:
            sheet.append(_cells(fact))
        sheet.append([])
        self._header(sheet, ["Template", "Version", "Parameter", "Value", "Source"])
        used = {(ref.slug, ref.version) for ref in bill.templates}
        templates = [t for t in outcome.templates if (t.slug, t.version) in used]
        for template in sorted(templates, key=lambda t: t.slug):
            sheet.append(
                _cells((template.slug, template.version, "default width", template.default_width_m))
            )
            for item in template.items:
                parameters = item.model_dump(
                    mode="json", exclude={"code", "sources"}, exclude_none=True
                )
                for name, value in parameters.items():
                    source = item.sources.get(name)
                    parameter = f"{item.code} {name}"
                    sheet.append(
                        _cells((template.slug, template.version, parameter, value, source))
                    )
        self.book.save(self.path)


MATERIAL_HEADER = (
    "Material",
    "Name",
    "Unit",
    "Net quantity",
    "Loss %",
    "Order quantity",
    "Loose volume m3",
    "Mass t",
    "Pieces",
    "Cement bags",
    "Vehicle",
    "Capacity",
    "Capacity unit",
    "Loads",
    "Daily output",
    "Working days",
    "Loads per day",
    "Source",
    "Haul km",
    "Haul method",
)


def material_sheet(
    book: Any, header: Callable[[WriteOnlyWorksheet, Sequence[str]], None], view: MaterialView
) -> None:
    """The "Material" sheet: what to order and deliver (`app.estimate.materials`) and the
    delivery schedule, one row a material; order quantities use the templates' material
    losses."""
    sheet = book.create_sheet("Material")
    header(sheet, MATERIAL_HEADER)
    for line in view.lines:
        sheet.append(
            _cells(
                (
                    line.material,
                    line.name.en,
                    line.unit,
                    line.net_quantity,
                    line.loss_pct,
                    line.order_quantity,
                    line.loose_volume_m3,
                    line.mass_t,
                    line.pieces,
                    line.cement_bags,
                    line.vehicle.name.en,
                    line.vehicle.capacity,
                    line.vehicle.capacity_unit,
                    line.loads,
                    line.daily_output,
                    line.working_days,
                    line.loads_per_day,
                    None if line.haul is None else line.haul.name,
                    None if line.haul is None else line.haul.haul_km,
                    None if line.haul is None else line.haul.method,
                )
            )
        )
    for warning in view.warnings:
        sheet.append(_cells((warning,)))
