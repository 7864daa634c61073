"""A PostgreSQL server that goes down, comes back, freezes and thaws under a running app.

Requests that need the database get 503 problem+json with `Retry-After` (never a hang, never
a 500); an estimate that saves nothing goes on with the templates and catalog already read;
the app uses the database again as soon as it is back, by itself. The server is a throw-away
cluster of this test's own (`tests.cluster`). The embedded SQLite store is a file in the
service's own process: it has no outage to ride out, so only PostGIS is tested here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pyproj import Geod

from app.main import create_app
from app.settings import StoreSettings
from app.store.database import create_store_engine, upgrade
from app.store.repository import FRESHNESS_SECONDS
from tests.cluster import Cluster, throwaway_cluster
from tests.conftest import API_KEY, app_settings

STREET = {"type": "LineString", "coordinates": [[106.6300, -6.1700], [106.6309, -6.1700]]}
HANG_GUARD_SECONDS = 60
"""Only there so a hang fails the test instead of stalling the suite; the deadlines under
test are a few seconds (connect 2 s, statement 1 s + 2 s)."""


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A running cluster of this module's own, loopback trusted."""
    with throwaway_cluster("--auth=trust") as made:
        yield made


@pytest.fixture(scope="module")
def store(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> StoreSettings:
    """A migrated PostGIS database on the throw-away cluster, with short deadlines."""
    admin = sa.create_engine(
        f"postgresql+psycopg://postgres@127.0.0.1:{cluster.port}/postgres",
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as connection:
        connection.exec_driver_sql("create database roads")
    admin.dispose()
    url = f"postgresql+psycopg://postgres@127.0.0.1:{cluster.port}/roads"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("create extension postgis")
    engine.dispose()
    settings = StoreSettings(
        database_url=url,
        data_dir=tmp_path_factory.mktemp("outage"),
        db_connect_timeout_seconds=2,
        db_statement_timeout_seconds=1,
    )
    migrating = create_store_engine(settings, serving=False)
    upgrade(migrating)
    migrating.dispose()
    return settings


@pytest.fixture(scope="module")
def client(store: StoreSettings) -> Iterator[TestClient]:
    with TestClient(create_app(app_settings(store))) as app_client:
        yield app_client


def _answered(call: Callable[[], httpx.Response]) -> httpx.Response:
    """The answer of `call`, which must come (a hang fails the test)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(call).result(timeout=HANG_GUARD_SECONDS)


def _unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body["title"] == "Store unavailable"
    assert body["request_id"] == response.headers["x-request-id"]
    assert "127.0.0.1" not in response.text and "roads" not in body["detail"]


def _back(client: TestClient) -> None:
    """Wait until the app finds the database again by itself (no request makes it try)."""
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    while _answered(lambda: client.get("/healthz")).status_code != 200:
        assert time.monotonic() < deadline, "the app did not reconnect to the database"
        time.sleep(0.2)


def _estimates(store: StoreSettings) -> int:
    engine = sa.create_engine(store.url)
    with engine.connect() as connection:
        count = connection.scalar(sa.text("select count(*) from estimates"))
    engine.dispose()
    return int(count or 0)


def _length_m() -> float:
    (lon1, lat1), (lon2, lat2) = STREET["coordinates"]
    return float(Geod(ellps="WGS84").line_length([lon1, lon2], [lat1, lat2]))


def _ride_out(client: TestClient, saved: int, unsaved: dict) -> None:
    """While the database cannot be used: what needs it is a 503, the rest answers (once
    the delivery plan's markers, kept `FRESHNESS_SECONDS`, are older than the outage)."""
    time.sleep(FRESHNESS_SECONDS)
    _unavailable(_answered(lambda: client.get(f"/estimates/{saved}")))
    _unavailable(
        _answered(
            lambda: client.post(
                "/estimates", params={"save": "true"}, json=STREET, headers={"X-API-Key": API_KEY}
            )
        )
    )
    health = _answered(lambda: client.get("/healthz"))
    assert health.status_code == 503 and health.headers["retry-after"] == "5"
    estimate = _answered(lambda: client.post("/estimates", json=STREET))
    assert estimate.status_code == 200, estimate.text
    answer = estimate.json()
    assert answer["totals"] == unsaved["totals"]
    assert answer["features"][0]["length_m"] == pytest.approx(_length_m(), abs=0.01)
    assert any("database cannot be reached" in warning for warning in answer["warnings"])


def test_a_stopped_then_frozen_database_is_a_503_and_the_app_recovers_by_itself(
    client: TestClient, cluster: Cluster, store: StoreSettings
) -> None:
    saved = client.post(
        "/estimates", params={"save": "true"}, json=STREET, headers={"X-API-Key": API_KEY}
    )
    assert saved.status_code == 201, saved.text
    unsaved = client.post("/estimates", json=STREET).json()
    assert unsaved["totals"]["total"] == saved.json()["totals"]["total"]

    cluster.stop()
    try:
        _ride_out(client, saved.json()["id"], unsaved)
    finally:
        cluster.start()
    _back(client)
    again = _answered(lambda: client.get(f"/estimates/{saved.json()['id']}"))
    assert again.status_code == 200
    assert again.json()["totals"] == saved.json()["totals"]
    assert _estimates(store) == 1  # the save refused while it was down wrote nothing

    with cluster.frozen():
        _ride_out(client, saved.json()["id"], unsaved)
    _back(client)
    assert _answered(lambda: client.get(f"/estimates/{saved.json()['id']}")).status_code == 200
    resaved = client.post(
        "/estimates", params={"save": "true"}, json=STREET, headers={"X-API-Key": API_KEY}
    )
    assert resaved.status_code == 201
    assert _estimates(store) == 2
