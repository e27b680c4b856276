"""Teams meetings of sessions: what the reconciler reads and records, and the organisers' `meeting N`.

The calls to Graph happen in `bot.jobs.meetings`, between these transactions, never inside one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from bot.domain.events import DeclineNoted, MeetingProblem
from bot.domain.meetings import (
    MAX_INVITEES,
    AttendanceRecord,
    match_attendance,
    teams_object_id,
)
from bot.domain.model import Person, Registration, RegistrationStatus, Series, Session, SessionStatus
from bot.services.calendar import Attendee, CreatedEvent
from bot.services.organisers import send_link
from bot.services.participants import fill_freed_seats
from bot.services.ports import UnitOfWork

# Problems organisers are told about, once each until it changes.
NO_JOIN_URL = "no_join_url"
FORBIDDEN = "forbidden"
MAILBOX_NOT_FOUND = "mailbox_not_found"
REJECTED = "rejected"
LOBBY_FORBIDDEN = "lobby_forbidden"
NEAR_LIMIT = "near_limit"
OVER_LIMIT = "over_limit"
NEAR_LIMIT_AT = MAX_INVITEES * 9 // 10


@dataclass(frozen=True)
class SyncState:
    session: Session
    series: Series
    entries: tuple[tuple[Person, Registration], ...]


async def state(session_id: int, uow: UnitOfWork) -> SyncState | None:
    session = await uow.sessions.get(session_id)
    series = await uow.series.get(session.series_id) if session else None
    if session is None or series is None:
        return None
    return SyncState(session, series, tuple(await uow.registrations.entries(session_id)))


async def meeting_created(session_id: int, created: CreatedEvent, uow: UnitOfWork, now: datetime) -> int:
    """Stores the join link on the session and sends it to everyone already registered; returns how many."""
    assert created.join_url is not None
    session = await uow.sessions.get(session_id, lock=True)
    if session is None or session.join_url == created.join_url:
        return 0
    session = replace(session, join_url=created.join_url)
    await uow.sessions.update(session, now)
    return await send_link(session, uow, now)


async def record_declines(
    session_id: int, declined: Sequence[tuple[Person, Registration]], reason: str, uow: UnitOfWork, now: datetime
) -> int:
    """Those who declined the invitation are absent: their seats go to the waiting list, they are told."""
    session = await uow.sessions.get(session_id, lock=True)
    if session is None or session.status is not SessionStatus.PUBLISHED or now >= session.ends_at:
        return 0
    recorded = 0
    for person, seen in declined:
        current = await uow.registrations.get(session_id, person.id)
        # Only if nothing changed since Graph was read: a registration made meanwhile wins.
        if current is None or current.status is not RegistrationStatus.REGISTERED or current != seen:
            continue
        assert current.id is not None  # read from the database
        told = DeclineNoted(person.id, session_id, registration=current.id, at=now)
        await uow.registrations.save(current.absent(reason, now).with_events(told))
        recorded += 1
    if recorded:
        await fill_freed_seats(session, uow, now)
    return recorded


async def record_attendance(session_id: int, attendees: Sequence[Attendee], uow: UnitOfWork) -> list[AttendanceRecord]:
    rows = [(a.aad_object_id, a.email, a.name, a.seconds) for a in attendees]
    people = await uow.people.matching(
        [teams_object_id(a.aad_object_id) for a in attendees if a.aad_object_id],
        [a.email for a in attendees if a.email],
    )
    registered = [p for p, r in await uow.registrations.entries(session_id) if r.holds_seat]
    records = match_attendance(rows, people, registered)
    await uow.attendance.replace(session_id, records)
    return records


async def tell_organisers(
    series: Series, session: Session, problem: str, uow: UnitOfWork, now: datetime, **details: object
) -> None:
    """A message in the organisers' channel saying what is wrong and what to do."""
    await uow.record(now, MeetingProblem(series.id, session.id, session.number, problem, now, details))
