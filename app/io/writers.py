"""Every output format behind one door: the writer for a path, and a single estimate's file.

`POST /estimates?f=...`, `POST /batch` and `takeoff estimate` all write through `open_sink`:
a batch feeds it one `OutputChunk` per chunk of its input, a single estimate one chunk
(`write_file`), and `close` gets the bill and row counts for the workbook's Summary and
Assumptions sheets.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Protocol

from app.errors import InvalidInput
from app.estimate.bom import BillOfMaterials
from app.estimate.catalogs import RateCatalog
from app.estimate.materials import MaterialView
from app.estimate.templates import Template
from app.io.csvout import CsvFormat, CsvSink, EncodedRows, encode_csv
from app.io.rows import OutputChunk
from app.io.vector import GdalSink, ParquetSink
from app.io.xlsx import XlsxSink

OUTPUT_FORMATS = {
    ".csv": "csv",
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".parquet": "parquet",
    ".geoparquet": "parquet",
    ".xlsx": "xlsx",
}


class Outcome(Protocol):
    """What the outputs are told at the end: the bill of every row, the templates and
    catalog it was priced with, and how many rows there were and failed."""

    rows: int
    failed: int
    bill: BillOfMaterials | None
    templates: list[Template]
    catalog: RateCatalog | None
    materials: MaterialView | None


class Sink(Protocol):
    """Where rows go, a chunk at a time; a CSV sink lets its rows be encoded elsewhere."""

    csv_format: CsvFormat | None

    def write(self, chunk: OutputChunk | None, encoded: EncodedRows | None) -> None:
        """Write the chunk's rows, in order; a CSV sink gets them `encoded`,
        the others get the rows."""

    def close(self, outcome: Outcome) -> None:
        """Finish the file (summary sheets, footers)."""


def output_format(path: Path) -> str:
    """The format an output path asks for by its extension."""
    fmt = OUTPUT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidInput(
            f"cannot write {path.name}: use one of {', '.join(sorted(OUTPUT_FORMATS))}",
            field="output",
        )
    return fmt


def open_sink(path: Path, wkt_column: str | None, errors_only: bool = False) -> Sink:
    """The writer for `path`'s format; `wkt_column` is the input's WKT column (CSV input),
    `errors_only` makes an error file (the failed rows' input columns)."""
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


def write_file(chunk: OutputChunk, outcome: Outcome, fmt: str) -> bytes:
    """One chunk of rows (a single estimate) as a whole file in `fmt`, through the same
    writer a batch uses."""
    with tempfile.TemporaryDirectory(prefix="takeoff-") as folder:
        path = Path(folder) / f"estimate.{fmt}"
        sink = open_sink(path, wkt_column=None)
        encoded = None if sink.csv_format is None else encode_csv(sink.csv_format, chunk)
        sink.write(chunk, encoded)
        sink.close(outcome)
        return path.read_bytes()
