"""How far behind the background jobs are, for /readyz and the admin's alerts: messages waiting past their
time, and meetings whose invitees have not caught up with the registrations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage import tables as t

MESSAGES_LATE = timedelta(minutes=10)  # the guide's alert: the oldest pending message
MEETINGS_LATE = timedelta(hours=1)  # the guide's alert: a meeting out of step


@dataclass(frozen=True)
class Backlog:
    messages_due: int  # pending, their time come
    oldest_message_seconds: int  # how long the longest-waiting of them has waited
    meetings_out_of_step: int  # with registrations Graph has not been told of
    oldest_change_seconds: int

    @property
    def messages_behind(self) -> bool:
        return self.oldest_message_seconds > MESSAGES_LATE.total_seconds()

    @property
    def meetings_behind(self) -> bool:
        return self.oldest_change_seconds > MEETINGS_LATE.total_seconds()

    def as_json(self) -> dict[str, dict[str, int | bool]]:
        return {
            "delivery": {
                "due": self.messages_due,
                "oldest_seconds": self.oldest_message_seconds,
                "behind": self.messages_behind,
            },
            "meetings": {
                "out_of_step": self.meetings_out_of_step,
                "oldest_seconds": self.oldest_change_seconds,
                "behind": self.meetings_behind,
            },
        }


async def backlog(conn: AsyncConnection, now: datetime) -> Backlog:
    o = t.outbox
    due, oldest = (
        await conn.execute(
            select(func.count(), func.min(o.c.next_attempt_at)).where(
                o.c.status == "pending", o.c.next_attempt_at <= now
            )
        )
    ).one()
    c, m = t.meeting_changes, t.meetings
    # Taken by the reconciler but not yet accepted by Graph: no time of their own, so counted, not aged.
    unsent = (
        await conn.execute(
            select(func.count()).where(
                m.c.mode == "graph", m.c.cancelled.is_(False), m.c.attendees_version > m.c.attendees_synced
            )
        )
    ).scalar_one()
    # Written by registrations, not yet taken by the reconciler.
    changed, first = (await conn.execute(select(func.count(func.distinct(c.c.session_id)), func.min(c.c.at)))).one()
    return Backlog(
        int(due),
        _seconds(now, oldest),
        int(changed) + int(unsent),
        _seconds(now, first),
    )


def _seconds(now: datetime, since: datetime | None) -> int:
    return max(int((now - since).total_seconds()), 0) if since is not None else 0
