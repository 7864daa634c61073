"""What was delivered to a saved estimate's site and built there, against what it planned.

`POST /estimates/{id}/deliveries` records delivery tickets and `POST /estimates/{id}/tests`
field tests (API key; who sent each record and when is kept, and a correction is a new
record that supersedes one); `GET /estimates/{id}/reconciliation` answers delivered against
planned per material (`app.estimate.reconciliation`) and cores against design per layer
(`app.estimate.fieldtests`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse

from app.estimate.fieldtests import layer_checks, read_field_tests
from app.estimate.reconciliation import read_tickets, reconcile
from app.routes.deps import (
    EstimatesVisibleDep,
    KeyOwnerDep,
    RepositoryDep,
    SettingsDep,
    estimates_visible,
)
from app.store.repository import Repository, StoredEstimate

router = APIRouter(prefix="/estimates", tags=["Deliveries"])

TICKETS_BODY = Body(
    description=(
        '`{"deliveries": [{"ticket", "date", "material", "quantity", "unit", '
        '"feature" (optional), "supersedes" (optional: the id of the ticket it corrects)}]}`'
    ),
    examples=[
        {
            "deliveries": [
                {
                    "ticket": "DO-0001",
                    "date": "2026-12-01",
                    "material": "AC-WC",
                    "quantity": 9.8,
                    "unit": "t",
                }
            ]
        }
    ],
)


@router.post("/{estimate_id}/deliveries", status_code=201, summary="Record delivery tickets")
def add_deliveries(
    estimate_id: int,
    repository: RepositoryDep,
    settings: SettingsDep,
    owner: KeyOwnerDep,
    body: Annotated[Any, TICKETS_BODY],
) -> JSONResponse:
    """Every ticket is recorded, or none when one is wrong (a 422 naming its index)."""
    saved = repository.get_estimate(estimate_id, estimates_visible(settings, owner))
    tickets = read_tickets(body, saved.result.get("materials", []), saved.properties["features"])
    ids = repository.add_deliveries(estimate_id, tickets, owner)
    return JSONResponse({"ids": ids, "count": len(ids)}, status_code=201)


def design_layers(
    repository: Repository, saved: StoredEstimate, catalog: dict[str, Any]
) -> tuple[dict[str, float], dict[str, float]]:
    """Design thickness (mm) of each placed layer of the estimate's templates, the request's
    thickness override first, and each layer's core tolerance from the catalog."""
    materials = (catalog.get("vehicles") or {}).get("materials", {})
    body = saved.request.get("body") or {}
    overrides = (body.get("overrides") or {}).get("thickness", {}) if isinstance(body, dict) else {}
    layers: dict[str, float] = {}
    for ref in saved.result.get("templates", []):
        template = repository.templates.get(ref["slug"], ref["version"]).body
        for layer in template.get("layers", []):
            code = layer["code"]
            if code in materials and layer.get("thickness_m") and code not in layers:
                layers[code] = round(float(overrides.get(code, layer["thickness_m"])) * 1000, 1)
    tolerances = {
        code: float(materials[code].get("thickness_tolerance_mm") or 0.0) for code in layers
    }
    return layers, tolerances


@router.post("/{estimate_id}/tests", status_code=201, summary="Record field tests")
def add_field_tests(
    estimate_id: int,
    repository: RepositoryDep,
    settings: SettingsDep,
    owner: KeyOwnerDep,
    body: Annotated[Any, Body(description='`{"tests": [...]}`: cores and sand cones')],
) -> JSONResponse:
    """Cores (`thickness_mm`, optional `density_t_m3`) and sand cones (`density_t_m3`) of a
    layer, placed by `feature` index or `point` [lon, lat]; all recorded, or none."""
    saved = repository.get_estimate(estimate_id, estimates_visible(settings, owner))
    catalog = repository.catalogs.get(saved.catalog_slug, saved.catalog_version).body
    layers, _ = design_layers(repository, saved, catalog)
    tests = read_field_tests(body, layers, saved.properties["features"])
    ids = repository.add_field_tests(estimate_id, tests, owner)
    return JSONResponse({"ids": ids, "count": len(ids)}, status_code=201)


@router.get("/{estimate_id}/reconciliation", summary="Delivered and built against planned")
def reconciliation(
    estimate_id: int, repository: RepositoryDep, visible: EstimatesVisibleDep
) -> JSONResponse:
    """Per material: planned (order quantity), delivered, difference, status and, for
    tonnes, the yield; per layer: design and mean core thickness and cores below tolerance."""
    saved = repository.get_estimate(estimate_id, visible)
    catalog = repository.catalogs.get(saved.catalog_slug, saved.catalog_version).body
    tolerance = float((catalog.get("vehicles") or {}).get("delivery_tolerance_pct", 0.0))
    tickets = repository.deliveries(estimate_id)
    answer = reconcile(saved.result.get("materials", []), tickets, tolerance)
    layers, thickness_tolerances = design_layers(repository, saved, catalog)
    checks, warnings = layer_checks(
        layers, thickness_tolerances, repository.field_tests(estimate_id)
    )
    return JSONResponse(
        {
            "estimate": estimate_id,
            "tickets": len(tickets),
            **answer,
            "layers": checks,
            "warnings": [*answer["warnings"], *warnings],
        }
    )
