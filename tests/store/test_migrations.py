from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.errors import StoreUnavailable
from app.settings import StoreSettings
from app.store.database import (
    SCHEMA_HEAD,
    create_store_engine,
    downgrade,
    require_current_schema,
    schema_revisions,
    upgrade,
)

TABLES = {
    "catalog_versions",
    "deliveries",
    "estimates",
    "field_tests",
    "job_result_chunks",
    "jobs",
    "layer_features",
    "layers",
    "programme_segments",
    "programmes",
    "rule_set_versions",
    "sources",
    "template_versions",
}


def _tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version", "spatial_ref_sys"}


def _up_down_up(settings: StoreSettings, tables: set[str] = TABLES) -> sa.Engine:
    engine = create_store_engine(settings)
    upgrade(engine)
    assert _tables(engine) == tables
    assert schema_revisions(engine) == ("0008", "0008")
    assert SCHEMA_HEAD == "0008"  # the head start-up checks against, without alembic
    downgrade(engine, "0007")
    with pytest.raises(StoreUnavailable, match="at revision 0007, this version needs 0008"):
        require_current_schema(engine)
    downgrade(engine, "base")
    assert _tables(engine) == set()
    assert schema_revisions(engine)[0] is None
    upgrade(engine)
    assert _tables(engine) == tables
    return engine


def test_upgrade_and_downgrade_on_sqlite(tmp_path: Path) -> None:
    engine = _up_down_up(StoreSettings(database_url=None, data_dir=tmp_path / "new" / "dir"))
    indexes = {i["name"] for i in sa.inspect(engine).get_indexes("layer_features")}
    assert "ix_layer_features_bbox" in indexes
    assert "ix_sources_bbox" in {i["name"] for i in sa.inspect(engine).get_indexes("sources")}
    engine.dispose()


def test_upgrade_and_downgrade_on_postgis(make_postgis_database: Callable[..., str]) -> None:
    # PostGIS also keeps the routing graph of the road layers for pgRouting
    engine = _up_down_up(
        StoreSettings(database_url=make_postgis_database()), TABLES | {"road_edges"}
    )
    with engine.connect() as connection:
        for table in ("layer_features", "sources"):
            column = connection.exec_driver_sql(
                f"select type, srid from geometry_columns where f_table_name = '{table}'"
            ).one()
            index = connection.exec_driver_sql(
                f"select indexdef from pg_indexes where indexname = 'ix_{table}_geom'"
            ).scalar_one()
            assert tuple(column) == ("GEOMETRY", 4326)
            assert "USING gist (geom)" in index
    engine.dispose()


def test_estimate_versions_migrate_up_and_down(tmp_path: Path) -> None:
    engine = create_store_engine(StoreSettings(database_url=None, data_dir=tmp_path))
    upgrade(engine, "0004")
    with engine.begin() as connection:  # an estimate saved before versions existed
        connection.exec_driver_sql(
            "insert into estimates (request, result, properties, template_slug, "
            "template_version, catalog_slug, catalog_version, currency, total, created_at, "
            "geom, minx, miny, maxx, maxy) values ('{}', '{}', '{}', 't', 1, 'c', 1, 'IDR', 1, "
            "'2026-12-01T00:00:00+00:00', X'00', 0, 0, 0, 0)"
        )
    upgrade(engine)

    def versions() -> tuple[set[str], set[str]]:
        inspector = sa.inspect(engine)
        columns = {c["name"] for c in inspector.get_columns("estimates")}
        unique = {i["name"] for i in inspector.get_indexes("estimates") if i["unique"]}
        return columns & {"version", "supersedes"}, unique

    assert versions() == ({"version", "supersedes"}, {"ux_estimates_supersedes"})
    with engine.connect() as connection:
        row = connection.exec_driver_sql("select version, supersedes from estimates").one()
    assert tuple(row) == (1, None)
    downgrade(engine, "0004")
    assert versions() == (set(), set())
    engine.dispose()
