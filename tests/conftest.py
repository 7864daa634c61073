"""Fixtures shared by every test package.

The PostGIS database comes from `TAKEOFF_TEST_DATABASE_URL` (the README's test command
creates a throw-away one and migrates it). When `TAKEOFF_TEST_REQUIRE_POSTGIS=1` a missing
URL is an error, never a silent skip. Store-level tests take the `repository` fixture and
routes the `client` fixture (the app in this process): both run once on the embedded SQLite
store and once on PostGIS. Only tests of real clients (GDAL, a browser, the command line)
start `takeoff serve` (`tests.live`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings, StoreSettings
from app.store.database import create_store_engine, upgrade
from app.store.models import Base
from app.store.repository import Repository

BACKENDS = ["sqlite", "postgis"]
API_KEY = "test-key-0123456789abcdef"
BASE = "http://testserver"


@pytest.fixture(scope="session", autouse=True)
def _no_takeoff_environment() -> Iterator[None]:
    """In-process apps read the settings they are not given from `TAKEOFF_*` variables:
    none of the developer's may leak into a test (the test database's are kept)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("TAKEOFF_") and not name.startswith("TAKEOFF_TEST_"):
                patch.delenv(name)
        yield


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


def fresh_store(request: pytest.FixtureRequest, folder: Path) -> StoreSettings:
    """A new, migrated store for the backend `request.param`, its own PostGIS database or
    SQLite file."""
    if request.param == "sqlite":
        return StoreSettings(database_url=None, data_dir=folder / "store")
    url = request.getfixturevalue("make_postgis_database")()
    settings = StoreSettings(database_url=url, data_dir=folder / "store")
    engine = create_store_engine(settings)
    upgrade(engine)
    engine.dispose()
    return settings


def app_settings(store: StoreSettings, **fields: Any) -> Settings:
    """Settings of an app on `store` that accepts `API_KEY`, with `fields` changed."""
    return Settings(store=store, api_keys=[API_KEY], **fields)


@pytest.fixture(scope="module", params=BACKENDS)
def client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """The app in this process on a fresh store of each backend, with one API key, per
    test module; requests go to `http://testserver`."""
    store = fresh_store(request, tmp_path_factory.mktemp(f"client-{request.param}"))
    with TestClient(create_app(app_settings(store))) as app_client:
        yield app_client


def store_env(client: TestClient) -> dict[str, str | None]:
    """`TAKEOFF_*` settings (for `run_takeoff`) of the store the in-process app uses."""
    store: StoreSettings = client.app.state.settings.store  # type: ignore[attr-defined]
    return {"data_dir": str(store.data_dir), "database_url": store.database_url}


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shipped data folder."""
    return Path(__file__).resolve().parent.parent / "data"
