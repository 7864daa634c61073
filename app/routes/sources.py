"""`POST /sources`: material sources (plants, quarries, base camps) sent as GeoJSON points.

They are then served as the OGC collection `sources` and feed the nearest source and haul
distance of every estimate's materials.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from app.io.material_sources import SOURCE_KINDS, sources_from_geojson
from app.routes.deps import KeyOwnerDep, RepositoryDep
from app.routes.errors import problems
from app.routes.responses import JSONAnswer

router = APIRouter(prefix="/sources", tags=["Material sources"], responses=problems(503))

SOURCES_BODY = Body(
    description=(
        "A GeoJSON FeatureCollection of points (lon/lat WGS84) with properties `name`, `kind` "
        f"({', '.join(SOURCE_KINDS)}) and `materials`: the material codes supplied, as a list "
        "or comma-separated text."
    ),
    examples=[
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"name": "AMP Contoh", "kind": "AMP", "materials": ["AC-WC"]},
                    "geometry": {"type": "Point", "coordinates": [106.6, -6.2]},
                }
            ],
        }
    ],
)


@router.post("", status_code=201, summary="Add material sources")
def add_sources(
    repository: RepositoryDep,
    owner: KeyOwnerDep,
    body: Annotated[dict[str, Any], SOURCES_BODY],
) -> JSONAnswer:
    """Store every source of the collection, or none when one of them is wrong."""
    sources = sources_from_geojson(body)
    ids = repository.add_sources(sources, owner=owner)
    return JSONAnswer({"ids": ids, "count": len(ids)}, status_code=201)
