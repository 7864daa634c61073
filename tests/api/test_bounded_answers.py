"""Answers whose size follows the input, and saved answers given back as stored."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from app.store.database import create_store_engine
from app.store.models import Estimate

STREET = [[106.6300, -6.1700], [106.6309, -6.1700], [106.6312, -6.1695]]


def test_two_thousand_identical_roads_list_twenty_pairs_then_count_the_rest(
    client: TestClient,
) -> None:
    road = {
        "type": "Feature",
        "properties": {},
        "geometry": {"type": "LineString", "coordinates": STREET},
    }
    collection = {"type": "FeatureCollection", "features": [road] * 2000}
    answer = client.post("/estimates", params={"width_m": 6}, json=collection)
    assert answer.status_code == 200, answer.text
    warnings = answer.json()["warnings"]
    assert len(warnings) == 21
    assert [w.split(" overlap by ")[0] for w in warnings[:20]] == [
        f"features 0 and {other}" for other in range(1, 21)
    ]
    assert warnings[20] == (
        "2,000 features overlap others; 1,999,000 pairs in all (the first 20 listed one by "
        "one); that part is paved twice (dissolve=true paves it once)"
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
