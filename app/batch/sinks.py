"""Batch outputs written a chunk at a time: CSV, GeoJSON, GeoPackage, GeoParquet, XLSX.

Every output has the input's own columns first, then the result columns, `status` and
`error`. An error file (`errors_only`) has the input's columns alone, for the failed rows,
in a form that can be fixed and sent again. Text that a spreadsheet would run as a formula is
neutralised (`app.io.safety`); money stays exact decimal text in CSV and becomes numbers in
GIS formats, as in `app.io.flat.money_as_numbers`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pyogrio
import shapely
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from app import __version__
from app.batch.runner import BatchSummary, OutputChunk
from app.errors import InvalidInput, TooLarge
from app.io.flat import money_number, rfc7946_geometries
from app.io.safety import FORMULA_PREFIXES, neutralise
from app.io.vector import LAYER

_FORMULA = (
    "^["
    + "".join({"\t": "\\t", "\r": "\\r", "\0": "\\x00"}.get(c, "\\" + c) for c in FORMULA_PREFIXES)
    + "]"
)
_NUMBER = r"^[+-]?[0-9]+([.,][0-9]+)?$"
XLSX_MAX_ROWS = 1_048_575
OUTPUT_FORMATS = {
    ".csv": "csv",
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".parquet": "parquet",
    ".geoparquet": "parquet",
    ".xlsx": "xlsx",
}


def neutralise_column(values: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """`neutralise` on a whole text column (numbers such as -5 stay as they are)."""
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return values
    risky = pc.and_(
        pc.match_substring_regex(values, _FORMULA),
        pc.invert(pc.match_substring_regex(values, _NUMBER)),
    )
    return pc.if_else(risky, pc.binary_join_element_wise("'", values, ""), values)


def money_as_numbers(table: pa.Table) -> pa.Table:
    """Decimal columns as integers (whole currency units) or floats, for GIS formats."""
    for index, column in enumerate(table.schema):
        if pa.types.is_decimal(column.type):
            target = pa.int64() if column.type.scale == 0 else pa.float64()
            table = table.set_column(index, column.name, table.column(index).cast(target))
    return table


class _Rows:
    """What the input was: which attribute column holds WKT text (CSV input) if any."""

    def __init__(self, wkt_column: str | None, errors_only: bool) -> None:
        self.wkt_column = wkt_column
        self.errors_only = errors_only

    def table(self, chunk: OutputChunk, *, neutral: bool) -> pa.Table:
        attributes = chunk.attributes
        if neutral and not self.errors_only:
            for index, name in enumerate(attributes.column_names):
                if name != self.wkt_column:
                    attributes = attributes.set_column(
                        index, name, neutralise_column(attributes.column(index))
                    )
        table = attributes if self.errors_only else _join(attributes, chunk.results)
        return table.filter(pa.array(chunk.failed)) if self.errors_only else table

    def geometry(self, chunk: OutputChunk) -> pa.Array:
        wkb = chunk.wkb if chunk.wkb is not None else np.full(len(chunk.failed), None)
        if self.errors_only:
            wkb = wkb[chunk.failed]
        oriented = rfc7946_geometries(shapely.from_wkb(wkb))
        return pa.array(shapely.to_wkb(oriented), pa.binary())


def _join(left: pa.Table, right: pa.Table) -> pa.Table:
    for name in right.column_names:
        left = left.append_column(name, right.column(name))
    return left


class CsvSink:
    """CSV in UTF-8 with `,`: input columns (WKT as sent), results, `status`, `error`."""

    def __init__(self, path: Path, wkt_column: str | None, errors_only: bool = False) -> None:
        self.path = path
        self.rows = _Rows(wkt_column, errors_only)
        self._writer: pacsv.CSVWriter | None = None

    def write(self, chunk: OutputChunk) -> None:
        """Append the chunk's rows."""
        table = self.rows.table(chunk, neutral=True)
        if self.rows.wkt_column is None:
            wkt = shapely.to_wkt(
                shapely.from_wkb(self.rows.geometry(chunk)), rounding_precision=7, trim=True
            )
            table = table.append_column("wkt", pa.array(wkt, pa.string()))
        if self._writer is None:
            self._writer = pacsv.CSVWriter(self.path, table.schema)
        self._writer.write_table(table)

    def close(self, summary: BatchSummary) -> None:
        """Close the file (a header alone when no row was written)."""
        if self._writer is None:
            self.path.write_text("", encoding="utf-8")
            return
        self._writer.close()


