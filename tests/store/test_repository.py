from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import shapely
import sqlalchemy as sa

from app.errors import InvalidInput, NotFound
from app.estimate.templates import load_builtin_templates
from app.io.layers import LayerData, read_layer
from app.store.builtin import SHIPPED_NOTE, sync_builtin_data
from app.store.repository import NewEstimate, Repository

ROAD = shapely.Polygon(
    [(106.630, -6.170), (106.631, -6.170), (106.631, -6.1701), (106.630, -6.1701)]
)


def _estimate(geometry: shapely.Geometry = ROAD, total: str = "1234567", **extra) -> NewEstimate:
    fields = {
        "name": "Jalan Contoh",
        "geometry": geometry,
        "request": {"template": "local-flexible"},
        "result": {"totals": {"total": total}},
        "properties": {"name": "Jalan Contoh", "total": total},
        "template_slug": "local-flexible",
        "template_version": 3,
        "catalog_slug": "tangerang-sample",
        "catalog_version": 2,
        "currency": "IDR",
        "total": Decimal(total),
    }
    fields.update(extra)
    return NewEstimate(**fields)


def test_document_versions_grow_only_on_change(repository: Repository) -> None:
    first = repository.catalogs.add("city", {"currency": "IDR", "items": {"A": "10"}}, note="v1")
    same = repository.catalogs.add("city", {"items": {"A": "10"}, "currency": "IDR"})
    changed = repository.catalogs.add("city", {"currency": "IDR", "items": {"A": "11"}})

    assert (first.version, same.version, changed.version) == (1, 1, 2)
    assert repository.catalogs.get("city").body["items"] == {"A": "11"}
    assert repository.catalogs.get("city", 1).body["items"] == {"A": "10"}
    assert [v.version for v in repository.catalogs.versions("city")] == [1, 2]
    assert [d.slug for d in repository.catalogs.latest_all()] == ["city"]
    assert repository.templates.latest_all() == []


def test_a_version_number_in_the_body_is_the_store_s_to_give(repository: Repository) -> None:
    stored = repository.templates.add("road", {"version": 99, "width_m": 3})
    assert stored.version == 1
    assert stored.body == {"width_m": 3}


def test_missing_documents_are_named(repository: Repository) -> None:
    with pytest.raises(NotFound, match="there is no catalog 'nowhere'"):
        repository.catalogs.get("nowhere")
    repository.templates.add("road", {"width_m": 3})
    with pytest.raises(NotFound, match="there is no template 'road' version 7"):
        repository.templates.get("road", 7)


def test_estimate_round_trip_keeps_geometry_money_and_versions(repository: Repository) -> None:
    saved = repository.save_estimate(_estimate(total="98765432.1234"))
    loaded = repository.get_estimate(saved.id)

    assert shapely.equals_exact(loaded.geometry, ROAD, tolerance=0)
    assert loaded.total == Decimal("98765432.1234")
    assert (loaded.template_version, loaded.catalog_version) == (3, 2)
    assert loaded.result == {"totals": {"total": "98765432.1234"}}
    assert loaded.created_at.tzinfo is not None


def test_deleting_an_estimate(repository: Repository) -> None:
    saved = repository.save_estimate(_estimate())
    repository.delete_estimate(saved.id)
    with pytest.raises(NotFound, match=f"there is no saved estimate {saved.id}"):
        repository.get_estimate(saved.id)
    with pytest.raises(NotFound):
        repository.delete_estimate(saved.id)


def test_estimate_pages_are_ordered_and_counted(repository: Repository) -> None:
    ids = [repository.save_estimate(_estimate(name=f"road {n}")).id for n in range(5)]
    far = repository.save_estimate(_estimate(geometry=shapely.Point(110.0, -7.0).buffer(0.001)))

    page = repository.estimate_page(limit=2, offset=1)
    assert [f.id for f in page.features] == ids[1:3]
    assert page.number_matched == 6

    near = repository.estimate_page(limit=10, bbox=(106.6, -6.2, 106.7, -6.1))
    assert [f.id for f in near.features] == ids
    assert near.number_matched == 5
    assert (
        repository.estimate_page(limit=10, bbox=(109.9, -7.1, 110.1, -6.9)).features[0].id == far.id
    )
    extent = repository.estimate_extent()
    assert extent is not None
    assert extent[0] == pytest.approx(106.630) and extent[2] == pytest.approx(110.001)


