"""Hostile input on a real server, both stores: always a 4xx problem naming what is wrong,
never a 5xx, never a server path, address or secret."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from app.main import create_app
from app.routes.web import OptionalStaticFiles
from app.settings import Settings
from tests.conftest import API_KEY, BACKENDS, fresh_store
from tests.live import LiveServer, run_takeoff

PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class Server:
    """A running `takeoff serve`, its `TAKEOFF_*` store settings and its backend."""

    url: str
    settings: dict[str, str | None]
    backend: str


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """`takeoff serve` on a fresh store of each backend: hostile bytes over a real socket."""
    store = fresh_store(request, tmp_path_factory.mktemp("hostile"))
    settings = {"data_dir": str(store.data_dir), "database_url": store.database_url}
    with LiveServer(api_keys=f'["{API_KEY}"]', **settings) as live:
        yield Server(live.url, settings, request.param)


LINE = {"type": "LineString", "coordinates": [[106.6300, -6.1700], [106.6309, -6.1700]]}


def _feature(**properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": LINE}


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def _post_raw(server: Server, path: str, text: str) -> httpx.Response:
    """A JSON body sent as written (json.dumps keeps lone surrogates as `\\udfff` escapes)."""
    headers = {"content-type": "application/json"}
    return httpx.post(server.url + path, content=text.encode(), headers=headers)


def test_a_width_beyond_1000_m_is_refused_before_measuring(server: Server) -> None:
    query = httpx.post(server.url + "/estimates", params={"width_m": "1e308"}, json=LINE)
    assert "width_m" in _problem(query, 422)["detail"]
    feature = httpx.post(server.url + "/estimates", json=_feature(width_m=1e308))
    body = _problem(feature, 422)
    assert (body["feature"], body["field"]) == (0, "width_m")
    assert "at most 1000 m, got 1e+308" in body["detail"]
    override = httpx.post(server.url + "/estimates", json={**LINE, "overrides": {"width_m": 1e9}})
    assert _problem(override, 422)["field"] == "overrides.width_m"
    widest = httpx.post(server.url + "/estimates", params={"width_m": "1000"}, json=LINE)
    assert widest.status_code == 200, widest.text


@pytest.mark.parametrize(
    "path",
    [
        "/estimates/2147483648",
        "/estimates/9223372036854775808",
        "/templates/x/versions/2840512507",
        "/templates/local-flexible/versions/99999999999999999999",
        "/collections/roads/items/2147483648",
        "/collections/estimates/items/9223372036854775808",
    ],
)
def test_ids_and_versions_beyond_the_columns_are_not_found(server: Server, path: str) -> None:
    _problem(httpx.get(server.url + path), 404)


def test_deleting_an_id_beyond_the_column_is_not_found(server: Server) -> None:
    response = httpx.delete(
        server.url + "/estimates/9223372036854775808", headers={"X-API-Key": API_KEY}
    )
    assert _problem(response, 404)["detail"] == "there is no saved estimate 9223372036854775808"


def test_a_version_beyond_the_column_is_an_unknown_template(server: Server) -> None:
    response = httpx.post(
        server.url + "/estimates",
        params={"template": "local-flexible@99999999999999999999"},
        json=LINE,
    )
    body = _problem(response, 422)
    assert (body["title"], body["field"]) == ("Unknown template", "template")
    assert "no template 'local-flexible' version 99999999999999999999" in body["detail"]


def test_a_template_given_as_a_list_is_named(server: Server) -> None:
    collection = {"type": "FeatureCollection", "features": [_feature(), _feature(template=["x"])]}
    body = _problem(httpx.post(server.url + "/estimates", json=collection), 422)
    assert (body["feature"], body["field"]) == (1, "template")
    assert "got ['x']" in body["detail"]


def test_saving_an_empty_collection_says_there_is_nothing_to_save(server: Server) -> None:
    empty = {"type": "FeatureCollection", "features": []}
    response = httpx.post(server.url + "/estimates", params={"save": "true"}, json=empty)
    body = _problem(response, 422)
    assert body["field"] == "save" and "nothing to save" in body["detail"]


def test_a_crs_member_with_text_properties_is_named(server: Server) -> None:
    body = {**LINE, "crs": {"type": "name", "properties": "EPSG:4326"}}
    assert _problem(httpx.post(server.url + "/estimates", json=body), 422)["field"] == "crs"


@pytest.mark.parametrize("key", ["name", "template"])
def test_a_lone_surrogate_is_refused_where_it_is(server: Server, key: str) -> None:
    response = _post_raw(server, "/estimates?save=true", json.dumps(_feature(**{key: "\udfff"})))
    body = _problem(response, 422)
    assert body["field"] == f"body.properties.{key}"
    assert "lone surrogate (\\udfff)" in body["detail"]


def test_a_lone_surrogate_in_a_template_document_is_refused(server: Server) -> None:
    document = httpx.get(server.url + "/templates/local-flexible").json()
    document["name"]["en"] = "broken \udfff"
    response = httpx.post(
        server.url + "/templates",
        content=json.dumps(document).encode(),
        headers={"content-type": "application/json", "X-API-Key": API_KEY},
    )
    assert _problem(response, 422)["field"] == "body.name.en"


def test_a_nul_in_a_name_is_refused_on_both_stores(server: Server) -> None:
    response = httpx.post(
        server.url + "/estimates", params={"save": "true"}, json=_feature(name="Jalan\x00Satu")
    )
    body = _problem(response, 422)
    assert body["field"] == "body.properties.name" and "NUL" in body["detail"]


def test_a_nul_in_a_query_parameter_names_it(server: Server) -> None:
    response = httpx.post(server.url + "/estimates?template=local%00flexible", json=LINE)
    assert _problem(response, 422)["field"] == "template"


@pytest.mark.parametrize("path", ["/jobs/a%00b", "/jobs/a%00b/results", "/templates/x%00"])
def test_a_nul_in_a_path_is_not_found(server: Server, path: str) -> None:
    _problem(httpx.get(server.url + path), 404)


def _batch(server: Server, name: str, content: bytes) -> httpx.Response:
    return httpx.post(server.url + "/batch", files={"file": (name, content)}, timeout=60)


def test_a_binary_upload_is_not_a_csv(server: Server) -> None:
    garbage = bytes(range(256)) * 16 + os.urandom(4096)
    body = _problem(_batch(server, "roads.csv", garbage), 422)
    assert body["field"] == "file" and "header row is not text" in body["detail"]


def test_a_128_kib_field_is_read_even_beside_a_broken_row(server: Server) -> None:
    vertices = ", ".join(f"{106.63 + i * 1e-5:.5f} {-6.17 - i % 2 * 1e-5:.5f}" for i in range(8000))
    wkt = f"LINESTRING ({vertices})"
    assert len(wkt) > 128 * 1024
    content = f'name,wkt\nlong,"{wkt}"\nbroken,"LINESTRING (1 2",extra\n'.encode()
    response = _batch(server, "long.csv", content)
    assert response.status_code == 200, response.text
    assert (response.headers["x-rows"], response.headers["x-rows-failed"]) == ("2", "1")


def test_a_header_of_100000_columns_is_refused(server: Server) -> None:
    header = ",".join(f"c{i}" for i in range(100_000))
    body = _problem(_batch(server, "wide.csv", f"{header}\n".encode()), 422)
    assert "header row is longer than 256 KiB" in body["detail"]
    narrower = ",".join(f"c{i}" for i in range(2_000))
    body = _problem(_batch(server, "wide.csv", f"{narrower},wkt\n".encode()), 422)
    assert "has 2001 columns; at most 1000 are read" in body["detail"]


def test_an_unreadable_file_is_named_without_its_server_path(server: Server) -> None:
    body = _problem(_batch(server, "roads.gpkg", b"not a geopackage" * 64), 422)
    assert "roads.gpkg" not in body["detail"]  # the upload is kept as input.gpkg
    assert "'input.gpkg' not recognized" in body["detail"]
    assert server.settings["data_dir"] not in json.dumps(body)
    assert "/tmp" not in json.dumps(body)


def test_a_library_folder_that_is_missing_is_a_404(tmp_path: Path) -> None:
    app = create_app(Settings())
    app.mount("/missing", OptionalStaticFiles(tmp_path / "node_modules" / "leaflet"))

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://takeoff") as client:
            return await client.get("/missing/leaflet.js")

    response = asyncio.run(get())
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert str(tmp_path) not in response.text


def test_health_names_the_backend_not_the_database_address(server: Server) -> None:
    response = httpx.get(server.url + "/healthz")
    assert response.status_code == 200
    assert response.json()["backend"] == server.backend
    if server.backend == "postgis":
        url = sa.make_url(server.settings["database_url"])
        for part in (url.host, str(url.port), url.database, url.username):
            assert part and part not in response.text


def test_405_says_which_methods_are_allowed(server: Server) -> None:
    response = httpx.put(server.url + "/estimates", json=LINE)
    _problem(response, 405)
    assert response.headers["allow"] == "POST"
    response = httpx.post(server.url + "/templates/local-flexible")
    _problem(response, 405)
    assert response.headers["allow"] == "GET"
    response = httpx.delete(server.url + "/templates")  # two routes share this path
    _problem(response, 405)
    assert response.headers["allow"] == "GET, POST"


def test_racing_writes_of_one_template_are_saved_or_conflict(server: Server) -> None:
    document = httpx.get(server.url + "/templates/local-flexible").json()
    document.pop("version")

    def post(n: int) -> httpx.Response:
        body = {**document, "slug": "race", "name": {**document["name"], "en": f"Race {n}"}}
        return httpx.post(
            server.url + "/templates", json=body, headers={"X-API-Key": API_KEY}, timeout=60
        )

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        responses = list(pool.map(post, range(24)))
    statuses = sorted({response.status_code for response in responses})
    assert set(statuses) <= {201, 409}, [
        r.text for r in responses if r.status_code not in (201, 409)
    ]
    saved = sorted(r.json()["version"] for r in responses if r.status_code == 201)
    assert saved == list(range(1, len(saved) + 1))
    for response in responses:
        if response.status_code == 409:
            assert _problem(response, 409)["title"] == "Conflict"


def _insert_layer(server: Server, slug: str) -> sa.Engine:
    url = server.settings.get("database_url") or (
        f"sqlite:///{Path(server.settings['data_dir']) / 'takeoff.sqlite3'}"
    )
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text("insert into layers (slug, title, created_at) values (:slug, 'Bad', :now)"),
            {"slug": slug, "now": datetime.now(UTC)},
        )
    return engine


def test_collections_skip_a_stored_layer_whose_id_cannot_be_a_url(server: Server) -> None:
    engine = _insert_layer(server, "a/b")
    try:
        response = httpx.get(server.url + "/collections")
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text("delete from layers where slug = 'a/b'"))
        engine.dispose()
    assert response.status_code == 200, response.text
    ids = [collection["id"] for collection in response.json()["collections"]]
    assert "a/b" not in ids and ids[0] == "estimates" and "roads" in ids


@pytest.mark.parametrize("slug", ["a/b", "x" * 65, "jalan raya", ""])
def test_load_layer_refuses_a_slug_that_cannot_be_a_collection_id(
    server: Server, data_dir: Path, slug: str
) -> None:
    layer = data_dir / "sample_layers" / "tangerang_roads.geojson"
    loaded = run_takeoff("load-layer", str(layer), "--slug", slug, **server.settings)
    assert loaded.returncode == 2, loaded.stderr
    assert "is not a collection id: use 1 to 64 letters, digits, '-' or '_'" in loaded.stderr
    assert httpx.get(server.url + "/collections").status_code == 200


def test_openapi_documents_problems_in_place_of_fastapi_validation_errors(
    server: Server,
) -> None:
    document = httpx.get(server.url + "/api").json()
    assert "HTTPValidationError" not in json.dumps(document)
    operations = [
        (path, method, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    for path, method, operation in operations:
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                content = response["content"]
                assert list(content) == [PROBLEM], (path, method, status)
                assert content[PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
    estimates = document["paths"]["/estimates"]["post"]["responses"]
    assert {"200", "201", "413", "422"} <= set(estimates)
    templates = document["paths"]["/templates"]["post"]["responses"]
    assert {"201", "401", "409", "422"} <= set(templates)
    assert {"404", "422"} <= set(document["paths"]["/estimates/{estimate_id}"]["get"]["responses"])


def test_a_secret_setting_is_named_without_its_value(tmp_path: Path) -> None:
    keys = run_takeoff("db", "upgrade", data_dir=str(tmp_path), api_keys='["short-secret"]')
    assert keys.returncode == 2
    assert "TAKEOFF_API_KEYS" in keys.stderr and "short-secret" not in keys.stderr
    url = run_takeoff("db", "upgrade", database_url="mysql://roads:hunter2@db.internal/roads")
    assert url.returncode == 2
    assert "TAKEOFF_DATABASE_URL" in url.stderr
    assert "hunter2" not in url.stderr and "db.internal" not in url.stderr
    broken = run_takeoff("db", "upgrade", data_dir=str(tmp_path), api_keys="[hunter2")
    assert broken.returncode == 2 and "api_keys" in broken.stderr
    assert "hunter2" not in broken.stderr and "Traceback" not in broken.stderr
