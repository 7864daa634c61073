"""Read road geometries from GeoJSON, WKT/EWKT or geometry arrays into one columnar shape.

Every reader returns `ParsedFeatures`: geometries in EPSG:4326 plus per-feature properties,
ids, warnings and input problems. A feature that cannot be read does not stop the batch: it
gets `None` as geometry and a reason in `problems`, so a thousand-row upload reports every bad
row at once (`app.geo.validate.validate` turns the first one into an error when one is enough).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from numpy.typing import NDArray

from app.errors import InvalidInput, InvalidParameter
from app.geo.arrays import GeometryArray, as_geometry_array
from app.geo.crs import WGS84, resolve_crs, to_wgs84

Z_DROPPED = "Z coordinates dropped: measuring is 2D on the ellipsoid"
ROAD_TYPES = ("LineString", "MultiLineString", "Polygon", "MultiPolygon")
_ROAD_TYPES_TEXT = "LineString, MultiLineString, Polygon or MultiPolygon"
WktValues: TypeAlias = Sequence[Any] | NDArray[np.object_] | pa.Array


@dataclass
class ParsedFeatures:
    """Features as columns: geometry array (EPSG:4326) and what came with each feature."""

    geometries: GeometryArray
    properties: list[dict[str, Any]]
    ids: list[Any]
    warnings: list[list[str]]
    problems: list[str | None]

    def __len__(self) -> int:
        return len(self.geometries)


def wrong_type_reason(type_name: str) -> str:
    """The one wording for a geometry type that is not a road, shared with validation."""
    return f"{type_name} is not a road geometry: expected {_ROAD_TYPES_TEXT}"


class _Unreadable(Exception):
    """A GeoJSON geometry that cannot become a shapely geometry (reason in the message)."""


def _positions(value: Any, where: str, warnings: list[str]) -> NDArray[np.float64]:
    try:
        array = np.asarray(value)
    except ValueError as error:  # ragged nesting
        raise _Unreadable(f"{where}: positions are not a list of [lon, lat] pairs") from error
    if array.size == 0:
        return np.empty((0, 2))
    if array.ndim != 2 or array.shape[1] < 2 or array.dtype.kind not in "iuf":
        raise _Unreadable(f"{where}: positions are not a list of [lon, lat] numbers")
    if array.shape[1] > 2 and Z_DROPPED not in warnings:
        warnings.append(Z_DROPPED)
    return array[:, :2].astype(np.float64)


def _line(value: Any, where: str, warnings: list[str]) -> shapely.LineString:
    coords = _positions(value, where, warnings)
    if len(coords) == 1:
        raise _Unreadable(f"{where}: a line needs at least 2 positions, got 1")
    if not len(coords):
        return shapely.LineString()
    with np.errstate(invalid="ignore"):  # NaN positions are reported by validation
        return shapely.LineString(coords)


def _ring(value: Any, where: str, warnings: list[str]) -> NDArray[np.float64]:
    coords = _positions(value, where, warnings)
    if len(coords) and not np.array_equal(coords[0], coords[-1], equal_nan=True):
        raise _Unreadable(f"{where}: unclosed ring (first position differs from last)")
    if 0 < len(coords) < 4:
        raise _Unreadable(f"{where}: a ring needs at least 4 positions, got {len(coords)}")
    return coords


def _polygon(value: Any, where: str, warnings: list[str]) -> shapely.Polygon:
    if not isinstance(value, list):
        raise _Unreadable(f"{where}: polygon coordinates must be a list of rings")
    rings = [_ring(ring, f"{where} ring {k}", warnings) for k, ring in enumerate(value)]
    if not rings or len(rings[0]) == 0:
        return shapely.Polygon()
    return shapely.Polygon(rings[0], rings[1:])


def _geojson_geometry(geometry: Any, warnings: list[str]) -> shapely.Geometry:
    if geometry is None:
        raise _Unreadable("no geometry (null)")
    if not isinstance(geometry, dict) or "type" not in geometry:
        raise _Unreadable("geometry is not a GeoJSON geometry object")
    kind = geometry["type"]
    if kind not in ROAD_TYPES:
        raise _Unreadable(wrong_type_reason(str(kind)))
    coords = geometry.get("coordinates")
    if not isinstance(coords, list):
        raise _Unreadable(f"{kind} has no coordinates list")
    if kind == "LineString":
        return _line(coords, "line", warnings)
    if kind == "Polygon":
        return _polygon(coords, "polygon", warnings)
    if kind == "MultiLineString":
        lines = [_line(part, f"line {k}", warnings) for k, part in enumerate(coords)]
        return shapely.MultiLineString([line for line in lines if not line.is_empty])
    polygons = [_polygon(part, f"polygon {k}", warnings) for k, part in enumerate(coords)]
    return shapely.MultiPolygon([polygon for polygon in polygons if not polygon.is_empty])


def _legacy_crs(obj: dict[str, Any]) -> str | None:
    """The pre-RFC 7946 `crs` member ({"type": "name", "properties": {"name": ...}}), if any."""
    member = obj.get("crs")
    if member is None:
        return None
    properties = member.get("properties") if isinstance(member, dict) else None
    name = properties.get("name") if isinstance(properties, dict) else None
    if not isinstance(name, str):
        raise InvalidInput(
            'a crs member must be {"type": "name", "properties": {"name": "EPSG:..."}}',
            field="crs",
        )
    return name


def parse_geojson(obj: Any, *, crs: Any = None) -> ParsedFeatures:
    """Features of a GeoJSON Geometry, Feature or FeatureCollection (already decoded to dicts).

    Coordinates are lon/lat WGS84 (RFC 7946) unless `crs` or a legacy `crs` member names
    another system. Unclosed rings are caught here, before shapely would close them silently.
    """
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        raise InvalidInput(
            "not a GeoJSON object: expected a Geometry, Feature or FeatureCollection"
        )
    if obj["type"] == "FeatureCollection":
        features = obj.get("features")
        if not isinstance(features, list):
            raise InvalidInput("FeatureCollection without a 'features' list")
    elif obj["type"] == "Feature":
        features = [obj]
    else:
        features = [{"type": "Feature", "geometry": obj, "properties": None}]

    geometries: list[shapely.Geometry | None] = []
    properties: list[dict[str, Any]] = []
    ids: list[Any] = []
    warnings: list[list[str]] = []
    problems: list[str | None] = []
    for feature in features:
        feature_warnings: list[str] = []
        is_feature = isinstance(feature, dict) and feature.get("type") == "Feature"
        props = feature.get("properties") if is_feature else None
        properties.append(dict(props) if isinstance(props, dict) else {})
        ids.append(feature.get("id") if is_feature else None)
        try:
            if not is_feature:
                raise _Unreadable("not a GeoJSON Feature")
            geometries.append(_geojson_geometry(feature.get("geometry"), feature_warnings))
            problems.append(None)
        except _Unreadable as reason:
            geometries.append(None)
            problems.append(str(reason))
        warnings.append(feature_warnings)
    source_crs = crs if crs is not None else _legacy_crs(obj)
    array = as_geometry_array(geometries)
    if source_crs is not None:
        array = to_wgs84(array, source_crs)
    return ParsedFeatures(array, properties, ids, warnings, problems)


def _drop_z(geoms: GeometryArray, warnings: list[list[str]]) -> GeometryArray:
    has_z = shapely.has_z(geoms)
    if not has_z.any():
        return geoms
    for index in np.flatnonzero(has_z):
        warnings[index].append(Z_DROPPED)
    return np.asarray(shapely.force_2d(geoms), dtype=object)


def _columns(
    count: int, properties: Sequence[dict[str, Any]] | None, ids: Sequence[Any] | None
) -> tuple[list[dict[str, Any]], list[Any]]:
    props = [dict(p) for p in properties] if properties is not None else [{} for _ in range(count)]
    id_list = list(ids) if ids is not None else [None] * count
    if len(props) != count or len(id_list) != count:
        raise InvalidInput(f"properties and ids must have one entry per geometry ({count})")
    return props, id_list


def _wkt_problem(text: str) -> str:
    try:
        shapely.from_wkt(text)
    except shapely.errors.GEOSException as error:
        message = str(error).strip()  # GEOS ends some messages with a newline
        if "do not form a closed linestring" in message:
            return "unclosed ring (first point differs from last)"
        return f"unreadable WKT: {message}"
    return "unreadable WKT"


def _split_srid(value: str) -> tuple[int | None, str]:
    if value[:5].upper() == "SRID=":
        head, _, body = value.partition(";")
        try:
            return int(head[5:]), body
        except ValueError:
            return -1, body
    return None, value


def _texts(values: WktValues) -> tuple[NDArray[np.object_], pa.Array]:
    """The values as an object array of strings (None where a value is not a string) and as
    Arrow text; the per-row type check runs in Python only when Arrow finds something else."""
    if isinstance(values, pa.Array) and pa.types.is_string(values.type):
        return values.to_numpy(zero_copy_only=False), values
    array = np.empty(len(values), dtype=object)
    array[:] = values
    try:
        text = pa.array(array, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        text = None
    if text is None or not (pa.types.is_string(text.type) or pa.types.is_null(text.type)):
        array[:] = [value if isinstance(value, str) else None for value in values]
        text = pa.array(array, pa.string())
    else:
        array[np.asarray(text.is_null())] = None  # NaN and NA, as pandas leaves empty cells
    return array, text.cast(pa.string())


def _split_srids(bodies: NDArray[np.object_], text: pa.Array) -> NDArray[np.int64]:
    """Each row's EWKT SRID (0: none), its `SRID=...;` prefix cut from `bodies` in place.

    WKT never contains `=`, so only the rows that do are looked at in Python, and none at all
    when the text's bytes have no `=` (a scan of the buffer, faster than a per-row search).
    """
    srids = np.zeros(len(bodies), dtype=np.int64)
    data = text.buffers()[2]
    if data is None or not (np.frombuffer(data, dtype=np.uint8) == ord("=")).any():
        return srids
    marked = pc.fill_null(pc.match_substring(text, "="), False)
    for index in np.flatnonzero(marked.to_numpy(zero_copy_only=False)).tolist():
        srid, bodies[index] = _split_srid(bodies[index])
        srids[index] = 0 if srid is None else srid
    return srids


_PLAIN_NUMBER = r"-?[0-9]+(?:\.[0-9]+)?"
_PLAIN_POINT = f"{_PLAIN_NUMBER} {_PLAIN_NUMBER}"
_PLAIN_FORMS = (
    ("LINESTRING (", rf"^LINESTRING \({_PLAIN_POINT}(?:, {_PLAIN_POINT})+\)$", ", "),
    ("LINESTRING(", rf"^LINESTRING\({_PLAIN_POINT}(?:,{_PLAIN_POINT})+\)$", ","),
)
"""2D lines as GEOS, shapely and QGIS write them, `LINESTRING (x y, x y)`, and as PostGIS
does, `LINESTRING(x y,x y)`: the text before the first number, the whole pattern, and what
separates points."""


def _plain_linestrings(text: pa.Array) -> tuple[NDArray[np.bool_], NDArray[np.object_]]:
    """Which rows are plain 2D lines (`_PLAIN_FORMS`), and those lines.

    Most rows of a road table look like that; their numbers are cut out and converted by
    Arrow's string kernels (correctly rounded, as GEOS reads them) and the lines made from
    the coordinates, in half the time GEOS takes to read the same text. Every other row
    (EWKT, Z, polygons, numbers with exponents) is left to GEOS.
    """
    rows = np.zeros(len(text), dtype=bool)
    lines = np.full(len(text), None, dtype=object)
    for head, pattern, separator in _PLAIN_FORMS:
        if not pc.any(pc.starts_with(text, head)).as_py():
            continue
        form = pc.fill_null(pc.match_substring_regex(text, pattern), False)
        picked = form.to_numpy(zero_copy_only=False)
        if not picked.any():
            continue
        numbers = pc.utf8_slice_codeunits(text.filter(form), len(head), -1)
        split = pc.split_pattern(pc.replace_substring(numbers, separator, " "), " ")
        coordinates = pc.cast(pc.list_flatten(split), pa.float64()).to_numpy().reshape(-1, 2)
        points = pc.list_value_length(split).to_numpy() // 2
        indices = np.repeat(np.arange(points.size), points)
        lines[picked] = shapely.linestrings(coordinates, indices=indices)
        rows |= picked
    return rows, lines[rows]


def parse_wkt(
    values: WktValues,
    *,
    crs: Any = None,
    properties: Sequence[dict[str, Any]] | None = None,
    ids: Sequence[Any] | None = None,
) -> ParsedFeatures:
    """Features from WKT or EWKT strings (`SRID=32748;LINESTRING(...)`), e.g. a CSV column
    (an Arrow string array as read is taken as it is).

    An EWKT SRID names the CRS of its own row; other rows are in `crs` (default EPSG:4326).
    Parsing is vectorised: plain 2D lines by Arrow (`_plain_linestrings`), the rest in one
    `shapely.from_wkt` call; only unreadable rows are re-read alone to give their reason.
    """
    bodies, text = _texts(values)
    srids = _split_srids(bodies, text)
    plain, lines = _plain_linestrings(text)
    bodies[plain] = None  # read already
    geoms = np.asarray(shapely.from_wkt(bodies, on_invalid="ignore"), dtype=object)
    geoms[plain] = lines
    props, id_list = _columns(len(geoms), properties, ids)
    warnings: list[list[str]] = [[] for _ in range(len(geoms))]
    problems: list[str | None] = [None] * len(geoms)
    for index in np.flatnonzero(shapely.is_missing(geoms)):
        body = bodies[index]
        problems[index] = "no geometry (empty cell)" if not body else _wkt_problem(body)
    geoms = _drop_z(geoms, warnings)

    for srid in np.unique(srids):
        rows = np.flatnonzero(srids == srid)
        if srid == 0:
            row_crs = crs if crs is not None else WGS84
        elif srid < 0:
            for index in rows:
                problems[index] = problems[index] or "EWKT SRID is not a number"
            geoms[rows] = None
            continue
        else:
            row_crs = f"EPSG:{srid}"
        try:
            geoms[rows] = to_wgs84(geoms[rows], row_crs)
        except InvalidParameter:
            if srid == 0:
                raise
            for index in rows:
                problems[index] = problems[index] or f"unknown EWKT SRID {srid}"
            geoms[rows] = None
    return ParsedFeatures(geoms, props, id_list, warnings, problems)


def parse_geometries(
    geoms: Any,
    *,
    crs: Any = None,
    properties: Sequence[dict[str, Any]] | None = None,
    ids: Sequence[Any] | None = None,
) -> ParsedFeatures:
    """Features from a shapely geometry array or a GeoSeries read from a file.

    The CRS is the GeoSeries' own (file metadata) or `crs`; both given and different is an
    error rather than a guess. Without either, coordinates are taken as EPSG:4326.
    """
    own_crs = getattr(geoms, "crs", None)
    if own_crs is not None and crs is not None and not resolve_crs(crs).equals(own_crs):
        raise InvalidInput(f"crs {crs!r} contradicts the data's own CRS {own_crs.to_string()}")
    array = as_geometry_array(geoms).copy()
    props, id_list = _columns(len(array), properties, ids)
    warnings: list[list[str]] = [[] for _ in range(len(array))]
    problems: list[str | None] = [None] * len(array)
    for index in np.flatnonzero(shapely.is_missing(array)):
        problems[index] = "no geometry (null)"
    array = _drop_z(array, warnings)
    source_crs = own_crs if own_crs is not None else crs
    if source_crs is not None:
        array = to_wgs84(array, source_crs)
    return ParsedFeatures(array, props, id_list, warnings, problems)
