"""personal data: when a person was last seen and whether their data was erased; download links for a
person's own data; theme suggestions that outlive the link to their author

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 20:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE people SET last_seen_at = updated_at")
    op.create_index("ix_people_last_seen_at", "people", ["last_seen_at"])
    with op.batch_alter_table("theme_suggestions", schema=None) as batch_op:
        batch_op.alter_column("person_id", existing_type=sa.Integer(), nullable=True)
    op.create_table(
        "personal_exports",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_personal_exports_person_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_personal_exports")),
    )


def downgrade() -> None:
    op.drop_table("personal_exports")
    op.execute("DELETE FROM theme_suggestions WHERE person_id IS NULL")
    with op.batch_alter_table("theme_suggestions", schema=None) as batch_op:
        batch_op.alter_column("person_id", existing_type=sa.Integer(), nullable=False)
    op.drop_index("ix_people_last_seen_at", table_name="people")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
        batch_op.drop_column("last_seen_at")
