"""Tickets by CSV upload, the reconciliation as a workbook and the field tests as an OGC
collection, on both stores.

The estimate of `test_deliveries`: 1,000 m x 5 m of asphalt overlay. AC-WC 5,000 m2 x 0.04 m
x 2.32 t/m3 = 464 t net, x 1.03 = 477.92 t planned; tack coat 1,312.5 L planned; delivery
tolerance 2 %; AC-WC designed 40 mm thick, cores may be 3 mm thinner (37 mm).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from app.main import create_app
from app.settings import Settings
from tests.api.test_deliveries import ROAD, core, ticket
from tests.conftest import API_KEY, BACKENDS, fresh_store

KEY = {"X-API-Key": API_KEY}
OTHER_KEY = "second-test-key-fedcba9876543210"


def save(client: TestClient, headers: dict[str, str] = KEY) -> int:
    saved = client.post(
        "/estimates",
        json=ROAD,
        params={"template": "asphalt-overlay", "width_m": 5, "save": "true"},
        headers=headers,
    )
    assert saved.status_code == 201, saved.text
    return int(saved.json()["id"])


def upload(client: TestClient, estimate: int, text: str, **params: Any) -> Any:
    return client.post(
        f"/estimates/{estimate}/deliveries",
        files={"file": ("tickets.csv", text.encode("utf-8"), "text/csv")},
        params=params,
        headers=KEY,
    )


def test_a_csv_of_tickets_with_decimal_commas_is_reconciled(client: TestClient):
    estimate = save(client)
    # 215,064 t twice = 430.128 t: 90 % of 477.92 t; 1.312,5 L of tack coat: all of it
    sent = upload(
        client,
        estimate,
        "Ticket;Date;Material;Quantity;Unit;Feature\n"
        "DO-1;01/12/2026;AC-WC;215,064;t;0\n"
        "DO-2;2026-12-02;AC-WC;215,064;t;\n"
        "\n"
        "DO-3;02/12/2026;TACK-COAT;1.312,5;L;0\n",
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["count"] == 3
    repository = client.app.state.repository  # type: ignore[attr-defined]
    stored = repository.deliveries(estimate)
    assert [(t.ticket, t.delivered_on, t.quantity, t.feature) for t in stored] == [
        ("DO-1", date(2026, 12, 1), 215.064, 0),
        ("DO-2", date(2026, 12, 2), 215.064, None),
        ("DO-3", date(2026, 12, 2), 1312.5, 0),
    ]
    answer = client.get(f"/estimates/{estimate}/reconciliation").json()
    rows = {row["material"]: row for row in answer["materials"]}
    assert rows["AC-WC"]["delivered"] == pytest.approx(430.128)
    assert rows["AC-WC"]["difference_pct"] == pytest.approx(-10.0)
    assert rows["AC-WC"]["status"] == "short"
    assert (rows["TACK-COAT"]["delivered"], rows["TACK-COAT"]["status"]) == (1312.5, "ok")

    points = upload(
        client,
        estimate,
        "ticket,date,material,quantity,unit\nDO-4,2026-12-03,AC-WC,4.5,t\n",
        decimal=".",
    )
    assert points.status_code == 201, points.text
    assert repository.deliveries(estimate)[-1].quantity == 4.5


HEADER = "ticket;date;material;quantity;unit;feature\n"
GOOD = HEADER + "DO-1;2026-12-01;AC-WC;10,0;t;0\n"


@pytest.mark.parametrize(
    ("csv_text", "place", "reason"),
    [
        (HEADER.replace("feature", "driver") + GOOD, "row 1, column driver", "unknown column"),
        ("ticket;date;material;unit\n", "row 1", "no column quantity"),
        (
            GOOD + "DO-2;2026-12-01;AC-WC;9.8;t;0\n",
            "row 3, column quantity",
            "'9.8' is not an amount written as 1.400.000,00",
        ),
        (
            GOOD + "DO-2;2026-12-01;LPA;9,8;m3;0\n",
            "row 3, column material",
            "the estimate has no material LPA",
        ),
        (
            GOOD + "DO-2;2026-12-01;AC-WC;9,8;m3;0\n",
            "row 3, column unit",
            "AC-WC is planned in t, not m3",
        ),
        (
            GOOD + "DO-2;2026-12-01;AC-WC;9,8;t;1\n",
            "row 3, column feature",
            "the estimate has 1 features",
        ),
        (GOOD + "DO-2;kemarin;AC-WC;9,8;t;0\n", "row 3, column date", "valid date"),
        (GOOD + ";2026-12-01;AC-WC;9,8;t;0\n", "row 3, column ticket", "Field required"),
    ],
)
def test_a_bad_csv_row_is_named_and_nothing_is_recorded(
    client: TestClient, csv_text: str, place: str, reason: str
):
    estimate = save(client)
    answer = upload(client, estimate, csv_text)
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert detail.startswith(f"{place}: "), detail
    assert reason in detail
    assert client.get(f"/estimates/{estimate}/reconciliation").json()["tickets"] == 0


def test_a_csv_correction_must_supersede_a_ticket_of_the_estimate(client: TestClient):
    estimate = save(client)
    header = "ticket;date;material;quantity;unit;supersedes\n"
    first = upload(client, estimate, header + "DO-1;2026-12-01;AC-WC;100;t;\n")
    assert first.status_code == 201, first.text
    wrong = upload(
        client, estimate, header + "DO-2;2026-12-01;AC-WC;1;t;\nDO-1;2026-12-01;AC-WC;10;t;999999\n"
    )
    assert wrong.status_code == 422
    assert wrong.json()["detail"].startswith("row 3, column supersedes: ")
    right = upload(
        client, estimate, header + f"DO-1;2026-12-01;AC-WC;10;t;{first.json()['ids'][0]}\n"
    )
    assert right.status_code == 201, right.text
    assert (
        client.get(f"/estimates/{estimate}/reconciliation").json()["materials"][1]["delivered"]
        == 10.0
    )


def record_site(client: TestClient, estimate: int) -> list[int]:
    """Tickets at 90 % of the plan, and cores C1 41 mm, C2 36 mm, C3 30 mm corrected to 39."""
    tickets = [ticket(1, "AC-WC", 430.128, "t"), ticket(2, "TACK-COAT", 1312.5, "L")]
    sent = client.post(
        f"/estimates/{estimate}/deliveries", json={"deliveries": tickets}, headers=KEY
    )
    assert sent.status_code == 201, sent.text
    url = f"/estimates/{estimate}/tests"
    cores = [
        core("C1", 41, feature=0),
        core("C2", 36, point=[0.0, 0.004]),
        core("C3", 30, feature=0),
    ]
    first = client.post(url, json={"tests": cores}, headers=KEY)
    assert first.status_code == 201, first.text
    ids = first.json()["ids"]
    fix = core("C3", 39, feature=0, supersedes=ids[2])
    fixed = client.post(url, json={"tests": [fix]}, headers=KEY)
    assert fixed.status_code == 201, fixed.text
    return [*ids, *fixed.json()["ids"]]


def test_the_reconciliation_as_a_workbook(client: TestClient):
    estimate = save(client)
    record_site(client, estimate)
    answer = client.get(f"/estimates/{estimate}/reconciliation", params={"f": "xlsx"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="reconciliation-{estimate}.xlsx"'
    )
    formulas = load_workbook(io.BytesIO(answer.content))
    values = load_workbook(io.BytesIO(answer.content), data_only=True)
    assert formulas.sheetnames == ["Materials", "Layers", "Warnings"]
    materials = list(values["Materials"].iter_rows(min_row=5, values_only=True))
    assert materials[0][:7] == ("TACK-COAT", "L", 1312.5, 1312.5, 0, 0, "ok")
    assert materials[1] == ("AC-WC", "t", 477.92, 430.128, -47.792, -10.0, "short", 92.7)
    sheet = formulas["Materials"]
    assert (sheet["E6"].value, sheet["F6"].value) == (
        "=ROUND(D6-C6,3)",
        "=IF(C6=0,0,ROUND(E6/C6*100,2))",
    )
    layers = list(values["Layers"].iter_rows(min_row=5, values_only=True))
    assert layers == [("AC-WC", 40, 3, 38.7, 3, 1, "ok")]  # mean (41 + 36 + 39) / 3
    warnings = [row[0] for row in values["Warnings"].iter_rows(min_row=2, values_only=True)]
    assert warnings == [
        "AC-WC: 10.0 % short of the 477.92 t planned (tolerance 2 %)",
        "AC-WC: 1 of 3 cores thinner than 37 mm (40 mm designed, 3 mm tolerance)",
    ]
    unknown = client.get(f"/estimates/{estimate}/reconciliation", params={"f": "pdf"})
    assert unknown.status_code == 422


def test_field_tests_are_a_collection_with_their_status(client: TestClient):
    estimate = save(client)
    ids = record_site(client, estimate)
    document = client.get("/collections/field-tests").json()
    assert document["itemCount"] >= 4
    page = client.get("/collections/field-tests/items", params={"limit": 1000}).json()
    mine = {
        feature["id"]: feature
        for feature in page["features"]
        if feature["properties"]["estimate"] == estimate
    }
    assert sorted(mine) == ids
    status = {
        mine[i]["properties"]["sample"] + f"#{n}": mine[i]["properties"]["status"]
        for n, i in enumerate(ids)
    }
    assert status == {"C1#0": "ok", "C2#1": "below tolerance", "C3#2": "superseded", "C3#3": "ok"}
    c2 = mine[ids[1]]
    assert c2["geometry"] == {"type": "Point", "coordinates": [0.0, 0.004]}
    assert c2["properties"]["design_thickness_mm"] == 40.0
    assert c2["properties"]["tolerance_mm"] == 3.0
    assert c2["properties"]["thickness_mm"] == 36.0
    x, y = mine[ids[0]]["geometry"]["coordinates"]  # on the road it names (feature 0)
    assert x == 0.0 and 0.0 <= y <= 0.0090437
    boxed = client.get(
        "/collections/field-tests/items", params={"bbox": "-0.001,0.0035,0.001,0.0045"}
    )
    assert [
        f["id"] for f in boxed.json()["features"] if f["properties"]["estimate"] == estimate
    ] == [ids[1]]
    one = client.get(f"/collections/field-tests/items/{ids[1]}").json()
    assert one["properties"]["status"] == "below tolerance"
    assert client.get("/collections/field-tests/items/999999").status_code == 404


@pytest.fixture(params=BACKENDS)
def owners_only(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    """The app where each key sees only the estimates saved with it."""
    store = fresh_store(request, tmp_path)
    settings = Settings(store=store, api_keys=[API_KEY, OTHER_KEY], estimates_visibility="owner")
    with TestClient(create_app(settings)) as client:
        yield client


def test_field_tests_of_an_estimate_only_its_owner_sees(owners_only: TestClient):
    client = owners_only
    ids = record_site(client, save(client))

    def seen(headers: dict[str, str]) -> list[int]:
        page = client.get("/collections/field-tests/items", headers=headers).json()
        return [feature["id"] for feature in page["features"]]

    other = {"X-API-Key": OTHER_KEY}
    assert seen(KEY) == ids
    assert seen(other) == []
    assert seen({}) == []
    assert client.get(f"/collections/field-tests/items/{ids[0]}", headers=other).status_code == 404
    assert client.get("/collections/field-tests", headers=other).json()["itemCount"] == 0
