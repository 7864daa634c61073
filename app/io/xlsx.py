"""RAB workbook streamed to disk: Summary, Items, RAB, REKAPITULASI, Volume back-up, Material
and Assumptions sheets.

Summary is the bill of materials (`app.io.summary`), Items one row per feature or input row
(the same columns as the CSV, without WKT: a cell holds 32,767 characters), Assumptions the
catalog, percentages, row counts and every parameter of the templates the bill used.

RAB is the priced bill in the DKH layout: a heading per Divisi, then per line its number,
pay item (mata pembayaran), uraian, satuan, volume, harga satuan and jumlah harga, and the
Divisi's sum. REKAPITULASI takes each Divisi's sum from RAB, then jumlah, overhead & profit,
PPN (named as the catalog names it), total, the total rounded down (dibulatkan) and in words
(terbilang, Indonesian and English). Every amount and sum is an Excel formula over the cells
shown (`=ROUND(E7*F7,0)`, `=SUM(G7:G9)`), so an auditor can trace it, written with the value
the bill computed cached, so readers that do not calculate (pandas, openpyxl data_only) see
the figures of the JSON answer. Volume back-up lists, per estimated row and line, the road's
length, width and area, the layer's thickness, the formula of the quantity (from the
template's parameters, under the overrides the row was priced with) and the volume the row
states.

Numbers are numbers, money in currency units; every text cell goes through the formula guard
(`app.io.safety`) and is written as text, never as a formula. XlsxWriter is imported when a
workbook is asked for, so other outputs start without it.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from app import __version__
from app.errors import InvalidInput, TooLarge
from app.estimate.bom import BillOfMaterials, quantity_column
from app.estimate.grand_total import rounded_total, total_in_words
from app.estimate.materials import MaterialView, material_view
from app.estimate.overrides import NO_OVERRIDES, apply_overrides
from app.estimate.templates import CountItem, LinearItem, Template, TemplateItem
from app.estimate.units import Basis, quantity_decimals
from app.io.analysis_sheets import write_analysis_sheets
from app.io.csvout import CsvFormat, EncodedRows
from app.io.rows import MONEY_COLUMNS, OutputChunk, money_number, output_table
from app.io.safety import neutralise, neutralise_table
from app.io.summary import HEADER, summary_rows, vat_label

if TYPE_CHECKING:
    from xlsxwriter import Workbook
    from xlsxwriter.format import Format
    from xlsxwriter.worksheet import Worksheet

    from app.estimate.catalogs import RateCatalog
    from app.io.writers import Outcome

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = 1_048_575  # Excel's 1,048,576 rows a sheet, less the header
RAB_HEADER = (
    "No.",
    "Mata Pembayaran",
    "Uraian",
    "Satuan",
    "Volume",
    "Harga Satuan",
    "Jumlah Harga",
)
BACKUP_HEADER = (
    "Baris / Row",
    "Template",
    "Mata Pembayaran",
    "Uraian",
    "Satuan",
    "Panjang L (m)",
    "Lebar W (m)",
    "Luas A (m2)",
    "Tebal t (m)",
    "Rumus / Formula",
    "Volume",
)


def number_format(decimals: int) -> str:
    """Excel number format with thousands separators and `decimals` decimals."""
    return "#,##0" + ("." + "0" * decimals if decimals else "")


def put_cell(
    sheet: Worksheet, row: int, column: int, value: Any, style: Format | None = None
) -> None:
    """One cell: text guarded and written as text, numbers as numbers, blanks left empty."""
    value = neutralise(money_number(value))
    if value is None:
        if style is not None:
            sheet.write_blank(row, column, None, style)
    elif isinstance(value, bool):
        sheet.write_boolean(row, column, value, style)
    elif isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            sheet.write_string(row, column, str(value), style)
        else:
            sheet.write_number(row, column, value, style)
    elif isinstance(value, datetime | date):
        sheet.write_string(row, column, value.isoformat(), style)
    else:
        # a spreadsheet cell ends its lines with LF (a CR would be stored as _x000D_)
        text = str(value).replace("\r\n", "\n").replace("\r", "\n")
        sheet.write_string(row, column, text, style)


def cell_name(row: int, column: int) -> str:
    """A1 reference of a 0-based cell."""
    from xlsxwriter.utility import xl_rowcol_to_cell

    return str(xl_rowcol_to_cell(row, column))


def _money_round(expression: str, exponent: int) -> str:
    return f"ROUND({expression},{exponent})"


def _round_down(cell: str, unit: Decimal | None) -> str:
    """Excel formula of `rounded_total`: ROUNDDOWN to a power of ten, else FLOOR."""
    if unit is None:
        return f"={cell}"
    exponent = unit.normalize().as_tuple()
    if exponent.digits == (1,) and isinstance(exponent.exponent, int):
        return f"=ROUNDDOWN({cell},{-exponent.exponent})"
    return f"=FLOOR({cell},{unit.normalize():f})"


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


class XlsxSink:
    """A workbook written row by row: Items filled chunk by chunk, the other sheets at the end."""

    def __init__(self, path: Path, wkt_column: str | None, errors_only: bool = False) -> None:
        if errors_only:
            raise InvalidInput("write the error file as CSV, GeoJSON or GeoPackage", field="errors")
        import xlsxwriter

        self.path = path
        self.wkt_column = wkt_column
        self.csv_format: CsvFormat | None = None
        self.book = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        self.summary_sheet = self.book.add_worksheet("Summary")
        self.items = self.book.add_worksheet("Items")
        self.rab = self.book.add_worksheet("RAB")
        self.rekap = self.book.add_worksheet("REKAPITULASI")
        self.backup = self.book.add_worksheet("Volume back-up")
        self.material = self.book.add_worksheet("Material")
        self.assumptions = self.book.add_worksheet("Assumptions")
        self._count = 0
        self._bold = self.book.add_format({"bold": True})
        self._chunks: list[tuple[int, pa.Table, OutputChunk]] = []

    def _header(self, sheet: Worksheet, row: int, names: Sequence[str]) -> None:
        for column, name in enumerate(names):
            put_cell(sheet, row, column, name, self._bold)

    def write(self, chunk: OutputChunk | None, encoded: EncodedRows | None) -> None:
        """Append the chunk's rows to the Items sheet; keep its results for the back-up."""
        assert chunk is not None
        table = neutralise_table(output_table(chunk, self.wkt_column, errors_only=False))
        if self._count == 0:
            self._header(self.items, 0, table.column_names)
        first = self._count
        self._count += table.num_rows
        if self._count > MAX_ROWS:
            raise TooLarge(
                f"more than {MAX_ROWS:,} rows do not fit in an Excel sheet; write CSV, "
                "GeoPackage or GeoParquet",
                field="output",
            )
        columns = [column.to_pylist() for column in table.columns]
        for offset, row in enumerate(zip(*columns, strict=True)):
            for column, value in enumerate(row):
                put_cell(self.items, first + offset + 1, column, value)
        self._chunks.append((first, _backup_columns(chunk.results), chunk))

    def _summary(self, bill: BillOfMaterials) -> None:
        """The bill: quantities with their unit's decimals, money with the currency's."""
        sheet = self.summary_sheet
        for letter, width in (("C:D", 40), ("F:F", 14), ("G:G", 16), ("H:H", 18)):
            sheet.set_column(letter, width)
        self._header(sheet, 0, HEADER)
        money = self.book.add_format({"num_format": number_format(bill.currency_exponent)})
        for number, values in enumerate(summary_rows(bill), start=1):
            unit = values[4]
            for position, value in enumerate(values):
                style = None
                if position in (6, 7):
                    style = money
                elif position == 5 and unit is not None:
                    style = self._quantity_format(unit)
                put_cell(sheet, number, position, value, style)

    def _quantity_format(self, unit: str) -> Format:
        return _quantity_style(self.book, unit)

    def _rab(self, bill: BillOfMaterials) -> dict[str | None, tuple[str, Decimal]]:
        """The DKH on the RAB sheet; returns each Divisi's sum cell."""
        return write_rab(self.book, self.rab, bill)[0]

    def _rekapitulasi(
        self, bill: BillOfMaterials, sums: dict[str | None, tuple[str, Decimal]]
    ) -> None:
        """The REKAPITULASI sheet."""
        write_rekapitulasi(self.book, self.rekap, bill, sums)

    def _backup(self, templates: Sequence[Template], catalog: RateCatalog) -> None:
        """Per estimated row and line: L, W, A, thickness, the formula and the stated volume."""
        sheet = self.backup
        sheet.set_column("D:D", 40)
        sheet.set_column("J:J", 36)
        self._header(sheet, 0, BACKUP_HEADER)
        by_slug = {template.slug: template for template in templates}
        priced_with: dict[tuple[str, Hashable], Template] = {}  # templates under overrides
        styles: dict[str, Format] = {}
        out = 1
        for first, results, chunk in self._chunks:
            rows = results.to_pylist()
            for offset, values in enumerate(rows):
                if values.get("status") != "ok" or values.get("template") not in by_slug:
                    continue
                template = by_slug[values["template"]]
                overrides = chunk.overrides(offset)
                if overrides != NO_OVERRIDES:  # the row's own thickness, density, ...
                    key = (template.slug, overrides.key())
                    if key not in priced_with:
                        priced_with[key] = apply_overrides(template, overrides)
                    template = priced_with[key]
                for item in template.items:
                    unit = catalog.items[item.code].unit
                    volume = values.get(quantity_column(item.code, unit))
                    if not volume:
                        continue
                    if out > MAX_ROWS:
                        put_cell(sheet, out, 0, "more lines than a sheet holds: see Items")
                        return
                    style = styles.setdefault(unit, self._quantity_format(unit))
                    cells = (
                        first + offset + 1,
                        template.slug,
                        catalog.items[item.code].pay_item or "-",
                        catalog.items[item.code].description.id,
                        unit,
                        values.get("length_m"),
                        values.get("mean_width_m"),
                        values.get("area_m2"),
                        getattr(item, "thickness_m", None),
                        quantity_formula(item, template, catalog),
                    )
                    for column, value in enumerate(cells):
                        put_cell(sheet, out, column, value)
                    put_cell(sheet, out, 10, volume, style)
                    out += 1

    def close(self, outcome: Outcome) -> None:
        """Write the bill's sheets and Assumptions, and save."""
        bill = outcome.bill
        assert bill is not None and outcome.catalog is not None
        catalog = outcome.catalog
        self._summary(bill)
        self._rekapitulasi(bill, self._rab(bill))
        used = {(ref.slug, ref.version) for ref in bill.templates}
        templates = sorted(
            (t for t in outcome.templates if (t.slug, t.version) in used), key=lambda t: t.slug
        )
        self._backup(templates, catalog)
        materials = outcome.materials
        if materials is None:  # a batch: the view of the whole file
            materials = material_view(bill.items, outcome.templates, catalog)
        self._material(materials)
        sheet = self.assumptions
        self._header(sheet, 0, ["Assumption", "Value", "Version"])
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
        row = self._rows(sheet, 1, general) + 1
        self._header(sheet, row, ["Template", "Version", "Parameter", "Value", "Source"])
        parameters: list[Sequence[Any]] = []
        for template in templates:
            parameters.append(
                (template.slug, template.version, "default width", template.default_width_m)
            )
            for item in template.items:
                dumped = item.model_dump(
                    mode="json", exclude={"code", "sources"}, exclude_none=True
                )
                for name, value in dumped.items():
                    source = item.sources.get(name)
                    parameter = f"{item.code} {name}"
                    parameters.append((template.slug, template.version, parameter, value, source))
        self._rows(sheet, row + 1, parameters)
        write_analysis_sheets(self.book, catalog, bill)
        self.book.close()

    def _material(self, view: MaterialView) -> None:
        """The "Material" sheet: what to order and deliver (`app.estimate.materials`) and the
        delivery schedule, one row a material; order quantities use the templates' losses."""
        self._header(self.material, 0, MATERIAL_HEADER)
        rows = [
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
            for line in view.lines
        ]
        self._rows(self.material, 1, [*rows, *((warning,) for warning in view.warnings)])

    @staticmethod
    def _rows(sheet: Worksheet, first: int, rows: Iterable[Sequence[Any]]) -> int:
        """Write rows from `first`; the next free row."""
        row = first
        for values in rows:
            for column, value in enumerate(values):
                put_cell(sheet, row, column, value)
            row += 1
        return row


