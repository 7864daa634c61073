"""Request ids and the access and error logs, read as `takeoff serve` writes them with
`TAKEOFF_LOG_FORMAT=json`: one JSON object a line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient

from app.logs import formatter, log_config
from app.main import create_app
from app.routes.requestlog import RequestIdFilter
from tests.conftest import BACKENDS, app_settings, fresh_store


@pytest.fixture(scope="module", params=BACKENDS)
def client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """The app on each store, with one route that fails as a bug would."""
    store = fresh_store(request, tmp_path_factory.mktemp(f"log-{request.param}"))
    app = create_app(app_settings(store))

    def broken() -> None:
        raise RuntimeError("a bug with a secret inside")

    app.add_api_route("/broken", broken)
    with TestClient(app, raise_server_exceptions=False) as app_client:
        yield app_client


@contextmanager
def _captured() -> Iterator[list[dict]]:
    """What the service logs in the block, as the JSON lines `serve`'s handler writes."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter("json"))
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("app")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    lines: list[dict] = []
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        lines.extend(json.loads(line) for line in stream.getvalue().splitlines())


def _access(lines: list[dict], request_id: str) -> dict:
    [access] = [
        line
        for line in lines
        if line["logger"] == "app.access" and line["request_id"] == request_id
    ]
    return access


@pytest.mark.parametrize("given", ["has space", "x" * 129, "-leading-dash", "a\tb"])
def test_an_unusable_request_id_is_replaced(client: TestClient, given: str) -> None:
    answer = client.get("/conformance", headers={"X-Request-ID": given})
    made = answer.headers["x-request-id"]
    assert made != given and len(made) == 32 and int(made, 16) >= 0


def test_access_records_carry_id_method_path_route_status_and_duration(
    client: TestClient,
) -> None:
    with _captured() as lines:
        kept = client.get("/templates/local-flexible", headers={"X-Request-ID": "req-42.a:b"})
        missing = client.get("/templates/nope")
    assert kept.headers["x-request-id"] == "req-42.a:b"
    found = _access(lines, "req-42.a:b")
    assert found["method"] == "GET"
    assert found["path"] == "/templates/local-flexible"
    assert found["route"] == "/templates/{slug}"
    assert found["status"] == 200
    assert found["level"] == "INFO"
    assert isinstance(found["duration_ms"], float) and found["duration_ms"] >= 0
    assert "timestamp" in found
    problem = missing.json()
    assert missing.status_code == 404
    assert problem["request_id"] == missing.headers["x-request-id"]
    assert _access(lines, problem["request_id"])["status"] == 404


def test_a_bug_is_a_500_problem_whose_id_finds_the_logged_traceback(client: TestClient) -> None:
    with _captured() as lines:
        answer = client.get("/broken", headers={"X-Request-ID": "bug-1"})
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["x-request-id"] == "bug-1"
    assert answer.json()["request_id"] == "bug-1"
    assert "secret" not in answer.text and "RuntimeError" not in answer.text
    [error] = [line for line in lines if line["level"] == "ERROR"]
    assert error["request_id"] == "bug-1"
    assert "RuntimeError: a bug with a secret inside" in error["exc_info"]
    assert _access(lines, "bug-1")["status"] == 500
    assert _access(lines, "bug-1")["route"] == "/broken"


def test_a_record_outside_a_request_has_no_id() -> None:
    record = logging.LogRecord("app.x", logging.INFO, __file__, 1, "started", None, None)
    RequestIdFilter().filter(record)
    line = json.loads(formatter("json").format(record))
    assert line["request_id"] is None and line["message"] == "started"


def test_serve_writes_app_and_server_records_through_one_handler() -> None:
    config = log_config("json")
    assert config["formatters"]["takeoff"] == {"()": "app.logs.formatter", "log_format": "json"}
    assert config["handlers"]["stderr"]["filters"] == ["request_id"]
    assert {name: logger["handlers"] for name, logger in config["loggers"].items()} == {
        "app": ["stderr"],
        "uvicorn": ["stderr"],
    }
