"""Roads of the published layers, found by name and ready to price: what the planner page needs
to go from a street name (or a click on a sample road) to a segment with the right template.

Each road carries a `plan`: the template and width the shipped `osm-highway` map gives its
attributes (`highway`, `lanes`), the same map `takeoff batch --template-map osm-highway` uses.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Path, Query

from app.batch.mapping import TemplateMap, load_template_map
from app.errors import NotFound
from app.routes.deps import RepositoryDep
from app.routes.errors import problems
from app.routes.features import geojson_features
from app.routes.responses import JSONAnswer
from app.store.repository import StoredFeature

router = APIRouter(prefix="/roads", tags=["Roads"], responses=problems(503))

ROAD_MAP = "osm-highway"
MAX_FEATURE_ID = 2**63 - 1


@cache
def road_map() -> TemplateMap:
    """The shipped attribute map, read once."""
    return load_template_map(ROAD_MAP)


def road_plan(properties: dict[str, Any]) -> dict[str, Any]:
    """The template and width (None: the template's default) a road's attributes ask for."""
    mapping = road_map()
    template, _ = mapping.lookup(np.array([properties.get(mapping.column)], dtype=object))
    width = None
    if mapping.width_from is not None:
        columns = {}
        for column in mapping.width_from.columns:
            value = properties.get(column)
            number = (
                value if isinstance(value, int | float) and not isinstance(value, bool) else None
            )
            columns[column] = np.array([np.nan if number is None else float(number)])
        computed = float(mapping.width_from.evaluate(columns)[0])
        width = computed if np.isfinite(computed) and computed > 0 else None
    return {"template": template[0], "width_m": width, "map": ROAD_MAP}


def _road(collection: str, stored: StoredFeature) -> dict[str, Any]:
    feature = geojson_features([stored])[0]
    return {**feature, "collection": collection, "plan": road_plan(stored.properties or {})}


@router.get("/search", summary="Find roads by name across the published layers")
def search(
    repository: RepositoryDep,
    q: Annotated[str, Query(min_length=2, max_length=100, description="Part of a road name.")],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> JSONAnswer:
    """Roads whose `name` contains `q` (any case), layer by layer, at most `limit`."""
    found: list[dict[str, Any]] = []
    for slug in repository.layer_slugs():
        page = repository.find_layer_features(slug, q.strip(), limit - len(found))
        found += [_road(slug, stored) for stored in page.features]
        if len(found) >= limit:
            break
    return JSONAnswer({"type": "FeatureCollection", "features": found})


@router.get("/{collectionId}/{featureId}", summary="One road, with the template it maps to")
def road(
    repository: RepositoryDep,
    collection_id: Annotated[str, Path(alias="collectionId")],
    feature_id: Annotated[str, Path(alias="featureId")],
) -> JSONAnswer:
    """A road layer's feature (by the id its items URL uses) and its `plan`."""
    if not (feature_id.isascii() and feature_id.isdigit()) or int(feature_id) > MAX_FEATURE_ID:
        raise NotFound(f"collection {collection_id!r} has no feature {feature_id!r}")
    return JSONAnswer(
        _road(collection_id, repository.layer_feature(collection_id, int(feature_id)))
    )
