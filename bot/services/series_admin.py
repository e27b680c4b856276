"""Bringing a series and its sessions into the database from a data file (create or update)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from bot.domain.events import InvitationChanged
from bot.domain.meetings import MeetingMode
from bot.domain.model import Series, Session, SessionStatus
from bot.services.ports import UnitOfWork


@dataclass(frozen=True)
class ImportResult:
    series: Series
    series_created: bool
    sessions_created: int
    sessions_updated: int


async def import_series(
    series: Series, sessions: Sequence[Session], uow: UnitOfWork, now: datetime, organisers: Sequence[str] = ()
) -> ImportResult:
    """Idempotent: importing the same file twice changes nothing the second time.

    Sessions are matched by number; what the organisers did in the bot (status, meeting link) is kept.
    """
    existing = await uow.series.get_by_slug(series.slug)
    if existing is None:
        stored = await uow.series.add(series, now)
    else:
        channel = series.organiser_channel_id or existing.organiser_channel_id
        stored = replace(series, id=existing.id, organiser_channel_id=channel)
        await uow.series.update(stored)
    for aad_object_id in organisers:
        await uow.organisers.add(stored.id, aad_object_id, "data file", now)
    known = {s.number: s for s in await uow.sessions.list_for_series(stored.id)}
    created = updated = 0
    for session in sessions:
        previous = known.get(session.number)
        if previous is None:
            added = await uow.sessions.add(replace(session, series_id=stored.id), now)
            if added.status is SessionStatus.PUBLISHED:
                mode = MeetingMode.MANUAL if added.join_url else MeetingMode.GRAPH
                await uow.meetings.follow(added.id, mode, now)
            created += 1
            continue
        # What organisers did in Teams (publish, cancel, meeting link) wins over the file.
        merged = replace(
            session,
            id=previous.id,
            series_id=stored.id,
            status=previous.status,
            join_url=previous.join_url,
            cancel_reason=previous.cancel_reason,
        )
        if merged != previous:
            await uow.sessions.update(merged, now)
            await uow.record(now, InvitationChanged(merged.id))
            updated += 1
    return ImportResult(stored, existing is None, created, updated)


async def is_empty(uow: UnitOfWork) -> bool:
    return not await uow.series.list_all()
