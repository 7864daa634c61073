"""Template and catalog versions are read once per short window, yet a write shows at once.

In-process (FastAPI's TestClient) on both stores: the app answers from the newest-version
numbers it remembers, so a new version saved through the same process must reach the very next
estimate.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import APISettings, Settings, StoreSettings
from tests.conftest import API_KEY

STREET = {"type": "LineString", "coordinates": [[106.63, -6.17], [106.6309, -6.17]]}


@pytest.fixture
def client(store_settings: StoreSettings) -> Iterator[TestClient]:
    settings = Settings()
    settings.store = store_settings
    settings.api = APISettings(api_keys=[API_KEY])
    with TestClient(create_app(settings)) as client:
        yield client


def _estimate(client: TestClient, **params: str) -> dict:
    answer = client.post("/estimates", params=params, json=STREET)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_new_template_version_prices_the_next_request(client: TestClient) -> None:
    before = _estimate(client, template="neighbourhood-rigid")
    current = client.get("/templates/neighbourhood-rigid").json()
    assert before["template"] == {"slug": "neighbourhood-rigid", "version": current["version"]}
    assert before["features"][0]["mean_width_m"] == current["default_width_m"] == 3.0

    wider = {key: value for key, value in current.items() if key != "version"}
    wider["default_width_m"] = 4.5
    saved = client.post("/templates", json=wider, headers={"X-API-Key": API_KEY})
    assert saved.status_code == 201, saved.text

    after = _estimate(client, template="neighbourhood-rigid")
    assert after["template"] == {
        "slug": "neighbourhood-rigid",
        "version": current["version"] + 1,
    }
    assert after["features"][0]["mean_width_m"] == 4.5
    assert after["totals"]["area_m2"] == pytest.approx(before["totals"]["area_m2"] * 1.5)


def test_a_new_catalog_version_prices_the_next_request(client: TestClient) -> None:
    before = _estimate(client, catalog="example-eur")
    current = client.get("/catalogs/example-eur").json()
    assert before["catalog"] == {"slug": "example-eur", "version": current["version"]}
    assert before["vat_pct"] != "21"

    edited = {key: value for key, value in current.items() if key != "version"}
    edited["vat_pct"] = "21"
    saved = client.post("/catalogs", json=edited, headers={"X-API-Key": API_KEY})
    assert saved.status_code == 201, saved.text

    after = _estimate(client, catalog="example-eur")
    assert after["catalog"] == {"slug": "example-eur", "version": current["version"] + 1}
    assert after["vat_pct"] == "21"
    # the version pinned by name is still the old one
    pinned = _estimate(client, catalog=f"example-eur@{current['version']}")
    assert pinned["vat_pct"] == before["vat_pct"]
