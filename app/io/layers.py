"""Read a road layer from any vector file GDAL can open, ready to publish.

GDAL (pyogrio), pandas, geopandas and the streaming JSON parser are imported by the reads
that use them: commands that never read a layer start without them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa
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


DEFAULT_CHUNK_FEATURES = 10_000
"""Features read and stored at a time by `takeoff load-layer`: memory follows this, not the
size of the file."""


@dataclass
class LayerFeatures:
    """Consecutive features of a layer in EPSG:4326."""

    geometries: list[shapely.Geometry]
    properties: list[dict[str, Any]]
    feature_ids: list[str | None]

    def __len__(self) -> int:
        return len(self.geometries)


class PublishedLayer(Protocol):
    """A layer to publish: its id, title and metadata, and its features a chunk at a time."""

    slug: str
    title: str
    metadata: dict[str, str]

    def chunks(self) -> Iterator[LayerFeatures]:
        """The features in file order."""
        ...


@dataclass
class LayerData:
    """A whole layer held in memory: geometries in EPSG:4326, properties, original ids."""

    slug: str
    title: str
    geometries: list[shapely.Geometry]
    properties: list[dict[str, Any]]
    feature_ids: list[str | None]
    metadata: dict[str, str] = field(default_factory=dict)

    def chunks(self) -> Iterator[LayerFeatures]:
        """All the features as one chunk."""
        yield LayerFeatures(self.geometries, self.properties, self.feature_ids)


@dataclass
class LayerFile:
    """A vector file opened for publishing, read `chunk_features` features at a time."""

    path: Path
    slug: str
    title: str
    crs: Any
    feature_count: int
    fid_column: str | None = None
    """The column a file keeps its ids in outside its attributes (a GeoPackage's primary
    key, which GDAL may also make of a GeoJSON `id`)."""
    metadata: dict[str, str] = field(default_factory=dict)
    chunk_features: int = DEFAULT_CHUNK_FEATURES

    def chunks(self) -> Iterator[LayerFeatures]:
        """The features in file order; `InvalidInput` names the first one that cannot be
        published, by its index in the file."""
        import pyogrio

        start = 0
        with pyogrio.open_arrow(
            self.path,
            batch_size=self.chunk_features,
            use_pyarrow=True,
            return_fids=self.fid_column is not None,
        ) as (meta, reader):
            geometry_column = meta["geometry_name"] or "wkb_geometry"
            for batch in reader:
                yield self._features(pa.Table.from_batches([batch]), geometry_column, start)
                start += batch.num_rows

    def _features(self, table: pa.Table, geometry_column: str, start: int) -> LayerFeatures:
        import geopandas
        import pandas as pd

        wkb = table.column(geometry_column).to_numpy(zero_copy_only=False)
        geometries = _checked_geometries(wkb, start)
        frame = table.drop_columns([geometry_column]).to_pandas(types_mapper=pd.ArrowDtype)
        geometries = geopandas.GeoSeries(geometries, crs=self.crs).to_crs(4326).array
        _check_lon_lat(geometries, start)
        fids = frame.pop(self.fid_column) if self.fid_column in frame.columns else None
        id_column = next((name for name in _ID_COLUMNS if name in frame.columns), None)
        feature_ids: list[str | None] = [None] * len(frame)
        if id_column is not None:
            feature_ids = [None if pd.isna(value) else str(value) for value in frame[id_column]]
            frame = frame.drop(columns=id_column)
        elif fids is not None:
            feature_ids = [str(value) for value in fids]
        # a file whose only property is its id has no attribute left: one empty object a feature
        properties = (
            json.loads(frame.to_json(orient="records", date_format="iso"))
            if len(frame.columns)
            else [{} for _ in range(len(frame))]
        )
        return LayerFeatures(list(geometries), properties, feature_ids)


def _checked_geometries(wkb: npt.NDArray[np.object_], start: int) -> npt.NDArray[np.object_]:
    """Shapely geometries from WKB; `InvalidInput` at the first missing or unreadable one."""
    geometries = shapely.from_wkb(wkb, on_invalid="ignore")
    missing = np.flatnonzero(shapely.is_missing(geometries) | shapely.is_empty(geometries))
    if missing.size:
        index = int(missing[0])
        problem = "has no geometry" if wkb[index] is None else "has an empty or unreadable geometry"
        raise InvalidInput(f"the feature {problem}", feature=start + index, field="geometry")
    return geometries


def _check_lon_lat(geometries: Any, start: int) -> None:
    """`InvalidInput` at the first geometry with a coordinate that is not a longitude and
    latitude once in EPSG:4326 (infinite, or outside ±180°/±90°)."""
    coordinates, owner = shapely.get_coordinates(geometries, return_index=True)
    bad = ~np.isfinite(coordinates).all(axis=1)
    bad |= (np.abs(coordinates[:, 0]) > 180) | (np.abs(coordinates[:, 1]) > 90)
    if bad.any():
        raise InvalidInput(
            "the feature has coordinates that are not a longitude and latitude in the file's CRS",
            feature=start + int(owner[np.argmax(bad)]),
            field="geometry",
        )


def slugify(text: str) -> str:
    """A URL-safe collection id: lower case, digits and dashes, at most 64 characters."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:64].strip("-")
    if not slug:
        raise InvalidInput(f"cannot make a collection id from {text!r}", field="slug")
    return slug


