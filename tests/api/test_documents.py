"""Templates and catalogs over HTTP: open reads, versioned writes behind an API key."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import API_KEY, BASE


def test_shipped_templates_and_catalogs_are_listed(client: TestClient) -> None:
    templates = client.get("/templates").json()
    slugs = [t["id"] for t in templates]
    assert slugs == sorted(slugs)
    assert {"neighbourhood-rigid", "collector-flexible", "asphalt-overlay"} <= set(slugs)
    assert all(t["href"] == f"{BASE}/templates/{t['id']}" for t in templates)

    catalogs = {c["id"]: c for c in client.get("/catalogs").json()}
    assert {"tangerang-sample", "example-eur"} <= catalogs.keys()
    tangerang = client.get("/catalogs/tangerang-sample").json()
    assert tangerang["currency"] == "IDR"
    assert tangerang["vat_pct"] == "11"
    assert "not an official price list" in tangerang["label"]
    assert tangerang["version"] == catalogs["tangerang-sample"]["version"]


def test_writing_needs_a_valid_key_and_makes_a_new_version(client: TestClient) -> None:
    current = client.get("/catalogs/example-eur").json()
    edited = {**current, "vat_pct": "21"}
    del edited["version"]

    refused = client.post("/catalogs", json=edited)
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert "API key" in refused.json()["detail"]
    wrong = client.post("/catalogs", json=edited, headers={"X-API-Key": "nope"})
    assert wrong.status_code == 401

    saved = client.post(
        "/catalogs",
        json=edited,
        params={"note": "VAT change"},
        headers={"X-API-Key": API_KEY},
    )
    assert saved.status_code == 201, saved.text
    version = saved.json()["version"]
    assert version == current["version"] + 1
    assert saved.headers["location"] == f"{BASE}/catalogs/example-eur/versions/{version}"

    assert client.get("/catalogs/example-eur").json()["vat_pct"] == "21"
    old = client.get(f"/catalogs/example-eur/versions/{current['version']}").json()
    assert old["vat_pct"] == current["vat_pct"]
    history = client.get("/catalogs/example-eur/versions").json()
    assert [h["version"] for h in history][-2:] == [current["version"], version]
    assert history[-1]["note"] == "VAT change"

    street = {"type": "LineString", "coordinates": [[106.63, -6.17], [106.631, -6.17]]}
    priced = client.post("/estimates", params={"catalog": "example-eur"}, json=street)
    assert priced.json()["catalog"] == {"slug": "example-eur", "version": version}
    assert priced.json()["vat_pct"] == "21"
    pinned = client.post(
        "/estimates",
        params={"catalog": f"example-eur@{current['version']}"},
        json=street,
    )
    assert pinned.json()["vat_pct"] == current["vat_pct"]


def test_an_invalid_document_is_refused_with_the_field_named(client: TestClient) -> None:
    template = client.get("/templates/local-flexible").json()
    del template["version"]
    template["default_width_m"] = -3
    answer = client.post("/templates", json=template, headers={"X-API-Key": API_KEY})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert "default_width_m" in answer.json()["detail"]


def test_unknown_documents_are_404_problems(client: TestClient) -> None:
    missing = client.get("/templates/motorway")
    assert missing.status_code == 404
    assert missing.json() == {
        "type": "about:blank",
        "status": 404,
        "title": "Not found",
        "detail": "there is no template 'motorway'",
        "request_id": missing.headers["x-request-id"],
    }
    assert client.get("/catalogs/tangerang-sample/versions/999").status_code == 404
