"""Queryables of road layers: each property's JSON type and the geometry type, recorded as a
layer is loaded so that filters and `/queryables` need not guess them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Layers loaded before this revision have none; they are read from the features on first use.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.store.types import JSONDocument

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("layers", sa.Column("queryables", JSONDocument, nullable=True))


def downgrade() -> None:
    op.drop_column("layers", "queryables")
