"""Delivery tickets of a saved estimate and its reconciliation, on both stores.

The estimate: 1,000 m x 5 m of asphalt overlay. AC-WC: 5,000 m2 x 0.04 m x 2.32 t/m3 =
464 t net, x 1.03 = 477.92 t planned; tack coat 5,000 m2 x 0.25 L = 1,250 L, x 1.05 =
1,312.5 L planned. The catalog's delivery tolerance is 2 %.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import API_KEY

KEY = {"X-API-Key": API_KEY}
ROAD = {
    "type": "Feature",
    "properties": {},
    "geometry": {"type": "LineString", "coordinates": [[0.0, 0.0], [0.0, 0.0090437]]},
}


@pytest.fixture(scope="module")
def estimate_id(client: TestClient) -> int:
    saved = client.post(
        "/estimates",
        json=ROAD,
        params={"template": "asphalt-overlay", "width_m": 5, "save": "true"},
        headers=KEY,
    )
    assert saved.status_code == 201, saved.text
    return int(saved.json()["id"])


def ticket(number, material, quantity, unit, **more):
    return {
        "ticket": f"DO-{number}",
        "date": "2026-12-01",
        "material": material,
        "quantity": quantity,
        "unit": unit,
        **more,
    }


def test_tickets_at_ninety_percent_are_short_by_ten(client: TestClient, estimate_id: int):
    url = f"/estimates/{estimate_id}/deliveries"
    # 43 loads of 10 t = 430 t, one ticket mistyped as 100 t and corrected
    tickets = [ticket(i, "AC-WC", 10.0, "t") for i in range(42)]
    tickets.append(ticket(42, "AC-WC", 100.0, "t"))
    tickets.append(ticket(43, "TACK-COAT", 1312.5, "L"))
    sent = client.post(url, json={"deliveries": tickets}, headers=KEY)
    assert sent.status_code == 201, sent.text
    mistyped = sent.json()["ids"][42]
    fixed = client.post(
        url,
        json={"deliveries": [ticket(42, "AC-WC", 10.128, "t", supersedes=mistyped)]},
        headers=KEY,
    )
    assert fixed.status_code == 201, fixed.text

    answer = client.get(f"/estimates/{estimate_id}/reconciliation").json()
    assert answer["tickets"] == 45  # every record kept, the mistyped one too
    rows = {row["material"]: row for row in answer["materials"]}
    asphalt = rows["AC-WC"]
    # 42 x 10 + 10.128 = 430.128 t = 90 % of 477.92 t
    assert asphalt["planned"] == pytest.approx(477.92)
    assert asphalt["delivered"] == pytest.approx(430.128)
    assert asphalt["difference"] == pytest.approx(-47.792)
    assert asphalt["difference_pct"] == pytest.approx(-10.0)
    assert asphalt["status"] == "short"
    assert asphalt["yield_pct"] == pytest.approx(92.7)  # 430.128 t of the 464 t designed
    assert rows["TACK-COAT"]["status"] == "ok"
    assert "yield_pct" not in rows["TACK-COAT"]  # litres have no design tonnes
    assert answer["warnings"] == ["AC-WC: 10.0 % short of the 477.92 t planned (tolerance 2 %)"]


def core(sample, thickness, **more):
    return {
        "sample": sample,
        "date": "2026-12-02",
        "kind": "core",
        "layer": "AC-WC",
        "thickness_mm": thickness,
        **more,
    }


def test_cores_below_tolerance_are_flagged(client: TestClient, estimate_id: int):
    url = f"/estimates/{estimate_id}/tests"
    cores = [
        core("C1", 41, feature=0),
        core("C2", 36, point=[0.0, 0.004]),
        core("C3", 30, feature=0),
    ]
    sent = client.post(url, json={"tests": cores}, headers=KEY)
    assert sent.status_code == 201, sent.text
    # C3 was misread: 39 mm, recorded as a new test that supersedes it
    fixed = client.post(
        url,
        json={"tests": [core("C3", 39, feature=0, supersedes=sent.json()["ids"][2])]},
        headers=KEY,
    )
    assert fixed.status_code == 201, fixed.text
    layers = client.get(f"/estimates/{estimate_id}/reconciliation").json()["layers"]
    # AC-WC designed 40 mm, 3 mm tolerance: C2 (36 mm) is under 37 mm; mean (41 + 36 + 39) / 3
    assert layers == [
        {
            "code": "AC-WC",
            "design_thickness_mm": 40.0,
            "tolerance_mm": 3.0,
            "mean_thickness_mm": 38.7,
            "samples": 3,
            "below_tolerance": 1,
            "status": "ok",
        }
    ]
    refused = client.post(url, json={"tests": [core("C4", 40)]}, headers=KEY)  # placed nowhere
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith("row 0, field test")
    wrong_layer = client.post(
        url, json={"tests": [core("C5", 40, feature=0) | {"layer": "LPA"}]}, headers=KEY
    )
    assert wrong_layer.status_code == 422
    assert "no layer LPA" in wrong_layer.json()["detail"]


def test_a_ticket_the_estimate_cannot_take_is_refused_whole(client: TestClient, estimate_id: int):
    url = f"/estimates/{estimate_id}/deliveries"
    good = ticket(1, "AC-WC", 10.0, "t")
    assert client.post(url, json={"deliveries": [good]}).status_code == 401
    before = client.get(f"/estimates/{estimate_id}/reconciliation").json()["tickets"]
    for bad, field in [
        (ticket(2, "LPA", 10.0, "m3"), "material"),
        (ticket(2, "AC-WC", 10.0, "m3"), "unit"),
        (ticket(2, "AC-WC", 10.0, "t", feature=1), "feature"),
        (ticket(2, "AC-WC", 10.0, "t", supersedes=10**6), "supersedes"),
        ({**good, "date": "yesterday"}, "date"),
    ]:
        answer = client.post(url, json={"deliveries": [good, bad]}, headers=KEY)
        assert answer.status_code == 422, (field, answer.text)
        assert answer.json()["detail"].startswith(f"row 1, field {field}"), answer.text
    after = client.get(f"/estimates/{estimate_id}/reconciliation").json()["tickets"]
    assert after == before
