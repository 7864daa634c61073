"""What was delivered to a saved estimate's site, against what it planned.

`POST /estimates/{id}/deliveries` records delivery tickets (API key; who sent each one and
when is kept, and a correction is a new ticket that supersedes one);
`GET /estimates/{id}/reconciliation` answers delivered against planned per material
(`app.estimate.reconciliation`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse

from app.estimate.reconciliation import read_tickets, reconcile
from app.routes.deps import (
    EstimatesVisibleDep,
    KeyOwnerDep,
    RepositoryDep,
    SettingsDep,
    estimates_visible,
)

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


@router.get("/{estimate_id}/reconciliation", summary="Delivered against planned")
def reconciliation(
    estimate_id: int, repository: RepositoryDep, visible: EstimatesVisibleDep
) -> JSONResponse:
    """Per material: planned (order quantity), delivered, difference and status."""
    saved = repository.get_estimate(estimate_id, visible)
    catalog = repository.catalogs.get(saved.catalog_slug, saved.catalog_version).body
    tolerance = float((catalog.get("vehicles") or {}).get("delivery_tolerance_pct", 0.0))
    tickets = repository.deliveries(estimate_id)
    answer = reconcile(saved.result.get("materials", []), tickets, tolerance)
    return JSONResponse({"estimate": estimate_id, "tickets": len(tickets), **answer})
