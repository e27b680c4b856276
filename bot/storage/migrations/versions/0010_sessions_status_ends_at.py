"""sessions: an index for the participants' overview (published sessions that have not ended), so that
years of ended sessions are not read on every "träffar"

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_sessions_status_ends_at", "sessions", ["status", "ends_at"])


def downgrade() -> None:
    op.drop_index("ix_sessions_status_ends_at", table_name="sessions")
