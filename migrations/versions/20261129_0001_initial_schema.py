"""Initial schema: versioned templates and catalogs, saved estimates, road layers.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.store.types import GeometryColumn, JSONDocument

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _versioned_document_columns() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slug", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("body", JSONDocument, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _footprint_columns() -> list[sa.Column]:
    return [
        sa.Column("geom", GeometryColumn(), nullable=False),
        sa.Column("minx", sa.Float, nullable=False),
        sa.Column("miny", sa.Float, nullable=False),
        sa.Column("maxx", sa.Float, nullable=False),
        sa.Column("maxy", sa.Float, nullable=False),
    ]


def _spatial_indexes(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(f"ix_{table}_geom", table, ["geom"], postgresql_using="gist")
    else:
        op.create_index(f"ix_{table}_bbox", table, ["minx", "maxx", "miny", "maxy"])


def upgrade() -> None:
    for table in ("template_versions", "catalog_versions"):
        op.create_table(
            table,
            *_versioned_document_columns(),
            sa.UniqueConstraint("slug", "version", name=f"uq_{table}_slug_version"),
        )
    op.create_table(
        "estimates",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text),
        sa.Column("request", JSONDocument, nullable=False),
        sa.Column("result", JSONDocument, nullable=False),
        sa.Column("properties", JSONDocument, nullable=False),
        sa.Column("template_slug", sa.String(100), nullable=False),
        sa.Column("template_version", sa.Integer, nullable=False),
        sa.Column("catalog_slug", sa.String(100), nullable=False),
        sa.Column("catalog_version", sa.Integer, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total", sa.Numeric(24, 4), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        *_footprint_columns(),
    )
    _spatial_indexes("estimates")
    op.create_table(
        "layers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slug", sa.String(100), nullable=False, unique=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("attribution", sa.Text),
        sa.Column("license", sa.Text),
        sa.Column("source", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "layer_features",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "layer_id",
            sa.Integer,
            sa.ForeignKey("layers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("feature_id", sa.Text),
        sa.Column("properties", JSONDocument, nullable=False),
        *_footprint_columns(),
    )
    op.create_index("ix_layer_features_layer_id_id", "layer_features", ["layer_id", "id"])
    _spatial_indexes("layer_features")


def downgrade() -> None:
    for table in ("layer_features", "layers", "estimates", "catalog_versions", "template_versions"):
        op.drop_table(table)
