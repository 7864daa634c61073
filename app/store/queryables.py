"""What a collection can be filtered and sorted on: its properties' JSON types and its geometry.

Saved estimates and material sources have the fixed properties the service writes. A road
layer's types come from its data: `PropertyTypes` sees every feature as the layer is loaded,
and the result is stored with the layer (`layers.queryables`), so no request has to guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import shapely

GEOMETRY = "geometry"
"""The name filters give the feature geometry (`S_INTERSECTS(geometry, ...)`)."""
SCALAR_TYPES = ("string", "integer", "number", "boolean")
_GEOMETRY_TYPES = {
    0: "point",
    1: "linestring",
    3: "polygon",
    4: "multipoint",
    5: "multilinestring",
    6: "multipolygon",
}


@dataclass(frozen=True)
class Queryables:
    """Each queryable property with its JSON type, in the order features list them, and the
    geometry type (`point`, `linestring`, ..., or `any` when they differ)."""

    properties: dict[str, str] = field(default_factory=dict)
    geometry: str = "any"

    def as_json(self) -> dict[str, Any]:
        """The stored form."""
        return {"properties": dict(self.properties), "geometry": self.geometry}

    @classmethod
    def from_json(cls, stored: Mapping[str, Any]) -> Queryables:
        """Back from the stored form."""
        return cls(properties=dict(stored["properties"]), geometry=str(stored["geometry"]))


ESTIMATE_QUERYABLES = Queryables(
    properties={
        "name": "string",
        "features": "integer",
        "templates": "string",
        "catalog": "string",
        "catalog_version": "integer",
        "currency": "string",
        "length_m": "number",
        "area_m2": "number",
        "subtotal": "number",
        "overhead_profit": "number",
        "tax": "number",
        "total": "number",
    },
    geometry="multipolygon",
)
"""The summary properties every saved estimate has (quantity columns depend on the template)."""

SOURCE_QUERYABLES = Queryables(properties={"name": "string", "kind": "string"}, geometry="point")


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _addressable(name: str) -> bool:
    """A name a filter can reach as a JSON key on both stores (SQLite paths quote it)."""
    return bool(name) and '"' not in name and "\\" not in name and name != GEOMETRY


class PropertyTypes:
    """The JSON types seen for each property of a layer, fed feature by feature."""

    def __init__(self) -> None:
        self._seen: dict[str, set[str]] = {}
        self._geometries: set[int] = set()

    def add(self, properties: Mapping[str, Any]) -> None:
        """Note the type of each non-null value of one feature."""
        for name, value in properties.items():
            types = self._seen.setdefault(name, set())
            if value is not None:
                types.add(_json_type(value))

    def add_geometries(self, geometries: Iterable[shapely.Geometry]) -> None:
        """Note the geometry types of some features."""
        self._geometries.update(int(kind) for kind in shapely.get_type_id(list(geometries)))

    def queryables(self) -> Queryables:
        """Properties with one scalar type (integers and decimals together are numbers; a
        property that is always null is a string). Mixed, object and array properties are
        left out: no comparison means the same thing on all their values."""
        properties: dict[str, str] = {}
        for name, types in self._seen.items():
            if types == {"integer", "number"}:
                types = {"number"}
            kind = next(iter(types)) if len(types) == 1 else "string" if not types else None
            if kind in SCALAR_TYPES and _addressable(name):
                properties[name] = kind
        geometry = "any"
        if len(self._geometries) == 1:
            geometry = _GEOMETRY_TYPES.get(next(iter(self._geometries)), "any")
        return Queryables(properties=properties, geometry=geometry)
