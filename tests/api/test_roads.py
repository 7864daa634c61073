"""`/roads`: published roads found by name, each with the template and width its class gives."""

from __future__ import annotations

import httpx

from app.routes.roads import road_plan
from tests.live import LiveServer


def test_a_road_plan_follows_the_osm_highway_map() -> None:
    assert road_plan({"highway": "primary", "lanes": 2}) == {
        "template": "collector-flexible",
        "width_m": 7.0,
        "map": "osm-highway",
    }
    assert road_plan({"highway": "residential", "lanes": None}) == {
        "template": "neighbourhood-rigid",
        "width_m": None,
        "map": "osm-highway",
    }
    assert road_plan({"highway": "footway", "lanes": "two"}) == {
        "template": None,
        "width_m": None,
        "map": "osm-highway",
    }


def test_search_by_part_of_a_name_in_any_case(server: LiveServer) -> None:
    found = httpx.get(server.url + "/roads/search", params={"q": "RAYA bayur"}).json()
    assert [road["properties"]["name"] for road in found["features"]] == ["Jalan Raya Bayur Kali"]
    road = found["features"][0]
    assert road["collection"] == "roads"
    assert road["plan"] == {"template": "local-flexible", "width_m": 7.0, "map": "osm-highway"}
    sitanala = httpx.get(server.url + "/roads/search", params={"q": "sitanala"}).json()
    assert len(sitanala["features"]) == 18  # Jalan Dokter, Jalan, Gang Sitanala
    one = httpx.get(f"{server.url}/roads/roads/{road['id']}").json()
    assert one["geometry"] == road["geometry"]
    items = httpx.get(f"{server.url}/collections/roads/items/{road['id']}").json()
    assert items["properties"] == road["properties"]


def test_search_wildcards_are_plain_text_and_limits_hold(server: LiveServer) -> None:
    assert httpx.get(server.url + "/roads/search", params={"q": "%%"}).json()["features"] == []
    assert httpx.get(server.url + "/roads/search", params={"q": "__"}).json()["features"] == []
    found = httpx.get(server.url + "/roads/search", params={"q": "jalan", "limit": 3}).json()
    assert len(found["features"]) == 3
    assert httpx.get(server.url + "/roads/search", params={"q": "j"}).status_code == 422
    assert (
        httpx.get(server.url + "/roads/search", params={"q": "jalan", "limit": 0}).status_code
        == 422
    )


def test_unknown_roads_are_404(server: LiveServer) -> None:
    assert httpx.get(server.url + "/roads/roads/999999").status_code == 404
    assert httpx.get(server.url + "/roads/roads/abc").status_code == 404
    assert httpx.get(server.url + "/roads/nowhere/1").status_code == 404
    assert httpx.get(server.url + "/roads/estimates/1").status_code == 404
