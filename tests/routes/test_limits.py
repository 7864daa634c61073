"""Request body limits: 413 problem+json before the body is read whole, on both stores."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.routes.limits import json_depth
from tests.conftest import BACKENDS, app_settings, fresh_store

BODY_LIMIT = 20_000
UPLOAD_LIMIT = 60_000
ROAD = {
    "type": "Feature",
    "properties": {"width_m": 4},
    "geometry": {"type": "LineString", "coordinates": [[106.63, -6.17], [106.631, -6.17]]},
}


@pytest.fixture(scope="module", params=BACKENDS)
def limited(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    store = fresh_store(request, tmp_path_factory.mktemp(f"limits-{request.param}"))
    settings = app_settings(
        store, max_body_bytes=BODY_LIMIT, max_upload_bytes=UPLOAD_LIMIT, max_json_depth=12
    )
    with TestClient(create_app(settings)) as client:
        yield client


def _collection(count: int) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [ROAD] * count}).encode()


def _assert_too_large(response: object, setting: str, limit: int) -> None:
    assert response.status_code == 413, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    problem = response.json()  # type: ignore[attr-defined]
    assert problem["status"] == 413
    assert setting in problem["detail"] and str(limit) in problem["detail"]


def test_a_json_body_within_the_limit_is_estimated(limited: TestClient) -> None:
    body = _collection(10)
    assert len(body) < BODY_LIMIT
    response = limited.post(
        "/estimates", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text


def test_a_declared_length_over_the_limit_is_413(limited: TestClient) -> None:
    body = _collection(200)
    assert len(body) > BODY_LIMIT
    response = limited.post(
        "/estimates", content=body, headers={"content-type": "application/json"}
    )
    _assert_too_large(response, "TAKEOFF_MAX_BODY_BYTES", BODY_LIMIT)


def test_a_chunked_body_without_length_is_counted_as_it_streams(limited: TestClient) -> None:
    body = _collection(200)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    response = limited.post(
        "/estimates", content=chunks(), headers={"content-type": "application/json"}
    )
    _assert_too_large(response, "TAKEOFF_MAX_BODY_BYTES", BODY_LIMIT)


def test_uploads_have_their_own_limit(limited: TestClient) -> None:
    rows = "".join(
        f'{i},4,"LINESTRING (106.63 -6.{170 + i % 500:03d}, 106.631 -6.17)"\n' for i in range(600)
    )
    small = ("id,width_m,wkt\n" + rows[:30_000].rsplit("\n", 1)[0] + "\n").encode()
    assert BODY_LIMIT < len(small) < UPLOAD_LIMIT  # over the JSON limit, within the upload one
    accepted = limited.post("/batch", files={"file": ("roads.csv", small, "text/csv")})
    assert accepted.status_code == 200, accepted.text
    large = ("id,width_m,wkt\n" + rows * 3).encode()
    assert len(large) > UPLOAD_LIMIT
    refused = limited.post("/batch", files={"file": ("roads.csv", large, "text/csv")})
    _assert_too_large(refused, "TAKEOFF_MAX_UPLOAD_BYTES", UPLOAD_LIMIT)


def test_json_nested_deeper_than_the_cap_is_422(limited: TestClient) -> None:
    body = b'{"type": "FeatureCollection", "features": ' + b"[" * 40 + b"]" * 40 + b"}"
    response = limited.post(
        "/estimates", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "41 levels deep" in response.json()["detail"]
    assert "TAKEOFF_MAX_JSON_DEPTH" in response.json()["detail"]


@pytest.mark.parametrize(
    ("document", "depth"),
    [
        (b"", 0),
        (b"42", 0),
        (b'{"a": [1, [2, {"b": 3}]]}', 4),
        (b'{"a": "[[[[{{{"}', 1),
        (b'[["a \\"[[[", "\\\\"], "]]]"]', 2),
    ],
)
def test_json_depth_ignores_brackets_inside_strings(document: bytes, depth: int) -> None:
    assert json_depth(document) == depth
