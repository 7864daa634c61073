"""Engines, start-up checks and migrations for both store backends."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import psycopg
import shapely
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from app.errors import StoreUnavailable
from app.resources import migrations_dir
from app.settings import StoreSettings
from app.store.cql import CONVERSE

ANSWER_GRACE_SECONDS = 2.0
"""How long past its statement timeout a server is waited for before it is taken for frozen:
the server cancels a slow statement itself, so a longer silence means it answers nothing."""
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 5}
"""TCP keepalives, so an idle pooled connection to a host that vanished is noticed."""


class AnsweringConnection(psycopg.Connection[Any]):
    """A psycopg connection that waits at most `answer_timeout` seconds for each answer.

    PostgreSQL's `statement_timeout` needs a server that runs; a frozen one (a stopped
    process, a proxy that stops forwarding) still has its kernel acknowledge every packet, so
    neither TCP keepalives nor `tcp_user_timeout` notice it. Past the deadline the connection
    is closed, which SQLAlchemy reads as a disconnect and drops from its pool, and `silent`
    is called.
    """

    answer_timeout: float | None = None
    silent: Callable[[], None] = staticmethod(lambda: None)

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        """psycopg's wait, with the connection's deadline when the caller gives none."""
        try:
            return super().wait(gen, interval, timeout or self.answer_timeout)
        except psycopg.errors._WaitTimeout:
            if timeout is not None:
                raise
            self.pgconn.finish()
            self.silent()
            raise psycopg.OperationalError(
                f"the database did not answer within {self.answer_timeout:g} s"
            ) from None


class Breaker:
    """After the database failed to connect or to answer, new connections fail at once for
    `seconds`: a request that reads the store several times then waits for one deadline,
    not one per read, and a crowd of requests does not queue on a dead server."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._refusing_until = 0.0

    def trip(self) -> None:
        """The database just failed: refuse connections for a while."""
        self._refusing_until = time.monotonic() + self.seconds

    def check(self) -> None:
        """Raise at once while tripped."""
        if time.monotonic() < self._refusing_until:
            raise psycopg.OperationalError(
                "the database could not be reached a moment ago; not trying again yet"
            )


def create_store_engine(settings: StoreSettings, *, serving: bool = True) -> Engine:
    """An engine for the configured store; makes the embedded store's folder if needed.

    On PostGIS a connection is given up after `db_connect_timeout_seconds`, and so is a
    pooled one that does not answer the test it gets before each use (so the pool recovers
    by itself when the database returns). When `serving` (not for migrations and imports an
    operator runs and watches) a statement is cancelled after `db_statement_timeout_seconds`,
    and a server silent a little longer is given up: a request then fails fast as "store
    unavailable" instead of hanging. The pool keeps `db_pool_size` connections: one opened
    and closed per request when more requests run at once costs more than the request.
    Requests run without JIT (unless the URL's options turn
    it on): PostGIS functions cost so much to the planner that a vector tile passed the JIT
    threshold, and compiling took PostgreSQL longer (about 45 ms) than making the tile.
    """
    if settings.backend == "sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(settings.url, connect_args={"timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    wait = settings.db_connect_timeout_seconds
    connect_args: dict[str, Any] = {"connect_timeout": wait, **KEEPALIVES}
    answer_timeout = None
    if serving:
        statement_ms = round(settings.db_statement_timeout_seconds * 1000)
        given = sa.make_url(settings.url).query.get("options", "")  # the URL's, kept
        connect_args["options"] = f"-c jit=off {given} -c statement_timeout={statement_ms}"
        answer_timeout = settings.db_statement_timeout_seconds + ANSWER_GRACE_SECONDS
    engine = sa.create_engine(
        settings.url,
        pool_pre_ping=True,
        pool_timeout=wait,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        connect_args=connect_args,
    )
    breaker = Breaker(wait)

    @sa.event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> AnsweringConnection:
        breaker.check()
        try:
            connection = AnsweringConnection.connect(*cargs, **cparams)
        except psycopg.OperationalError:
            breaker.trip()
            raise
        connection.answer_timeout = wait  # until checked out: its first test is quick
        connection.silent = breaker.trip
        return connection

    @sa.event.listens_for(engine, "checkout")
    def _in_use(connection: Any, _record: Any, _proxy: Any) -> None:
        connection.answer_timeout = answer_timeout

    @sa.event.listens_for(engine, "checkin")
    def _pooled(connection: Any, _record: Any) -> None:
        if connection is not None:
            connection.answer_timeout = wait

    return engine


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


def _alembic_config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (default: the newest)."""
    check_store(engine)
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to `revision` (`base` removes every table)."""
    check_store(engine)
    with engine.begin() as connection:
        command.downgrade(_alembic_config(connection), revision)


def schema_revisions(engine: Engine) -> tuple[str | None, str | None]:
    """(revision the database is at, newest revision shipped)."""
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
        head = ScriptDirectory.from_config(_alembic_config(connection)).get_current_head()
    return current, head


def require_current_schema(engine: Engine) -> None:
    """Refuse to serve on a schema older or newer than this version of the code."""
    current, head = schema_revisions(engine)
    if current != head:
        raise StoreUnavailable(
            f"the database schema is at revision {current or 'none'}, this version needs "
            f"{head}: run `takeoff db upgrade`"
        )
