"""Material sources: plants, quarries and base camps as points with the materials they supply.

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
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_sources_geom", "sources", ["geom"], postgresql_using="gist")
    else:
        op.create_index("ix_sources_bbox", "sources", ["minx", "maxx", "miny", "maxy"])


def downgrade() -> None:
    op.drop_table("sources")
