"""Teams meetings, the mailbox's Graph request slots and attendance, in and out of their tables."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, and_, bindparam, case, delete, func, or_, select, text

from bot.domain.meetings import AttendanceRecord, AttendanceState, Meeting, MeetingMode
from bot.storage import tables as t
from bot.storage.engine import Connection
from bot.storage.prepared import Prepared
from bot.storage.repositories import _insert

m = t.meetings
changes = t.meeting_changes

# On every registration that takes or frees a seat: built once, so the hot path only binds values. As the
# counter it replaces, for a meeting in either mode: a meeting organisers keep by hand keeps its changes
# (as many as its registrations had) until Graph keeps it again and they are taken.
_ATTENDEES_CHANGED = Prepared(
    text(
        "INSERT INTO meeting_changes (session_id, at) SELECT session_id, :now FROM meetings WHERE session_id = :id"
    ).bindparams(bindparam("now", type_=t.UTCDateTime)),
    writes="meeting_changes",
)
# Changes logged but not yet taken by the reconciler count as a version above what Graph has.
_PENDING = select(func.count()).where(changes.c.session_id == m.c.session_id).scalar_subquery().label("pending")


def _meeting(row: Row[tuple[object, ...]]) -> Meeting:
    r = row._mapping
    pending = r.get("pending", 0)
    return Meeting(
        session_id=r["session_id"],
        mode=MeetingMode(r["mode"]),
        transaction_id=r["transaction_id"],
        due_at=r["due_at"],
        event_id=r["event_id"],
        attendees_version=r["attendees_version"] + (1 if pending else 0),
        attendees_synced=r["attendees_synced"],
        details_version=r["details_version"],
        details_synced=r["details_synced"],
        cancelled=bool(r["cancelled"]),
        attempts=r["attempts"],
        retry_at=r["retry_at"],
        last_error=r["last_error"],
        problem=r["problem"],
        responses_checked_at=r["responses_checked_at"],
        attendance=AttendanceState(r["attendance"]),
    )


class SqlMeetingRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def get(self, session_id: int) -> Meeting | None:
        row = (await self._conn.execute(select(m, _PENDING).where(m.c.session_id == session_id))).first()
        return _meeting(row) if row else None

    async def for_sessions(self, session_ids: Sequence[int]) -> dict[int, Meeting]:
        if not session_ids:
            return {}
        rows = await self._conn.execute(select(m, _PENDING).where(m.c.session_id.in_(session_ids)))
        return {r.session_id: _meeting(r) for r in rows}

    async def follow(self, session_id: int, mode: MeetingMode, now: datetime) -> None:
        """Graph keeps the session's meeting (again), or leaves it to the organisers; either way look now."""
        insert = _insert(self._conn, m).values(
            session_id=session_id, mode=mode.value, transaction_id=str(uuid.uuid4()), due_at=now
        )
        await self._conn.execute(
            insert.on_conflict_do_update(
                index_elements=[m.c.session_id],
                set_={"mode": mode.value, "due_at": now, "retry_at": None, "attempts": 0, "problem": ""},
            )
        )

    async def attendees_changed(self, session_id: int, now: datetime) -> None:
        """In the transaction that changed the registrations: one marker for any number of changes."""
        await self._conn.execute_later(_ATTENDEES_CHANGED, {"id": session_id, "now": now})

    async def details_changed(self, session_id: int, now: datetime) -> None:
        """Title, time, programme or cancellation: the event must be told."""
        await self._conn.execute(
            m.update().where(m.c.session_id == session_id).values(details_version=m.c.details_version + 1, due_at=now)
        )

    async def claim(self, holder: str, now: datetime, lease_until: datetime, limit: int) -> list[Meeting]:
        """Due meetings no live reconciler holds, leased to `holder`, with the changes logged for them
        taken: each meeting that had any comes back with its attendees' version raised."""
        free = or_(m.c.lease_until.is_(None), m.c.lease_until < now)
        # As a due time raised by each change: a burst of changes is one request, once the last settled.
        changed = select(func.max(changes.c.at)).where(changes.c.session_id == m.c.session_id).scalar_subquery() <= now
        due = and_(
            m.c.mode == MeetingMode.GRAPH.value,
            or_(m.c.due_at <= now, changed),
            or_(m.c.retry_at.is_(None), m.c.retry_at <= now),
            free,
        )
        query = select(m.c.session_id).where(due).order_by(m.c.due_at).limit(limit)
        if self._conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = [r.session_id for r in await self._conn.execute(query)]
        if not ids:
            return []
        claimed = await self._conn.execute(
            m.update()
            .where(m.c.session_id.in_(ids), free)
            .values(lease_holder=holder, lease_until=lease_until)
            .returning(*m.c)
        )
        meetings = {r.session_id: r for r in claimed}
        if not meetings:
            return []
        # Taken before the reconciler reads the registrations, so each change taken is in what it reads;
        # one not yet committed stays and keeps the meeting due.
        taken = await self._conn.execute(
            delete(changes).where(changes.c.session_id.in_(list(meetings))).returning(changes.c.session_id)
        )
        raised = sorted(set(taken.scalars()))
        if raised:
            bumped = await self._conn.execute(
                m.update()
                .where(m.c.session_id.in_(raised))
                .values(attendees_version=m.c.attendees_version + 1)
                .returning(*m.c)
            )
            meetings.update({r.session_id: r for r in bumped})
        return [_meeting(r) for r in meetings.values()]

    async def settle(self, meeting: Meeting, holder: str, now: datetime, due_at: datetime | None) -> bool:
        """Writes what the reconciler learned and lets go of the lease; false if the lease was lost.
        A change marked meanwhile (a version above what was synced) keeps the meeting due at once."""
        far = datetime.max.replace(tzinfo=now.tzinfo)
        behind = or_(m.c.attendees_version > meeting.attendees_synced, m.c.details_version > meeting.details_synced)

        result = await self._conn.execute(
            m.update()
            .where(m.c.session_id == meeting.session_id, m.c.lease_holder == holder)
            .values(
                transaction_id=meeting.transaction_id,
                event_id=meeting.event_id,
                attendees_synced=meeting.attendees_synced,
                details_synced=meeting.details_synced,
                cancelled=meeting.cancelled,
                due_at=case((behind, now), else_=due_at or far),
                retry_at=meeting.retry_at,
                attempts=meeting.attempts,
                last_error=meeting.last_error,
                problem=meeting.problem,
                responses_checked_at=meeting.responses_checked_at,
                attendance=meeting.attendance.value,
                lease_holder=None,
                lease_until=None,
            )
        )
        return bool(result.rowcount)


