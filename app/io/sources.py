"""Batch inputs of every kind as one stream of chunks: attributes plus raw geometry.

CSV (WKT/EWKT in a column), GeoJSON, GeoPackage, Shapefile (through GDAL's Arrow stream) and
GeoParquet (row group batches) all become `SourceChunk`s: the input's own columns as an Arrow
table, kept as they were so they can be written back, and the geometry still encoded (WKT
text or WKB bytes) so that decoding, the expensive part, can run in worker processes.
GDAL's reader (pyogrio, which also loads pandas and geopandas) is imported by the calls that
read through it, so a CSV batch starts without it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq
from pyproj import CRS

from app.errors import InvalidInput
from app.io.csvin import CsvDialect, read_csv_chunks, read_header, sniff_csv

GEOMETRY_COLUMNS = ("wkt", "geometry", "geom")
"""CSV columns taken as the geometry when none is named (case does not matter)."""

FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".geojson": "ogr",
    ".json": "ogr",
    ".gpkg": "ogr",
    ".shp": "ogr",
    ".fgb": "ogr",
    ".parquet": "parquet",
    ".geoparquet": "parquet",
}
DEFAULT_BATCH_ROWS = 25_000


@dataclass
class SourceChunk:
    """Consecutive input rows: own columns, encoded geometry, rows that could not be read."""

    attributes: pa.Table
    geometry: pa.Array
    broken: dict[int, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return self.attributes.num_rows


@dataclass
class Source:
    """An opened input: its columns, where its geometry is, how it is encoded, its CRS.

    `geometry_column` is empty for a table without geometry (a road inventory read with
    `geometry_optional`): its chunks carry null geometry.
    """

    path: Path
    kind: Literal["csv", "ogr", "parquet"]
    columns: list[str]
    geometry_column: str
    encoding: Literal["wkt", "wkb"]
    crs: Any
    dialect: CsvDialect | None = None
    batch_rows: int = DEFAULT_BATCH_ROWS
    chunk_bytes: int = 4 << 20

    @property
    def several_chunks(self) -> bool:
        """Whether the input will come in more than one chunk (worth starting workers for)."""
        if self.kind == "csv":
            return self.path.stat().st_size > self.chunk_bytes
        if self.kind == "parquet":
            return int(pq.ParquetFile(self.path).metadata.num_rows) > self.batch_rows
        import pyogrio

        return int(pyogrio.read_info(self.path)["features"]) > self.batch_rows

    def count_rows(self) -> int:
        """How many rows there are (CSV: lines after the header, a quick upper bound)."""
        if self.kind == "csv":
            lines, last = 0, b"\n"
            with self.path.open("rb") as stream:
                while block := stream.read(1 << 22):
                    lines += block.count(b"\n")
                    last = block[-1:]
            return max(0, lines + (last != b"\n") - 1)
        if self.kind == "parquet":
            return int(pq.ParquetFile(self.path).metadata.num_rows)
        import pyogrio

        return int(pyogrio.read_info(self.path, force_feature_count=True)["features"])

    @property
    def decimal(self) -> str:
        """The decimal mark of numbers written as text (CSV only)."""
        return self.dialect.decimal if self.dialect else "."

    def chunks(self) -> Iterator[SourceChunk]:
        """The rows in order, a bounded chunk at a time."""
        if self.kind == "csv":
            assert self.dialect is not None
            for chunk in read_csv_chunks(self.path, self.dialect, self.columns, self.chunk_bytes):
                geometry = (
                    chunk.table.column(self.geometry_column).combine_chunks()
                    if self.geometry_column
                    else pa.nulls(chunk.table.num_rows, pa.string())
                )
                yield SourceChunk(chunk.table, geometry, chunk.broken)
        elif self.kind == "ogr":
            import pyogrio

            with pyogrio.open_arrow(self.path, batch_size=self.batch_rows, use_pyarrow=True) as (
                _meta,
                reader,
            ):
                for batch in reader:
                    yield self._vector_chunk(pa.Table.from_batches([batch]))
        else:
            for batch in pq.ParquetFile(self.path).iter_batches(batch_size=self.batch_rows):
                yield self._vector_chunk(pa.Table.from_batches([batch]))

    def _vector_chunk(self, table: pa.Table) -> SourceChunk:
        geometry = table.column(self.geometry_column).combine_chunks()
        return SourceChunk(table.drop_columns([self.geometry_column]), geometry)


def _csv_geometry_column(
    columns: list[str], named: str | None, path: Path, optional: bool = False
) -> str:
    if named is not None:
        if named not in columns:
            raise InvalidInput(
                f"{path.name} has no column {named!r}; its columns: {', '.join(columns)}",
                field="wkt_column",
            )
        return named
    for candidate in GEOMETRY_COLUMNS:
        for column in columns:
            if column.lower() == candidate:
                return column
    if optional:
        return ""
    raise InvalidInput(
        f"{path.name} has no geometry column ({', '.join(GEOMETRY_COLUMNS)}); name it with "
        f"--wkt-column. Its columns: {', '.join(columns)}",
        field="wkt_column",
    )


def _parquet_source(path: Path, crs: Any) -> Source:
    schema = pq.read_schema(path)
    geo = json.loads((schema.metadata or {}).get(b"geo", b"null"))
    if not geo:
        raise InvalidInput(f"{path.name} is Parquet without GeoParquet metadata", field="file")
    primary = geo["primary_column"]
    described = geo["columns"][primary]
    if described.get("encoding", "WKB").upper() != "WKB":
        raise InvalidInput(
            f"{path.name}: geometry encoding {described['encoding']!r} is not supported (WKB)",
            field="file",
        )
    own = described.get("crs", "OGC:CRS84")  # GeoParquet: a missing crs means OGC:CRS84
    own_crs = CRS.from_json_dict(own) if isinstance(own, dict) else own
    columns = [name for name in schema.names if name != primary]
    return Source(path, "parquet", columns, primary, "wkb", _one_crs(own_crs, crs, path))


def _one_crs(own: Any, given: Any, path: Path) -> Any:
    if own is None:
        return given
    if given is not None and not CRS.from_user_input(given).equals(CRS.from_user_input(own)):
        raise InvalidInput(
            f"--crs {given} contradicts {path.name}'s own CRS {CRS.from_user_input(own).name}",
            field="crs",
        )
    return own


def open_source(
    path: Path,
    *,
    crs: Any = None,
    wkt_column: str | None = None,
    separator: str | None = None,
    decimal: str | None = None,
    encoding: str = "utf-8",
    geometry_optional: bool = False,
) -> Source:
    """Open `path` by its extension; clear errors for a missing file or unknown format.

    `geometry_optional` reads a CSV without a geometry column as a plain table."""
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}", field="input")
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        known = ", ".join(sorted(FORMATS))
        raise InvalidInput(f"cannot read {path.name}: use one of {known}", field="input")
    if kind == "csv":
        dialect = sniff_csv(path, separator, decimal, encoding)
        columns = read_header(path, dialect)
        geometry = _csv_geometry_column(columns, wkt_column, path, geometry_optional)
        return Source(path, "csv", columns, geometry, "wkt", crs, dialect)
    if kind == "parquet":
        return _parquet_source(path, crs)
    import pyogrio

    try:
        info = pyogrio.read_info(path)
    except pyogrio.errors.DataSourceError as exc:
        raise InvalidInput(f"cannot read {path.name}: {exc}", field="input") from exc
    columns = [str(name) for name in info["fields"]]
    geometry = info.get("geometry_name") or "wkb_geometry"
    return Source(path, "ogr", columns, geometry, "wkb", _one_crs(info["crs"], crs, path))
