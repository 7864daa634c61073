"""OGC API Tiles: every collection as Mapbox Vector Tiles on the WebMercatorQuad grid.

A tile's ETag is made from the collection's version (a road layer's publication, the rows of
the estimates or sources) and the tile's address, so a client revalidates with a cheap look-up
and gets 304 until the collection changes. Tiles made once are kept per process in an LRU
keyed by that ETag: a changed collection has new keys, and old tiles age out.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Annotated, Any

import shapely
from cachetools import LRUCache
from fastapi import APIRouter, Header, Path, Request, Response

from app.geo.tiles import (
    TILE_MATRIX_SET_ID,
    WEB_MERCATOR_QUAD,
    TileAddress,
    tile_address,
    tile_matrix_set_limits,
)
from app.io.mvt import TileFeature, encode_tile, mvt_properties
from app.routes.deliveries import field_test_features
from app.routes.deps import EstimatesVisibleDep, RepositoryDep, SettingsDep
from app.routes.errors import problems
from app.routes.ogc import (
    CRS84,
    ESTIMATES,
    FIELD_TESTS,
    SOURCES,
    Collection,
    CollectionId,
    feature_page,
    find_collection,
    link,
    programme_id,
)
from app.routes.params import JSONOutput
from app.routes.responses import JSONAnswer, MediaType
from app.store.repository import Repository, Visibility

router = APIRouter(tags=["OGC API Tiles"])

REL_TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
REL_GEODATA = "http://www.opengis.net/def/rel/ogc/1.0/geodata"
WEB_MERCATOR_CRS = "http://www.opengis.net/def/crs/EPSG/0/3857"
FIELD_SAMPLE = 1_000
"""How many features (the first, by id) the tileset's list of attributes is read from."""
_JSON_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number"}

TileMatrix = Annotated[
    str, Path(alias="tileMatrix", description="The zoom level, `0` to `24`.", examples=["16"])
]
TileRow = Annotated[int, Path(alias="tileRow", description="Row from the north, from 0.")]
TileCol = Annotated[int, Path(alias="tileCol", description="Column from the west, from 0.")]


class TileCache:
    """Tiles already made, by ETag, up to a number of bytes; shared by a process's threads."""

    def __init__(self, max_bytes: int) -> None:
        self._tiles: LRUCache[str, bytes] | None = (
            LRUCache(maxsize=max_bytes, getsizeof=lambda tile: len(tile) + 1)
            if max_bytes > 0
            else None
        )
        self._lock = threading.Lock()

    def get(self, etag: str) -> bytes | None:
        """The tile made under `etag`, if it is still kept."""
        if self._tiles is None:
            return None
        with self._lock:
            return self._tiles.get(etag)

    def put(self, etag: str, tile: bytes) -> None:
        """Keep `tile` (one larger than the whole cache is not kept)."""
        if self._tiles is None or len(tile) + 1 > self._tiles.maxsize:
            return
        with self._lock:
            self._tiles[etag] = tile


def _version(repository: Repository, collection_id: str, visible: Visibility) -> str:
    """What changes when the collection's features do; `NotFound` for an unknown id. The
    estimates' version is the reader's own, since readers may see different estimates."""
    if collection_id == ESTIMATES:
        return f"{repository.estimates_version(visible)}:{visible}"
    if collection_id == SOURCES:
        return repository.sources_version()
    if collection_id == FIELD_TESTS:  # a correction adds a record: the last id moves
        ids = [test.id for _, test in repository.visible_field_tests(visible)]
        return f"{len(ids)}:{max(ids, default=0)}:{visible}"
    programme = programme_id(collection_id)
    if programme is not None:  # a saved programme never changes
        saved = repository.get_programme(programme, visible)
        return f"{saved.id}:{saved.created_at.isoformat()}"
    return repository.layer_version(collection_id)


