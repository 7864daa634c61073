"""Material sources (asphalt mixing plants, batching plants, quarries, base camps) as data.

A source is a point with a `name`, a `kind` and the `materials` it supplies: the item codes
of the catalog (`AC-WC`, `LPA`, `CONC-FC30`), as a list or as comma-separated text (what a
GeoPackage column holds). Every problem names the feature it is in.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely

from app.errors import InvalidInput
from app.io.layers import read_layer

SOURCE_KINDS = ("AMP", "batching plant", "quarry", "base camp")
"""AMP: asphalt mixing plant (Asphalt Mixing Plant); a base camp stockpiles material."""
_KIND_BY_SPELLING = {kind.lower(): kind for kind in SOURCE_KINDS}
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9._-]*$")


@dataclass(frozen=True)
class SourceData:
    """One source in EPSG:4326, its other properties kept as given."""

    name: str
    kind: str
    materials: tuple[str, ...]
    geometry: shapely.Geometry
    properties: dict[str, Any] = field(default_factory=dict)

    def all_properties(self) -> dict[str, Any]:
        """Every property, with the three the service reads in their checked form."""
        return {
            **self.properties,
            "name": self.name,
            "kind": self.kind,
            "materials": list(self.materials),
        }


def _materials(value: Any, feature: int) -> tuple[str, ...]:
    if isinstance(value, str):
        text = value.strip()
        try:
            value = json.loads(text) if text.startswith("[") else [text]
        except json.JSONDecodeError:
            value = None
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(
            "materials must be a list of material codes or comma-separated text",
            feature=feature,
            field="materials",
        )
    parts = (part.strip().upper() for text in value for part in text.split(","))
    codes = tuple(dict.fromkeys(part for part in parts if part))
    if not codes:
        raise InvalidInput("materials names no material", feature=feature, field="materials")
    if bad := [code for code in codes if not _CODE.match(code)]:
        raise InvalidInput(
            f"materials {', '.join(bad)} are not material codes (like AC-WC, LPA)",
            feature=feature,
            field="materials",
        )
    return codes


def source_from(
    geometry: shapely.Geometry | None, properties: dict[str, Any], feature: int
) -> SourceData:
    """One checked source from a feature's point and properties."""
    if geometry is None or shapely.get_type_id(geometry) != 0 or shapely.is_empty(geometry):
        raise InvalidInput("a source is a point", feature=feature, field="geometry")
    name = properties.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("a source needs a name", feature=feature, field="name")
    kind = _KIND_BY_SPELLING.get(str(properties.get("kind", "")).strip().lower())
    if kind is None:
        raise InvalidInput(
            f"kind {properties.get('kind')!r} is not one of {', '.join(SOURCE_KINDS)}",
            feature=feature,
            field="kind",
        )
    x, y = shapely.get_coordinates(geometry)[0]
    if not (-180 <= x <= 180 and -90 <= y <= 90):
        raise InvalidInput(
            f"({x}, {y}) is not a longitude and latitude", feature=feature, field="geometry"
        )
    others = {k: v for k, v in properties.items() if k not in ("name", "kind", "materials")}
    return SourceData(
        name=name.strip(),
        kind=kind,
        materials=_materials(properties.get("materials"), feature),
        geometry=shapely.Point(x, y),
        properties=others,
    )


def sources_from_geojson(body: Any) -> list[SourceData]:
    """Sources from a GeoJSON FeatureCollection (RFC 7946: longitude, latitude)."""
    if not isinstance(body, dict) or body.get("type") != "FeatureCollection":
        raise InvalidInput("send a GeoJSON FeatureCollection of points", field="body")
    features = body.get("features")
    if not isinstance(features, list) or not features:
        raise InvalidInput("the FeatureCollection has no features", field="features")
    sources = []
    for index, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise InvalidInput("not a GeoJSON Feature", feature=index)
        try:
            geometry = shapely.from_geojson(json.dumps(feature.get("geometry")))
        except (shapely.errors.GEOSException, ValueError, TypeError):
            raise InvalidInput(
                "the geometry is not GeoJSON", feature=index, field="geometry"
            ) from None
        properties = feature.get("properties") or {}
        if not isinstance(properties, dict):
            raise InvalidInput("properties must be an object", feature=index, field="properties")
        sources.append(source_from(geometry, properties, index))
    return sources


def read_sources(path: Path) -> list[SourceData]:
    """Sources from a GeoJSON or GeoPackage file (any CRS it states; stored in EPSG:4326)."""
    layer = read_layer(path)
    return [
        source_from(geometry, properties, index)
        for index, (geometry, properties) in enumerate(
            zip(layer.geometries, layer.properties, strict=True)
        )
    ]