class GdalSink:
    """GeoJSON (RFC 7946) or GeoPackage (layer `estimate`, EPSG:4326), appended per chunk."""

    def __init__(
        self, path: Path, driver: str, wkt_column: str | None, errors_only: bool = False
    ) -> None:
        self.path = path
        self.driver = driver
        self.rows = _Rows(wkt_column, errors_only)
        self._written = False
        path.unlink(missing_ok=True)

    def write(self, chunk: OutputChunk) -> None:
        """Append the chunk's features."""
        table = money_as_numbers(self.rows.table(chunk, neutral=False))
        if self.rows.wkt_column in table.column_names:
            table = table.drop_columns([self.rows.wkt_column])
        table = table.append_column("geometry", self.rows.geometry(chunk))
        if not table.num_rows:
            return
        options = {"RFC7946": "YES", "WRITE_NAME": "NO"} if self.driver == "GeoJSON" else {}
        pyogrio.write_arrow(
            table,
            self.path,
            layer=LAYER,
            driver=self.driver,
            geometry_name="geometry",
            geometry_type="Unknown",
            crs="EPSG:4326",
            append=self._written,
            layer_options=None if self._written else options,
        )
        self._written = True

    def close(self, summary: BatchSummary) -> None:
        """Nothing to finish; an empty result is still a valid, empty layer file."""
        if not self._written:
            empty = pa.table({"geometry": pa.array([], pa.binary())})
            pyogrio.write_arrow(
                empty,
                self.path,
                layer=LAYER,
                driver=self.driver,
                geometry_name="geometry",
                geometry_type="Unknown",
                crs="EPSG:4326",
            )


class ParquetSink:
    """GeoParquet 1.1: WKB `geometry` in OGC:CRS84, written one row group per chunk."""

    def __init__(self, path: Path, wkt_column: str | None, errors_only: bool = False) -> None:
        self.path = path
        self.rows = _Rows(wkt_column, errors_only)
        self._writer: pq.ParquetWriter | None = None

    def write(self, chunk: OutputChunk) -> None:
        """Append one row group."""
        table = money_as_numbers(self.rows.table(chunk, neutral=False))
        if self.rows.wkt_column in table.column_names:
            table = table.drop_columns([self.rows.wkt_column])
        table = table.append_column("geometry", self.rows.geometry(chunk))
        if self._writer is None:
            geo = {
                "version": "1.1.0",
                "primary_column": "geometry",
                "columns": {"geometry": {"encoding": "WKB", "geometry_types": []}},
            }
            schema = table.schema.with_metadata({b"geo": json.dumps(geo).encode()})
            self._writer = pq.ParquetWriter(self.path, schema)
        self._writer.write_table(table.replace_schema_metadata(self._writer.schema.metadata))

    def close(self, summary: BatchSummary) -> None:
        """Write the footer."""
        if self._writer is not None:
            self._writer.close()


