"""Who may see what: jobs are their creator's, saved estimates are shared or each key's own,
and writes that create data can be made to need a key. On both stores, in process."""

from __future__ import annotations

import csv
import hashlib
import io
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import mapbox_vector_tile
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings, StoreSettings
from app.store.database import create_store_engine, downgrade, upgrade
from tests.conftest import API_KEY, BACKENDS, fresh_store

KEY_A = API_KEY
KEY_B = "second-test-key-fedcba9876543210"
NOT_A_KEY = "nobody-configured-this-key-0000"
AS_A = {"X-API-Key": KEY_A}
AS_B = {"X-API-Key": KEY_B}
ANONYMOUS: dict[str, str] = {}
ROADS_CSV = (
    b"id,width_m,wkt\n"
    b'1,4,"LINESTRING (106.6300 -6.1700, 106.6310 -6.1700)"\n'
    b'2,5,"LINESTRING (106.6300 -6.1710, 106.6310 -6.1710)"\n'
)
ROAD = {
    "type": "Feature",
    "properties": {"name": "Jalan Contoh"},
    "geometry": {"type": "LineString", "coordinates": [[106.63, -6.17], [106.6309, -6.17]]},
}

ClientFactory = Callable[..., Any]


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@pytest.fixture(params=BACKENDS)
def open_client(request: pytest.FixtureRequest, tmp_path: Path) -> ClientFactory:
    """Opens the app in process on a fresh store with keys A and B and the given settings."""
    store = fresh_store(request, tmp_path)

    @contextmanager
    def open_with(**settings: str) -> Iterator[TestClient]:
        app = create_app(Settings(store=store, api_keys=[KEY_A, KEY_B], **settings))
        with TestClient(app) as client:
            yield client

    return open_with


def start_job(client: TestClient, headers: dict[str, str]) -> str:
    response = client.post(
        "/batch",
        headers={"Prefer": "respond-async", **headers},
        files={"file": ("roads.csv", ROADS_CSV, "text/csv")},
    )
    assert response.status_code == 201, response.text
    job_id: str = response.json()["jobID"]
    return job_id


