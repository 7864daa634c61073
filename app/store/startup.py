"""What the service does with its store before answering requests."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from app.resources import data_dir
from app.settings import Settings
from app.store.builtin import sync_builtin_data
from app.store.database import check_store, require_current_schema, upgrade
from app.store.repository import Repository


def prepare_store(engine: Engine, settings: Settings) -> None:
    """Check the store; migrate the embedded one; load the shipped data.

    PostGIS is only checked, never migrated implicitly: its schema changes are an
    operator's decision (`takeoff db upgrade`), and several workers must not race to make them.
    """
    check_store(engine)
    if settings.store.backend == "sqlite":
        upgrade(engine)
    else:
        require_current_schema(engine)
    sync_builtin_data(Repository(engine), data_dir())
