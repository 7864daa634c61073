"""`/roads`: published roads found by name, each with the template and width its class gives."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.routes.roads import road_plan


def test_a_road_plan_follows_the_osm_highway_map() -> None:
    assert road_plan({"highway": "primary", "lanes": 2}) == {
        "template": "arterial-flexible",
        "width_m": 7.0,
        "map": "osm-highway",
    }
    assert road_plan({"highway": "residential", "lanes": None}) == {
        "template": "local-flexible",
        "width_m": None,
        "map": "osm-highway",
    }
    assert road_plan({"highway": "footway", "lanes": "two"}) == {
        "template": None,
        "width_m": None,
        "map": "osm-highway",
    }


def test_search_by_part_of_a_name_in_any_case(client: TestClient) -> None:
    found = client.get("/roads/search", params={"q": "RAYA bayur"}).json()
    assert [road["properties"]["name"] for road in found["features"]] == ["Jalan Raya Bayur Kali"]
    road = found["features"][0]
    assert road["collection"] == "roads"
    assert road["plan"] == {"template": "local-flexible", "width_m": 7.0, "map": "osm-highway"}
    sitanala = client.get("/roads/search", params={"q": "sitanala"}).json()
    assert len(sitanala["features"]) == 18  # Jalan Dokter, Jalan, Gang Sitanala
    one = client.get(f"/roads/roads/{road['id']}").json()
    assert one["geometry"] == road["geometry"]
    items = client.get(f"/collections/roads/items/{road['id']}").json()
    assert items["properties"] == road["properties"]


def test_search_wildcards_are_plain_text_and_limits_hold(client: TestClient) -> None:
    assert client.get("/roads/search", params={"q": "%%"}).json()["features"] == []
    assert client.get("/roads/search", params={"q": "__"}).json()["features"] == []
    found = client.get("/roads/search", params={"q": "jalan", "limit": 3}).json()
    assert len(found["features"]) == 3
    assert client.get("/roads/search", params={"q": "j"}).status_code == 422
    assert client.get("/roads/search", params={"q": "jalan", "limit": 0}).status_code == 422


def test_unknown_roads_are_404(client: TestClient) -> None:
    assert client.get("/roads/roads/999999").status_code == 404
    assert client.get("/roads/roads/abc").status_code == 404
    assert client.get("/roads/nowhere/1").status_code == 404
    assert client.get("/roads/estimates/1").status_code == 404
