"""Liveness and store health."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app import __version__
from app.errors import StoreUnavailable
from app.routes.deps import RepositoryDep
from app.store.database import check_store

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Service version and store health")
def healthz(repository: RepositoryDep) -> JSONResponse:
    """200 with the store's description, 503 when the database cannot be reached."""
    try:
        store = check_store(repository.engine)
    except StoreUnavailable as exc:
        body = {"status": "unavailable", "version": __version__, "detail": str(exc)}
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ok", "version": __version__, **store})
