from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from app.settings import StoreSettings
from app.store.database import create_store_engine, downgrade, schema_revisions, upgrade

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
    assert schema_revisions(engine) == ("0007", "0007")
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
