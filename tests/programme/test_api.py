"""`POST /programmes`, the saved programme and its OGC collection, on each store backend."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator

import mapbox_vector_tile
import morecantile
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pyproj import Geod

from app.main import create_app
from app.settings import Settings
from tests.conftest import API_KEY, BACKENDS, BASE, app_settings, fresh_store

ASYNC_ROWS = 20
GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module", params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    store = fresh_store(request, tmp_path_factory.mktemp(f"programme-{request.param}"))
    return app_settings(store, async_batch_rows=ASYNC_ROWS)


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as app_client:
        yield app_client


INVENTORY_CSV = (
    "nama_ruas;kelurahan;kecamatan;panjang;lebar;perkerasan;kondisi;iri;fungsi\n"
    "Jl. Mawar;Sukasari;Tangerang;100;5;aspal;sedang;;lokal\n"
    "Jl. Melati;Sukasari;Tangerang;200;6,5;aspal;;9,2;kolektor\n"
    "Jl. Kenanga;Cibodas;Cibodas;80;3;paving;rusak berat;;lingkungan\n"
    "Jl. Dahlia;Cibodas;Cibodas;100;4;kayu;sedang;;lokal\n"
)


def _inventory_geojson() -> bytes:
    features = [
        {
            "type": "Feature",
            "geometry": {
                "type": "LineString",
                "coordinates": [[lon, -6.180], [lon, -6.179]],
            },
            "properties": {
                "nama_ruas": name,
                "kecamatan": "Karawaci",
                "lebar": 5,
                "perkerasan": "aspal",
                "kondisi": "sedang",
            },
        }
        for name, lon in (("A", 106.630), ("B", 106.640))
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def _complaints() -> bytes:
    lon, lat = GEOD.fwd(106.640, -6.1795, 90, 20.0)[:2]
    point = {"type": "Point", "coordinates": [lon, lat]}
    feature = {"type": "Feature", "geometry": point, "properties": {"aduan": "lubang"}}
    return json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()


def test_a_csv_inventory_becomes_a_saved_programme_under_a_budget(client: TestClient) -> None:
    response = client.post(
        "/programmes",
        params={"budget": "300000000", "name": "Pemeliharaan 2027", "lang": "id"},
        files={"inventory": ("jalan.csv", INVENTORY_CSV.encode(), "text/csv")},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"{BASE}/programmes/{body['id']}"
    assert body["rule_set"] == {"slug": "kota-kabupaten", "version": 1}
    assert body["catalog"] == {"slug": "tangerang-sample", "version": 1}
    assert {ref["slug"] for ref in body["templates"]} == {
        "patching",
        "mill-overlay",
        "neighbourhood-paving",
    }
    totals = body["totals"]
    assert (totals["segments"], totals["errors"]) == (4, 1)
    # priorities by hand (weights 40 condition, 25 class, 20 complaints, 15 cost per m2 against
    # 250,000): Melati rusak ringan kolektor, 252,344,625 / 1,300 m2:
    # 26.8 + 18.75 + 15 x 250,000 / 444,111.25 = 53.99; Kenanga rusak berat lingkungan,
    # 94,909,440 / 240 m2: 40 + 6.25 + 5.81 = 52.06; Mawar sedang lokal, 10,080,188 / 500 m2:
    # 13.2 + 12.5 + 13.88 = 39.58. Melati fits; + Kenanga = 347,254,065 > 300,000,000 draws
    # the line, so Mawar below it is not funded either
    assert totals["funded"] == "252344625"
    assert totals["needed"] == str(252_344_625 + 94_909_440 + 10_080_188)
    assert totals["funding_gap"] == str(94_909_440 + 10_080_188)
    assert [group["kecamatan"] for group in body["by_kecamatan"]] == ["Cibodas", "Tangerang"]
    assert body["first_errors"] == [
        "row 4, column perkerasan: unknown pavement 'kayu'; known: aspal, beton, paving, tanah"
    ]
    collection = client.get(f"/collections/programme-{body['id']}").json()
    assert collection["title"] == "Pemeliharaan 2027"
    assert collection["itemCount"] == 4
    items = client.get(f"/collections/programme-{body['id']}/items").json()
    assert items["numberMatched"] == 4
    properties = [feature["properties"] for feature in items["features"]]
    assert [p["treatment"] for p in properties] == [
        "patching",
        "mill-overlay",
        "reconstruction-paving",
        None,
    ]
    assert [p["status"] for p in properties] == ["not funded", "funded", "not funded", "error"]
    assert [p["priority"] for p in properties[:3]] == [39.58, 53.99, 52.06]
    assert properties[1]["reason"].startswith(
        "rusak ringan (IRI 9.2) -> Cold milling dan pelapisan ulang (rehabilitasi); fungsi kolektor"
    )
    assert properties[0]["cost"] == 10_080_188
    assert all(feature["geometry"] is None for feature in items["features"])
    listed = [c["id"] for c in client.get("/collections").json()["collections"]]
    assert f"programme-{body['id']}" in listed
    again = client.get(f"/programmes/{body['id']}").json()
    assert again["totals"] == totals and again["request"]["budget"] == "300000000"


def test_complaints_move_a_segment_up_and_qgis_gets_lines_by_treatment(
    client: TestClient,
) -> None:
    response = client.post(
        "/programmes",
        files={
            "inventory": ("jalan.geojson", _inventory_geojson(), "application/geo+json"),
            "complaints": ("aduan.geojson", _complaints(), "application/geo+json"),
        },
    )
    assert response.status_code == 201, response.text
    programme = response.json()["id"]
    items = client.get(f"/collections/programme-{programme}/items").json()
    properties = [feature["properties"] for feature in items["features"]]
    assert [p["complaints"] for p in properties] == [0, 1]
    assert [p["rank"] for p in properties] == [2, 1]
    assert [p["treated_area_m2"] for p in properties][1] == 1.0
    assert items["features"][0]["geometry"]["type"] == "LineString"
    box = client.get(
        f"/collections/programme-{programme}/items", params={"bbox": "106.635,-6.2,106.65,-6.1"}
    ).json()
    assert [f["properties"]["nama_ruas"] for f in box["features"]] == ["B"]
    # the vector tile around B (A lies 0.01 degrees west, two z16 tiles away) holds B alone
    x, y, z = morecantile.tms.get("WebMercatorQuad").tile(106.640, -6.1795, 16)
    tile = client.get(f"/collections/programme-{programme}/tiles/WebMercatorQuad/{z}/{y}/{x}")
    assert tile.status_code == 200, tile.text
    drawn = mapbox_vector_tile.decode(tile.content)[f"programme-{programme}"]["features"]
    assert [(f["properties"]["nama_ruas"], f["properties"]["rank"]) for f in drawn] == [("B", 1)]


def test_an_xlsx_programme_has_a_rab_sheet_per_kecamatan(client: TestClient) -> None:
    response = client.post(
        "/programmes",
        params={"f": "xlsx"},
        files={"inventory": ("jalan.csv", INVENTORY_CSV.encode(), "text/csv")},
    )
    assert response.status_code == 201, response.text
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Programme", "Segments", "RAB Cibodas", "RAB Tangerang"]
    rab = book["RAB Tangerang"]
    values = [list(row) for row in rab.iter_rows(values_only=True)]
    flat = [cell for row in values for cell in row if cell is not None]
    assert "Laston Lapis Aus (AC-WC)" in flat and "REKAPITULASI" in flat
    segments = list(book["Segments"].iter_rows(values_only=True))
    assert len(segments) == 5  # header + every row, the bad one too


def test_a_large_inventory_runs_as_a_job_and_saves_its_programme(
    client: TestClient, settings: Settings
) -> None:
    rows = ["nama_ruas;kecamatan;panjang;lebar;perkerasan;kondisi"]
    rows += [f"Jalan {n};Batuceper;100;5;aspal;rusak berat" for n in range(ASYNC_ROWS + 5)]
    response = client.post(
        "/programmes",
        params={"f": "csv"},
        files={"inventory": ("besar.csv", ("\n".join(rows) + "\n").encode(), "text/csv")},
    )
    assert response.status_code == 201, response.text
    status = response.json()
    assert status["processID"] == "programme"
    deadline = time.monotonic() + 60
    while status["status"] in ("accepted", "running") and time.monotonic() < deadline:
        time.sleep(0.1)
        status = client.get(response.headers["location"]).json()
    assert status["status"] == "successful", status
    programme = status["summary"]["programme"]
    assert status["summary"]["totals"]["segments"] == ASYNC_ROWS + 5
    results = next(link for link in status["links"] if link["rel"].endswith("/results"))
    table = list(csv.DictReader(io.StringIO(client.get(results["href"]).text)))
    assert {row["treatment"] for row in table} == {"reconstruction-asphalt"}
    assert client.get(f"/programmes/{programme}").status_code == 200


def test_bad_programme_requests_are_problems_naming_the_field(client: TestClient) -> None:
    upload = {"inventory": ("jalan.csv", INVENTORY_CSV.encode(), "text/csv")}
    response = client.post("/programmes", params={"rules": "no-such-rules"}, files=upload)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "known rule sets: kota-kabupaten" in response.json()["detail"]
    response = client.post("/programmes", params={"column": "panjang=PJG"}, files=upload)
    assert response.status_code == 422 and "which the inventory lacks" in response.text
    response = client.post("/programmes", files={"inventory": ("jalan.txt2", b"x", "text/plain")})
    assert response.status_code == 422
    assert client.get("/collections/programme-999999").status_code == 404
    assert client.delete("/programmes/999999", headers={"X-API-Key": API_KEY}).status_code == 404


def test_rule_sets_are_versioned_and_a_programme_pins_the_one_it_used(
    client: TestClient,
) -> None:
    shipped = client.get("/rule-sets/kota-kabupaten").json()
    assert shipped["version"] == 1
    changed = {**shipped, "default_road_class": "lingkungan"}
    del changed["version"]
    saved = client.post("/rule-sets", json=changed, headers={"X-API-Key": API_KEY})
    assert saved.status_code == 201, saved.text
    assert saved.json()["version"] == 2
    inventory = "nama_ruas;kecamatan;panjang;lebar;perkerasan;kondisi\nA;Pinang;100;5;tanah;baik\n"
    upload = {"inventory": ("jalan.csv", inventory.encode(), "text/csv")}
    newest = client.post("/programmes", files=upload).json()
    assert newest["rule_set"] == {"slug": "kota-kabupaten", "version": 2}
    assert newest["templates"] == [{"slug": "neighbourhood-rigid", "version": 1}]
    upload = {"inventory": ("jalan.csv", inventory.encode(), "text/csv")}
    pinned = client.post("/programmes", params={"rules": "kota-kabupaten@1"}, files=upload)
    assert pinned.json()["rule_set"] == {"slug": "kota-kabupaten", "version": 1}
    assert pinned.json()["templates"] == [{"slug": "local-flexible", "version": 1}]
