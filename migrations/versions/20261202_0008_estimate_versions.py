"""Versions of saved estimates: a new version supersedes an earlier one, which stays as it was.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

Every estimate saved before this revision is version 1 of itself. An estimate is superseded
by at most one later version (a unique index), so its versions form one line.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("estimates", sa.Column("version", sa.Integer, nullable=False, server_default="1"))
    op.add_column("estimates", sa.Column("supersedes", sa.Integer, nullable=True))
    op.create_index("ux_estimates_supersedes", "estimates", ["supersedes"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_estimates_supersedes", table_name="estimates")
    op.drop_column("estimates", "supersedes")
    op.drop_column("estimates", "version")
