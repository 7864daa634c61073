"""OGC API Features (Part 1: core, GeoJSON; Part 3: filtering with CQL2 and queryables),
the collections QGIS and GDAL open.

Saved estimates are the `estimates` collection, material sources the `sources` collection;
every road layer is a collection named by its slug. Links are absolute and built with
`url_for`, so they stay right behind a proxy that serves the app under a root path.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse
from starlette.datastructures import URL

from app.errors import NotFound
from app.io.layers import is_layer_slug
from app.routes.deps import EstimatesVisibleDep, RepositoryDep, SettingsDep
from app.routes.errors import problems
from app.routes.features import geojson_features
from app.routes.params import (
    BBoxDep,
    FeaturesOutputDep,
    JSONOutput,
    LimitDep,
    OffsetDep,
    OutputType,
    Selection,
    SelectionDep,
)
from app.routes.responses import GeoJSONResponse, MediaType, OpenAPIResponse
from app.routes.web import planner_page
from app.store.cql import FeatureQuery, compile_query, property_equals
from app.store.queryables import GEOMETRY, Queryables
from app.store.repository import BBox, FeaturePage, Repository, StoredFeature, Visibility

router = APIRouter(tags=["OGC API Features"])
logger = logging.getLogger(__name__)

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_PART3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
_CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
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
]
"""No `oas30`: the API definition is OpenAPI 3.1 (what FastAPI writes), and says so."""
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
MAX_FEATURE_ID = 2**63 - 1
_URL_IN_TEXT = re.compile(r"https?://[^\s)]+")

CollectionId = Annotated[
    str,
    Path(
        alias="collectionId",
        description="`estimates`, `sources` (material sources), or the id of a road layer.",
    ),
]
FeatureId = Annotated[str, Path(alias="featureId", description="A feature's numeric id.")]
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
            extent=repository.estimate_extent(visible),
        )
    if collection_id == SOURCES:
        return Collection(
            id=SOURCES,
            title="Material sources",
            description="Plants, quarries and base camps with the material codes they supply.",
            item_count=repository.source_page(limit=0).number_matched,
            extent=repository.source_extent(),
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


def _feature_page(
    repository: Repository,
    collection_id: str,
    limit: int,
    offset: int,
    bbox: BBox | None,
    visible: Visibility,
    query: FeatureQuery,
    exact_count_limit: int,
) -> FeaturePage:
    if collection_id == ESTIMATES:
        return repository.estimate_page(limit, offset, bbox, visible, query, exact_count_limit)
    if collection_id == SOURCES:
        return repository.source_page(limit, offset, bbox, query, exact_count_limit)
    return repository.layer_page(collection_id, limit, offset, bbox, query, exact_count_limit)


def feature_query(request: Request, queryables: Queryables, selection: Selection) -> FeatureQuery:
    """The request's `filter`, its property filters (`?highway=residential`, every query
    parameter that names a queryable property) and `sortby`, checked against `queryables`.
    Other unknown query parameters are ignored."""
    given = {name: request.query_params.getlist(name) for name in request.query_params}
    return compile_query(
        queryables,
        selection.filter,
        selection.filter_lang,
        selection.filter_crs,
        property_equals(given, queryables, OGC_PARAMETERS),
        selection.sortby,
    )


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
    return repository.layer_feature(collection_id, pk)


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
    """The metadata of one collection, with CRS84 first as QGIS takes `crs[0]` as layer CRS."""
    links = [
        link(request.url_for("collection", collectionId=collection.id), "self", MediaType.json),
        link(
            request.url_for("items", collectionId=collection.id),
            "items",
            MediaType.geojson,
            f"{collection.title} as GeoJSON",
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
        "crs": [CRS84],
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
    return JSONResponse(landing_document(request), headers={"Vary": "Accept"})


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
def conformance() -> JSONResponse:
    """The conformance classes implemented (no HTML yet, so none is claimed)."""
    return JSONResponse({"conformsTo": CONFORMANCE})


@router.get("/collections", dependencies=[JSONOutput], summary="Collections")
def collections(
    request: Request, repository: RepositoryDep, visible: EstimatesVisibleDep
) -> JSONResponse:
    """The saved estimates and material sources first, then every road layer by id."""
    found = [find_collection(repository, name, visible) for name in (ESTIMATES, SOURCES)]
    for slug in repository.layer_slugs():
        if is_layer_slug(slug):
            found.append(find_collection(repository, slug, visible))
        else:
            logger.warning("layer %r is not listed: its id cannot be part of a URL", slug)
    return JSONResponse(
        {
            "links": [link(request.url_for("collections"), "self", MediaType.json)],
            "collections": [collection_document(request, item) for item in found],
        }
    )


@router.get("/collections/{collectionId}", dependencies=[JSONOutput], summary="A collection")
def collection(
    request: Request,
    repository: RepositoryDep,
    collection_id: CollectionId,
    visible: EstimatesVisibleDep,
) -> JSONResponse:
    """One collection's metadata, extent, attribution and licence."""
    found = find_collection(repository, collection_id, visible)
    return JSONResponse(collection_document(request, found))


@router.get(
    "/collections/{collectionId}/queryables",
    summary="Queryable properties of a collection",
    responses={200: {"content": {MediaType.schema_json.value: {}}}},
)
def queryables(
    request: Request,
    repository: RepositoryDep,
    collection_id: CollectionId,
    output: SchemaOutputDep,
) -> JSONResponse:
    """What `filter`, property filters and `sortby` can name, as a JSON Schema: each property
    with its JSON type (a road layer's as its data has them) and the geometry, by `format`
    (`geometry-linestring`...) and by `$ref` to its GeoJSON schema."""
    found = repository.queryables(collection_id)
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
    return JSONResponse(document, media_type=output.value)


@router.get(
    "/collections/{collectionId}/items",
    response_class=GeoJSONResponse,
    summary="Features of a collection",
    responses={200: {"content": {MediaType.json.value: {}}}, **problems(400)},
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
    selection: SelectionDep,
    visible: EstimatesVisibleDep,
) -> GeoJSONResponse:
    """A page of features in primary-key order (or `sortby`'s), with `next`/`prev` links.

    `numberMatched` is left out of a page but the last when the PostGIS planner expects the
    collection to hold more than `TAKEOFF_OGC_EXACT_COUNT_LIMIT` features (counting the
    matches would read them all): the planner's estimate is then `numberMatchedEstimate`,
    and `next` links still end exactly at the last page.
    """
    query = feature_query(request, repository.queryables(collection_id), selection)
    page = _feature_page(
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
        "features": geojson_features(page.features),
    }
    return GeoJSONResponse(body, media_type=output.value)


@router.get(
    "/collections/{collectionId}/items/{featureId}",
    response_class=GeoJSONResponse,
    summary="One feature",
    responses={200: {"content": {MediaType.json.value: {}}}},
)
def item(
    request: Request,
    repository: RepositoryDep,
    collection_id: CollectionId,
    feature_id: FeatureId,
    output: FeaturesOutputDep,
    visible: EstimatesVisibleDep,
) -> GeoJSONResponse:
    """One feature by its id; an id that is not a stored integer is a 404."""
    stored = _one_feature(repository, collection_id, feature_id, visible)
    feature = geojson_features([stored])[0]
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
    return GeoJSONResponse(feature, media_type=output.value)
