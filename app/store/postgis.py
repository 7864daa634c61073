"""PostGIS engines that give up on a database that does not answer (psycopg is imported
only here, so the embedded store never loads it)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.settings import StoreSettings

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


def postgis_engine(settings: StoreSettings, *, serving: bool) -> Engine:
    """A PostGIS engine. A connection is given up after `db_connect_timeout_seconds`, and so is a
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
