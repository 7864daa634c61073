"""Engines, start-up checks and migrations for both store backends."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from alembic.config import Config

from app.errors import StoreUnavailable
from app.resources import migrations_dir
from app.settings import StoreSettings


def create_store_engine(settings: StoreSettings, *, serving: bool = True) -> Engine:
    """An engine for the configured store; makes the embedded store's folder if needed.
    PostGIS engines (`app.store.postgis`, which alone needs psycopg) give up on a database
    that does not answer; `serving` sets the timeouts of requests."""
    if settings.backend == "sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(settings.url, connect_args={"timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    from app.store.postgis import postgis_engine  # psycopg: for PostGIS only

    return postgis_engine(settings, serving=serving)


def outage(exc: BaseException) -> bool:
    """Whether a database error means the store cannot be reached or used just now (down,
    restarting, frozen, out of connections), rather than a fault in what was asked."""
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, sa.exc.OperationalError | sa.exc.TimeoutError)


SQLITE_RELATION = "takeoff_relation"
"""SQL function of the embedded store: `takeoff_relation('within', geom, literal_wkb)` is 1
when the stored geometry stands in that relation to the literal (as PostGIS `ST_Within`)."""


@lru_cache(maxsize=32)
def _prepared(wkb: bytes) -> shapely.Geometry:
    geometry = shapely.from_wkb(wkb)
    shapely.prepare(geometry)
    return geometry


CONVERSE = {"within": "contains", "contains": "within"}
"""Spatial relations that change name when their two sides swap (the others are symmetric)."""


def spatial_relation(relation: str, stored: bytes | None, literal: bytes) -> int | None:
    """`SQLITE_RELATION`: the relation tested from the literal's side, which is prepared once
    for all the rows of a query."""
    if stored is None:
        return None
    test = getattr(shapely, CONVERSE.get(relation, relation))
    return int(test(_prepared(literal), shapely.from_wkb(stored)))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Foreign keys, WAL, LIKE that respects case (as SQL and CQL2 say; PostgreSQL's does),
    and the spatial test filters use."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA case_sensitive_like=ON")
    cursor.close()
    dbapi_connection.create_function(SQLITE_RELATION, 3, spatial_relation, deterministic=True)


def _redacted(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def check_store(engine: Engine) -> dict[str, str | None]:
    """Connect once and say what the store is; a clear `StoreUnavailable` if it is not usable."""
    try:
        with engine.connect() as connection:
            if engine.dialect.name != "postgresql":
                version = connection.exec_driver_sql("select sqlite_version()").scalar()
                return {"backend": "sqlite", "database": f"SQLite {version}", "postgis": None}
            server = connection.exec_driver_sql("show server_version").scalar()
            postgis = connection.exec_driver_sql(
                "select extversion from pg_extension where extname = 'postgis'"
            ).scalar()
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        where = _redacted(engine)
        raise StoreUnavailable(f"cannot reach the database at {where}: {reason}") from exc
    if postgis is None:
        raise StoreUnavailable(
            f"the database at {_redacted(engine)} has no PostGIS extension; "
            "install PostGIS and run CREATE EXTENSION postgis"
        )
    return {"backend": "postgis", "database": f"PostgreSQL {server}", "postgis": str(postgis)}


SCHEMA_HEAD = "0008"
"""The newest migration shipped (`migrations/versions`; a test holds it to alembic's head):
known without loading alembic and the migrations, which would cost every start 0.2 s."""


def _alembic_config(connection: sa.Connection) -> Config:
    from alembic.config import Config  # alembic is loaded only to migrate

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (default: the newest)."""
    from alembic import command

    check_store(engine)
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to `revision` (`base` removes every table)."""
    from alembic import command

    check_store(engine)
    with engine.begin() as connection:
        command.downgrade(_alembic_config(connection), revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: no schema yet)."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        return connection.exec_driver_sql("select version_num from alembic_version").scalar()


def schema_revisions(engine: Engine) -> tuple[str | None, str | None]:
    """(revision the database is at, newest revision shipped), the latter as alembic reads
    it from the migrations."""
    from alembic.script import ScriptDirectory

    with engine.connect() as connection:
        head = ScriptDirectory.from_config(_alembic_config(connection)).get_current_head()
    return current_revision(engine), head


def require_current_schema(engine: Engine) -> None:
    """Refuse to serve on a schema older or newer than this version of the code."""
    current = current_revision(engine)
    if current != SCHEMA_HEAD:
        raise StoreUnavailable(
            f"the database schema is at revision {current or 'none'}, this version needs "
            f"{SCHEMA_HEAD}: run `takeoff db upgrade`"
        )