def test_bbox_across_the_antimeridian(repository: Repository) -> None:
    east = repository.save_estimate(_estimate(geometry=shapely.box(179.5, 0, 179.9, 1)))
    west = repository.save_estimate(_estimate(geometry=shapely.box(-179.9, 0, -179.5, 1)))
    repository.save_estimate(_estimate())
    page = repository.estimate_page(limit=10, bbox=(179.0, -1, -179.0, 2))
    assert [f.id for f in page.features] == [east.id, west.id]


def test_sample_layer_is_published_whole(repository: Repository, data_dir: Path) -> None:
    layer = read_layer(data_dir / "sample_layers" / "tangerang_roads.geojson", slug="roads")
    info = repository.create_layer(layer)

    assert info.feature_count == 142
    assert info.extent == pytest.approx((106.5623898, -6.2597294, 106.717699, -6.0907624))
    assert info.attribution == "© OpenStreetMap contributors"
    assert info.license is not None and info.license.startswith("ODbL")

    first = repository.layer_page("roads", limit=1).features[0]
    assert first.feature_id == "way/27946607"
    assert first.properties == {
        "osm_id": 27946607,
        "name": "Jalan Dokter Sitanala",
        "highway": "primary",
        "oneway": None,
        "lanes": 2,
    }
    assert list(first.properties) == ["osm_id", "name", "highway", "oneway", "lanes"]
    assert len(shapely.get_coordinates(first.geometry)) == 23

    page = repository.layer_page("roads", limit=50, offset=100)
    assert len(page.features) == 42 and page.number_matched == 142
    assert [f.id for f in page.features] == sorted(f.id for f in page.features)
    assert repository.layer_feature("roads", first.id).feature_id == "way/27946607"

    with pytest.raises(InvalidInput, match="a layer named 'roads' exists already"):
        repository.create_layer(layer)
    with pytest.raises(NotFound, match="there is no collection 'rivers'"):
        repository.layer_page("rivers", limit=1)


def test_shipped_data_is_loaded_once_and_user_edits_win(
    repository: Repository, data_dir: Path
) -> None:
    sync_builtin_data(repository, data_dir)
    templates = {d.slug: d.version for d in repository.templates.latest_all()}
    assert templates == {path.stem: 1 for path in (data_dir / "templates").glob("*.json")}
    assert "tangerang-sample" in {d.slug for d in repository.catalogs.latest_all()}
    assert [layer.slug for layer in repository.list_layers()] == ["roads"]

    shipped = repository.catalogs.get("tangerang-sample").body
    edited = {**shipped, "vat_pct": "12"}
    repository.catalogs.add("tangerang-sample", edited, note="city finance office, 2027 rates")
    sync_builtin_data(repository, data_dir)
    assert {d.slug: d.version for d in repository.templates.latest_all()} == templates
    latest = repository.catalogs.get("tangerang-sample")
    assert (latest.version, latest.body["vat_pct"]) == (2, "12")
    assert repository.get_layer("roads").feature_count == 142


def test_a_newer_shipped_body_replaces_an_older_shipped_one_only(
    repository: Repository, data_dir: Path
) -> None:
    shipped = load_builtin_templates(data_dir / "templates")["local-flexible"]
    body = shipped.model_dump(mode="json", exclude={"version"})
    repository.templates.add("local-flexible", {**body, "name": "older"}, note=SHIPPED_NOTE)
    assert not repository.has_sources()
    sync_builtin_data(repository, data_dir)
    latest = repository.templates.get("local-flexible")
    assert (latest.version, latest.body["name"]) == (2, body["name"])
    assert repository.has_sources()
    sync_builtin_data(repository, data_dir)
    assert repository.templates.get("local-flexible").version == 2


def test_estimates_is_not_a_layer_name(repository: Repository, data_dir: Path) -> None:
    layer = read_layer(data_dir / "sample_layers" / "tangerang_roads.geojson", slug="estimates")
    with pytest.raises(InvalidInput, match="'estimates' is a reserved collection id"):
        repository.create_layer(layer)


def _layer(slug: str, geometries: list[shapely.Geometry]) -> LayerData:
    return LayerData(
        slug=slug,
        title=slug,
        geometries=geometries,
        properties=[{"n": n} for n in range(len(geometries))],
        feature_ids=[str(n) for n in range(len(geometries))],
    )