def _quantity_style(book: Workbook, unit: str) -> Format:
    return book.add_format({"num_format": number_format(quantity_decimals(unit))})


def write_rab(
    book: Workbook, sheet: Worksheet, bill: BillOfMaterials, first_row: int = 0
) -> tuple[dict[str | None, tuple[str, Decimal]], int]:
    """The DKH from `first_row`: each Divisi's heading, lines and sum; returns each Divisi's
    sum cell and the next free row."""
    exponent = bill.currency_exponent
    bold = book.add_format({"bold": True})
    money = book.add_format({"num_format": number_format(exponent)})
    bold_money = book.add_format({"num_format": number_format(exponent), "bold": True})
    for letter, width in (("B:B", 16), ("C:C", 48), ("E:E", 14), ("F:F", 16), ("G:G", 18)):
        sheet.set_column(letter, width)
    put_cell(sheet, first_row, 0, "DAFTAR KUANTITAS DAN HARGA (RAB)", bold)
    put_cell(
        sheet,
        first_row + 1,
        0,
        f"Catalog {bill.catalog.slug} v{bill.catalog.version}; {bill.currency}",
    )
    for column, name in enumerate(RAB_HEADER):
        put_cell(sheet, first_row + 3, column, name, bold)
    row, number, sums = first_row + 4, 0, {}
    for division in bill.divisions:
        put_cell(sheet, row, 0, f"DIVISI {division.division or '-'}", bold)
        put_cell(sheet, row, 2, division.name.id.upper(), bold)
        row += 1
        first = row
        for line in bill.items:
            if line.division != division.division:
                continue
            number += 1
            put_cell(sheet, row, 0, number)
            put_cell(sheet, row, 1, line.pay_item or "-")
            put_cell(sheet, row, 2, line.description.id)
            put_cell(sheet, row, 3, line.unit)
            put_cell(sheet, row, 4, line.quantity, _quantity_style(book, line.unit))
            put_cell(sheet, row, 5, line.unit_rate, money)
            formula = "=" + _money_round(f"{cell_name(row, 4)}*{cell_name(row, 5)}", exponent)
            sheet.write_formula(row, 6, formula, money, money_number(line.amount))
            row += 1
        put_cell(sheet, row, 2, f"Jumlah Divisi {division.division or '-'}", bold)
        total = f"=SUM({cell_name(first, 6)}:{cell_name(row - 1, 6)})"
        sheet.write_formula(row, 6, total, bold_money, money_number(division.amount))
        sums[division.division] = (f"'{sheet.name}'!{cell_name(row, 6)}", division.amount)
        row += 2
    return sums, row


