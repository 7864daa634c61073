"""`/metrics`, scraped and parsed as Prometheus does, on both stores; and summed over the
workers of `takeoff serve --workers 2`."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from app.main import create_app
from app.metrics import forget_dead_workers
from tests.conftest import API_KEY, BACKENDS, app_settings, fresh_store
from tests.live import LiveServer

BEARER = {"Authorization": f"Bearer {API_KEY}"}


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scrape: dict, name: str, **labels: str) -> float:
    """One sample's value; 0 where the scrape has none (a series not yet counted)."""
    return scrape.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture(scope="module", params=BACKENDS)
def client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    store = fresh_store(request, tmp_path_factory.mktemp(f"metrics-{request.param}"))
    with TestClient(create_app(app_settings(store, max_running_jobs=3))) as app_client:
        yield app_client


def _scrape(client: TestClient) -> dict:
    answer = client.get("/metrics", headers=BEARER)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return samples(answer.text)


def test_metrics_need_a_key_unless_made_public(client: TestClient, tmp_path: Path) -> None:
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert client.get("/metrics", headers={"Authorization": "Bearer not-a-key"}).status_code == 401
    assert client.get("/metrics", headers={"X-API-Key": API_KEY}).status_code == 200
    store = client.app.state.settings.store  # type: ignore[attr-defined]
    public = create_app(app_settings(store, metrics_public=True))
    with TestClient(public) as anyone:
        assert anyone.get("/metrics").status_code == 200


def test_requests_are_counted_by_route_template_and_status(client: TestClient) -> None:
    before = _scrape(client)
    for _ in range(3):
        assert client.get("/templates/local-flexible").status_code == 200
    assert client.get("/templates/nope").status_code == 404
    assert client.get("/no/such/path").status_code == 404
    after = _scrape(client)

    def added(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    route = {"method": "GET", "route": "/templates/{slug}"}
    assert added("takeoff_http_requests_total", **route, status="200") == 3
    assert added("takeoff_http_requests_total", **route, status="404") == 1
    assert added("takeoff_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert added("takeoff_http_request_duration_seconds_count", **route) == 4
    assert added("takeoff_http_request_duration_seconds_bucket", **route, le="+Inf") == 4


def test_jobs_by_state_come_from_the_store_and_the_pool_size_from_the_settings(
    client: TestClient,
) -> None:
    repository = client.app.state.repository  # type: ignore[attr-defined]
    for job_id in ("a" * 36, "b" * 36):
        repository.create_job(job_id, "batch", {}, rows_total=10)
    repository.update_job("b" * 36, status="failed", message="made to fail")
    scrape = _scrape(client)
    assert value(scrape, "takeoff_jobs", state="accepted") == 1
    assert value(scrape, "takeoff_jobs", state="failed") == 1
    assert value(scrape, "takeoff_jobs", state="running") == 0
    assert value(scrape, "takeoff_job_pool_size") == 3  # this module's one app is open
    assert value(scrape, "takeoff_job_pool_jobs", state="running") == 0


def test_two_workers_are_summed_in_one_scrape(tmp_path: Path) -> None:
    with LiveServer(
        "--workers",
        "2",
        "--worker-timeout",
        "30",
        data_dir=str(tmp_path / "store"),
        metrics_public="true",
        max_running_jobs="3",
    ) as server:
        # the server answers once one worker is up; the other opens its pool of 3 soon after
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            scrape = samples(httpx.get(server.url + "/metrics").text)
            if value(scrape, "takeoff_job_pool_size") == 6:
                break
            time.sleep(0.2)
        assert value(scrape, "takeoff_job_pool_size") == 6  # 3 in each worker
        with httpx.Client(base_url=server.url) as http:  # new connections: both workers answer
            for _ in range(8):
                assert http.get("/conformance", headers={"Connection": "close"}).is_success
        scrape = samples(httpx.get(server.url + "/metrics").text)
    route = {"method": "GET", "route": "/conformance", "status": "200"}
    assert value(scrape, "takeoff_http_requests_total", **route) == 8


def test_the_pool_gauges_of_a_dead_worker_are_dropped_at_the_next_scrape(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()  # a worker that has ended
    for pid in (gone.pid, os.getpid()):
        (tmp_path / f"gauge_livesum_{pid}.db").write_bytes(b"")
        (tmp_path / f"counter_{pid}.db").write_bytes(b"")
    forget_dead_workers(tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [f"counter_{gone.pid}.db", f"counter_{os.getpid()}.db", f"gauge_livesum_{os.getpid()}.db"]
    )
