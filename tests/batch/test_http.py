"""`POST /batch` and `/jobs` over each store backend, in this process."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from pathlib import Path

import pyogrio
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.batch.conftest import EXCEL_CSV, SAMPLE_LAYER
from tests.conftest import BACKENDS, BASE, app_settings, fresh_store

ASYNC_ROWS = 150


@pytest.fixture(scope="module", params=BACKENDS)
def batch_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    """A fresh store where uploads of more than `ASYNC_ROWS` rows become jobs."""
    store = fresh_store(request, tmp_path_factory.mktemp(f"batch-{request.param}"))
    return app_settings(store, async_batch_rows=ASYNC_ROWS)


@pytest.fixture(scope="module")
def batch_client(batch_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(batch_settings)) as client:
        yield client


def _csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


def _lines(count: int) -> bytes:
    rows = ["id,width_m,wkt"]
    for i in range(count):
        lat = -6.17 - i * 0.0005
        rows.append(f'{i},4,"LINESTRING (106.63 {lat:.4f}, 106.631 {lat:.4f})"')
    rows.append(f"{count},4,LINESTRING (1 2")  # a bad row among them
    return ("\n".join(rows) + "\n").encode()


def test_a_small_spreadsheet_is_answered_at_once(batch_client: TestClient) -> None:
    response = batch_client.post(
        "/batch",
        files={"file": ("jalan.csv", EXCEL_CSV.encode("utf-8"), "text/csv")},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["x-rows"] == "8" and response.headers["x-rows-failed"] == "5"
    rows = _csv_rows(response.content)
    assert [row["id"] for row in rows] == [str(i) for i in range(1, 9)]
    assert rows[2]["error"].startswith("row 3, column width_m")


def test_the_osm_layer_comes_back_as_a_geopackage(batch_client: TestClient, tmp_path: Path) -> None:
    response = batch_client.post(
        "/batch",
        params={"f": "gpkg", "template_map": "osm-highway"},
        files={"file": ("roads.geojson", SAMPLE_LAYER.read_bytes(), "application/geo+json")},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geopackage+sqlite3"
    path = tmp_path / "roads.gpkg"
    path.write_bytes(response.content)
    frame = pyogrio.read_dataframe(path, layer="estimate")
    assert len(frame) == 142 and (frame["status"] == "ok").all()


def test_a_large_upload_becomes_a_job_any_worker_can_report(
    batch_client: TestClient, batch_settings: Settings
) -> None:
    response = batch_client.post(
        "/batch", files={"file": ("many.csv", _lines(ASYNC_ROWS + 20), "text/csv")}
    )
    assert response.status_code == 201, response.text
    location = response.headers["location"]
    assert location.startswith(BASE + "/jobs/")
    status = response.json()
    assert status["status"] in ("accepted", "running", "successful")
    assert status["type"] == "process" and status["processID"] == "batch"
    # another web worker on the same store answers: the state is in the store
    with TestClient(create_app(batch_settings)) as other_worker:
        deadline = time.monotonic() + 60
        while status["status"] in ("accepted", "running") and time.monotonic() < deadline:
            time.sleep(0.1)
            status = other_worker.get(location).json()
        assert status["status"] == "successful", status
        assert status["progress"] == 100
        assert status["summary"]["rows"] == ASYNC_ROWS + 21
        assert status["summary"]["failed"] == 1
        results = next(link for link in status["links"] if link["rel"].endswith("/results"))
        download = other_worker.get(results["href"])
        assert download.status_code == 200
        rows = _csv_rows(download.content)
        assert len(rows) == ASYNC_ROWS + 21
        assert rows[-1]["status"] == "error" and "column wkt" in rows[-1]["error"]
        assert other_worker.get("/jobs").json()["jobs"] == []  # listed to no one


def test_prefer_respond_async_makes_a_small_upload_a_job(batch_client: TestClient) -> None:
    response = batch_client.post(
        "/batch",
        params={"f": "xlsx"},
        headers={"Prefer": "respond-async"},
        files={"file": ("jalan.csv", EXCEL_CSV.encode("utf-8"), "text/csv")},
    )
    assert response.status_code == 201
    assert response.headers["preference-applied"] == "respond-async"


@pytest.mark.parametrize(
    ("files", "params", "detail"),
    [
        ({"file": ("roads.txt", b"wkt\n", "text/plain")}, {}, "upload a CSV"),
        ({"file": ("r.csv", b"wkt\n", "text/csv")}, {"template_map": "../etc/x"}, "shipped"),
        ({"file": ("r.csv", b"wkt\n", "text/csv")}, {"f": "pdf"}, "unknown format"),
        ({"file": ("r.csv", b"a,b\n1,2\n", "text/csv")}, {}, "no geometry column"),
        ({"file": ("r.csv", b"wkt\n", "text/csv")}, {"width_from": "__import__('os')"}, "rule"),
    ],
)
def test_bad_uploads_are_422_never_500(
    batch_client: TestClient, files: dict, params: dict, detail: str
) -> None:
    response = batch_client.post("/batch", files=files, params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert detail in response.json()["detail"]


def test_unknown_jobs_are_404(batch_client: TestClient) -> None:
    assert batch_client.get("/jobs/nope").status_code == 404
    assert batch_client.get("/jobs/nope/results").status_code == 404