class XlsxSink:
    """A workbook streamed to disk: Summary (the batch BoM), Items (one row per input row),
    Assumptions. Excel holds 1,048,576 rows a sheet: a larger batch needs another format."""

    def __init__(self, path: Path, wkt_column: str | None, errors_only: bool = False) -> None:
        if errors_only:
            raise InvalidInput("write the error file as CSV, GeoJSON or GeoPackage", field="errors")
        self.path = path
        self.rows = _Rows(wkt_column, errors_only)
        self.book = Workbook(write_only=True)
        self.summary_sheet: WriteOnlyWorksheet = self.book.create_sheet("Summary")
        self.items: WriteOnlyWorksheet = self.book.create_sheet("Items")
        self._count = 0
        self._bold = Font(bold=True)

    def _header(self, sheet: WriteOnlyWorksheet, names: list[str]) -> None:
        cells = []
        for name in names:
            cell = WriteOnlyCell(sheet, value=name)
            cell.font = self._bold
            cells.append(cell)
        sheet.append(cells)

    def write(self, chunk: OutputChunk) -> None:
        """Append the chunk's rows to the Items sheet (WKT left out: cells hold 32,767 chars)."""
        table = money_as_numbers(self.rows.table(chunk, neutral=False))
        if self.rows.wkt_column in table.column_names:
            table = table.drop_columns([self.rows.wkt_column])
        if self._count == 0:
            self._header(self.items, table.column_names)
        self._count += table.num_rows
        if self._count > XLSX_MAX_ROWS:
            raise TooLarge(
                f"more than {XLSX_MAX_ROWS:,} rows do not fit in an Excel sheet; write CSV, "
                "GeoPackage or GeoParquet",
                field="output",
            )
        columns = [column.to_pylist() for column in table.columns]
        for row in zip(*columns, strict=True):
            self.items.append([neutralise(value) for value in row])

    def close(self, summary: BatchSummary) -> None:
        """Write the Summary and Assumptions sheets and save."""
        bill = summary.bill
        assert bill is not None and summary.catalog is not None
        self._header(
            self.summary_sheet,
            ["No", "Code", "Description", "Uraian", "Unit", "Quantity", "Unit rate", "Amount"],
        )
        for number, line in enumerate(bill.items, start=1):
            self.summary_sheet.append(
                [
                    number,
                    line.code,
                    neutralise(line.description.en),
                    neutralise(line.description.id),
                    line.unit,
                    line.quantity,
                    money_number(line.unit_rate),
                    money_number(line.amount),
                ]
            )
        totals = bill.totals
        for label, amount in (
            ("Subtotal / Jumlah", totals.subtotal),
            (f"Overhead & profit {bill.overhead_profit_pct} %", totals.overhead_profit),
            (f"VAT / PPN {bill.vat_pct} %", totals.tax),
            (f"Total ({bill.currency})", totals.total),
        ):
            self.summary_sheet.append(
                [None, None, label, None, None, None, None, money_number(amount)]
            )
        catalog = summary.catalog
        sheet = self.book.create_sheet("Assumptions")
        self._header(sheet, ["Assumption", "Value", "Version"])
        rows: list[list[Any]] = [
            ["Service", "Takeoff", __version__],
            ["Generated (UTC)", datetime.now(UTC).isoformat(timespec="seconds"), None],
            ["Catalog", catalog.slug, catalog.version],
            ["Catalog source", neutralise(catalog.provenance), None],
            ["Currency", catalog.currency, None],
            ["Rows", summary.rows, None],
            ["Rows estimated", summary.succeeded, None],
            ["Rows with errors", summary.failed, None],
        ]
        rows += [["Template", template.slug, template.version] for template in summary.templates]
        for row in rows:
            sheet.append(row)
        self.book.save(self.path)


def output_format(path: Path) -> str:
    """The format an output path asks for by its extension."""
    fmt = OUTPUT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidInput(
            f"cannot write {path.name}: use one of {', '.join(sorted(OUTPUT_FORMATS))}",
            field="output",
        )
    return fmt


def open_sink(path: Path, wkt_column: str | None, errors_only: bool = False) -> Any:
    """The sink for `path`'s format; `wkt_column` is the input's WKT column (CSV input)."""
    fmt = output_format(path)
    if fmt == "csv":
        return CsvSink(path, wkt_column, errors_only)
    if fmt == "geojson":
        return GdalSink(path, "GeoJSON", wkt_column, errors_only)
    if fmt == "gpkg":
        return GdalSink(path, "GPKG", wkt_column, errors_only)
    if fmt == "parquet":
        return ParquetSink(path, wkt_column, errors_only)
    return XlsxSink(path, wkt_column, errors_only)


def needs_geometry(paths: list[Path], wkt_column: str | None) -> bool:
    """Whether any output needs the decoded geometry back from the workers."""
    return any(output_format(path) != "csv" or wkt_column is None for path in paths)
