"""outbox: rows claimed by a worker stay 'claimed' until their request is about to go ('sending'); when a
row failed, for the organisers' digest

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 18:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(op.f("ck_outbox_status_known"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_outbox_status_known"), "status IN ('pending', 'claimed', 'sending', 'sent', 'failed')"
        )
    op.create_index("ix_outbox_failed_at", "outbox", ["failed_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_failed_at", table_name="outbox")
    op.execute("UPDATE outbox SET status = 'pending' WHERE status = 'claimed'")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_status_known"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_outbox_status_known"), "status IN ('pending', 'sending', 'sent', 'failed')"
        )
        batch_op.drop_column("failed_at")
