"""The PostGIS engine's deadlines: the server cancels a statement of a request past
`TAKEOFF_DB_STATEMENT_TIMEOUT_SECONDS` (an outage to the client: 503), not one of an
operator's command; options the database URL gives are kept, and requests run without JIT
unless the URL asks for it."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from app.settings import StoreSettings
from app.store.database import create_store_engine, outage


def _settings(postgis_url: str, tmp_path: Path) -> StoreSettings:
    url = sa.make_url(postgis_url).update_query_dict({"options": "-c work_mem=5MB"})
    return StoreSettings(
        database_url=url.render_as_string(hide_password=False),
        data_dir=tmp_path,
        db_statement_timeout_seconds=0.5,
    )


def test_a_request_statement_is_cancelled_past_its_timeout(
    postgis_url: str, tmp_path: Path
) -> None:
    engine = create_store_engine(_settings(postgis_url, tmp_path))
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("show statement_timeout").scalar() == "500ms"
            assert connection.exec_driver_sql("show work_mem").scalar() == "5MB"
            assert connection.exec_driver_sql("show jit").scalar() == "off"
        with pytest.raises(sa.exc.OperationalError) as cancelled, engine.connect() as connection:
            connection.exec_driver_sql("select pg_sleep(5)")
        assert "statement timeout" in str(cancelled.value)
        assert outage(cancelled.value)
        with engine.connect() as connection:  # the pool goes on
            assert connection.exec_driver_sql("select 1").scalar() == 1
    finally:
        engine.dispose()


def test_an_operators_command_has_no_statement_timeout(postgis_url: str, tmp_path: Path) -> None:
    engine = create_store_engine(_settings(postgis_url, tmp_path), serving=False)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("show statement_timeout").scalar() == "0"
            assert connection.exec_driver_sql("show work_mem").scalar() == "5MB"
    finally:
        engine.dispose()


def test_the_url_may_turn_jit_back_on(postgis_url: str, tmp_path: Path) -> None:
    url = sa.make_url(postgis_url).update_query_dict({"options": "-c jit=on"})
    settings = StoreSettings(
        database_url=url.render_as_string(hide_password=False), data_dir=tmp_path
    )
    engine = create_store_engine(settings)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("show jit").scalar() == "on"
    finally:
        engine.dispose()


def test_the_pool_keeps_the_configured_number_of_connections(
    postgis_url: str, tmp_path: Path
) -> None:
    settings = StoreSettings(database_url=postgis_url, data_dir=tmp_path, db_pool_size=12)
    engine = create_store_engine(settings)
    try:
        assert engine.pool.size() == 12  # type: ignore[attr-defined]
    finally:
        engine.dispose()
