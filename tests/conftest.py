"""Fixtures shared by every test package.

The PostGIS database comes from `TAKEOFF_TEST_DATABASE_URL` (the README's test command
creates a throw-away one and migrates it). When `TAKEOFF_TEST_REQUIRE_POSTGIS=1` a missing
URL is an error, never a silent skip. Store-level tests take the `store_url` fixture and so
run once on PostGIS and once on the embedded SQLite store.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.settings import StoreSettings
from app.store.database import create_store_engine, upgrade
from app.store.models import Base
from app.store.repository import Repository
from tests.live import LiveServer, run_takeoff

BACKENDS = ["sqlite", "postgis"]


@pytest.fixture(scope="session")
def postgis_url() -> str:
    """URL of the migrated PostGIS test database."""
    url = os.environ.get("TAKEOFF_TEST_DATABASE_URL")
    if not url:
        if os.environ.get("TAKEOFF_TEST_REQUIRE_POSTGIS") == "1":
            pytest.fail("TAKEOFF_TEST_DATABASE_URL is not set but PostGIS is required")
        pytest.skip("no PostGIS database (set TAKEOFF_TEST_DATABASE_URL)")
    return url


@pytest.fixture(scope="session")
def postgis_engine(postgis_url: str) -> Iterator[sa.Engine]:
    """An engine on the PostGIS test database."""
    engine = sa.create_engine(postgis_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def make_postgis_database(postgis_url: str) -> Iterator[Callable[..., str]]:
    """Factory of empty databases (with or without PostGIS), dropped after the session."""
    admin = sa.create_engine(
        sa.make_url(postgis_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    made: list[str] = []

    def make(postgis: bool = True) -> str:
        name = f"takeoff_t_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.exec_driver_sql(f"create database {name}")
        made.append(name)
        url = sa.make_url(postgis_url).set(database=name)
        if postgis:
            engine = sa.create_engine(url)
            with engine.begin() as connection:
                connection.exec_driver_sql("create extension postgis")
            engine.dispose()
        return url.render_as_string(hide_password=False)

    yield make
    with admin.connect() as connection:
        for name in made:
            connection.exec_driver_sql(f"drop database if exists {name} with (force)")
    admin.dispose()


def _empty_tables(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture(params=BACKENDS)
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreSettings]:
    """Settings of an empty, migrated store: embedded SQLite, then PostGIS."""
    if request.param == "sqlite":
        settings = StoreSettings(database_url=None, data_dir=tmp_path / "store")
    else:
        settings = StoreSettings(
            database_url=request.getfixturevalue("postgis_url"), data_dir=tmp_path
        )
    engine = create_store_engine(settings)
    upgrade(engine)
    _empty_tables(engine)
    engine.dispose()
    yield settings


@pytest.fixture
def repository(store_settings: StoreSettings) -> Iterator[Repository]:
    """A repository on an empty store of each backend."""
    engine = create_store_engine(store_settings)
    yield Repository(engine)
    engine.dispose()


API_KEY = "test-key-0123456789abcdef"


def fresh_store(request: pytest.FixtureRequest, folder: Path) -> dict[str, str]:
    """`TAKEOFF_*` settings of a new store for the backend `request.param`, migrated."""
    settings = {"data_dir": str(folder / "store")}
    if request.param == "postgis":
        url = request.getfixturevalue("make_postgis_database")()
        upgraded = run_takeoff("db", "upgrade", database_url=url)
        assert upgraded.returncode == 0, upgraded.stderr
        settings["database_url"] = url
    return settings


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """`takeoff serve` on a fresh store of each backend, with one API key, per test module."""
    settings = fresh_store(request, tmp_path_factory.mktemp("server"))
    with LiveServer(api_keys=f'["{API_KEY}"]', **settings) as live:
        yield live


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shipped data folder."""
    return Path(__file__).resolve().parent.parent / "data"
