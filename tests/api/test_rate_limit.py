"""`TAKEOFF_RATE_LIMIT`: a client past its allowance gets 429 problem+json with Retry-After.

The limiter counts in memory and never reads the store, so one store (the embedded one) is
enough here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.errors import ConfigurationError
from app.main import create_app
from app.settings import StoreSettings, get_settings
from tests.conftest import API_KEY, app_settings


def _app(tmp_path: Path, rate: str | None) -> TestClient:
    store = StoreSettings(data_dir=tmp_path / "store")
    return TestClient(create_app(app_settings(store, rate_limit=rate)))


def test_a_client_past_its_allowance_gets_429_with_retry_after(tmp_path: Path) -> None:
    with _app(tmp_path, "3/minute") as client:
        answers = [client.get("/conformance").status_code for _ in range(4)]
        refused = client.get("/conformance", headers={"X-Request-ID": "busy-1"})
        health = client.get("/healthz")
        keyed = client.get("/conformance", headers={"X-API-Key": API_KEY})
        made_up = client.get("/conformance", headers={"X-API-Key": "x" * 20})
    assert answers == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    problem = refused.json()
    assert problem["title"] == "Too many requests"
    assert "3 per 1 minute" in problem["detail"] and "TAKEOFF_RATE_LIMIT" in problem["detail"]
    assert problem["request_id"] == "busy-1"
    assert health.status_code == 200  # probes are never limited
    assert keyed.status_code == 200  # a configured key has an allowance of its own
    assert made_up.status_code == 429  # a made-up key is its address


def test_no_limit_by_default(tmp_path: Path) -> None:
    with _app(tmp_path, None) as client:
        assert {client.get("/conformance").status_code for _ in range(30)} == {200}


def test_an_unreadable_rate_is_a_setting_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAKEOFF_RATE_LIMIT", "lots")
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigurationError, match=r"TAKEOFF_RATE_LIMIT: .*'60/minute'"):
            get_settings()
    finally:
        get_settings.cache_clear()


def _documented(client: TestClient) -> dict[tuple[str, str], dict]:
    paths = client.get("/api").json()["paths"]
    return {
        (method.upper(), path): operation["responses"]
        for path, methods in paths.items()
        for method, operation in methods.items()
    }


def test_the_api_document_lists_429_where_a_limit_applies(tmp_path: Path) -> None:
    with _app(tmp_path, "100/minute") as client:
        limited = _documented(client)
    with _app(tmp_path, None) as client:
        unlimited = _documented(client)
    assert not any("429" in responses for responses in unlimited.values())
    without = sorted(name for name, responses in limited.items() if "429" not in responses)
    assert without == [("GET", "/healthz"), ("GET", "/metrics")]  # probes are never limited
    refused = limited[("POST", "/estimates")]["429"]
    assert list(refused["content"]) == ["application/problem+json"]
    assert refused["headers"]["Retry-After"]["schema"] == {"type": "integer"}


def test_the_api_document_lists_503_where_the_store_is_read(tmp_path: Path) -> None:
    with _app(tmp_path, None) as client:
        documented = _documented(client)
    without = sorted(name for name, responses in documented.items() if "503" not in responses)
    # these answer from the code alone: a store that is down does not change them
    assert without == [
        ("GET", "/"),
        ("GET", "/conformance"),
        ("GET", "/processes"),
        ("GET", "/processes/{process_id}"),
        ("GET", "/tileMatrixSets"),
        ("GET", "/tileMatrixSets/WebMercatorQuad"),
    ]
    unavailable = documented[("GET", "/collections/{collectionId}/items")]["503"]
    assert list(unavailable["content"]) == ["application/problem+json"]
    assert "Retry-After" in unavailable["headers"]
    assert documented[("GET", "/healthz")]["503"]["content"] != unavailable["content"]