# An L-shaped road: along the south edge of the unit square, then up its east edge. Its
# bounding box is the whole square, its geometry stays on two of the square's sides.
L_ROAD = shapely.LineString([(0, 0), (1, 0), (1, 1)])
INSIDE_THE_BEND = (0.1, 0.5, 0.4, 0.9)


def test_bbox_returns_features_whose_geometry_meets_it_not_just_their_bbox(
    repository: Repository,
) -> None:
    crossing = shapely.LineString([(0.2, 0.3), (0.3, 0.95)])
    touching = shapely.Point(0.4, 0.9)  # on the box's corner: meets it
    inside = shapely.box(0.15, 0.6, 0.2, 0.7)
    repository.create_layer(_layer("streets", [L_ROAD, crossing, L_ROAD, touching, inside]))
    meets = repository.layer_page("streets", limit=10, bbox=INSIDE_THE_BEND)
    assert [f.properties["n"] for f in meets.features] == [1, 3, 4]
    assert meets.number_matched == 3

    second = repository.layer_page("streets", limit=1, offset=1, bbox=INSIDE_THE_BEND)
    assert [f.properties["n"] for f in second.features] == [3]
    assert second.number_matched == 3
    beyond = repository.layer_page("streets", limit=5, offset=3, bbox=INSIDE_THE_BEND)
    assert (beyond.features, beyond.number_matched) == ([], 3)
    whole = repository.layer_page("streets", limit=10, bbox=(0.9, -0.1, 1.1, 0.1))
    assert [f.properties["n"] for f in whole.features] == [0, 2]


def test_bbox_across_the_antimeridian_tests_geometries_on_both_sides(
    repository: Repository,
) -> None:
    # An L on each side of the antimeridian whose bounding box meets the query box while
    # the line itself passes north of it, and one short road on each side inside it.
    east_l = shapely.LineString([(179.0, 0), (179.0, 5), (179.9, 5)])
    west_l = shapely.LineString([(-179.9, 5), (-179.0, 5), (-179.0, 0)])
    east = shapely.LineString([(179.6, 1), (179.8, 1)])
    west = shapely.LineString([(-179.8, 1), (-179.6, 1)])
    repository.create_layer(_layer("islands", [east_l, west_l, east, west]))
    across = (179.5, 0.5, -179.5, 2.0)
    page = repository.layer_page("islands", limit=10, bbox=across)
    assert [f.properties["n"] for f in page.features] == [2, 3]
    assert page.number_matched == 2

    saved = repository.save_estimate(_estimate(geometry=shapely.box(-179.9, 0.6, -179.7, 0.7)))
    repository.save_estimate(_estimate(geometry=shapely.box(179.0, 0, 179.4, 3)))
    estimates = repository.estimate_page(limit=10, bbox=across)
    assert [f.id for f in estimates.features] == [saved.id]


@pytest.mark.parametrize("store_settings", ["postgis"], indirect=True)
def test_postgis_bbox_queries_use_the_gist_index(repository: Repository) -> None:
    cells = [
        shapely.box(x / 10, y / 10, x / 10 + 0.09, y / 10 + 0.09)
        for x in range(50)
        for y in range(50)
    ]
    repository.create_layer(_layer("grid", cells))
    statements: list[tuple[str, dict]] = []

    def keep(_conn, _cursor, statement: str, parameters: dict, _context, _many) -> None:
        if "ST_Intersects" in statement:
            statements.append((statement, parameters))

    sa.event.listen(repository.engine, "before_cursor_execute", keep)
    try:
        page = repository.layer_page("grid", limit=5, bbox=(1.0, 1.0, 1.25, 1.25))
        across = repository.layer_page("grid", limit=5, bbox=(4.5, 1.0, -179.0, 1.25))
    finally:
        sa.event.remove(repository.engine, "before_cursor_execute", keep)
    assert page.number_matched == 9 and len(page.features) == 5
    assert across.number_matched == 15

    assert len(statements) == 4  # count and page, for each box
    with repository.engine.connect() as connection:
        connection.exec_driver_sql("analyze layer_features")
        connection.exec_driver_sql("set enable_seqscan = off")
        for statement, parameters in statements:
            plan = connection.exec_driver_sql("explain " + statement, parameters).scalars().all()
            assert any("ix_layer_features_geom" in line for line in plan), "\n".join(plan)
