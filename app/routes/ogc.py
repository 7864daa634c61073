"""OGC API Features (Part 1: core, GeoJSON; Part 2: CRS; Part 3: filtering with CQL2 and
queryables) and the collections QGIS and GDAL open.

Saved estimates are the `estimates` collection, material sources the `sources` collection,
the field tests of saved estimates the `field-tests` collection (those of the estimates the
reader may see, each with its status); every saved maintenance programme is a collection
`programme-{id}` (one layer per programme, so QGIS maps one programme by its `treatment` and
`funded` properties); every road layer is a collection named by its slug. Links are absolute
and built with `url_for`, so they stay right behind a proxy that serves the app under a root
path.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import shapely
from fastapi import APIRouter, Depends, Path, Request, Response
from starlette.datastructures import URL

from app.errors import InvalidQuery, NotFound, UnsupportedCrs
from app.geo.crs import CRS84, WORLD_CRS, offered_crs, offered_crs_uri
from app.io.layers import is_layer_slug
from app.routes.deliveries import field_test_features
from app.routes.deps import EstimatesVisibleDep, RepositoryDep, SettingsDep
from app.routes.errors import problems
from app.routes.features import geojson_features
from app.routes.params import (
    BBoxCrsDep,
    BBoxDep,
    CrsDep,
    FeaturesOutputDep,
    JSONOutput,
    LimitDep,
    OffsetDep,
    OutputType,
    Selection,
    SelectionDep,
)
from app.routes.responses import GeoJSONResponse, JSONAnswer, MediaType, OpenAPIResponse
from app.routes.web import planner_page
from app.store.cql import FeatureQuery, compile_query, property_equals
from app.store.queryables import GEOMETRY, Queryables
from app.store.repository import BBox, FeaturePage, Repository, StoredFeature, Visibility

router = APIRouter(tags=["OGC API Features"])
logger = logging.getLogger(__name__)

_PART3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
_CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    *(
        _PART3 + name
        for name in ("queryables", "queryables-query-parameters", "filter", "features-filter")
    ),
    *(
        _CQL2 + name
        for name in (
            "cql2-text",
            "cql2-json",
            "basic-cql2",
            "advanced-comparison-operators",
            "case-insensitive-comparison",
            "basic-spatial-functions",
            "basic-spatial-functions-plus",
            "spatial-functions",
        )
    ),
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/sorting",
    *(
        f"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/{name}"
        for name in ("core", "tileset", "tilesets-list", "geodata-tilesets", "mvt")
    ),
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
]
"""No `oas30`: the API definition is OpenAPI 3.1 (what FastAPI writes), and says so."""
REL_VECTOR_TILESETS = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
GEOJSON_TYPES = {
    "point": "Point",
    "linestring": "LineString",
    "polygon": "Polygon",
    "multipoint": "MultiPoint",
    "multilinestring": "MultiLineString",
    "multipolygon": "MultiPolygon",
    "any": "Geometry",
}
"""The GeoJSON schema of each geometry type a collection can have (QGIS knows a geometry
queryable by its `$ref` to one, Part 3 by its `format`)."""
OGC_PARAMETERS = frozenset(
    {
        "f",
        "limit",
        "offset",
        "bbox",
        "bbox-crs",
        "crs",
        "datetime",
        "filter",
        "filter-lang",
        "filter-crs",
        "sortby",
        "properties",
    }
)
"""Query parameters OGC API Features gives a meaning: a property of the same name is
filtered through `filter` only, never as `?name=value`."""
ESTIMATES = "estimates"
SOURCES = "sources"
PROGRAMME = re.compile(r"^programme-([0-9]{1,9})$")
FIELD_TESTS = "field-tests"
MAX_FEATURE_ID = 2**63 - 1
_URL_IN_TEXT = re.compile(r"https?://[^\s)]+")

CollectionId = Annotated[
    str,
    Path(
        alias="collectionId",
        description="`estimates`, `sources` (material sources), `field-tests` (cores and "
        "sand cones of saved estimates), `programme-{id}` (a saved maintenance programme), or "
        "the id of a road layer.",
    ),
]
FeatureId = Annotated[str, Path(alias="featureId", description="A feature's numeric id.")]
FEATURES_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {MediaType.json.value: {}},
        "headers": {
            "Content-Crs": {
                "description": "The CRS of the coordinates, as `<uri>` (OGC API Features Part 2)",
                "required": True,
                "schema": {"type": "string"},
            }
        },
    },
    **problems(400, 503),
}
LandingOutputDep = Annotated[MediaType, Depends(OutputType(MediaType.json, MediaType.html))]
SchemaOutputDep = Annotated[MediaType, Depends(OutputType(MediaType.schema_json, MediaType.json))]


@dataclass(frozen=True)
class Collection:
    """What the collection documents say about one collection, whichever table holds it."""

    id: str
    title: str
    description: str | None
    item_count: int
    extent: BBox | None
    attribution: str | None = None
    license: str | None = None


def find_collection(repository: Repository, collection_id: str, visible: Visibility) -> Collection:
    """The saved estimates (those `visible`) or a road layer; `NotFound` names an unknown id."""
    if collection_id == ESTIMATES:
        return Collection(
            id=ESTIMATES,
            title="Saved estimates",
            description="One feature per saved estimate, with its totals as flat properties.",
            item_count=repository.estimate_page(limit=0, visible=visible).number_matched,
            extent=_extent(repository, ESTIMATES, visible),
        )
    if collection_id == SOURCES:
        return Collection(
            id=SOURCES,
            title="Material sources",
            description="Plants, quarries and base camps with the material codes they supply.",
            item_count=repository.source_page(limit=0).number_matched,
            extent=_extent(repository, SOURCES, visible),
        )
    programme = programme_id(collection_id)
    if programme is not None:
        saved = repository.get_programme(programme, visible)
        totals = saved.summary["totals"]
        return Collection(
            id=collection_id,
            title=saved.name or f"Programme {saved.id}",
            description=f"Maintenance programme {saved.id}: one feature per inventory segment "
            f"with its treatment, cost, priority and funded status; rule set "
            f"{saved.rule_set_slug} v{saved.rule_set_version}, catalog {saved.catalog_slug} "
            f"v{saved.catalog_version}; {totals['funded_segments']} of "
            f"{totals['segments']} segments funded.",
            item_count=repository.programme_page(programme, limit=0).number_matched,
            extent=_extent(repository, collection_id, visible),
        )
    if collection_id == FIELD_TESTS:
        tests = field_test_features(repository, visible)
        return Collection(
            id=FIELD_TESTS,
            title="Field tests",
            description="Cores and sand cones of saved estimates, with their status: ok, "
            "below tolerance (a core thinner than design less the tolerance), recorded (a "
            "sand cone) or superseded.",
            item_count=len(tests),
            extent=_features_extent(tests),
        )
    layer = repository.get_layer(collection_id)
    return Collection(
        id=layer.slug,
        title=layer.title,
        description=layer.description,
        item_count=layer.feature_count,
        extent=layer.extent,
        attribution=layer.attribution,
        license=layer.license,
    )


def _extent(repository: Repository, collection_id: str, visible: Visibility) -> BBox | None:
    if collection_id == ESTIMATES:
        return repository.estimate_extent(visible)
    if collection_id == SOURCES:
        return repository.source_extent()
    if collection_id == FIELD_TESTS:
        return _features_extent(field_test_features(repository, visible))
    programme = programme_id(collection_id)
    if programme is not None:
        repository.get_programme(programme, visible)
        return repository.programme_extent(programme)
    return repository.get_layer(collection_id).extent


def require_offered(
    repository: Repository, collection_id: str, visible: Visibility, requested: dict[str, str]
) -> None:
    """Each CRS URI asked for (by parameter name) must be one the collection lists; only a
    UTM zone, which depends on where the data lie, needs the extent looked up."""
    regional = {field: uri for field, uri in requested.items() if uri not in WORLD_CRS}
    if not regional:
        return
    offered = offered_crs(_extent(repository, collection_id, visible))
    for field, uri in regional.items():
        if uri not in offered:
            raise UnsupportedCrs(
                f"collection {collection_id!r} does not offer {field} {uri!r}; it offers "
                f"{', '.join(offered)}",
                field=field,
            )


def collection_queryables(
    repository: Repository, collection_id: str, visible: Visibility
) -> Queryables:
    """What a collection's `filter`, property filters and `sortby` can name; the field tests
    are read whole, so they offer their geometry only."""
    if collection_id == FIELD_TESTS:
        return Queryables(geometry="point")
    programme = programme_id(collection_id)
    if programme is not None:
        repository.get_programme(programme, visible)
        return repository.programme_queryables(programme)
    return repository.queryables(collection_id)


def programme_id(collection_id: str) -> int | None:
    """The programme a `programme-{id}` collection id names (None: not such an id)."""
    found = PROGRAMME.match(collection_id)
    return None if found is None else int(found.group(1))


def feature_page(
    repository: Repository,
    collection_id: str,
    limit: int,
    offset: int,
    bbox: BBox | None,
    visible: Visibility,
    query: FeatureQuery | None = None,
    exact_count_limit: int | None = None,
) -> FeaturePage:
    """A page of any collection's features, in id order (or the query's)."""
    if collection_id == ESTIMATES:
        return repository.estimate_page(limit, offset, bbox, visible, query, exact_count_limit)
    if collection_id == SOURCES:
        return repository.source_page(limit, offset, bbox, query, exact_count_limit)
    programme = programme_id(collection_id)
    if programme is not None:
        repository.get_programme(programme, visible)
        return repository.programme_page(programme, limit, offset, bbox, query, exact_count_limit)
    if collection_id == FIELD_TESTS:
        if query is not None and (query.condition is not None or query.sortby):
            raise InvalidQuery(
                "the field-tests collection is read whole: it takes no filter or sortby",
                field="filter" if query.condition is not None else "sortby",
            )
        tests = field_test_features(repository, visible)
        if bbox is not None:
            tests = [test for test in tests if _within(test.geometry, bbox)]
        return FeaturePage(tests[offset : offset + limit], len(tests))
    return repository.layer_page(collection_id, limit, offset, bbox, query, exact_count_limit)


def feature_query(
    request: Request, queryables: Callable[[], Queryables], selection: Selection
) -> FeatureQuery:
    """The request's `filter`, its property filters (`?highway=residential`, every query
    parameter that names a queryable property) and `sortby`, checked against `queryables()`.
    Other unknown query parameters are ignored. The queryables are only looked up when the
    request has something to check against them (a programme's are read from its segments)."""
    given = {name: request.query_params.getlist(name) for name in request.query_params}
    if selection.filter is None and not selection.sortby and given.keys() <= OGC_PARAMETERS:
        return FeatureQuery()
    found = queryables()
    return compile_query(
        found,
        selection.filter,
        selection.filter_lang,
        selection.filter_crs,
        property_equals(given, found, OGC_PARAMETERS),
        selection.sortby,
    )


def _within(point: shapely.Geometry, bbox: BBox) -> bool:
    minx, miny, maxx, maxy = bbox
    x, y = shapely.get_coordinates(point)[0]
    return bool(minx <= x <= maxx and miny <= y <= maxy)


def _features_extent(features: list[StoredFeature]) -> BBox | None:
    """Bounding box of the features (None: none)."""
    if not features:
        return None
    minx, miny, maxx, maxy = shapely.total_bounds([f.geometry for f in features]).tolist()
    return (minx, miny, maxx, maxy)


def _one_feature(
    repository: Repository, collection_id: str, feature_id: str, visible: Visibility
) -> StoredFeature:
    """A feature by the id in its URL: anything but a stored integer id is simply not found."""
    if not (feature_id.isascii() and feature_id.isdigit()) or int(feature_id) > MAX_FEATURE_ID:
        raise NotFound(f"collection {collection_id!r} has no feature {feature_id!r}")
    pk = int(feature_id)
    if collection_id == ESTIMATES:
        estimate = repository.get_estimate(pk, visible)
        return StoredFeature(
            id=estimate.id,
            feature_id=None,
            geometry=estimate.geometry,
            properties=estimate.properties,
        )
    if collection_id == SOURCES:
        return repository.source_feature(pk)
    programme = programme_id(collection_id)
    if programme is not None:
        repository.get_programme(programme, visible)
        return repository.programme_segment(programme, pk)
    if collection_id == FIELD_TESTS:
        for test in field_test_features(repository, visible):
            if test.id == pk:
                return test
        raise NotFound(f"collection {collection_id!r} has no feature {feature_id!r}")
    return repository.layer_feature(collection_id, pk)


def content_crs(crs: str) -> dict[str, str]:
    """The `Content-Crs` header naming the CRS of a response's coordinates."""
    return {"Content-Crs": f"<{crs}>"}


def link(href: URL | str, rel: str, media: MediaType, title: str | None = None) -> dict[str, str]:
    """One OGC link object."""
    item = {"href": str(href), "rel": rel, "type": media.value}
    if title:
        item["title"] = title
    return item


def paging_href(url: URL, params: list[tuple[str, str]], offset: int) -> URL:
    """`url` with the request's query parameters, only `offset` changed (bbox, f... are kept)."""
    kept = [(key, value) for key, value in params if key != "offset"]
    return url.replace(query=urlencode([*kept, ("offset", str(offset))], safe=","))


def _items_links(
    request: Request, collection_id: str, offset: int, limit: int, page: FeaturePage
) -> list[dict[str, str]]:
    url = request.url_for("items", collectionId=collection_id)
    params = request.query_params.multi_items()
    links = [
        link(url.replace(query=request.url.query), "self", MediaType.geojson),
        link(
            request.url_for("collection", collectionId=collection_id),
            "collection",
            MediaType.json,
        ),
    ]
    if page.more:
        next_offset = offset + len(page.features)
        links.append(link(paging_href(url, params, next_offset), "next", MediaType.geojson))
    if offset > 0:
        last = min(offset, page.number_matched) if page.exact else offset
        prev_offset = max(0, last - limit)
        links.append(link(paging_href(url, params, prev_offset), "prev", MediaType.geojson))
    return links


def _license_link(text: str) -> dict[str, str] | None:
    found = _URL_IN_TEXT.search(text)
    if found is None:
        return None
    title = text.replace(f"({found.group()})", "").replace(found.group(), "").strip()
    return link(found.group(), "license", MediaType.html, title or None)


def collection_document(request: Request, collection: Collection) -> dict[str, Any]:
    """The metadata of one collection: stored in CRS84, offered in the CRSs `offered_crs`
    lists (CRS84 first, as QGIS takes `crs[0]` as the layer CRS)."""
    links = [
        link(request.url_for("collection", collectionId=collection.id), "self", MediaType.json),
        link(
            request.url_for("items", collectionId=collection.id),
            "items",
            MediaType.geojson,
            f"{collection.title} as GeoJSON",
        ),
        link(
            request.url_for("collection_tilesets", collectionId=collection.id),
            REL_VECTOR_TILESETS,
            MediaType.json,
            f"{collection.title} as vector tiles",
        ),
        link(
            request.url_for("queryables", collectionId=collection.id),
            QUERYABLES_REL,
            MediaType.schema_json,
            "Properties to filter and sort on",
        ),
    ]
    document: dict[str, Any] = {
        "id": collection.id,
        "title": collection.title,
        "itemType": "feature",
        "storageCrs": CRS84,
        "crs": offered_crs(collection.extent),
        "itemCount": collection.item_count,
    }
    if collection.description:
        document["description"] = collection.description
    if collection.extent is not None:
        document["extent"] = {"spatial": {"bbox": [list(collection.extent)], "crs": CRS84}}
    if collection.attribution:
        document["attribution"] = collection.attribution
    if collection.license:
        document["license"] = collection.license
        license_link = _license_link(collection.license)
        if license_link is not None:
            links.append(license_link)
    document["links"] = links
    return document


def landing_document(request: Request) -> dict[str, Any]:
    """The landing page for API clients: QGIS needs `service-desc`, `conformance` and `data`."""
    links = [
        link(request.url_for("landing"), "self", MediaType.json, "This document"),
        link(
            request.url_for("api_document"),
            "service-desc",
            MediaType.openapi_json,
            "The API definition (OpenAPI 3.1)",
        ),
        link(request.url_for("docs"), "service-doc", MediaType.html, "The API documentation"),
        link(request.url_for("conformance"), "conformance", MediaType.json, "Conformance"),
        link(request.url_for("collections"), "data", MediaType.json, "Collections"),
        link(
            request.url_for("tile_matrix_sets"),
            "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
            MediaType.json,
            "Tile matrix sets",
        ),
    ]
    return {"title": request.app.title, "description": request.app.description, "links": links}


@router.get(
    "/",
    summary="Landing page",
    responses={200: {"content": {MediaType.html.value: {}}}},
)
def landing(request: Request, output: LandingOutputDep) -> Response:
    """Where API clients start: links to the definition, conformance and collections.

    A browser, which asks for HTML first, gets the planner's page instead.
    """
    if output is MediaType.html:
        return planner_page(request)
    return JSONAnswer(landing_document(request), headers={"Vary": "Accept"})


@router.get(
    "/api",
    response_class=OpenAPIResponse,
    include_in_schema=False,
    summary="API definition",
)
def api_document(
    request: Request, settings: SettingsDep, repository: RepositoryDep
) -> OpenAPIResponse:
    """The OpenAPI document, naming this server by its absolute address.

    It also describes `limit` under `components.parameters`, where QGIS looks for the
    default and maximum page sizes it then asks for, and each collection's items path
    with its property filters.
    """
    schema = request.app.openapi()
    components = schema.get("components", {})
    limit = {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {
            "type": "integer",
            "minimum": 1,
            "maximum": settings.limits.items_max_limit,
            "default": settings.limits.items_default_limit,
        },
    }
    parameters = {**components.get("parameters", {}), "limit": limit}
    document = {
        **schema,
        "servers": [{"url": str(request.base_url).rstrip("/")}],
        "paths": {**schema["paths"], **collection_item_paths(schema, repository)},
        "components": {**components, "parameters": parameters},
    }
    return OpenAPIResponse(document, media_type=_openapi_media(request.headers.get("accept")))


def _openapi_media(accept: str | None) -> str:
    """The OpenAPI 3.1 type, or plain JSON for a client that asks only for another OpenAPI
    version or JSON (GDAL asks for 3.0 or `application/json`, and refuses any other type)."""
    ranges = [
        [piece.strip().lower() for piece in part.split(";")]
        for part in (accept or "*/*").split(",")
    ]
    openapi = MediaType.openapi_json.value.split(";")[0]
    for essence, *params in ranges:
        if essence in ("*/*", "application/*") or (
            essence == openapi and params in ([], ["version=3.1"])
        ):
            return MediaType.openapi_json.value
    if any(essence == MediaType.json.value for essence, *_params in ranges):
        return MediaType.json.value
    return MediaType.openapi_json.value


def collection_item_paths(schema: dict[str, Any], repository: Repository) -> dict[str, Any]:
    """`/collections/{id}/items` of each collection, with a query parameter per queryable
    property: the property filters of OGC API Features Part 1, where QGIS and GDAL look for
    them (and GDAL learns which properties it may send in a filter)."""
    generic = schema["paths"]["/collections/{collectionId}/items"]["get"]
    common = [param for param in generic["parameters"] if param["name"] != "collectionId"]
    paths: dict[str, Any] = {}
    for collection_id in (ESTIMATES, SOURCES, *repository.layer_slugs()):
        if not is_layer_slug(collection_id):
            continue
        properties = repository.queryables(collection_id).properties
        filters = [
            {
                "name": name,
                "in": "query",
                "required": False,
                "style": "form",
                "explode": False,
                "description": f"Only features whose `{name}` is this value.",
                "schema": {"type": kind},
            }
            for name, kind in properties.items()
            if name not in OGC_PARAMETERS
        ]
        paths[f"/collections/{collection_id}/items"] = {
            "get": {
                **generic,
                "operationId": f"items_of_{collection_id}",
                "summary": f"Features of {collection_id}",
                "parameters": common + filters,
            }
        }
    return paths


@router.get("/conformance", dependencies=[JSONOutput], summary="Conformance classes")
def conformance() -> JSONAnswer:
    """The conformance classes implemented (no HTML yet, so none is claimed)."""
    return JSONAnswer({"conformsTo": CONFORMANCE})


@router.get(
    "/collections", dependencies=[JSONOutput], summary="Collections", responses=problems(503)
)
def collections(
    request: Request, repository: RepositoryDep, visible: EstimatesVisibleDep
) -> JSONAnswer:
    """The saved estimates, material sources and field tests first, then every saved
    programme the caller may see, then every road layer by id."""
    found = [
        find_collection(repository, name, visible) for name in (ESTIMATES, SOURCES, FIELD_TESTS)
    ]
    for saved in repository.list_programmes(visible):
        found.append(find_collection(repository, f"programme-{saved.id}", visible))
    for slug in repository.layer_slugs():
        if is_layer_slug(slug):
            found.append(find_collection(repository, slug, visible))
        else:
            logger.warning("layer %r is not listed: its id cannot be part of a URL", slug)
    return JSONAnswer(
        {
            "links": [link(request.url_for("collections"), "self", MediaType.json)],
            "collections": [collection_document(request, item) for item in found],
        }
    )


@router.get(
    "/collections/{collectionId}",
    dependencies=[JSONOutput],
    summary="A collection",
    responses=problems(503),
)
def collection(
    request: Request,
    repository: RepositoryDep,
    collection_id: CollectionId,
    visible: EstimatesVisibleDep,
) -> JSONAnswer:
    """One collection's metadata, extent, attribution and licence."""
    found = find_collection(repository, collection_id, visible)
    return JSONAnswer(collection_document(request, found))


@router.get(
    "/collections/{collectionId}/queryables",
    summary="Queryable properties of a collection",
    responses={200: {"content": {MediaType.schema_json.value: {}}}, **problems(503)},
)
def queryables(
    request: Request,
    repository: RepositoryDep,
    collection_id: CollectionId,
    output: SchemaOutputDep,
    visible: EstimatesVisibleDep,
) -> JSONAnswer:
    """What `filter`, property filters and `sortby` can name, as a JSON Schema: each property
    with its JSON type (a road layer's as its data has them) and the geometry, by `format`
    (`geometry-linestring`...) and by `$ref` to its GeoJSON schema."""
    found = collection_queryables(repository, collection_id, visible)
    geometry = {
        "title": "Geometry",
        "$ref": f"https://geojson.org/schema/{GEOJSON_TYPES[found.geometry]}.json",
        "format": f"geometry-{found.geometry}",
        "x-ogc-role": "primary-geometry",
    }
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": str(request.url_for("queryables", collectionId=collection_id)),
        "type": "object",
        "title": f"Queryables of {collection_id}",
        "properties": {
            GEOMETRY: geometry,
            **{name: {"title": name, "type": kind} for name, kind in found.properties.items()},
        },
        "additionalProperties": False,
    }
    return JSONAnswer(document, media_type=output.value)


