"""Batch outputs written a chunk at a time: CSV, GeoJSON, GeoPackage, GeoParquet, XLSX.

Every output has the input's own columns first, then the result columns, `status` and
`error`. An error file (`errors_only`) has the input's columns alone, for the failed rows,
in a form that can be fixed and sent again. openpyxl is imported by the XLSX sink alone, so
other batches start without it. Text that a spreadsheet would run as a formula is
neutralised (`app.io.safety`); money stays exact decimal text in CSV and becomes numbers in
GIS formats, as in `app.io.flat.money_as_numbers`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import shapely

from app import __version__
from app.batch.runner import BatchSummary
from app.batch.work import CsvFormat, OutputChunk
from app.errors import InvalidInput, TooLarge
from app.io.flat import money_number, rfc7946_geometries
from app.io.safety import neutralise
from app.io.vector import LAYER

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

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


def _money_as_numbers(table: pa.Table) -> pa.Table:
    """Decimal columns as integers (whole currency units) or floats, for GIS formats."""
    for index, column in enumerate(table.schema):
        if pa.types.is_decimal(column.type):
            target = pa.int64() if column.type.scale == 0 else pa.float64()
            table = table.set_column(index, column.name, table.column(index).cast(target))
    return table


class _Rows:
    """The rows of a GIS or spreadsheet output: input columns (without the CSV's WKT text,
    the geometry is the geometry), results, money as numbers; failed rows alone for errors."""

    def __init__(self, wkt_column: str | None, errors_only: bool) -> None:
        self.wkt_column = wkt_column
        self.errors_only = errors_only

    def table(self, chunk: OutputChunk) -> pa.Table:
        table = chunk.attributes
        if self.wkt_column in table.column_names:
            table = table.drop_columns([self.wkt_column])
        if self.errors_only:
            return table.filter(pa.array(chunk.failed))
        for name in chunk.results.column_names:
            table = table.append_column(name, chunk.results.column(name))
        return _money_as_numbers(table)

    def geometry(self, chunk: OutputChunk) -> pa.Array:
        wkb = chunk.wkb if chunk.wkb is not None else np.full(len(chunk.failed), None)
        if self.errors_only:
            wkb = wkb[chunk.failed]
        oriented = rfc7946_geometries(shapely.from_wkb(wkb))
        return pa.array(shapely.to_wkb(oriented), pa.binary())


class CsvSink:
    """CSV in UTF-8 with `,`: input columns (WKT as sent), results, `status`, `error`."""

    def __init__(self, path: Path, wkt_column: str | None, errors_only: bool = False) -> None:
        self.path = path
        self.csv_format: CsvFormat | None = CsvFormat(wkt_column, errors_only)
        self._stream = path.open("wb")
        self._header = False

    def write(self, chunk: OutputChunk | None, encoded: tuple[bytes, bytes] | None) -> None:
        """Append the chunk's rows, encoded by a worker."""
        assert encoded is not None
        header, rows = encoded
        if not self._header:
            self._stream.write(header)
            self._header = True
        self._stream.write(rows)

    def close(self, summary: BatchSummary) -> None:
        """Close the file (empty when the input had no row)."""
        self._stream.close()


class GdalSink:
    """GeoJSON (RFC 7946) or GeoPackage (layer `estimate`, EPSG:4326), appended per chunk."""

    def __init__(
        self, path: Path, driver: str, wkt_column: str | None, errors_only: bool = False
    ) -> None:
        self.path = path
        self.driver = driver
        self.rows = _Rows(wkt_column, errors_only)
        self.csv_format: CsvFormat | None = None
        self._written = False
        path.unlink(missing_ok=True)

    def write(self, chunk: OutputChunk | None, encoded: tuple[bytes, bytes] | None) -> None:
        """Append the chunk's features."""
        assert chunk is not None
        table = self.rows.table(chunk).append_column("geometry", self.rows.geometry(chunk))
        if not table.num_rows:
            return
        self._write(table)

    def _write(self, table: pa.Table) -> None:
        """Create the layer with the first table, append the others."""
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
            self._write(pa.table({"geometry": pa.array([], pa.binary())}))


class ParquetSink:
    """GeoParquet 1.1: WKB `geometry` in OGC:CRS84, written one row group per chunk."""

    def __init__(self, path: Path, wkt_column: str | None, errors_only: bool = False) -> None:
        self.path = path
        self.rows = _Rows(wkt_column, errors_only)
        self.csv_format: CsvFormat | None = None
        self._writer: pq.ParquetWriter | None = None

    def write(self, chunk: OutputChunk | None, encoded: tuple[bytes, bytes] | None) -> None:
        """Append one row group."""
        assert chunk is not None
        table = self.rows.table(chunk).append_column("geometry", self.rows.geometry(chunk))
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
        from openpyxl import Workbook
        from openpyxl.styles import Font

        self.path = path
        self.rows = _Rows(wkt_column, errors_only)
        self.csv_format: CsvFormat | None = None
        self.book = Workbook(write_only=True)
        self.summary_sheet: WriteOnlyWorksheet = self.book.create_sheet("Summary")
        self.items: WriteOnlyWorksheet = self.book.create_sheet("Items")
        self._count = 0
        self._bold = Font(bold=True)

    def _header(self, sheet: WriteOnlyWorksheet, names: list[str]) -> None:
        from openpyxl.cell import WriteOnlyCell

        cells = []
        for name in names:
            cell = WriteOnlyCell(sheet, value=name)
            cell.font = self._bold
            cells.append(cell)
        sheet.append(cells)

    def write(self, chunk: OutputChunk | None, encoded: tuple[bytes, bytes] | None) -> None:
        """Append the chunk's rows to the Items sheet (WKT left out: cells hold 32,767 chars)."""
        assert chunk is not None
        table = self.rows.table(chunk)
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
    """Whether an output needs the decoded geometry back: GIS formats, and CSV when the input
    had no WKT text to copy; a spreadsheet carries no geometry."""
    formats = {output_format(path) for path in paths}
    return bool(formats & {"geojson", "gpkg", "parquet"}) or ("csv" in formats and not wkt_column)
