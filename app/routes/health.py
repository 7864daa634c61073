"""Liveness and store health."""

from __future__ import annotations

import logging

from fastapi import APIRouter

from app import __version__
from app.errors import StoreUnavailable
from app.routes.deps import RepositoryDep
from app.routes.errors import RETRY_AFTER_SECONDS
from app.routes.responses import JSONAnswer
from app.store.database import check_store

router = APIRouter(tags=["health"])
logger = logging.getLogger(__name__)


@router.get(
    "/healthz",
    summary="Service version and store health",
    responses={
        503: {
            "description": "The store cannot be reached or used",
            "content": {"application/json": {}},
        }
    },
)
def healthz(repository: RepositoryDep) -> JSONAnswer:
    """200 with the backend and its versions, 503 when the store is unusable; never its address.

    Why a store is unusable (with its host and database) is logged, not shown to anyone who
    can reach the service.
    """
    try:
        store = check_store(repository.engine)
    except StoreUnavailable as exc:
        logger.error("store unavailable: %s", exc)
        backend = "postgis" if repository.engine.dialect.name == "postgresql" else "sqlite"
        body = {
            "status": "unavailable",
            "version": __version__,
            "backend": backend,
            "detail": "cannot reach the database or use it; the reason is in the service log",
        }
        return JSONAnswer(body, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    return JSONAnswer({"status": "ok", "version": __version__, **store})
