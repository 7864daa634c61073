"""What the service does with its store before answering requests."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from app.errors import ConfigurationError, InvalidInput
from app.resolve import resolve_catalog, resolve_templates
from app.resources import data_dir
from app.settings import Settings
from app.store.builtin import sync_builtin_data
from app.store.database import (
    SCHEMA_HEAD,
    check_store,
    current_revision,
    require_current_schema,
    upgrade,
)
from app.store.repository import Repository


def prepare_store(engine: Engine, settings: Settings) -> None:
    """Check the store; migrate the embedded one; load the shipped data; check the defaults.

    PostGIS is only checked, never migrated implicitly: its schema changes are an
    operator's decision (`takeoff db upgrade`), and several workers must not race to make them.
    """
    check_store(engine)
    if settings.store.backend == "sqlite":
        if current_revision(engine) != SCHEMA_HEAD:
            upgrade(engine)
    else:
        require_current_schema(engine)
    repository = Repository(engine)
    sync_builtin_data(repository, data_dir())
    check_defaults(repository, settings)


def check_defaults(repository: Repository, settings: Settings) -> None:
    """Refuse to start with a default template or catalog the store does not have: every
    request naming none would fail, blaming a field its sender never wrote."""
    defaults = settings.estimate
    try:
        resolve_templates(repository, [defaults.default_template])
    except InvalidInput as exc:
        raise ConfigurationError(
            f"invalid setting TAKEOFF_DEFAULT_TEMPLATE: {exc.detail}"
        ) from None
    try:
        resolve_catalog(repository, defaults.default_catalog)
    except InvalidInput as exc:
        raise ConfigurationError(f"invalid setting TAKEOFF_DEFAULT_CATALOG: {exc.detail}") from None
