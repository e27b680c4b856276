"""chat cards: the messages about a session in a person's chat, by Teams' activity id, kept up to date in place

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 21:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chat_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_chat_cards_person_id_people"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_chat_cards_session_id_sessions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_cards")),
        sa.UniqueConstraint("person_id", "activity_id", name="uq_chat_cards_person_activity"),
    )
    op.create_index("ix_chat_cards_person_id_session_id", "chat_cards", ["person_id", "session_id"])


def downgrade() -> None:
    op.drop_index("ix_chat_cards_person_id_session_id", table_name="chat_cards")
    op.drop_table("chat_cards")
