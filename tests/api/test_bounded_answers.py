"""Answers whose size follows the input, and saved answers given back as stored."""

from __future__ import annotations

from pathlib import Path

import httpx
import sqlalchemy as sa

from app.settings import StoreSettings
from app.store.database import create_store_engine
from app.store.models import Estimate
from tests.live import LiveServer

STREET = [[106.6300, -6.1700], [106.6309, -6.1700], [106.6312, -6.1695]]


def test_two_thousand_identical_roads_list_twenty_pairs_then_count_the_rest(
    server: LiveServer,
) -> None:
    road = {
        "type": "Feature",
        "properties": {},
        "geometry": {"type": "LineString", "coordinates": STREET},
    }
    collection = {"type": "FeatureCollection", "features": [road] * 2000}
    answer = httpx.post(
        server.url + "/estimates", params={"width_m": 6}, json=collection, timeout=120
    )
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
    server: LiveServer,
) -> None:
    body = {"type": "LineString", "coordinates": STREET}
    saved = httpx.post(server.url + "/estimates", params={"save": "true"}, json=body)
    assert saved.status_code == 201
    estimate_id = saved.json()["id"]
    # the stored request can no longer be estimated: only a re-run would notice
    store = StoreSettings(
        database_url=server.settings.get("database_url"),
        data_dir=Path(str(server.settings["data_dir"])),
    )
    engine = create_store_engine(store)
    request = httpx.get(saved.headers["location"]).json()["request"]
    broken = {**request, "body": {"type": "Point", "coordinates": [106.63, -6.17]}}
    with engine.begin() as connection:
        connection.execute(
            sa.update(Estimate).where(Estimate.id == estimate_id).values(request=broken)
        )
    engine.dispose()
    url = saved.headers["location"]
    stored = httpx.get(url)
    assert stored.status_code == 200
    assert stored.json()["totals"] == saved.json()["totals"]
    assert stored.json()["features"] == saved.json()["features"]
    assert stored.json()["request"] == broken
    made_again = httpx.get(url, params={"f": "csv"})  # other formats are made again
    assert made_again.status_code == 422
    assert "Point" in made_again.text
