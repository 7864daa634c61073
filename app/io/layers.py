"""Read a road layer from any vector file GDAL can open, ready to publish."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio
import shapely

from app.errors import InvalidInput

_ID_COLUMNS = ("id", "fid", "feature_id")
LAYER_SLUG = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""A collection id: it is a URL path segment, so letters, digits, `-` and `_` only."""


def is_layer_slug(slug: str) -> bool:
    """Whether `slug` can be a collection id."""
    return LAYER_SLUG.fullmatch(slug) is not None


def check_layer_slug(slug: str) -> str:
    """`slug` unchanged, or `InvalidInput` saying what a collection id may hold."""
    if not is_layer_slug(slug):
        raise InvalidInput(
            f"{slug!r} is not a collection id: use 1 to 64 letters, digits, '-' or '_'",
            field="slug",
        )
    return slug


@dataclass
class LayerData:
    """Geometries in EPSG:4326 with their properties, original ids and metadata."""

    slug: str
    title: str
    geometries: list[shapely.Geometry]
    properties: list[dict[str, Any]]
    feature_ids: list[str | None]
    metadata: dict[str, str] = field(default_factory=dict)


def slugify(text: str) -> str:
    """A URL-safe collection id: lower case, digits and dashes, at most 64 characters."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:64].strip("-")
    if not slug:
        raise InvalidInput(f"cannot make a collection id from {text!r}", field="slug")
    return slug


def _geojson_metadata(path: Path) -> dict[str, str]:
    """Top-level `attribution`, `license`, `source`, `description` members of a GeoJSON file."""
    if path.suffix.lower() not in (".geojson", ".json"):
        return {}
    with path.open(encoding="utf-8") as stream:
        document = json.load(stream)
    keys = ("attribution", "license", "source", "description", "title")
    return {key: str(document[key]) for key in keys if document.get(key)}


def read_layer(path: Path, slug: str | None = None, title: str | None = None) -> LayerData:
    """Read `path` (GeoJSON, GeoPackage, Shapefile, ...) and reproject it to EPSG:4326."""
    if slug is not None:
        check_layer_slug(slug)
    if not path.exists():
        raise InvalidInput(f"no such file: {path}", field="file")
    try:
        fid_column = pyogrio.read_info(path).get("fid_column") or None
        frame = pyogrio.read_dataframe(
            path,
            use_arrow=True,
            arrow_to_pandas_kwargs={"types_mapper": pd.ArrowDtype},
        )
    except pyogrio.errors.DataSourceError as exc:
        raise InvalidInput(f"cannot read {path}: {exc}", field="file") from exc
    if frame.crs is None:
        raise InvalidInput(f"{path} does not say its coordinate reference system", field="file")
    frame = frame.to_crs(4326)
    id_column = next((name for name in _ID_COLUMNS if name in frame.columns), None)
    feature_ids: list[str | None] = [None] * len(frame)
    if id_column is not None:
        feature_ids = [None if pd.isna(value) else str(value) for value in frame[id_column]]
        frame = frame.drop(columns=id_column)
    elif fid_column is not None:
        # the file keeps its ids as the FID column (a GeoPackage's primary key, or GDAL's
        # reading of a GeoJSON `id`), which is no attribute column
        fids = pyogrio.read_dataframe(path, read_geometry=False, columns=[], fid_as_index=True)
        feature_ids = [str(value) for value in fids.index]
    attributes = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    # a file whose only property is its id has no attribute left: one empty object a feature
    properties = (
        json.loads(attributes.to_json(orient="records", date_format="iso"))
        if len(attributes.columns)
        else [{} for _ in range(len(frame))]
    )
    metadata = _geojson_metadata(path)
    return LayerData(
        slug=slug or slugify(path.stem),
        title=title or metadata.pop("title", None) or path.stem.replace("_", " "),
        geometries=list(frame.geometry.array),
        properties=properties,
        feature_ids=feature_ids,
        metadata=metadata,
    )
