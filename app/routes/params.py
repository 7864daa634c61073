"""Query parameters as small dependency functions, reusable and testable without HTTP."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Query, Request

from app.errors import InvalidInput
from app.geo.crs import CRS84, CRS_URI_PATTERN, lon_lat_bbox, offered_crs_uri
from app.routes.deps import SettingsDep
from app.routes.responses import MediaType
from app.store.repository import BBox

FORMATS = {"json": MediaType.json, "geojson": MediaType.geojson, "html": MediaType.html}
MAX_OFFSET = 2**53


def crs_query(
    crs: Annotated[
        str | None,
        Query(
            description="The coordinate reference system of the answer's coordinates, as one of "
            "the URIs the collection lists under `crs` (CRS84 when absent). EPSG:4326 comes in "
            "its own axis order, latitude first; the response's `Content-Crs` header names it.",
            examples=["http://www.opengis.net/def/crs/EPSG/0/32748"],
            json_schema_extra={"pattern": CRS_URI_PATTERN},
        ),
    ] = None,
) -> str:
    """The CRS URI to answer in; whether the collection offers it is the route's to check."""
    return CRS84 if crs is None else offered_crs_uri(crs, "crs")


def bbox_crs_query(
    bbox_crs: Annotated[
        str | None,
        Query(
            alias="bbox-crs",
            description="The coordinate reference system of `bbox`, as one of the URIs the "
            "collection lists under `crs` (CRS84 when absent); `bbox` then gives the lower and "
            "upper corners in its axis order.",
            examples=["http://www.opengis.net/def/crs/EPSG/0/32748"],
            json_schema_extra={"pattern": CRS_URI_PATTERN},
        ),
    ] = None,
) -> str:
    """The CRS URI `bbox` is given in."""
    return CRS84 if bbox_crs is None else offered_crs_uri(bbox_crs, "bbox-crs")


BBoxCrsDep = Annotated[str, Depends(bbox_crs_query)]


def _bbox_numbers(bbox: str) -> BBox:
    """The four numbers of `bbox` (heights dropped), each way it can be wrong named."""
    parts = bbox.split(",")
    if len(parts) not in (4, 6):
        raise InvalidInput(
            f"expected 4 comma-separated numbers minx,miny,maxx,maxy, got {len(parts)} "
            f"value(s) in {bbox!r}",
            field="bbox",
        )
    try:
        values = [float(part) for part in parts]
    except ValueError:
        raise InvalidInput(f"{bbox!r} is not a list of numbers", field="bbox") from None
    if not all(math.isfinite(value) for value in values):
        raise InvalidInput(f"{bbox!r} has a value that is not a finite number", field="bbox")
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    minx, miny, maxx, maxy = values
    return (minx, miny, maxx, maxy)


def _projected_bbox(bbox: str, corners: BBox, bbox_crs: str) -> BBox:
    """The lon/lat box holding a box given in `bbox_crs`, whose corners must be in order (a box
    crosses the antimeridian only in CRS84)."""
    first_min, second_min, first_max, second_max = corners
    if first_min > first_max or second_min > second_max:
        raise InvalidInput(
            f"{bbox!r}: the lower corner must come first, below and before the upper one "
            f"in the axis order of {bbox_crs}",
            field="bbox",
        )
    box = lon_lat_bbox(corners, bbox_crs)
    if not all(math.isfinite(value) for value in box):
        raise InvalidInput(f"{bbox!r} lies outside the area of {bbox_crs}", field="bbox")
    return box


def bbox_query(
    bbox_crs: BBoxCrsDep,
    bbox: Annotated[
        str | None,
        Query(
            description="Only features whose geometry meets the box minx,miny,maxx,maxy, in CRS84 "
            "(longitude, latitude) unless `bbox-crs` names another CRS. A CRS84 box with "
            "minx > maxx crosses the antimeridian; six numbers (with heights) are accepted and "
            "the heights ignored.",
            examples=["106.6,-6.2,106.7,-6.1"],
        ),
    ] = None,
) -> BBox | None:
    """Parse `bbox` into the lon/lat box the store queries; a box in another CRS becomes the
    lon/lat box that holds it."""
    if bbox is None:
        return None
    corners = _bbox_numbers(bbox)
    if bbox_crs != CRS84:
        corners = _projected_bbox(bbox, corners, bbox_crs)
    minx, miny, maxx, maxy = corners
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180):
        raise InvalidInput(
            f"longitudes must lie within -180..180 (CRS84 is lon,lat), got {minx} and {maxx}",
            field="bbox",
        )
    if not (-90 <= miny <= 90 and -90 <= maxy <= 90):
        raise InvalidInput(
            f"latitudes must lie within -90..90 (CRS84 is lon,lat), got {miny} and {maxy}",
            field="bbox",
        )
    if miny > maxy:
        raise InvalidInput(f"miny {miny} is north of maxy {maxy}", field="bbox")
    return corners


