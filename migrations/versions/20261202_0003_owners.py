"""Owners of jobs and saved estimates: the SHA-256 digest of the API key that made each one.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

Rows made without a key (and every row older than this revision) have no owner.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWNER_INDEXES = {
    "jobs": ("ix_jobs_owner_created_at", ["owner", "created_at"]),
    "estimates": ("ix_estimates_owner_id", ["owner", "id"]),
}


def upgrade() -> None:
    for table, (index, columns) in OWNER_INDEXES.items():
        op.add_column(table, sa.Column("owner", sa.String(64), nullable=True))
        op.create_index(index, table, columns)


def downgrade() -> None:
    for table, (index, _columns) in OWNER_INDEXES.items():
        op.drop_index(index, table_name=table)
        op.drop_column(table, "owner")
