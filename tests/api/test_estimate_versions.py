"""Saved estimates renamed in place and saved again as new versions of themselves: a new
version keeps a link to the one it supersedes, which stays as it was. Both need an API key
and follow the same who-may-see rules as deleting. On both stores, in process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.conftest import API_KEY, BACKENDS, fresh_store

KEY_B = "second-test-key-fedcba9876543210"
AS_A = {"X-API-Key": API_KEY}
AS_B = {"X-API-Key": KEY_B}
LINE = {"type": "LineString", "coordinates": [[106.63, -6.17], [106.6309, -6.17]]}

ClientFactory = Callable[..., Any]


@pytest.fixture(params=BACKENDS)
def open_client(request: pytest.FixtureRequest, tmp_path: Path) -> ClientFactory:
    """Opens the app in process on a fresh store with keys A and B and the given settings."""
    store = fresh_store(request, tmp_path)

    @contextmanager
    def open_with(**settings: str) -> Iterator[TestClient]:
        app = create_app(Settings(store=store, api_keys=[API_KEY, KEY_B], **settings))
        with TestClient(app) as client:
            yield client

    return open_with


def road(name: str | None, width_m: float) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"name": name, "width_m": width_m}, "geometry": LINE}


def save(
    client: TestClient, body: dict[str, Any], headers: dict[str, str], **params: Any
) -> httpx.Response:
    return client.post("/estimates", params={"save": "true", **params}, json=body, headers=headers)


def saved(client: TestClient, body: dict[str, Any], headers: dict[str, str], **params: Any) -> int:
    response = save(client, body, headers, **params)
    assert response.status_code == 201, response.text
    estimate_id: int = response.json()["id"]
    return estimate_id


def problem(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    detail: str = response.json()["detail"]
    return detail


def test_rename_a_saved_estimate(open_client: ClientFactory) -> None:
    with open_client() as client:
        first = saved(client, road("Jalan Lama", 4), {})
        before = client.get(f"/estimates/{first}").json()
        assert before["name"] == "Jalan Lama"

        assert "X-API-Key" in problem(
            client.patch(f"/estimates/{first}", json={"name": "Jalan Baru"}), 401
        )
        wrong = client.patch(
            f"/estimates/{first}", json={"name": "x"}, headers={"X-API-Key": "not-a-key-000"}
        )
        problem(wrong, 401)
        missing = client.patch("/estimates/999999", json={"name": "x"}, headers=AS_A)
        assert problem(missing, 404) == "there is no saved estimate 999999"
        problem(client.patch(f"/estimates/{first}", json={"title": "x"}, headers=AS_A), 422)
        problem(client.patch(f"/estimates/{first}", json={"name": "x" * 201}, headers=AS_A), 422)

        renamed = client.patch(f"/estimates/{first}", json={"name": " Jalan Baru "}, headers=AS_A)
        assert renamed.status_code == 200, renamed.text
        assert renamed.json()["name"] == "Jalan Baru"
        after = client.get(f"/estimates/{first}").json()
        # only the name changed: the request, the answer and the version are as saved
        assert {**after, "name": "Jalan Lama"} == before
        item = client.get(f"/collections/estimates/items/{first}").json()
        assert item["properties"]["name"] == "Jalan Baru"

        unnamed = client.patch(f"/estimates/{first}", json={"name": "  "}, headers=AS_B)
        assert unnamed.json()["name"] is None
        item = client.get(f"/collections/estimates/items/{first}").json()
        assert item["properties"]["name"] is None


def test_save_a_new_version_of_a_saved_estimate(open_client: ClientFactory) -> None:
    with open_client() as client:
        first = saved(client, road("Jalan Contoh", 4), {})
        original = client.get(f"/estimates/{first}").json()
        assert (original["version"], original["supersedes"], original["superseded_by"]) == (
            1,
            None,
            None,
        )

        assert "X-API-Key" in problem(
            save(client, road("Jalan Contoh", 6), {}, supersedes=first), 401
        )
        unsaved = client.post("/estimates", params={"supersedes": first}, json=road(None, 6))
        assert (
            problem(unsaved, 422) == "field supersedes: a new version is saved only with save=true"
        )
        nowhere = save(client, road("Jalan Contoh", 6), AS_A, supersedes=999999)
        assert problem(nowhere, 404) == "there is no saved estimate 999999"

        answer = save(client, road("Jalan Contoh", 6), AS_A, supersedes=first)
        assert answer.status_code == 201, answer.text
        second = answer.json()
        assert (second["version"], second["supersedes"], second["superseded_by"]) == (
            2,
            first,
            None,
        )
        # the new version is priced as drawn now: 6 m instead of 4 m on the same line
        area = original["totals"]["area_m2"] * 6 / 4
        assert second["totals"]["area_m2"] == pytest.approx(area, rel=1e-9)

        # the earlier version stays as it was and names its successor
        kept = client.get(f"/estimates/{first}").json()
        assert kept == {**original, "superseded_by": second["id"]}
        item = client.get(f"/collections/estimates/items/{second['id']}").json()
        assert item["properties"]["version"] == 2

        # one line of versions: the superseded one is not superseded twice
        again = save(client, road("Jalan Contoh", 5), AS_A, supersedes=first)
        assert problem(again, 409) == (
            f"saved estimate {first} is already superseded by estimate {second['id']}: "
            "save a new version of its latest version instead"
        )
        third = saved(client, road("Jalan Contoh", 5), AS_B, supersedes=second["id"])
        assert client.get(f"/estimates/{third}").json()["version"] == 3

        # deleting the middle version leaves no link to an estimate that is gone
        assert client.delete(f"/estimates/{second['id']}", headers=AS_A).status_code == 204
        assert client.get(f"/estimates/{third}").json()["supersedes"] is None
        assert client.get(f"/estimates/{first}").json()["superseded_by"] is None


def test_in_owner_mode_only_the_owner_renames_or_supersedes(open_client: ClientFactory) -> None:
    with open_client(estimates_visibility="owner") as client:
        mine = saved(client, road("Jalan A", 4), AS_A)
        renamed = client.patch(f"/estimates/{mine}", json={"name": "B"}, headers=AS_B)
        assert problem(renamed, 404) == f"there is no saved estimate {mine}"
        version = save(client, road("Jalan B", 6), AS_B, supersedes=mine)
        assert problem(version, 404) == f"there is no saved estimate {mine}"
        problem(client.patch(f"/estimates/{mine}", json={"name": "B"}), 401)
        assert client.get(f"/estimates/{mine}", headers=AS_A).json()["superseded_by"] is None

        assert (
            client.patch(f"/estimates/{mine}", json={"name": "A2"}, headers=AS_A).json()["name"]
            == "A2"
        )
        newer = saved(client, road("Jalan A", 6), AS_A, supersedes=mine)
        assert client.get(f"/estimates/{newer}", headers=AS_A).json()["supersedes"] == mine
        assert client.get(f"/estimates/{newer}", headers=AS_B).status_code == 404
