"""proactive messages: reach, opt-out, outbox leases, feedback, digest

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 20:27:31.145442
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op




revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('rating BETWEEN 1 AND 5', name=op.f('ck_feedback_rating_range')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_feedback_person_id_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_feedback_session_id_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback')),
    sa.UniqueConstraint('session_id', 'person_id', name='uq_feedback_session_person')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('person_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.drop_constraint(op.f('ck_outbox_status_known'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_outbox_status_known'), "status IN ('pending', 'sending', 'sent', 'failed')"
        )

    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reachable', sa.Boolean(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('announcements_opt_out', sa.Boolean(), server_default='0', nullable=False))

    with op.batch_alter_table('series', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organiser_service_url', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('last_digest_at', sa.DateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('series', schema=None) as batch_op:
        batch_op.drop_column('last_digest_at')
        batch_op.drop_column('organiser_service_url')

    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_column('announcements_opt_out')
        batch_op.drop_column('reachable')

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outbox_status_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_outbox_status_known'), "status IN ('pending', 'sent', 'failed')")
        batch_op.alter_column('person_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('lease_until')

    op.drop_table('feedback')
