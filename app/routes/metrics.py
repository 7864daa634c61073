"""`/metrics`: the service's figures for Prometheus (`app.metrics`).

It needs an API key unless `TAKEOFF_METRICS_PUBLIC=true`: route names, request counts and job
numbers say how a public service is used and by how many, which is the operator's to know.
Prometheus sends the key as `Authorization: Bearer <key>` (`authorization` in a scrape
config); `X-API-Key` works too.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST

from app import metrics
from app.errors import Unauthorized
from app.routes.deps import NEEDS_KEY, RepositoryDep, SettingsDep, key_owner
from app.routes.errors import problems

router = APIRouter(tags=["health"], responses=problems(503))


@router.get(
    "/metrics",
    summary="Service metrics in Prometheus text format",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"},
        **problems(401),
    },
)
async def get_metrics(
    request: Request, repository: RepositoryDep, settings: SettingsDep
) -> Response:
    """Requests by route and status, durations, job pool use, jobs by state."""
    if not settings.api.metrics_public:
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        key = request.headers.get("x-api-key") or (bearer if scheme.lower() == "bearer" else None)
        if key_owner(settings, key) is None:
            raise Unauthorized(NEEDS_KEY + " (or 'Authorization: Bearer <key>')")
    body = await run_in_threadpool(metrics.exposition, repository)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
