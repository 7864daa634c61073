"""The service as a newcomer meets it: `takeoff serve`, `/healthz`, clear start-up errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import sqlalchemy as sa

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