def _make_tile(
    repository: Repository, collection_id: str, tile: TileAddress, visible: Visibility
) -> bytes:
    if collection_id == ESTIMATES:
        return repository.estimate_tile(tile, visible)
    if collection_id == SOURCES:
        return repository.source_tile(tile)
    if collection_id == FIELD_TESTS:  # a few points per estimate, placed in Python
        box = shapely.box(*tile.lonlat_bounds)
        found = [
            TileFeature(feature.id, feature.geometry, feature.properties)
            for feature in field_test_features(repository, visible)
            if shapely.intersects(feature.geometry, box)
        ]
        return encode_tile(FIELD_TESTS, found, tile)
    programme = programme_id(collection_id)
    if programme is not None:
        repository.get_programme(programme, visible)
        return repository.programme_tile(programme, tile)
    return repository.layer_tile(collection_id, tile)


def _etag(collection_id: str, version: str, tile: TileAddress) -> str:
    digest = hashlib.sha256(f"{collection_id}\n{version}\n{tile}".encode()).hexdigest()
    return f'"{digest[:32]}"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    """Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 asks for GET)."""
    if if_none_match is None:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


def _tile_matrix_set_link(request: Request) -> dict[str, str]:
    return link(
        request.url_for("tile_matrix_set"),
        REL_TILING_SCHEME,
        MediaType.json,
        "The tile matrix set of these tiles",
    )


def _tileset_summary(request: Request, collection: Collection) -> dict[str, Any]:
    """A tileset as the tileset list names it."""
    return {
        "title": f"{collection.title} as vector tiles",
        "dataType": "vector",
        "crs": WEB_MERCATOR_CRS,
        "tileMatrixSetURI": WEB_MERCATOR_QUAD.uri,
        "links": [
            link(
                request.url_for("collection_tileset", collectionId=collection.id),
                "self",
                MediaType.json,
                f"{TILE_MATRIX_SET_ID} tileset",
            ),
            _tile_matrix_set_link(request),
        ],
    }


def _tile_layer(repository: Repository, found: Collection, visible: Visibility) -> dict[str, Any]:
    """The tile layer's description: the geometry dimension and a JSON Schema of the
    attributes, with the types they have in the tiles, read from the first features."""
    page = feature_page(repository, found.id, FIELD_SAMPLE, 0, None, visible)
    types: dict[str, set[str]] = {}
    for feature in page.features:
        for name, value in mvt_properties(feature.properties).items():
            types.setdefault(name, set()).add(_JSON_TYPES[type(value)])
    properties = {}
    for name, kinds in types.items():
        names = sorted(kinds - {"integer"} if kinds >= {"integer", "number"} else kinds)
        properties[name] = {"type": names[0] if len(names) == 1 else names}
    layer: dict[str, Any] = {"id": found.id, "title": found.title, "dataType": "vector"}
    dimensions = {shapely.get_dimensions(feature.geometry) for feature in page.features}
    if len(dimensions) == 1:
        layer["geometryDimension"] = int(dimensions.pop())
    layer["propertiesSchema"] = {"type": "object", "properties": properties}
    return layer


TILE_MATRIX_SET_PATH = f"/tileMatrixSets/{TILE_MATRIX_SET_ID}"
TILESET_PATH = f"/collections/{{collectionId}}/tiles/{TILE_MATRIX_SET_ID}"
TILE_PATH = TILESET_PATH + "/{tileMatrix}/{tileRow}/{tileCol}"
TILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The features that meet the tile, as one layer named by the collection",
        "content": {MediaType.mvt.value: {"schema": {"type": "string", "format": "binary"}}},
    },
    204: {"description": "No feature meets this tile"},
    304: {"description": "The tile is unchanged since the ETag in `If-None-Match`"},
    **problems(503),
}


@router.get("/tileMatrixSets", dependencies=[JSONOutput], summary="Tile matrix sets")
def tile_matrix_sets(request: Request) -> JSONAnswer:
    """The tiling schemes tiles are served in: WebMercatorQuad, the one web maps use."""
    return JSONAnswer(
        {
            "links": [link(request.url_for("tile_matrix_sets"), "self", MediaType.json)],
            "tileMatrixSets": [
                {
                    "id": TILE_MATRIX_SET_ID,
                    "title": WEB_MERCATOR_QUAD.title,
                    "uri": WEB_MERCATOR_QUAD.uri,
                    "links": [link(request.url_for("tile_matrix_set"), "self", MediaType.json)],
                }
            ],
        }
    )


