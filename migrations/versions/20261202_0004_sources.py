"""Material sources: plants, quarries and base camps as points with the materials they supply;
delivery tickets and field tests (cores, sand cones) of saved estimates.

On PostGIS also the routing graph of the road layers (`road_edges`, one set of edges per
version of the layers) and pgRouting where the server has it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.store.types import GeometryColumn, JSONDocument

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("properties", JSONDocument, nullable=False),
        sa.Column("owner", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("geom", GeometryColumn(), nullable=False),
        sa.Column("minx", sa.Float, nullable=False),
        sa.Column("miny", sa.Float, nullable=False),
        sa.Column("maxx", sa.Float, nullable=False),
        sa.Column("maxy", sa.Float, nullable=False),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "estimate_id",
            sa.Integer,
            sa.ForeignKey("estimates.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("ticket", sa.Text, nullable=False),
        sa.Column("delivered_on", sa.Date, nullable=False),
        sa.Column("material", sa.String(40), nullable=False),
        sa.Column("quantity", sa.Float, nullable=False),
        sa.Column("unit", sa.String(10), nullable=False),
        sa.Column("feature", sa.Integer),
        sa.Column("supersedes", sa.Integer),
        sa.Column("owner", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_deliveries_estimate_id_id", "deliveries", ["estimate_id", "id"])
    op.create_table(
        "field_tests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "estimate_id",
            sa.Integer,
            sa.ForeignKey("estimates.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("sample", sa.Text, nullable=False),
        sa.Column("tested_on", sa.Date, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("layer", sa.String(40), nullable=False),
        sa.Column("thickness_mm", sa.Float),
        sa.Column("density_t_m3", sa.Float),
        sa.Column("feature", sa.Integer),
        sa.Column("lon", sa.Float),
        sa.Column("lat", sa.Float),
        sa.Column("supersedes", sa.Integer),
        sa.Column("owner", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_field_tests_estimate_id_id", "field_tests", ["estimate_id", "id"])
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        op.create_index("ix_sources_bbox", "sources", ["minx", "maxx", "miny", "maxy"])
        return
    op.create_index("ix_sources_geom", "sources", ["geom"], postgresql_using="gist")
    op.create_table(
        "road_edges",
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("id", sa.BigInteger, nullable=False),
        sa.Column("source", sa.BigInteger, nullable=False),
        sa.Column("target", sa.BigInteger, nullable=False),
        sa.Column("cost", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("version", "id"),
    )
    available = bind.exec_driver_sql(
        "select 1 from pg_available_extensions where name = 'pgrouting'"
    ).scalar()
    if available:
        op.execute("create extension if not exists pgrouting")


def downgrade() -> None:
    op.drop_table("field_tests")
    op.drop_table("deliveries")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_table("road_edges")
    op.drop_table("sources")
