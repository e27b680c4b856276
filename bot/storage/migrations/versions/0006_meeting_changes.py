"""meeting changes: a row per change of attendees instead of a counter on the meeting's row

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 04:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "meeting_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_meeting_changes_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_changes")),
    )
    with op.batch_alter_table("meeting_changes", schema=None) as batch_op:
        batch_op.create_index("ix_meeting_changes_session_id", ["session_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("meeting_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_meeting_changes_session_id")
    op.drop_table("meeting_changes")
