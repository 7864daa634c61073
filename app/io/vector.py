"""Flat feature tables written as GeoJSON, GeoPackage, GeoParquet or CSV.

GeoJSON follows RFC 7946 (lon/lat, right-hand rule, 7 decimals) through GDAL's own RFC 7946
mode; GeoPackage gets a fixed layer name and EPSG:4326 so QGIS never has to guess; CSV carries
the geometry as WKT in a `wkt` column, money as exact decimal text, and text neutralised
against spreadsheet formula injection.
"""

from __future__ import annotations

from io import BytesIO, StringIO
from pathlib import Path
from typing import BinaryIO

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from app.io.flat import money_as_numbers
from app.io.safety import neutralise

LAYER = "estimate"

MEDIA_TYPES = {
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
    "parquet": "application/vnd.apache.parquet",
    "csv": "text/csv; charset=utf-8",
}


def write_geojson(frame: gpd.GeoDataFrame, target: Path | BinaryIO, id_column: str) -> None:
    """RFC 7946 FeatureCollection with `id_column` as each feature's `id`."""
    pyogrio.write_dataframe(
        money_as_numbers(frame),
        target,
        driver="GeoJSON",
        layer=LAYER,
        layer_options={"RFC7946": "YES", "WRITE_NAME": "NO", "ID_FIELD": id_column},
    )


def write_gpkg(frame: gpd.GeoDataFrame, target: Path | BinaryIO) -> None:
    """GeoPackage with layer `estimate` in EPSG:4326."""
    pyogrio.write_dataframe(
        money_as_numbers(frame),
        target,
        driver="GPKG",
        layer=LAYER,
        layer_options={"GEOMETRY_NAME": "geom"},
    )


def write_parquet(frame: gpd.GeoDataFrame, target: Path | BinaryIO) -> None:
    """GeoParquet (money as numbers: Parquet has no arbitrary-precision decimal per cell)."""
    money_as_numbers(frame).to_parquet(target)


def csv_frame(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """The columns of a CSV: WKT geometry last, text neutralised, money as exact text."""
    out = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].map(neutralise)
    out["wkt"] = shapely.to_wkt(frame.geometry.array, rounding_precision=7, trim=True)
    return out


def to_bytes(frame: gpd.GeoDataFrame, fmt: str, id_column: str = "index") -> bytes:
    """The whole table in `fmt` (`geojson`, `gpkg`, `parquet` or `csv`)."""
    if fmt == "csv":
        text = StringIO()
        csv_frame(frame).to_csv(text, index=False)
        return text.getvalue().encode("utf-8")
    buffer = BytesIO()
    if fmt == "geojson":
        write_geojson(frame, buffer, id_column)
    elif fmt == "gpkg":
        write_gpkg(frame, buffer)
    elif fmt == "parquet":
        write_parquet(frame, buffer)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return buffer.getvalue()
