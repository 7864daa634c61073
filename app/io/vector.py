"""GIS outputs appended chunk by chunk: GeoJSON, GeoPackage, GeoParquet.

GeoJSON follows RFC 7946 (lon/lat, right-hand rule, 7 decimals) through GDAL's own RFC 7946
mode; GeoPackage gets a fixed layer name and EPSG:4326 so QGIS never has to guess; GeoParquet
1.1 carries WKB in OGC:CRS84. Money is written as numbers (`app.io.rows.money_as_numbers`):
these are data for GIS tools, typed, and not neutralised for spreadsheets.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from app.io.csvout import CsvFormat, EncodedRows
from app.io.rows import OutputChunk, output_geometry, output_table

if TYPE_CHECKING:
    from app.io.writers import Outcome

LAYER = "estimate"
MEDIA_TYPES = {
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
    "parquet": "application/vnd.apache.parquet",
    "csv": "text/csv; charset=utf-8",
}


class GdalSink:
    """GeoJSON (RFC 7946) or GeoPackage (layer `estimate`, EPSG:4326), appended per chunk."""

    def __init__(
        self, path: Path, driver: str, wkt_column: str | None, errors_only: bool = False
    ) -> None:
        self.path = path
        self.driver = driver
        self.wkt_column = wkt_column
        self.errors_only = errors_only
        self.csv_format: CsvFormat | None = None
        self._written = False
        path.unlink(missing_ok=True)

    def write(self, chunk: OutputChunk | None, encoded: EncodedRows | None) -> None:
        """Append the chunk's features."""
        assert chunk is not None
        table = output_table(chunk, self.wkt_column, self.errors_only)
        table = table.append_column("geometry", output_geometry(chunk, self.errors_only))
        if table.num_rows:
            self._write(table)

    def _write(self, table: pa.Table) -> None:
        """Create the layer with the first table, append the others."""
        import pyogrio  # with pandas and geopandas: loaded for GIS outputs only

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

    def close(self, outcome: Outcome) -> None:
        """Nothing to finish; an empty result is still a valid, empty layer file."""
        if not self._written:
            self._write(pa.table({"geometry": pa.array([], pa.binary())}))


class ParquetSink:
    """GeoParquet 1.1: WKB `geometry` in OGC:CRS84, written one row group per chunk."""

    def __init__(self, path: Path, wkt_column: str | None, errors_only: bool = False) -> None:
        self.path = path
        self.wkt_column = wkt_column
        self.errors_only = errors_only
        self.csv_format: CsvFormat | None = None
        self._writer: pq.ParquetWriter | None = None

    def write(self, chunk: OutputChunk | None, encoded: EncodedRows | None) -> None:
        """Append one row group."""
        assert chunk is not None
        table = output_table(chunk, self.wkt_column, self.errors_only)
        table = table.append_column("geometry", output_geometry(chunk, self.errors_only))
        if self._writer is None:
            geo = {
                "version": "1.1.0",
                "primary_column": "geometry",
                "columns": {"geometry": {"encoding": "WKB", "geometry_types": []}},
            }
            schema = table.schema.with_metadata({b"geo": json.dumps(geo).encode()})
            self._writer = pq.ParquetWriter(self.path, schema)
        self._writer.write_table(table.replace_schema_metadata(self._writer.schema.metadata))

    def close(self, outcome: Outcome) -> None:
        """Write the footer (an input without rows leaves no file)."""
        if self._writer is not None:
            self._writer.close()
