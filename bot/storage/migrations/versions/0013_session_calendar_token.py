"""sessions: the unguessable part of each session's "add to calendar" link

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 21:20:00
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("calendar_token", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(op.f("uq_sessions_calendar_token"), ["calendar_token"])
    connection = op.get_bind()
    sessions = sa.table("sessions", sa.column("id", sa.Integer()), sa.column("calendar_token", sa.String()))
    for (session_id,) in connection.execute(sa.select(sessions.c.id)).all():
        token = secrets.token_urlsafe(32)
        connection.execute(sessions.update().where(sessions.c.id == session_id).values(calendar_token=token))


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_sessions_calendar_token"), type_="unique")
        batch_op.drop_column("calendar_token")
