"""series registrations: a person registered for a whole series, and so for each session published later

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 02:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "series_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["series_id"], ["series.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("series_id", "person_id", name="uq_series_registrations_series_person"),
    )
    op.create_index("ix_series_registrations_person", "series_registrations", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_series_registrations_person", table_name="series_registrations")
    op.drop_table("series_registrations")
