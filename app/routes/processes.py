"""OGC API Processes: the estimate as a process, for clients that speak Processes.

It wraps exactly what `POST /estimates` does; inputs are the same options, the geometry is
the GeoJSON body. Execution is synchronous; `response: raw` (the default) answers the
estimate itself, `response: document` wraps it as the `estimate` output.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from app.errors import NotFound
from app.estimate.ahsp import MAX_HAUL_KM
from app.geo.validate import MAX_WIDTH_M
from app.routes.deps import RepositoryDep, SettingsDep
from app.routes.errors import problems
from app.routes.ogc import link
from app.routes.options import EstimateArguments
from app.routes.responses import JSONAnswer, MediaType
from app.service import run_estimate

router = APIRouter(prefix="/processes", tags=["OGC API Processes"])

PROCESS_ID = "estimate"
EXECUTE_REL = "http://www.opengis.net/def/rel/ogc/1.0/execute"


def _string(description: str) -> dict[str, Any]:
    return {"schema": {"type": "string"}, "description": description, "minOccurs": 0}


PROCESS_INPUTS: dict[str, Any] = {
    "geometry": {
        "title": "Road geometries",
        "description": "A GeoJSON Geometry, Feature or FeatureCollection (LineString, "
        "MultiLineString, Polygon, MultiPolygon); feature properties template, width_m, "
        "name and overrides (haul_km among them) apply per feature.",
        "schema": {"type": "object", "contentMediaType": "application/geo+json"},
        "minOccurs": 1,
        "maxOccurs": 1,
    },
    "template": _string("Cross-section template id (or id@version)."),
    "catalog": _string("Rate catalog id (or id@version)."),
    "width_m": {
        "schema": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_WIDTH_M},
        "minOccurs": 0,
    },
    "crs": _string("CRS of the coordinates when not lon/lat WGS84, e.g. EPSG:32748."),
    "dissolve": {"schema": {"type": "boolean"}, "minOccurs": 0},
    "haul_km": {
        "description": "Average haul distance L (km) from base camp or plant to site for "
        "analysed hauled items (default: the delivery plan's distance to the nearest source, "
        "else the catalog's); a feature's haul_km wins.",
        "schema": {"type": "number", "minimum": 0, "maximum": MAX_HAUL_KM},
        "minOccurs": 0,
    },
}


class EstimateInputs(EstimateArguments):
    """The process inputs; unknown inputs are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")

    geometry: dict[str, Any]


class Execute(BaseModel):
    """An execute request (OGC API Processes Part 1)."""

    inputs: EstimateInputs
    outputs: dict[str, Any] | None = None
    response: Literal["raw", "document"] = "raw"


def _summary(request: Request) -> dict[str, Any]:
    description = request.url_for("process_description", process_id=PROCESS_ID)
    execution = request.url_for("execute", process_id=PROCESS_ID)
    return {
        "id": PROCESS_ID,
        "title": "Road materials estimate",
        "description": "Measure road geometries geodesically and price their bill of "
        "materials with a cross-section template and a rate catalog.",
        "version": "1.0.0",
        "jobControlOptions": ["sync-execute"],
        "outputTransmission": ["value"],
        "links": [
            link(description, "self", MediaType.json, "Process description"),
            link(execution, EXECUTE_REL, MediaType.json, "Execute"),
        ],
    }


def _known(process_id: str) -> None:
    if process_id != PROCESS_ID:
        raise NotFound(f"there is no process {process_id!r}; the one process is {PROCESS_ID!r}")


@router.get("", name="processes", summary="Processes")
def processes(request: Request) -> JSONAnswer:
    """The one process this service offers."""
    self_link = link(request.url_for("processes"), "self", MediaType.json)
    return JSONAnswer({"processes": [_summary(request)], "links": [self_link]})


@router.get("/{process_id}", name="process_description", summary="A process description")
def process_description(process_id: str, request: Request) -> JSONAnswer:
    """Inputs and outputs of the estimate process."""
    _known(process_id)
    outputs = {"estimate": {"title": "Bill of materials", "schema": {"type": "object"}}}
    return JSONAnswer({**_summary(request), "inputs": PROCESS_INPUTS, "outputs": outputs})


@router.post(
    "/{process_id}/execution",
    name="execute",
    summary="Execute (synchronously)",
    responses=problems(413, 503),
)
def execute(
    process_id: str, body: Execute, repository: RepositoryDep, settings: SettingsDep
) -> JSONAnswer:
    """Run the estimate; `response: document` wraps it as the `estimate` output."""
    _known(process_id)
    inputs = body.inputs
    query = inputs.query(settings)
    answer = run_estimate(repository, settings, inputs.geometry, query).result.to_dict()
    if body.response == "document":
        answer = {"outputs": {"estimate": answer}}
    return JSONAnswer(answer, headers={"Preference-Applied": "wait"})
