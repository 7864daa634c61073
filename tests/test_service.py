"""The service as a newcomer meets it: `takeoff serve`, `/healthz`, clear start-up errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from app.errors import ConfigurationError
from app.main import create_app
from app.settings import Settings, StoreSettings
from tests.conftest import BACKENDS
from tests.live import LiveServer, run_takeoff


def test_serve_creates_and_fills_the_embedded_store(tmp_path: Path) -> None:
    with LiveServer(data_dir=str(tmp_path / "store")) as server:
        health = httpx.get(server.url + "/healthz")
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "ok"
    assert body["backend"] == "sqlite"
    assert body["postgis"] is None
    assert (tmp_path / "store" / "takeoff.sqlite3").is_file()


def test_health_reports_postgis_and_503_when_the_database_goes_away(
    make_postgis_database: Callable[..., str], postgis_url: str
) -> None:
    url = make_postgis_database()
    assert run_takeoff("db", "upgrade", database_url=url).returncode == 0
    with LiveServer(database_url=url) as server:
        health = httpx.get(server.url + "/healthz")
        assert health.status_code == 200
        assert health.json()["backend"] == "postgis"
        assert health.json()["postgis"].startswith("3.")

        admin = sa.create_engine(
            sa.make_url(postgis_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as connection:
            name = sa.make_url(url).database
            connection.exec_driver_sql(f"drop database {name} with (force)")
        admin.dispose()

        gone = httpx.get(server.url + "/healthz")
    assert gone.status_code == 503
    assert gone.json()["status"] == "unavailable"
    assert "cannot reach the database" in gone.json()["detail"]


def _one_line_error(result) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_unreachable_database_is_one_line() -> None:
    line = _one_line_error(
        run_takeoff("serve", database_url="postgresql+psycopg://postgres@127.0.0.1:1/none")
    )
    assert line.startswith("takeoff: error: cannot reach the database at postgresql")


def test_postgresql_without_postgis_is_one_line(make_postgis_database) -> None:
    url = make_postgis_database(postgis=False)
    line = _one_line_error(run_takeoff("db", "upgrade", database_url=url))
    assert "has no PostGIS extension" in line


def test_bad_setting_value_is_one_line(tmp_path: Path) -> None:
    line = _one_line_error(run_takeoff("serve", data_dir=str(tmp_path), max_vertices="many"))
    assert line.startswith("takeoff: error: invalid setting TAKEOFF_MAX_VERTICES")
    line = _one_line_error(run_takeoff("db", "upgrade", database_url="mysql://db/roads"))
    assert "TAKEOFF_DATABASE_URL" in line and "postgresql+psycopg://" in line


def test_serve_refuses_an_unmigrated_postgis(make_postgis_database) -> None:
    line = _one_line_error(run_takeoff("serve", database_url=make_postgis_database()))
    assert "schema is at revision none" in line and "takeoff db upgrade" in line


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("default_template", "nope", "there is no template 'nope'; known templates: "),
        ("default_catalog", "tangerang-sample@99", "there is no catalog 'tangerang-sample' "),
    ],
)
def test_an_unknown_default_template_or_catalog_stops_serve(
    backend: str,
    setting: str,
    value: str,
    says: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    store: dict[str, str | None] = {"data_dir": str(tmp_path / "store")}
    if backend == "postgis":
        store["database_url"] = request.getfixturevalue("make_postgis_database")()
        assert run_takeoff("db", "upgrade", **store).returncode == 0
    line = _one_line_error(run_takeoff("serve", **store, **{setting: value}))
    assert line.startswith(f"takeoff: error: invalid setting TAKEOFF_{setting.upper()}: ")
    assert says in line
    if setting == "default_template":
        assert "local-flexible" in line  # the known ones are named


def test_an_unknown_default_template_stops_the_app_start(tmp_path: Path) -> None:
    store = StoreSettings(data_dir=tmp_path / "store")
    app = create_app(Settings(store=store, default_template="nope"))
    with pytest.raises(ConfigurationError, match="TAKEOFF_DEFAULT_TEMPLATE"), TestClient(app):
        pass