def write_rekapitulasi(
    book: Workbook,
    sheet: Worksheet,
    bill: BillOfMaterials,
    sums: dict[str | None, tuple[str, Decimal]],
    first_row: int = 0,
    columns: tuple[int, int, int] = (0, 1, 2),
) -> None:
    """Jumlah per Divisi, then O&P, PPN, total, dibulatkan and terbilang, from `first_row`,
    in `columns` (Divisi, uraian, jumlah)."""
    exponent, totals = bill.currency_exponent, bill.totals
    code_column, label_column, value_column = columns
    bold = book.add_format({"bold": True})
    money = book.add_format({"num_format": number_format(exponent)})
    if first_row == 0:
        sheet.set_column(label_column, label_column, 56)
        sheet.set_column(value_column, value_column, 20)
    put_cell(sheet, first_row, code_column, "REKAPITULASI", bold)
    for column, name in zip(columns, ("Divisi", "Uraian", "Jumlah Harga"), strict=True):
        put_cell(sheet, first_row + 2, column, name, bold)
    row = first_row + 3
    for division in bill.divisions:
        put_cell(sheet, row, code_column, division.division or "-")
        put_cell(sheet, row, label_column, division.name.id)
        reference, amount = sums[division.division]
        sheet.write_formula(row, value_column, f"={reference}", money, money_number(amount))
        row += 1
    subtotal, overhead, tax, total = (cell_name(row + step, value_column) for step in range(4))
    figures = [
        (
            "(A) Jumlah Harga Pekerjaan",
            f"=SUM({cell_name(first_row + 3, value_column)}:{cell_name(row - 1, value_column)})"
            if bill.divisions
            else "=0",
            totals.subtotal,
        ),
        (
            f"(B) Overhead & profit {bill.overhead_profit_pct} %",
            "=" + _money_round(f"{subtotal}*{bill.overhead_profit_pct}/100", exponent),
            totals.overhead_profit,
        ),
        (
            f"(C) {vat_label(bill)}",
            "=" + _money_round(f"({subtotal}+{overhead})*{bill.vat_pct}/100", exponent),
            totals.tax,
        ),
        ("(D) Jumlah Total (A + B + C)", f"={subtotal}+{overhead}+{tax}", totals.total),
        (
            "(E) Dibulatkan",
            _round_down(total, bill.rounding_unit),
            rounded_total(totals.total, bill.rounding_unit),
        ),
    ]
    for offset, (label, formula, value) in enumerate(figures):
        put_cell(sheet, row + offset, label_column, label, bold)
        sheet.write_formula(row + offset, value_column, formula, money, money_number(value))
    rounded = rounded_total(totals.total, bill.rounding_unit)
    row += len(figures) + 1
    put_cell(sheet, row, code_column, "Terbilang", bold)
    put_cell(sheet, row, label_column, total_in_words(rounded, "id", bill.currency))
    put_cell(sheet, row + 1, code_column, "In words", bold)
    put_cell(sheet, row + 1, label_column, total_in_words(rounded, "en", bill.currency))