def wait_for(client: TestClient, job_id: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status: dict[str, Any] = client.get(f"/jobs/{job_id}", headers=headers).json()
        if status["status"] not in ("accepted", "running"):
            return status
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


def listed(client: TestClient, headers: dict[str, str]) -> list[str]:
    response = client.get("/jobs", headers=headers)
    assert response.status_code == 200, response.text
    assert [link["rel"] for link in response.json()["links"]] == ["self"]
    return [job["jobID"] for job in response.json()["jobs"]]


def assert_no_such_job(response: httpx.Response, job_id: str) -> None:
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == f"there is no job {job_id!r}"


def test_jobs_are_listed_and_read_only_by_their_creator(open_client: ClientFactory) -> None:
    with open_client() as client:
        job_a, job_b, job_anon = (start_job(client, h) for h in (AS_A, AS_B, ANONYMOUS))
        assert wait_for(client, job_a, AS_A)["status"] == "successful"
        assert wait_for(client, job_b, AS_B)["status"] == "successful"
        assert wait_for(client, job_anon, ANONYMOUS)["status"] == "successful"

        assert listed(client, AS_A) == [job_a]
        assert listed(client, AS_B) == [job_b]
        assert listed(client, ANONYMOUS) == []

        for path in (f"/jobs/{job_a}", f"/jobs/{job_a}/results"):
            assert client.get(path, headers=AS_A).status_code == 200
            assert_no_such_job(client.get(path, headers=AS_B), job_a)
            assert_no_such_job(client.get(path), job_a)
        assert_no_such_job(
            client.get("/jobs/3f1c2a9e-0000-4000-8000-000000000000"),
            "3f1c2a9e-0000-4000-8000-000000000000",
        )
        results = client.get(f"/jobs/{job_a}/results", headers=AS_A)
        rows = list(csv.DictReader(io.StringIO(results.text)))
        assert [(row["id"], row["status"]) for row in rows] == [("1", "ok"), ("2", "ok")]

        # a job made without a key is read by whoever holds its id, key or not
        for headers in (ANONYMOUS, AS_B):
            assert client.get(f"/jobs/{job_anon}", headers=headers).json()["jobID"] == job_anon
            assert client.get(f"/jobs/{job_anon}/results", headers=headers).status_code == 200

        refused = client.get("/jobs", headers={"X-API-Key": NOT_A_KEY})
        assert refused.status_code == 401
        assert "X-API-Key" in refused.json()["detail"]


def test_job_ids_are_random_and_owners_are_key_digests(open_client: ClientFactory) -> None:
    with open_client() as client:
        ids = [start_job(client, AS_A) for _ in range(3)] + [start_job(client, ANONYMOUS)]
        for job_id in ids:
            wait_for(client, job_id, AS_A if job_id != ids[-1] else ANONYMOUS)
        repository = client.app.state.repository  # type: ignore[attr-defined]
        owners = [repository.get_job(job_id).owner for job_id in ids]
    assert owners == [digest(KEY_A)] * 3 + [None]
    assert len(set(ids)) == 4
    assert all(uuid.UUID(job_id).version == 4 for job_id in ids)


def save(client: TestClient, headers: dict[str, str]) -> httpx.Response:
    return client.post("/estimates", params={"save": "true"}, json=ROAD, headers=headers)


def saved_id(client: TestClient, headers: dict[str, str]) -> int:
    response = save(client, headers)
    assert response.status_code == 201, response.text
    estimate_id: int = response.json()["id"]
    return estimate_id


def items(client: TestClient, headers: dict[str, str]) -> list[int]:
    page = client.get("/collections/estimates/items", headers=headers).json()
    assert page["numberMatched"] == len(page["features"])
    return [feature["id"] for feature in page["features"]]


def test_saved_estimates_are_a_shared_register_by_default(open_client: ClientFactory) -> None:
    with open_client() as client:
        mine, anonymous = saved_id(client, AS_A), saved_id(client, ANONYMOUS)
        for headers in (ANONYMOUS, AS_B):
            assert client.get(f"/estimates/{mine}", headers=headers).status_code == 200
            assert items(client, headers) == [mine, anonymous]
        repository = client.app.state.repository  # type: ignore[attr-defined]
        assert repository.get_estimate(mine).owner == digest(KEY_A)
        assert repository.get_estimate(anonymous).owner is None


def test_in_owner_mode_each_key_sees_only_its_own_estimates(open_client: ClientFactory) -> None:
    with open_client(estimates_visibility="owner") as client:
        refused = save(client, ANONYMOUS)
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert "X-API-Key" in refused.json()["detail"]
        assert client.post("/estimates", json=ROAD).status_code == 200  # estimating stays open

        mine, theirs = saved_id(client, AS_A), saved_id(client, AS_B)
        assert items(client, AS_A) == [mine]
        assert items(client, AS_B) == [theirs]
        assert items(client, ANONYMOUS) == []
        collection = client.get("/collections/estimates", headers=AS_B).json()
        assert collection["itemCount"] == 1

        assert client.get(f"/estimates/{mine}", headers=AS_A).json()["id"] == mine
        assert client.get(f"/collections/estimates/items/{mine}", headers=AS_A).status_code == 200
        for headers in (AS_B, ANONYMOUS):
            assert client.get(f"/estimates/{mine}", headers=headers).status_code == 404
            item = client.get(f"/collections/estimates/items/{mine}", headers=headers)
            assert item.status_code == 404
        assert client.delete(f"/estimates/{mine}", headers=AS_B).status_code == 404
        assert client.delete(f"/estimates/{mine}", headers=AS_A).status_code == 204


def test_in_owner_mode_estimate_tiles_are_each_keys_own(open_client: ClientFactory) -> None:
    tile = "/collections/estimates/tiles/WebMercatorQuad/16/33893/52179"  # over ROAD
    with open_client(estimates_visibility="owner") as client:
        mine, theirs = saved_id(client, AS_A), saved_id(client, AS_B)
        answers = {
            key: client.get(tile, headers=headers)
            for key, headers in (("a", AS_A), ("b", AS_B), ("anonymous", ANONYMOUS))
        }
        for key, own in (("a", mine), ("b", theirs)):
            decoded = mapbox_vector_tile.decode(answers[key].content)
            assert [f["id"] for f in decoded["estimates"]["features"]] == [own]
            assert answers[key].headers["cache-control"].startswith("private, ")
            assert answers[key].headers["vary"] == "X-API-Key"
        assert answers["anonymous"].status_code == 204
        assert answers["a"].headers["etag"] != answers["b"].headers["etag"]
        # B's copy of the tile is not A's: A revalidating with B's ETag gets A's tile.
        again = client.get(tile, headers={**AS_A, "If-None-Match": answers["b"].headers["etag"]})
        assert again.status_code == 200
        assert again.content == answers["a"].content


def test_a_setting_makes_writes_need_a_key(open_client: ClientFactory) -> None:
    with open_client(require_key_for_writes="true") as client:
        batch = client.post("/batch", files={"file": ("roads.csv", ROADS_CSV, "text/csv")})
        for refused in (save(client, ANONYMOUS), batch):
            assert refused.status_code == 401, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert "X-API-Key" in refused.json()["detail"]
        assert client.post("/estimates", json=ROAD).status_code == 200
        mine = saved_id(client, AS_A)
        assert client.get(f"/estimates/{mine}").status_code == 200  # still a shared register
        answered = client.post(
            "/batch", headers=AS_A, files={"file": ("roads.csv", ROADS_CSV, "text/csv")}
        )
        assert answered.status_code == 200
        assert answered.headers["x-rows"] == "2"


def test_writes_need_no_key_by_default(open_client: ClientFactory) -> None:
    with open_client() as client:
        assert save(client, ANONYMOUS).status_code == 201
        answered = client.post("/batch", files={"file": ("roads.csv", ROADS_CSV, "text/csv")})
        assert answered.status_code == 200


@pytest.mark.parametrize("backend", BACKENDS)
def test_migration_0003_adds_and_removes_the_owner_columns(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "postgis":
        url = request.getfixturevalue("make_postgis_database")()
        settings = StoreSettings(database_url=url)
    else:
        settings = StoreSettings(database_url=None, data_dir=tmp_path)
    engine = create_store_engine(settings)

    def owner_columns() -> dict[str, set[str]]:
        inspector = sa.inspect(engine)
        return {
            table: {c["name"] for c in inspector.get_columns(table)} & {"owner"}
            | {i["name"] for i in inspector.get_indexes(table) if "owner" in i["column_names"]}
            for table in ("jobs", "estimates")
        }

    upgrade(engine)
    assert owner_columns() == {
        "jobs": {"owner", "ix_jobs_owner_created_at"},
        "estimates": {"owner", "ix_estimates_owner_id"},
    }
    downgrade(engine, "0002")
    assert owner_columns() == {"jobs": set(), "estimates": set()}
    upgrade(engine)
    assert owner_columns()["jobs"] == {"owner", "ix_jobs_owner_created_at"}
    engine.dispose()
