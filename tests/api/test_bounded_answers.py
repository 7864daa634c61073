"""Answers whose size follows the input, and saved answers given back as stored."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from app.main import create_app
from app.store.database import create_store_engine
from app.store.models import Estimate
from tests.conftest import BACKENDS, app_settings, fresh_store

STREET = [[106.6300, -6.1700], [106.6309, -6.1700], [106.6312, -6.1695]]


def _roads(
    count: int, shift_deg: float = 0.0, street: list[list[float]] = STREET
) -> dict[str, Any]:
    """`count` roads along STREET, each `shift_deg` east of the last (0: exact copies)."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {},
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[x + k * shift_deg, y] for x, y in street],
                },
            }
            for k in range(count)
        ],
    }


PAVED_TWICE = "that part is paved twice (dissolve=true paves it once)"


@pytest.mark.parametrize("count", [2000, 9000])
def test_identical_roads_list_twenty_pairs_then_count_the_rest(
    client: TestClient, count: int
) -> None:
    answer = client.post("/estimates", params={"width_m": 6}, json=_roads(count))
    assert answer.status_code == 200, answer.text
    warnings = answer.json()["warnings"]
    assert len(warnings) == 21
    assert [w.split(" overlap by ")[0] for w in warnings[:20]] == [
        f"features 0 and {other}" for other in range(1, 21)
    ]
    assert warnings[20] == (
        f"{count:,} features overlap others; {count * (count - 1) // 2:,} pairs in all "
        f"(the first 20 listed one by one); {PAVED_TWICE}"
    )


def test_nine_thousand_roads_each_a_little_apart_give_a_range_not_a_count(
    client: TestClient,
) -> None:
    # each road 0.1 mm east of the last: all distinct, all overlapping
    collection = _roads(9000, shift_deg=1e-9)
    answer = client.post("/estimates", params={"width_m": 6}, json=collection)
    assert answer.status_code == 200, answer.text
    warnings = answer.json()["warnings"]
    assert len(warnings) == 21
    assert [w.split(" overlap by ")[0] for w in warnings[:20]] == [
        f"features 0 and {other}" for other in range(1, 21)
    ]
    # 100,000 pairs tested (the default budget), all of them overlapping
    assert warnings[20] == (
        "at least 9,000 features overlap others; at least 100,000 pairs, and up to "
        f"40,495,500 by bounding box, not all checked one by one (20 listed one by one); "
        f"{PAVED_TWICE}"
    )


@pytest.fixture(scope="module", params=BACKENDS)
def small_client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """An app whose requests may hold 10 vertices, test 5 pairs and dissolve 3."""
    store = fresh_store(request, tmp_path_factory.mktemp("small"))
    limits = {"max_request_vertices": 10, "max_overlap_checks": 5, "max_dissolve_pairs": 3}
    with TestClient(create_app(app_settings(store, **limits))) as small:
        yield small


SHORT_STREET = STREET[:2]


def _short_roads(count: int, shift_deg: float) -> dict[str, Any]:
    return _roads(count, shift_deg, street=SHORT_STREET)


def test_more_vertices_than_a_request_may_hold_go_to_batch(small_client: TestClient) -> None:
    # five two-vertex roads: 10 vertices, at the limit
    assert small_client.post("/estimates", json=_short_roads(5, 0.001)).is_success
    answer = small_client.post("/estimates", json=_short_roads(6, 0.001))
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"] == (
        "12 vertices in one request; the limit is 10 (send larger batches to POST /batch)"
    )


def test_past_the_overlap_budget_a_request_reports_a_range(small_client: TestClient) -> None:
    # four distinct roads over each other: 6 pairs, 5 tested
    answer = small_client.post("/estimates", params={"width_m": 6}, json=_short_roads(4, 1e-7))
    assert answer.status_code == 200, answer.text
    warnings = answer.json()["warnings"]
    assert len(warnings) == 6
    assert warnings[5] == (
        "at least 4 features overlap others; at least 5 pairs, and up to 6 by bounding box, "
        f"not all checked one by one (5 listed one by one); {PAVED_TWICE}"
    )


def test_dissolve_over_its_budget_goes_to_batch_and_copies_cost_nothing(
    small_client: TestClient,
) -> None:
    url, params = "/estimates", {"width_m": 6, "dissolve": "true"}
    # three distinct roads over each other: 3 pairs, at the limit
    assert small_client.post(url, params=params, json=_short_roads(3, 1e-7)).is_success
    # five copies of one road: 10 pairs of features, but nothing to take apart
    copies = small_client.post(url, params=params, json=_short_roads(5, 0.0))
    assert copies.status_code == 200, copies.text
    assert copies.json()["totals"]["area_m2"] == pytest.approx(
        small_client.post(url, params={"width_m": 6}, json=_short_roads(1, 0.0)).json()["totals"][
            "area_m2"
        ]
    )
    answer = small_client.post(url, params=params, json=_short_roads(4, 1e-7))
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"] == (
        "dissolve=true: the surfaces meet in 6 pairs of distinct features (by bounding box), "
        "more than the 3 one request takes apart; send it to POST /batch, or leave dissolve off"
    )


def test_a_saved_estimate_in_json_is_the_stored_answer_not_made_again(
    client: TestClient,
) -> None:
    body = {"type": "LineString", "coordinates": STREET}
    saved = client.post("/estimates", params={"save": "true"}, json=body)
    assert saved.status_code == 201
    estimate_id = saved.json()["id"]
    # the stored request can no longer be estimated: only a re-run would notice
    engine = create_store_engine(client.app.state.settings.store)  # type: ignore[attr-defined]
    request = client.get(saved.headers["location"]).json()["request"]
    broken = {**request, "body": {"type": "Point", "coordinates": [106.63, -6.17]}}
    with engine.begin() as connection:
        connection.execute(
            sa.update(Estimate).where(Estimate.id == estimate_id).values(request=broken)
        )
    engine.dispose()
    url = saved.headers["location"]
    stored = client.get(url)
    assert stored.status_code == 200
    assert stored.json()["totals"] == saved.json()["totals"]
    assert stored.json()["features"] == saved.json()["features"]
    assert stored.json()["request"] == broken
    made_again = client.get(url, params={"f": "csv"})  # other formats are made again
    assert made_again.status_code == 422
    assert "Point" in made_again.text