def _backup_columns(results: pa.Table) -> pa.Table:
    """The result columns the back-up reads, by their own names (a result column whose name
    the input uses is written `<name>_result`): status, template, measures, quantities."""
    names = [name.removesuffix("_result") for name in results.column_names]
    table = results.rename_columns(names)
    dropped = {"template_version", "length_method", "warnings", "error", *MONEY_COLUMNS}
    return table.select(
        [name for name in names if name not in dropped and not name.endswith("_amount")]
    )


def quantity_formula(item: TemplateItem, template: Template, catalog: RateCatalog) -> str:
    """How the template measures `item`, with its parameters: "(A + L x 0.6) x 0.15" for a
    base layer 0.3 m wider on each side, 0.15 m thick (A: the surface, L: the length)."""
    from app.estimate.quantities import quantity_factor

    factor = f"{quantity_factor(item, catalog, template):g}"
    if isinstance(item, CountItem):
        return f"ceil(L / {item.spacing_m:g}) x {item.per_station:g}"
    if isinstance(item, LinearItem):
        if item.max_slab_width_m is not None:
            return f"L x (ceil(W / {item.max_slab_width_m:g}) - 1) x {factor}"
        return f"L x {factor}"
    area = f"(A + L x {item.extra_width_m:g})" if item.extra_width_m else "A"
    if item.basis is Basis.TRANSVERSE_JOINT:
        return f"{area} / {item.joint_spacing_m:g}"
    if item.basis is Basis.AREA:
        return area
    return f"{area} x {factor}"