def _geojson_metadata(path: Path) -> dict[str, str]:
    """Top-level `attribution`, `license`, `source`, `description`, `title` members of a
    GeoJSON file, found by a streaming parse: the features are never held in memory."""
    if path.suffix.lower() not in (".geojson", ".json"):
        return {}
    keys = ("attribution", "license", "source", "description", "title")
    import ijson

    found: dict[str, str] = {}
    with path.open("rb") as stream:
        for prefix, event, value in ijson.parse(stream):
            if prefix in keys and event in ("string", "number") and value != "":
                found[prefix] = str(value)
    return {key: found[key] for key in keys if key in found}


def open_layer(
    path: Path,
    slug: str | None = None,
    title: str | None = None,
    chunk_features: int = DEFAULT_CHUNK_FEATURES,
) -> LayerFile:
    """Open `path` (GeoJSON, GeoPackage, Shapefile, ...) to be read a chunk at a time."""
    if slug is not None:
        check_layer_slug(slug)
    if not path.exists():
        raise InvalidInput(f"no such file: {path}", field="file")
    import pyogrio

    try:
        info = pyogrio.read_info(path, force_feature_count=True)
    except pyogrio.errors.DataSourceError as exc:
        raise InvalidInput(f"cannot read {path}: {exc}", field="file") from exc
    if info["crs"] is None:
        raise InvalidInput(f"{path} does not say its coordinate reference system", field="file")
    metadata = _geojson_metadata(path)
    return LayerFile(
        path=path,
        slug=slug or slugify(path.stem),
        title=title or metadata.pop("title", None) or path.stem.replace("_", " "),
        crs=info["crs"],
        feature_count=int(info["features"]),
        fid_column=_fid_column(info),
        metadata=metadata,
        chunk_features=chunk_features,
    )


def _fid_column(info: dict[str, Any]) -> str | None:
    """The FID column to read ids from, unless it is also an attribute (GDAL reads a GeoJSON
    `id` property both ways): then the attribute is read, once."""
    name = info.get("fid_column") or None
    return None if name in list(info["fields"]) else name


def read_layer(path: Path, slug: str | None = None, title: str | None = None) -> LayerData:
    """Read the whole of `path` into memory, reprojected to EPSG:4326 (small layers)."""
    opened = open_layer(path, slug, title)
    whole = LayerData(opened.slug, opened.title, [], [], [], opened.metadata)
    for chunk in opened.chunks():
        whole.geometries.extend(chunk.geometries)
        whole.properties.extend(chunk.properties)
        whole.feature_ids.extend(chunk.feature_ids)
    return whole
