"""Maintenance programmes: versioned treatment rule sets, saved programmes and their segments.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.store.types import GeometryColumn, JSONDocument

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rule_set_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slug", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("body", JSONDocument, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("slug", "version", name="uq_rule_set_versions_slug_version"),
    )
    op.create_table(
        "programmes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text),
        sa.Column("request", JSONDocument, nullable=False),
        sa.Column("summary", JSONDocument, nullable=False),
        sa.Column("rule_set_slug", sa.String(100), nullable=False),
        sa.Column("rule_set_version", sa.Integer, nullable=False),
        sa.Column("catalog_slug", sa.String(100), nullable=False),
        sa.Column("catalog_version", sa.Integer, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("owner", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_programmes_owner_id", "programmes", ["owner", "id"])
    op.create_table(
        "programme_segments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "programme_id",
            sa.Integer,
            sa.ForeignKey("programmes.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("properties", JSONDocument, nullable=False),
        sa.Column("geom", GeometryColumn()),
        sa.Column("minx", sa.Float),
        sa.Column("miny", sa.Float),
        sa.Column("maxx", sa.Float),
        sa.Column("maxy", sa.Float),
    )
    op.create_index(
        "ix_programme_segments_programme_id_id", "programme_segments", ["programme_id", "id"]
    )
    op.create_index(
        "ix_programme_segments_geom", "programme_segments", ["geom"], postgresql_using="gist"
    )


def downgrade() -> None:
    op.drop_table("programme_segments")
    op.drop_table("programmes")
    op.drop_table("rule_set_versions")
