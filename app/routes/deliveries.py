"""What was delivered to a saved estimate's site and built there, against what it planned.

`POST /estimates/{id}/deliveries` records delivery tickets and `POST /estimates/{id}/tests`
field tests (API key; who sent each record and when is kept, and a correction is a new
record that supersedes one); `GET /estimates/{id}/reconciliation` answers delivered against
planned per material (`app.estimate.reconciliation`) and cores against design per layer
(`app.estimate.fieldtests`), as JSON or a workbook; the tests of every estimate a reader may
see are also the `field-tests` collection (`app.routes.ogc`), each with its status.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

import shapely
from fastapi import APIRouter, Body, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from app.errors import InvalidInput
from app.estimate.fieldtests import StoredTest, layer_checks, read_field_tests, test_statuses
from app.estimate.reconciliation import read_tickets, reconcile
from app.geo.parse import parse_geojson
from app.io import xlsx
from app.io.reconciliation_xlsx import reconciliation_workbook
from app.io.ticket_csv import read_ticket_csv
from app.routes.deps import (
    EstimatesVisibleDep,
    KeyOwnerDep,
    RepositoryDep,
    SettingsDep,
    estimates_visible,
)
from app.routes.downloads import download
from app.routes.errors import problems
from app.routes.responses import JSONAnswer
from app.store.repository import Repository, StoredEstimate, StoredFeature, Visibility

router = APIRouter(prefix="/estimates", tags=["Deliveries"], responses=problems(503))

TICKETS_EXAMPLE = {
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
TICKETS_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {"type": "object"},
            "description": '`{"deliveries": [{"ticket", "date", "material", "quantity", "unit", '
            '"feature" (optional), "supersedes" (optional: the id of the ticket it corrects)}]}`',
            "example": TICKETS_EXAMPLE,
        },
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "CSV with columns ticket, date, material, quantity, "
                        "unit and optionally feature and supersedes.",
                    }
                },
                "required": ["file"],
            }
        },
    },
}


@router.post(
    "/{estimate_id}/deliveries",
    status_code=201,
    summary="Record delivery tickets (JSON or a CSV upload)",
    openapi_extra={"requestBody": TICKETS_BODY},
)
async def add_deliveries(
    estimate_id: int,
    request: Request,
    repository: RepositoryDep,
    settings: SettingsDep,
    owner: KeyOwnerDep,
    decimal: Annotated[
        str, Query(description="Decimal mark of a CSV upload's quantities: , (default) or .")
    ] = ",",
) -> JSONAnswer:
    """Every ticket is recorded, or none when one is wrong: a 422 naming the ticket's index
    in a JSON body, or its CSV row and column in an upload (field `file`)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    upload: bytes | None = None
    body: Any = None
    if content_type == "multipart/form-data":
        form = await request.form()
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise InvalidInput("send the CSV as the form field 'file'", field="file")
        upload = await file.read()
    else:
        try:
            body = json.loads(await request.body())
        except ValueError:
            raise InvalidInput(
                "send JSON {\"deliveries\": [...]} or a CSV upload in the form field 'file'",
                field="body",
            ) from None
    visible = estimates_visible(settings, owner)
    ids = await run_in_threadpool(
        record_tickets,
        repository,
        estimate_id,
        visible,
        body,
        upload,
        decimal,
        owner,
    )
    return JSONAnswer({"ids": ids, "count": len(ids)}, status_code=201)


def record_tickets(
    repository: Repository,
    estimate_id: int,
    visible: Visibility,
    body: Any,
    upload: bytes | None,
    decimal: str,
    owner: str | None,
) -> list[int]:
    """Read the tickets of a JSON body or a CSV upload and record them all, or none."""
    saved = repository.get_estimate(estimate_id, visible)
    rows = None if upload is None else read_ticket_csv(upload, decimal)
    try:
        tickets = read_tickets(
            body if rows is None else rows.records,
            saved.result.get("materials", []),
            saved.properties["features"],
        )
        return repository.add_deliveries(estimate_id, tickets, owner)
    except InvalidInput as exc:
        if rows is None:
            raise
        raise rows.renamed(exc) from None


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
) -> JSONAnswer:
    """Cores (`thickness_mm`, optional `density_t_m3`) and sand cones (`density_t_m3`) of a
    layer, placed by `feature` index or `point` [lon, lat]; all recorded, or none."""
    saved = repository.get_estimate(estimate_id, estimates_visible(settings, owner))
    catalog = repository.catalogs.get(saved.catalog_slug, saved.catalog_version).body
    layers, _ = design_layers(repository, saved, catalog)
    tests = read_field_tests(body, layers, saved.properties["features"])
    ids = repository.add_field_tests(estimate_id, tests, owner)
    return JSONAnswer({"ids": ids, "count": len(ids)}, status_code=201)


