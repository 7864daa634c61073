"""The FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app import __version__
from app.batch.jobs import JobPool
from app.routes import (
    batch,
    deliveries,
    docs,
    estimates,
    health,
    jobs,
    metrics,
    ogc,
    processes,
    programmes,
    roads,
    sources,
    tiles,
    web,
)
from app.routes.documents import catalogs_router, rule_sets_router, templates_router
from app.routes.errors import add_exception_handlers, install_openapi
from app.routes.guard import UnstorableTextGuard
from app.routes.limits import add_request_limits
from app.routes.ratelimit import UNLIMITED_PATHS, RateLimit
from app.routes.requestlog import RequestLog
from app.routes.responses import JSONAnswer
from app.settings import Settings, get_settings
from app.store.database import create_store_engine
from app.store.repository import Repository
from app.store.startup import prepare_store


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app on `settings`, which every route and dependency reads (through
    `app.state.settings`); with none, they are read from the `TAKEOFF_*` environment."""
    if settings is None:
        settings = get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_store_engine(settings.store)
        prepare_store(engine, settings)
        app.state.repository = Repository(engine)
        app.state.jobs = JobPool(app.state.repository, settings)
        yield
        app.state.jobs.close()
        engine.dispose()

    app = FastAPI(
        title="Takeoff",
        version=__version__,
        description="Road geometries in, priced bill of materials out.",
        root_path=settings.api.root_path,
        lifespan=lifespan,
        docs_url=None,  # served by app.routes.docs with local assets
        redoc_url=None,
        default_response_class=JSONAnswer,
    )
    app.state.settings = settings
    app.state.tile_cache = tiles.TileCache(settings.api.tile_cache_bytes)
    app.add_middleware(UnstorableTextGuard)  # inside CORS, so its answers carry CORS headers
    add_request_limits(app, settings.limits)
    if settings.api.rate_limit:
        app.add_middleware(
            RateLimit, rate=settings.api.rate_limit, key_hashes=settings.api.api_key_hashes
        )
    if settings.api.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api.cors_origins,
            allow_methods=["*"],
            expose_headers=["Content-Crs"],  # a web map must know the CRS of what it got
        )
    app.add_middleware(RequestLog)  # outermost: every answer has an id and is logged
    add_exception_handlers(app, settings)
    install_openapi(app, UNLIMITED_PATHS if settings.api.rate_limit else None)
    # routes are tried in order, each router costing a few microseconds to pass: the
    # planner's front door first
    app.include_router(estimates.router)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(docs.router)
    app.include_router(ogc.router)
    app.include_router(tiles.router)
    app.include_router(templates_router)
    app.include_router(catalogs_router)
    app.include_router(rule_sets_router)
    app.include_router(processes.router)
    app.include_router(batch.router)
    app.include_router(programmes.router)
    app.include_router(jobs.router)
    app.include_router(roads.router)
    app.include_router(sources.router)
    app.include_router(deliveries.router)
    app.mount("/web", web.assets, name="web")
    return app