@router.get(TILE_MATRIX_SET_PATH, dependencies=[JSONOutput], summary="A tile matrix set")
def tile_matrix_set() -> JSONAnswer:
    """WebMercatorQuad's definition (OGC Two Dimensional Tile Matrix Set 2.0, JSON)."""
    return JSONAnswer(WEB_MERCATOR_QUAD.model_dump(exclude_none=True, mode="json"))


@router.get(
    "/collections/{collectionId}/tiles",
    dependencies=[JSONOutput],
    summary="Tilesets of a collection",
    responses=problems(503),
)
def collection_tilesets(
    request: Request,
    repository: RepositoryDep,
    collection_id: CollectionId,
    visible: EstimatesVisibleDep,
) -> JSONAnswer:
    """The vector tilesets of a collection (one, on WebMercatorQuad)."""
    found = find_collection(repository, collection_id, visible)
    url = request.url_for("collection_tilesets", collectionId=found.id)
    return JSONAnswer(
        {
            "links": [link(url, "self", MediaType.json)],
            "tilesets": [_tileset_summary(request, found)],
        }
    )


@router.get(
    TILESET_PATH,
    dependencies=[JSONOutput],
    summary="A collection's vector tileset",
    responses=problems(503),
)
def collection_tileset(
    request: Request,
    repository: RepositoryDep,
    collection_id: CollectionId,
    visible: EstimatesVisibleDep,
) -> JSONAnswer:
    """The tileset's metadata: the tile URL template, the grid, and the attributes."""
    found = find_collection(repository, collection_id, visible)
    template = str(request.url_for("collection_tileset", collectionId=found.id))
    document = _tileset_summary(request, found)
    document["links"] += [
        {
            **link(
                template + "/{tileMatrix}/{tileRow}/{tileCol}",
                "item",
                MediaType.mvt,
                "Vector tiles",
            ),
            "templated": True,
        },
        link(
            request.url_for("collection", collectionId=found.id),
            REL_GEODATA,
            MediaType.json,
            f"{found.title}: the collection",
        ),
    ]
    document["layers"] = [_tile_layer(repository, found, visible)]
    if found.extent is not None:
        minx, miny, maxx, maxy = found.extent
        document["boundingBox"] = {
            "lowerLeft": [minx, miny],
            "upperRight": [maxx, maxy],
            "crs": CRS84,
        }
        document["tileMatrixSetLimits"] = tile_matrix_set_limits(found.extent)
    return JSONAnswer(document)


@router.get(TILE_PATH, summary="A vector tile", response_class=Response, responses=TILE_RESPONSES)
def collection_tile(
    request: Request,
    repository: RepositoryDep,
    settings: SettingsDep,
    collection_id: CollectionId,
    tile_matrix: TileMatrix,
    tile_row: TileRow,
    tile_col: TileCol,
    visible: EstimatesVisibleDep,
    if_none_match: Annotated[
        str | None,
        Header(alias="If-None-Match", description="The ETag of the copy the client holds."),
    ] = None,
) -> Response:
    """The collection's features that meet one tile, clipped to it, as a Mapbox Vector Tile.

    204 when none does; 304 when `If-None-Match` names the current ETag. A tile outside the
    grid is a 404 that says which of zoom, row or column is out of range.
    """
    tile = tile_address(tile_matrix, tile_row, tile_col)
    etag = _etag(collection_id, _version(repository, collection_id, visible), tile)
    scope = "private" if visible.owner_only else "public"
    headers = {"ETag": etag, "Cache-Control": f"{scope}, max-age={settings.api.tile_max_age}"}
    if visible.owner_only:
        headers["Vary"] = "X-API-Key"
    if _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    cache: TileCache = request.app.state.tile_cache
    body = cache.get(etag)
    if body is None:
        body = _make_tile(repository, collection_id, tile, visible)
        cache.put(etag, body)
    if not body:
        return Response(status_code=204, headers=headers)
    return Response(body, media_type=MediaType.mvt, headers=headers)