class SqlGraphSlots:
    """Graph's limit of parallel requests per mailbox, across instances: a request holds one of the rows."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def ensure(self, mailbox: str, count: int) -> None:
        s = t.graph_slots
        rows = [{"mailbox": mailbox, "slot": n} for n in range(count)]
        await self._conn.execute(_insert(self._conn, s).values(rows).on_conflict_do_nothing())

    async def acquire(self, mailbox: str, holder: str, now: datetime, lease_until: datetime, count: int) -> int | None:
        s = t.graph_slots
        for slot in range(count):
            result = await self._conn.execute(
                s.update()
                .where(
                    s.c.mailbox == mailbox,
                    s.c.slot == slot,
                    or_(s.c.lease_until.is_(None), s.c.lease_until < now),
                )
                .values(holder=holder, lease_until=lease_until)
            )
            if result.rowcount:
                return slot
        return None

    async def release(self, mailbox: str, slot: int, holder: str) -> None:
        s = t.graph_slots
        await self._conn.execute(
            s.update()
            .where(s.c.mailbox == mailbox, s.c.slot == slot, s.c.holder == holder)
            .values(holder=None, lease_until=None)
        )


class SqlAttendanceRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def replace(self, session_id: int, records: Sequence[AttendanceRecord]) -> None:
        a = t.attendance
        await self._conn.execute(delete(a).where(a.c.session_id == session_id))
        merged: dict[str, AttendanceRecord] = {}
        for record in records:
            if record.key:
                merged[record.key[:320]] = record
        if merged:
            await self._conn.execute(
                a.insert(),
                [
                    {
                        "session_id": session_id,
                        "person_id": r.person_id,
                        "identity_key": key,
                        "aad_object_id": r.aad_object_id[:64],
                        "email": r.email[:320],
                        "name": r.name[:200],
                        "seconds": r.seconds,
                        "uncertain": r.uncertain,
                    }
                    for key, r in merged.items()
                ],
            )

    async def for_sessions(self, session_ids: Sequence[int]) -> dict[int, list[AttendanceRecord]]:
        if not session_ids:
            return {}
        a = t.attendance
        rows = await self._conn.execute(select(a).where(a.c.session_id.in_(session_ids)).order_by(a.c.id))
        result: dict[int, list[AttendanceRecord]] = {}
        for r in rows:
            record = AttendanceRecord(r.person_id, r.aad_object_id, r.email, r.name, r.seconds, r.uncertain)
            result.setdefault(r.session_id, []).append(record)
        return result