def limit_query(
    settings: SettingsDep,
    limit: Annotated[
        int | None,
        Query(
            ge=1,
            description="Features per page. A value above the server's maximum is lowered to "
            "it (never rejected); `numberReturned` says how many came.",
        ),
    ] = None,
) -> int:
    """The page size: the default when absent, clamped to the maximum as OGC clients expect."""
    if limit is None:
        return settings.limits.items_default_limit
    return min(limit, settings.limits.items_max_limit)


def offset_query(
    offset: Annotated[
        int, Query(ge=0, le=MAX_OFFSET, description="Features to skip, in stable order.")
    ] = 0,
) -> int:
    """How many features to skip."""
    return offset


def _media_ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        kind, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if kind:
            ranges.append((kind.lower(), quality))
    return ranges


def _specificity(media_range: str, media: MediaType) -> int | None:
    """2 for an exact match, 1 for `type/*`, 0 for `*/*`, None when the range excludes it."""
    essence = media.value.split(";")[0]
    if media_range == essence:
        return 2
    if media_range == essence.split("/")[0] + "/*":
        return 1
    if media_range == "*/*":
        return 0
    return None


def negotiate(accept: str | None, offered: Sequence[MediaType]) -> MediaType:
    """The offered type the `Accept` header ranks highest, the first offered on a tie.

    A header that accepts none of them still gets the first: a client asking for something
    else is better served with JSON than with a 406.
    """
    best, best_quality = offered[0], 0.0
    ranges = _media_ranges(accept or "")
    for media in offered:
        matches = [
            (specificity, quality)
            for media_range, quality in ranges
            if (specificity := _specificity(media_range, media)) is not None
        ]
        quality = max(matches)[1] if matches else 0.0
        if quality > best_quality:
            best, best_quality = media, quality
    return best


class OutputType:
    """The response media type of a route: the `f` parameter when given, else `Accept`."""

    def __init__(self, *offered: MediaType) -> None:
        self.offered = offered

    def __call__(
        self,
        request: Request,
        f: Annotated[
            str | None,
            Query(description="Output format (json, geojson); without it, Accept decides."),
        ] = None,
    ) -> MediaType:
        """Pick one of the offered types."""
        if f is None:
            return negotiate(request.headers.get("accept"), self.offered)
        media = FORMATS.get(f.lower())
        if media is None or media not in self.offered:
            names = [name for name, known in FORMATS.items() if known in self.offered]
            raise InvalidInput(
                f"cannot answer in {f!r} here; use one of {', '.join(names)}", field="f"
            )
        return media


@dataclass(frozen=True)
class Selection:
    """The filter and sort order an items request asks for, as given (checked against the
    collection's queryables once the collection is known)."""

    filter: str | None
    filter_lang: str
    filter_crs: str | None
    sortby: str | None


def selection_query(
    filter_: Annotated[
        str | None,
        Query(
            alias="filter",
            description="Only features meeting this CQL2 condition (OGC API Features Part 3) "
            "on the collection's queryables (see its `queryables` link): comparisons, LIKE, "
            "IN, BETWEEN, IS NULL, AND/OR/NOT, CASEI, and S_INTERSECTS, S_WITHIN and the other "
            "spatial functions on `geometry` with a geometry or BBOX literal.",
            examples=["highway = 'residential' AND lanes >= 2"],
        ),
    ] = None,
    filter_lang: Annotated[
        Literal["cql2-text", "cql2-json", "cql-text"],
        Query(
            alias="filter-lang",
            description="How `filter` is written; `cql-text`, the draft's name GDAL sends, is "
            "read as cql2-text.",
        ),
    ] = "cql2-text",
    filter_crs: Annotated[
        str | None,
        Query(
            alias="filter-crs",
            description="The CRS of the filter's geometry literals, by OGC URI, in its own axis "
            "order (latitude first for EPSG:4326); CRS84 (longitude, latitude) by default.",
            examples=["http://www.opengis.net/def/crs/EPSG/0/4326"],
        ),
    ] = None,
    sortby: Annotated[
        str | None,
        Query(
            description="Order by these queryable properties, comma-separated, each "
            "ascending or with `-` descending (then by id).",
            examples=["-lanes,name"],
        ),
    ] = None,
) -> Selection:
    """The `filter`, `filter-lang`, `filter-crs` and `sortby` parameters."""
    return Selection(filter_, filter_lang, filter_crs, sortby)


BBoxDep = Annotated[BBox | None, Depends(bbox_query)]
CrsDep = Annotated[str, Depends(crs_query)]
SelectionDep = Annotated[Selection, Depends(selection_query)]
LimitDep = Annotated[int, Depends(limit_query)]
OffsetDep = Annotated[int, Depends(offset_query)]
JSONOutput = Depends(OutputType(MediaType.json))
FeaturesOutputDep = Annotated[MediaType, Depends(OutputType(MediaType.geojson, MediaType.json))]