class ReconciliationFormat(StrEnum):
    """Formats a reconciliation can be had in."""

    json = "json"
    xlsx = "xlsx"


def reconciliation_answer(repository: Repository, saved: StoredEstimate) -> dict[str, Any]:
    """Per material: planned (order quantity), delivered, difference, status and, for
    tonnes, the yield; per layer: design and mean core thickness and cores below tolerance."""
    catalog = repository.catalogs.get(saved.catalog_slug, saved.catalog_version).body
    tolerance = float((catalog.get("vehicles") or {}).get("delivery_tolerance_pct", 0.0))
    tickets = repository.deliveries(saved.id)
    answer = reconcile(saved.result.get("materials", []), tickets, tolerance)
    layers, thickness_tolerances = design_layers(repository, saved, catalog)
    checks, warnings = layer_checks(layers, thickness_tolerances, repository.field_tests(saved.id))
    return {
        "estimate": saved.id,
        "tickets": len(tickets),
        **answer,
        "layers": checks,
        "warnings": [*answer["warnings"], *warnings],
    }


@router.get(
    "/{estimate_id}/reconciliation",
    summary="Delivered and built against planned",
    responses={200: {"content": {xlsx.MEDIA_TYPE: {}}}},
)
def reconciliation(
    estimate_id: int,
    repository: RepositoryDep,
    visible: EstimatesVisibleDep,
    f: Annotated[
        ReconciliationFormat,
        Query(description="json (default) or xlsx (sheets Materials, Layers, Warnings)."),
    ] = ReconciliationFormat.json,
) -> Response:
    """The reconciliation (`reconciliation_answer`) as JSON or, with `f=xlsx`, a workbook."""
    answer = reconciliation_answer(repository, repository.get_estimate(estimate_id, visible))
    if f == ReconciliationFormat.xlsx:
        return download(
            reconciliation_workbook(answer),
            xlsx.MEDIA_TYPE,
            f"reconciliation-{estimate_id}.xlsx",
        )
    return JSONAnswer(answer)


def field_test_features(repository: Repository, visible: Visibility) -> list[StoredFeature]:
    """The field tests of the estimates `visible` to the reader as point features, each with
    its status (`app.estimate.fieldtests.test_statuses`): at its point, or inside the
    estimate's feature it names."""
    grouped: dict[int, list[StoredTest]] = {}
    for estimate_id, test in repository.visible_field_tests(visible):
        grouped.setdefault(estimate_id, []).append(test)
    features = []
    for estimate_id, tests in grouped.items():
        saved = repository.get_estimate(estimate_id, visible)
        catalog = repository.catalogs.get(saved.catalog_slug, saved.catalog_version).body
        layers, tolerances = design_layers(repository, saved, catalog)
        statuses = test_statuses(layers, tolerances, tests)
        drawn: list[shapely.Geometry] = []
        if any(test.feature is not None for test in tests):
            query = saved.request.get("query") or {}
            parsed = parse_geojson(saved.request["body"], crs=query.get("crs"))
            drawn = list(shapely.point_on_surface(parsed.geometries))
        for test, status in zip(tests, statuses, strict=True):
            point = (
                drawn[test.feature]
                if test.feature is not None
                else shapely.Point(test.lon or 0.0, test.lat or 0.0)
            )
            properties = {
                "estimate": estimate_id,
                "sample": test.sample,
                "date": test.tested_on.isoformat(),
                "kind": test.kind,
                "layer": test.layer,
                "thickness_mm": test.thickness_mm,
                "density_t_m3": test.density_t_m3,
                "design_thickness_mm": layers.get(test.layer),
                "tolerance_mm": tolerances.get(test.layer),
                "feature": test.feature,
                "supersedes": test.supersedes,
                "status": status,
            }
            features.append(StoredFeature(test.id, None, point, properties))
    return sorted(features, key=lambda feature: feature.id)