@router.get(
    "/collections/{collectionId}/items",
    response_class=GeoJSONResponse,
    summary="Features of a collection",
    responses=FEATURES_RESPONSES,
)
def items(
    request: Request,
    repository: RepositoryDep,
    settings: SettingsDep,
    collection_id: CollectionId,
    output: FeaturesOutputDep,
    limit: LimitDep,
    offset: OffsetDep,
    bbox: BBoxDep,
    bbox_crs: BBoxCrsDep,
    crs: CrsDep,
    selection: SelectionDep,
    visible: EstimatesVisibleDep,
) -> GeoJSONResponse:
    """A page of features in primary-key order (or `sortby`'s), with `next`/`prev` links, in
    the CRS `crs` names (`Content-Crs` says which).

    `numberMatched` is left out of a page but the last when the PostGIS planner expects the
    collection to hold more than `TAKEOFF_OGC_EXACT_COUNT_LIMIT` features (counting the
    matches would read them all): the planner's estimate is then `numberMatchedEstimate`,
    and `next` links still end exactly at the last page.
    """
    offered = {"crs": crs, "bbox-crs": bbox_crs}
    if selection.filter_crs is not None:
        offered["filter-crs"] = offered_crs_uri(selection.filter_crs, "filter-crs")
    require_offered(repository, collection_id, visible, offered)
    query = feature_query(
        request, lambda: collection_queryables(repository, collection_id, visible), selection
    )
    page = feature_page(
        repository,
        collection_id,
        limit,
        offset,
        bbox,
        visible,
        query,
        settings.limits.ogc_exact_count_limit,
    )
    counted = "numberMatched" if page.exact else "numberMatchedEstimate"
    body = {
        "type": "FeatureCollection",
        counted: page.number_matched,
        "numberReturned": len(page.features),
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": _items_links(request, collection_id, offset, limit, page),
        "features": geojson_features(page.features, crs),
    }
    return GeoJSONResponse(body, media_type=output.value, headers=content_crs(crs))


@router.get(
    "/collections/{collectionId}/items/{featureId}",
    response_class=GeoJSONResponse,
    summary="One feature",
    responses=FEATURES_RESPONSES,
)
def item(
    request: Request,
    repository: RepositoryDep,
    collection_id: CollectionId,
    feature_id: FeatureId,
    output: FeaturesOutputDep,
    crs: CrsDep,
    visible: EstimatesVisibleDep,
) -> GeoJSONResponse:
    """One feature by its id, in the CRS `crs` names; an id that is not a stored integer is a
    404."""
    require_offered(repository, collection_id, visible, {"crs": crs})
    stored = _one_feature(repository, collection_id, feature_id, visible)
    feature = geojson_features([stored], crs)[0]
    feature["links"] = [
        link(
            request.url_for("item", collectionId=collection_id, featureId=str(stored.id)),
            "self",
            MediaType.geojson,
        ),
        link(
            request.url_for("collection", collectionId=collection_id),
            "collection",
            MediaType.json,
        ),
    ]
    return GeoJSONResponse(feature, media_type=output.value, headers=content_crs(crs))
