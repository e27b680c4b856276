"""The rows that name a person, across tables: collected for "my data", anonymised for an erasure, purged
when the retention period has passed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, String, cast, delete, exists, func, literal, or_, select, update

from bot.domain.events import Digest, MessageKind
from bot.domain.model import RegistrationStatus
from bot.domain.privacy import (
    AttendanceRecordView,
    FeedbackRecord,
    PersonalData,
    Purge,
    RegistrationRecord,
    SuggestionRecord,
    erased_identity,
)
from bot.storage import tables as t
from bot.storage.engine import Connection


class SqlPrivacyRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def collect(self, person_id: int) -> PersonalData | None:
        p, r, s, se = t.people, t.registrations, t.sessions, t.series
        person = (await self._conn.execute(select(p).where(p.c.id == person_id))).first()
        if person is None:
            return None
        registrations = await self._conn.execute(
            select(
                se.c.title,
                s.c.number,
                s.c.title,
                s.c.starts_at,
                r.c.status,
                r.c.after_talk,
                r.c.absence_reason,
                r.c.created_at,
                r.c.status_changed_at,
            )
            .join(s, s.c.id == r.c.session_id)
            .join(se, se.c.id == s.c.series_id)
            .where(r.c.person_id == person_id)
            .order_by(s.c.starts_at, r.c.id)
        )
        f = t.feedback
        feedback = await self._conn.execute(
            select(s.c.number, s.c.title, f.c.rating, f.c.comment, f.c.created_at)
            .join(s, s.c.id == f.c.session_id)
            .where(f.c.person_id == person_id)
            .order_by(s.c.starts_at)
        )
        ts = t.theme_suggestions
        suggestions = await self._conn.execute(
            select(se.c.title, ts.c.text, ts.c.created_at)
            .join(se, se.c.id == ts.c.series_id)
            .where(ts.c.person_id == person_id)
            .order_by(ts.c.id)
        )
        a = t.attendance
        attendance = await self._conn.execute(
            select(s.c.number, s.c.title, s.c.starts_at, a.c.seconds, a.c.name, a.c.email)
            .join(s, s.c.id == a.c.session_id)
            .where(a.c.person_id == person_id)
            .order_by(s.c.starts_at)
        )
        o = t.organisers
        organiser_of = await self._conn.execute(
            select(se.c.title).join(o, o.c.series_id == se.c.id).where(o.c.aad_object_id == person.aad_object_id)
        )
        sr = t.series_registrations
        whole_series = await self._conn.execute(
            select(se.c.title).join(sr, sr.c.series_id == se.c.id).where(sr.c.person_id == person_id).order_by(sr.c.id)
        )
        return PersonalData(
            tenant_id=person.tenant_id,
            aad_object_id=person.aad_object_id,
            name=person.name,
            email=person.email,
            organisation=person.organisation,
            role=person.role,
            language=person.language,
            teams_locale=person.teams_locale,
            announcements_opt_out=person.announcements_opt_out,
            reachable_in_chat=person.conversation_id is not None,
            first_seen=person.created_at,
            last_seen=person.last_seen_at,
            registrations=tuple(
                RegistrationRecord(row[0], row[1], row[2], row[3], RegistrationStatus(row[4]), *row[5:])
                for row in map(tuple, registrations)
            ),
            feedback=tuple(FeedbackRecord(*row) for row in map(tuple, feedback)),
            suggestions=tuple(SuggestionRecord(*row) for row in map(tuple, suggestions)),
            attendance=tuple(
                AttendanceRecordView(row[0], row[1], row[2], round(row[3] / 60), row[4], row[5])
                for row in map(tuple, attendance)
            ),
            organiser_of=tuple(row[0] for row in organiser_of),
            whole_series=tuple(row[0] for row in whole_series),
        )

    async def add_link(self, token_hash: str, person_id: int, now: datetime, expires_at: datetime) -> None:
        await self._conn.execute(
            t.personal_exports.insert().values(
                token_hash=token_hash, person_id=person_id, created_at=now, expires_at=expires_at
            )
        )

    async def link(self, token_hash: str) -> tuple[int, datetime] | None:
        e = t.personal_exports
        row = (
            await self._conn.execute(select(e.c.person_id, e.c.expires_at).where(e.c.token_hash == token_hash))
        ).first()
        return (row.person_id, row.expires_at) if row else None

    async def anonymise(self, person_id: int, now: datetime) -> None:
        """Everything that names the person goes; what is left (organisation, statuses, ratings, minutes
        attended) belongs to nobody any more. Registrations' statuses are the caller's: seats are decided."""
        p = t.people
        query = select(p.c.aad_object_id, p.c.email, p.c.name, p.c.organisation).where(p.c.id == person_id)
        person = (await self._conn.execute(query)).first()
        if person is None:
            return
        await self._out_of_digests(person.name, person.organisation)
        a = t.attendance
        # Their rows in attendance reports, also those the report could not match to them when it came.
        theirs: list[ColumnElement[bool]] = [a.c.person_id == person_id, a.c.aad_object_id == person.aad_object_id]
        if person.email:
            theirs.append(func.lower(a.c.email) == person.email.lower())
        await self._conn.execute(update(a).where(or_(*theirs)).values(person_id=person_id, **_nameless_attendance()))
        await self._conn.execute(
            update(t.registrations).where(t.registrations.c.person_id == person_id).values(absence_reason="")
        )
        await self._conn.execute(update(t.feedback).where(t.feedback.c.person_id == person_id).values(comment=""))
        await self._conn.execute(delete(t.theme_suggestions).where(t.theme_suggestions.c.person_id == person_id))
        # Registered for a whole series, they would be registered again for each session published later.
        sr = t.series_registrations
        await self._conn.execute(delete(sr).where(sr.c.person_id == person_id))
        # Messages not yet sent go; one in flight is left to finish, its row is marked by the worker.
        await self._conn.execute(
            delete(t.outbox).where(t.outbox.c.person_id == person_id, t.outbox.c.status != "sending")
        )
        await self._conn.execute(delete(t.personal_exports).where(t.personal_exports.c.person_id == person_id))
        await self._conn.execute(delete(t.chat_cards).where(t.chat_cards.c.person_id == person_id))
        await self._conn.execute(
            update(p)
            .where(p.c.id == person_id)
            .values(
                aad_object_id=erased_identity(person_id),
                name="",
                email="",
                role="",
                language=None,
                teams_locale=None,
                service_url=None,
                conversation_id=None,
                bot_id=None,
                reachable=False,
                announcements_opt_out=True,
                erased_at=now,
                updated_at=now,
            )
        )

    async def _out_of_digests(self, name: str, organisation: str) -> None:
        """The organisers' digests name who reported an absence, and why: the person's lines go from every one
        kept, sent or not. Digests are few (one a window with news), and erasures rare."""
        if not name:
            return
        o = t.outbox
        rows = await self._conn.execute(select(o.c.id, o.c.payload).where(o.c.kind == MessageKind.DIGEST.value))
        for row in list(rows):
            row_id, payload = row.id, row.payload
            lines, _, _ = Digest.read(payload)
            kept = [line for line in lines if (line[1], line[2]) != (name, organisation)]
            if len(kept) != len(lines):
                changed = {**payload, "lines": [list(line) for line in kept]}
                await self._conn.execute(update(o).where(o.c.id == row_id).values(payload=changed))

    async def purge(self, cutoff: datetime, now: datetime) -> Purge:
        """What concerns sessions that ended before `cutoff`, suggestions older than it, and people not seen
        since it who have no later session: free text and identities go, counts stay."""
        s, r, f, a = t.sessions, t.registrations, t.feedback, t.attendance
        old = select(s.c.id).where(s.c.ends_at < cutoff)
        reasons = await self._conn.execute(
            update(r).where(r.c.session_id.in_(old), r.c.absence_reason != "").values(absence_reason="")
        )
        comments = await self._conn.execute(
            update(f).where(f.c.session_id.in_(old), f.c.comment != "").values(comment="")
        )
        attendance = await self._conn.execute(
            update(a)
            .where(a.c.session_id.in_(old), or_(a.c.name != "", a.c.email != "", a.c.aad_object_id != ""))
            .values(**_nameless_attendance())
        )
        ts = t.theme_suggestions
        suggestions = await self._conn.execute(
            update(ts).where(ts.c.created_at < cutoff, ts.c.person_id.is_not(None)).values(person_id=None)
        )
        p = t.people
        later = select(r.c.id).join(s, s.c.id == r.c.session_id).where(r.c.person_id == p.c.id, s.c.ends_at >= cutoff)
        inactive = (
            (
                await self._conn.execute(
                    select(p.c.id).where(
                        p.c.erased_at.is_(None),
                        func.coalesce(p.c.last_seen_at, p.c.updated_at) < cutoff,
                        ~exists(later),
                    )
                )
            )
            .scalars()
            .all()
        )
        for person_id in inactive:
            await self.anonymise(person_id, now)
        # Cards about sessions long over are never updated again.
        await self._conn.execute(delete(t.chat_cards).where(t.chat_cards.c.session_id.in_(old)))
        # Messages sent or given up before the cutoff: digests among them name people and their reasons.
        o = t.outbox
        await self._conn.execute(delete(o).where(o.c.status.in_(("sent", "failed")), o.c.created_at < cutoff))
        links = await self._conn.execute(delete(t.personal_exports).where(t.personal_exports.c.expires_at < now))
        exports = await self._conn.execute(delete(t.exports).where(t.exports.c.expires_at < now))
        return Purge(
            reasons=reasons.rowcount,
            comments=comments.rowcount,
            suggestions=suggestions.rowcount,
            attendance=attendance.rowcount,
            people=len(inactive),
            links=links.rowcount + exports.rowcount,
        )


def _nameless_attendance() -> dict[str, object]:
    a = t.attendance
    # identity_key is unique per session: the row's own id keeps it so without naming anyone.
    return {"name": "", "email": "", "aad_object_id": "", "identity_key": literal("anonymous:") + cast(a.c.id, String)}
