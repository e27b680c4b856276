"""Repositories: domain objects in and out of the tables, over one connection and transaction."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Integer, Row, and_, bindparam, case, column, delete, func, literal, or_, select, text

from bot.conversation import ConversationRef
from bot.domain.events import Event, Message
from bot.domain.model import (
    Contact,
    Language,
    Person,
    PersonKey,
    ProgrammeItem,
    Registration,
    RegistrationStatus,
    Series,
    Session,
    SessionStatus,
)
from bot.domain.views import AuditEntry, Feedback, SessionCounts, ThemeSuggestion
from bot.services.ports import INTERRUPTED, Abandoned, ExportGrant, OutboxItem
from bot.storage import tables as t
from bot.storage.engine import Connection
from bot.storage.prepared import Prepared


class Recorder(Protocol):
    """The unit of work's `record`."""

    async def __call__(self, now: datetime, *events: Event) -> None: ...


def _insert(conn: Connection, table: Any) -> Any:
    """The dialect's own INSERT, which knows ON CONFLICT; imported here, as only one of them is ever used."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)


class _Row:
    """Attribute access over a dict, for mapping a joined row's columns to one table."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


# The two statements of every turn, written out: SQLAlchemy cannot cache its dialect-specific
# INSERT … ON CONFLICT constructs and would compile them anew each time. Same SQL on SQLite and PostgreSQL.
_CLAIM = Prepared(
    text(
        "INSERT INTO processed_activities (activity_id, processed_at) VALUES (:activity_id, :processed_at) "
        "ON CONFLICT (activity_id) DO NOTHING RETURNING activity_id"
    ).bindparams(bindparam("processed_at", type_=t.UTCDateTime))
)

# One statement whether new or known, so a concurrent first contact cannot create two people. Some
# activities (conversationUpdate, installationUpdate) carry no name or locale: what we know is kept.
# Writing from the 1:1 chat again makes an uninstalled or blocked person reachable again.
_SEEN_SQL = (
    "INSERT INTO people (tenant_id, aad_object_id, name, email, organisation, role, teams_locale, "
    "service_url, conversation_id, bot_id, created_at, updated_at, last_seen_at) "
    "VALUES (:tenant_id, :aad_object_id, :name, '', '', '', :teams_locale, "
    ":service_url, :conversation_id, :bot_id, :now, :now, :now) "
    "ON CONFLICT (tenant_id, aad_object_id) DO UPDATE SET "
    "last_seen_at = excluded.last_seen_at, "
    "name = COALESCE(NULLIF(excluded.name, ''), people.name), "
    "teams_locale = COALESCE(excluded.teams_locale, people.teams_locale), "
    "service_url = COALESCE(excluded.service_url, people.service_url), "
    "conversation_id = COALESCE(excluded.conversation_id, people.conversation_id), "
    "bot_id = COALESCE(excluded.bot_id, people.bot_id), "
    "reachable = (people.reachable OR excluded.conversation_id IS NOT NULL) "
    "RETURNING " + ", ".join(c.name for c in t.people.c)
)
_SEEN = Prepared(text(_SEEN_SQL).bindparams(bindparam("now", type_=t.UTCDateTime)).columns(*t.people.c))
# What a registration on PostgreSQL holds while it decides (SQLite's BEGIN IMMEDIATE serialises every
# writer). A session with a limit: its row, exclusively, so that seats are counted one decision at a
# time. A session without one has no seats to count: its row shared, so that its registrations go through
# side by side while a change to the session (a limit set, a cancellation) waits for them. Each condition
# is checked again on the row once locked; a registration that waited while the limit was set matches
# neither, yet keeps the shared lock it waited for, so it decides under _DECIDE instead. The seats are
# counted in a later statement, whose snapshot sees the decisions made before the lock.
_LOCKING = (
    "counted AS (SELECT id FROM sessions WHERE id = :lock_session AND capacity IS NOT NULL FOR UPDATE), "
    "unlimited AS (SELECT id FROM sessions WHERE id = :lock_session AND capacity IS NULL FOR SHARE)"
)
# PostgreSQL does both in one round trip: the claim as a data-modifying CTE, counted in the RETURNING;
# and the lock of the session a registration will decide on (none when :lock_session is NULL).
_ARRIVE = Prepared(
    text(
        "WITH claim AS (INSERT INTO processed_activities (activity_id, processed_at) VALUES (:activity_id, :now) "
        "ON CONFLICT (activity_id) DO NOTHING RETURNING activity_id), "
        + _LOCKING
        + " "
        + _SEEN_SQL
        + ", (SELECT count(*) FROM claim) AS first_delivery, "
        "(SELECT count(*) FROM counted) + (SELECT count(*) FROM unlimited) AS locked"
    )
    .bindparams(bindparam("now", type_=t.UTCDateTime), bindparam("lock_session", type_=Integer))
    .columns(*t.people.c, column("first_delivery", Integer), column("locked", Integer))
)
# A decision without the lock above: the row shared (held already, or taken now), and the seats of a
# session with a limit under an advisory lock, one decision at a time. Not the row's exclusive lock: two
# registrations that waited for a limit being set both hold it shared, and upgrading would deadlock them.
# A decision holding the exclusive lock excludes both; the limit is read from the row once locked.
SEATS_LOCK = 0x4C54  # advisory locks' first key for a session's seats ("LT"); the second is the session id
_DECIDE = Prepared(
    text(
        "WITH locked AS (SELECT id, capacity FROM sessions WHERE id = :lock_session FOR SHARE), "
        f"seats AS (SELECT pg_advisory_xact_lock({SEATS_LOCK}, id) FROM locked WHERE capacity IS NOT NULL) "
        "SELECT (SELECT count(*) FROM locked) AS locked, (SELECT count(*) FROM seats) AS seats"
    )
    .bindparams(bindparam("lock_session", type_=Integer))
    .columns(column("locked", Integer), column("seats", Integer))
)


def _standings() -> Any:
    """Sessions with the person's registration and the number registered, in one statement. Built once:
    building a statement per turn costs more than running it. Seats are counted only where there are seats
    (a session with a limit): counting the registered of a session without one grows with every click."""
    s, r = t.sessions, t.registrations
    mine = _MINE
    count = (
        select(func.count())
        .where(r.c.session_id == s.c.id, r.c.status == RegistrationStatus.REGISTERED.value)
        .scalar_subquery()
    )
    registered = case((s.c.capacity.is_(None), literal(0)), else_=count)
    columns = [c.label(f"s_{c.name}") for c in s.c] + [c.label(f"r_{c.name}") for c in mine.c]
    joined = s.outerjoin(mine, (mine.c.session_id == s.c.id) & (mine.c.person_id == bindparam("person_id")))
    return select(*columns, registered.label("registered")).select_from(joined)


def _visible_for() -> Any:
    """The participant's overview."""
    s = t.sessions
    return (
        _standings()
        .where(s.c.status == SessionStatus.PUBLISHED.value, s.c.ends_at > bindparam("now", type_=t.UTCDateTime))
        .order_by(s.c.starts_at, s.c.id)
    )


def _standing_row(row: Any) -> tuple[Session, Registration | None, int]:
    session = _session(_Row({name: row[label] for name, label in _SESSION_LABELS}))  # type: ignore[arg-type]
    registration = (
        _registration(_Row({name: row[label] for name, label in _MINE_LABELS}))  # type: ignore[arg-type]
        if row["r_id"] is not None
        else None
    )
    return session, registration, int(row["registered"])


_MINE = t.registrations.alias("mine")
_SESSION_LABELS = tuple((c.name, f"s_{c.name}") for c in t.sessions.c)
_MINE_LABELS = tuple((c.name, f"r_{c.name}") for c in _MINE.c)
_SESSION_SELECT = select(t.sessions).where(t.sessions.c.id == bindparam("id"))
_SESSION = Prepared(_SESSION_SELECT)
_SESSION_FOR_UPDATE = Prepared(_SESSION_SELECT.with_for_update())
_REGISTRATION = Prepared(
    select(t.registrations).where(
        t.registrations.c.session_id == bindparam("session_id"), t.registrations.c.person_id == bindparam("person_id")
    )
)
# Counted, not read: a queue of hundreds was read whole for every waitlisted click.
_WAITLIST_AHEAD = Prepared(
    select(func.count()).where(
        t.registrations.c.session_id == bindparam("session_id"),
        t.registrations.c.status == RegistrationStatus.WAITLISTED.value,
        or_(
            t.registrations.c.waitlisted_at < bindparam("at", type_=t.UTCDateTime),
            and_(
                t.registrations.c.waitlisted_at == bindparam("at", type_=t.UTCDateTime),
                t.registrations.c.id <= bindparam("id"),
            ),
        ),
    )
)
_REGISTERED_COUNTS = (
    select(t.registrations.c.session_id, func.count())
    .where(
        t.registrations.c.session_id.in_(bindparam("ids", expanding=True)),
        t.registrations.c.status == RegistrationStatus.REGISTERED.value,
    )
    .group_by(t.registrations.c.session_id)
)
_REGISTRATION_COLUMNS = (
    "session_id", "person_id", "status", "after_talk", "absence_reason", "created_at", "status_changed_at",
    "waitlisted_at",
)  # fmt: skip
_INSERT_REGISTRATION = Prepared(t.registrations.insert().returning(t.registrations.c.id), writes="registrations")
_UPDATE_REGISTRATION = Prepared(
    t.registrations.update()
    .where(t.registrations.c.id == bindparam("registration_id"))
    .values({name: bindparam(name) for name in _REGISTRATION_COLUMNS}),
    writes="registrations",
)
_PERSON_COLUMNS = (
    "name", "email", "organisation", "role", "language", "teams_locale", "reachable", "announcements_opt_out",
    "updated_at",
)  # fmt: skip
_UPDATE_PERSON = Prepared(
    t.people.update()
    .where(t.people.c.id == bindparam("person_id"))
    .values({name: bindparam(name) for name in _PERSON_COLUMNS}),
    writes="people",
)
# A key already queued (a repeated command) is skipped, not an error.
_ENQUEUE = Prepared(
    text(
        "INSERT INTO outbox (idempotency_key, kind, person_id, session_id, payload, status, attempts, "
        "next_attempt_at, last_error, created_at) "
        "VALUES (:key, :kind, :person_id, :session_id, :payload, 'pending', 0, :now, '', :now) "
        "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
    ).bindparams(bindparam("now", type_=t.UTCDateTime), bindparam("payload", type_=t.outbox.c.payload.type)),
    writes="outbox",
)
_VISIBLE_FOR = Prepared(_visible_for())
_STANDING = Prepared(_standings().where(t.sessions.c.id == bindparam("id")))


def _series(row: Row[Any]) -> Series:
    return Series(
        id=row.id,
        slug=row.slug,
        title=row.title,
        organiser=row.organiser,
        description=row.description,
        target_group=row.target_group,
        language=Language(row.language),
        fee=row.fee,
        contacts=tuple(Contact(**c) for c in row.contacts),
        organisations=tuple(row.organisations),
        total_sessions=row.total_sessions,
        organiser_channel_id=row.organiser_channel_id,
        organiser_service_url=row.organiser_service_url,
        last_digest_at=row.last_digest_at,
    )


def _series_values(series: Series) -> dict[str, Any]:
    return {
        "slug": series.slug,
        "title": series.title,
        "organiser": series.organiser,
        "description": series.description,
        "target_group": series.target_group,
        "language": series.language.value,
        "fee": series.fee,
        "contacts": [asdict(c) for c in series.contacts],
        "organisations": list(series.organisations),
        "total_sessions": series.total_sessions,
        "organiser_channel_id": series.organiser_channel_id,
        "organiser_service_url": series.organiser_service_url,
        "last_digest_at": series.last_digest_at,
    }


def _session(row: Row[Any]) -> Session:
    return Session(
        id=row.id,
        series_id=row.series_id,
        number=row.number,
        title=row.title,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        registration_deadline=row.registration_deadline,
        status=SessionStatus(row.status),
        after_talk_ends_at=row.after_talk_ends_at,
        place=row.place,
        description=row.description,
        programme=tuple(ProgrammeItem(**p) for p in row.programme),
        guest=row.guest,
        contributors=tuple(row.contributors or ()),
        capacity=row.capacity,
        join_url=row.join_url,
        cancel_reason=row.cancel_reason,
        calendar_token=row.calendar_token or "",
        updated_at=row.updated_at,
    )


def _session_values(session: Session) -> dict[str, Any]:
    return {
        "series_id": session.series_id,
        "number": session.number,
        "title": session.title,
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
        "after_talk_ends_at": session.after_talk_ends_at,
        "registration_deadline": session.registration_deadline,
        "status": session.status.value,
        "place": session.place,
        "description": session.description,
        "programme": [asdict(p) for p in session.programme],
        "guest": session.guest,
        "contributors": list(session.contributors),
        "capacity": session.capacity,
        "join_url": session.join_url,
        "cancel_reason": session.cancel_reason,
    }


def _person(row: Row[Any]) -> Person:
    return Person(
        id=row.id,
        key=PersonKey(row.tenant_id, row.aad_object_id),
        name=row.name,
        email=row.email,
        organisation=row.organisation,
        role=row.role,
        language=Language(row.language) if row.language else None,
        teams_locale=row.teams_locale,
        reachable=row.reachable,
        announcements_opt_out=row.announcements_opt_out,
        erased=row.erased_at is not None,
    )


def _registration(row: Row[Any]) -> Registration:
    return Registration(
        id=row.id,
        session_id=row.session_id,
        person_id=row.person_id,
        status=RegistrationStatus(row.status),
        after_talk=row.after_talk,
        created_at=row.created_at,
        status_changed_at=row.status_changed_at,
        waitlisted_at=row.waitlisted_at,
        absence_reason=row.absence_reason,
    )


class SeriesCache:
    """The series, kept for a few seconds in the process that answers participants: a deployment runs one
    or a few, read on every turn and changed a few times a year. A change made in this process is seen at
    once (the cache is dropped when it commits); one made by another instance within `ttl` seconds."""

    def __init__(self, ttl: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._series: tuple[Series, ...] | None = None
        self._loaded_at = 0.0

    def get(self) -> tuple[Series, ...] | None:
        if self._series is not None and self._clock() - self._loaded_at < self._ttl:
            return self._series
        return None

    def put(self, series: tuple[Series, ...]) -> None:
        self._series, self._loaded_at = series, self._clock()

    def drop(self) -> None:
        self._series = None


_ALL_SERIES = select(t.series).order_by(t.series.c.id)


class SqlSeriesRepository:
    def __init__(self, conn: Connection, cache: SeriesCache | None = None) -> None:
        self._conn = conn
        # Without a shared cache, the series are still read once per unit of work.
        self._cache = cache or SeriesCache(ttl=float("inf"))
        self.changed = False

    async def list_all(self) -> list[Series]:
        cached = self._cache.get()
        if cached is None:
            cached = tuple(_series(r) for r in await self._conn.execute(_ALL_SERIES))
            if not self.changed:  # what this transaction wrote is not yet everybody's
                self._cache.put(cached)
        return list(cached)

    async def get(self, series_id: int) -> Series | None:
        return next((s for s in await self.list_all() if s.id == series_id), None)

    async def get_by_slug(self, slug: str) -> Series | None:
        row = (await self._conn.execute(select(t.series).where(t.series.c.slug == slug))).first()
        return _series(row) if row else None

    async def add(self, series: Series, now: datetime) -> Series:
        self._changing()
        result = await self._conn.execute(
            t.series.insert().values(**_series_values(series), created_at=now).returning(t.series.c.id)
        )
        return replace(series, id=result.scalar_one())

    async def update(self, series: Series) -> None:
        self._changing()
        await self._conn.execute(t.series.update().where(t.series.c.id == series.id).values(**_series_values(series)))

    def _changing(self) -> None:
        self.changed = True
        self._cache.drop()


class SqlSessionRepository:
    def __init__(self, conn: Connection, locked: set[int] | None = None) -> None:
        self._conn = conn
        self._locked = locked if locked is not None else set()  # sessions locked to decide on (_LOCKING)

    async def get(self, session_id: int, *, lock: bool = False) -> Session | None:
        # FOR UPDATE: PostgreSQL's row lock; on SQLite, BEGIN IMMEDIATE already serialises writers.
        query = _SESSION_FOR_UPDATE if lock else _SESSION
        row = (await self._conn.execute(query, {"id": session_id})).first()
        return _session(row) if row else None

    async def list_for_series(self, series_id: int) -> list[Session]:
        rows = await self._conn.execute(
            select(t.sessions).where(t.sessions.c.series_id == series_id).order_by(t.sessions.c.number)
        )
        return [_session(r) for r in rows]

    async def add(self, session: Session, now: datetime) -> Session:
        token = session.calendar_token or secrets.token_urlsafe(32)
        result = await self._conn.execute(
            t.sessions.insert()
            .values(**_session_values(session), calendar_token=token, updated_at=now)
            .returning(t.sessions.c.id)
        )
        return replace(session, id=result.scalar_one(), calendar_token=token)

    async def by_calendar_token(self, token: str) -> Session | None:
        row = (await self._conn.execute(select(t.sessions).where(t.sessions.c.calendar_token == token))).first()
        return _session(row) if row else None

    async def update(self, session: Session, now: datetime) -> None:
        await self._conn.execute(
            t.sessions.update().where(t.sessions.c.id == session.id).values(**_session_values(session), updated_at=now)
        )

    async def by_number(self, series_id: int, number: int, *, lock: bool = False) -> Session | None:
        query = select(t.sessions).where(t.sessions.c.series_id == series_id, t.sessions.c.number == number)
        if lock:
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        return _session(row) if row else None

    async def next_number(self, series_id: int) -> int:
        query = select(func.coalesce(func.max(t.sessions.c.number), 0)).where(t.sessions.c.series_id == series_id)
        return int((await self._conn.execute(query)).scalar_one()) + 1

    async def counts(self, series_id: int) -> dict[int, SessionCounts]:
        r, s = t.registrations, t.sessions
        registered = r.c.status == RegistrationStatus.REGISTERED.value
        rows = await self._conn.execute(
            select(
                r.c.session_id,
                func.count().filter(registered),
                func.count().filter(r.c.status == RegistrationStatus.WAITLISTED.value),
                func.count().filter(r.c.status == RegistrationStatus.ABSENT.value),
                func.count().filter(r.c.status == RegistrationStatus.WITHDRAWN.value),
                func.sum(case((registered & r.c.after_talk, 1), else_=0)),
            )
            .join(s, s.c.id == r.c.session_id)
            .where(s.c.series_id == series_id)
            .group_by(r.c.session_id)
        )
        return {
            row[0]: SessionCounts(int(row[1]), int(row[2]), int(row[3]), int(row[4]), int(row[5] or 0))
            for row in map(tuple, rows)
        }

    async def visible_for(self, person_id: int, now: datetime) -> list[tuple[Session, Registration | None, int]]:
        rows = await self._conn.execute(_VISIBLE_FOR, {"person_id": person_id, "now": now})
        return [_standing_row(row) for row in rows.mappings()]

    async def standing(
        self, session_id: int, person_id: int, *, lock: bool = False
    ) -> tuple[Session, Registration | None, int] | None:
        """A session, the person's registration in it and the number registered; locked for a decision."""
        if lock and self._conn.dialect.name == "postgresql" and session_id not in self._locked:
            # The locks first, in a statement of their own (_DECIDE): a statement that waits for a lock
            # still counts with the snapshot it started with, which misses the seats just taken.
            await self._conn.execute(_DECIDE, {"lock_session": session_id})
            self._locked.add(session_id)
        row = (await self._conn.execute(_STANDING, {"id": session_id, "person_id": person_id})).mappings().first()
        return _standing_row(row) if row else None

    async def starting_between(self, start: datetime, end: datetime) -> list[Session]:
        s = t.sessions
        rows = await self._conn.execute(
            select(s).where(s.c.status == SessionStatus.PUBLISHED.value, s.c.starts_at >= start, s.c.starts_at < end)
        )
        return [_session(r) for r in rows]

    async def ended_between(self, start: datetime, end: datetime) -> list[Session]:
        s = t.sessions
        rows = await self._conn.execute(
            select(s).where(s.c.status == SessionStatus.PUBLISHED.value, s.c.ends_at >= start, s.c.ends_at < end)
        )
        return [_session(r) for r in rows]

    async def registered_counts(self, session_ids: Sequence[int]) -> dict[int, int]:
        if not session_ids:
            return {}
        rows = await self._conn.execute(_REGISTERED_COUNTS, {"ids": list(session_ids)})
        return {session_id: count for session_id, count in map(tuple, rows)}


def _seen_params(
    key: PersonKey, name: str, teams_locale: str | None, now: datetime, reach: ConversationRef | None
) -> dict[str, Any]:
    return {
        "tenant_id": key.tenant_id,
        "aad_object_id": key.aad_object_id,
        "name": name,
        "teams_locale": teams_locale,
        "service_url": reach.service_url if reach else None,
        "conversation_id": reach.conversation_id if reach else None,
        "bot_id": reach.bot_id if reach else None,
        "now": now,
    }


class SqlPersonRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def seen(
        self, key: PersonKey, name: str, teams_locale: str | None, now: datetime, reach: ConversationRef | None = None
    ) -> Person:
        params = _seen_params(key, name, teams_locale, now, reach)
        return _person((await self._conn.execute(_SEEN, params)).one())

    async def get(self, person_id: int) -> Person | None:
        row = (await self._conn.execute(select(t.people).where(t.people.c.id == person_id))).first()
        return _person(row) if row else None

    async def by_aad_ids(self, tenant_id: str, aad_object_ids: Sequence[str]) -> list[Person]:
        if not aad_object_ids:
            return []
        p = t.people
        rows = await self._conn.execute(
            select(p).where(p.c.aad_object_id.in_(list(aad_object_ids)), p.c.tenant_id == tenant_id)
        )
        return [_person(r) for r in rows]

    async def matching(self, aad_object_ids: Sequence[str], emails: Sequence[str]) -> list[Person]:
        if not aad_object_ids and not emails:
            return []
        p = t.people
        aad = [a.lower() for a in aad_object_ids]
        mail = [e.lower() for e in emails]
        rows = await self._conn.execute(
            select(p).where(or_(func.lower(p.c.aad_object_id).in_(aad), func.lower(p.c.email).in_(mail)))
        )
        return [_person(r) for r in rows]

    async def reach(self, person_id: int) -> ConversationRef | None:
        p = t.people
        row = (
            await self._conn.execute(
                select(p.c.service_url, p.c.conversation_id, p.c.bot_id, p.c.tenant_id).where(p.c.id == person_id)
            )
        ).first()
        if row is None or not (row.service_url and row.conversation_id):
            return None
        return ConversationRef(row.service_url, row.conversation_id, row.bot_id or "", row.tenant_id)

    async def with_chat(self) -> list[int]:
        p = t.people
        rows = await self._conn.execute(
            select(p.c.id).where(p.c.conversation_id.is_not(None), p.c.reachable.is_(True)).order_by(p.c.id)
        )
        return list(rows.scalars())

    async def set_unreachable(self, key: PersonKey, now: datetime) -> None:
        p = t.people
        await self._conn.execute(
            p.update()
            .where(p.c.tenant_id == key.tenant_id, p.c.aad_object_id == key.aad_object_id)
            .values(reachable=False, updated_at=now)
        )

    async def save(self, person: Person, now: datetime) -> None:
        values = {
            "person_id": person.id,
            "name": person.name,
            "email": person.email,
            "organisation": person.organisation,
            "role": person.role,
            "language": person.language.value if person.language else None,
            "teams_locale": person.teams_locale,
            "reachable": person.reachable,
            "announcements_opt_out": person.announcements_opt_out,
            "updated_at": now,
        }
        await self._conn.execute_later(_UPDATE_PERSON, values)


class SqlRegistrationRepository:
    def __init__(self, conn: Connection, record: Recorder) -> None:
        self._conn = conn
        self._record = record

    async def get(self, session_id: int, person_id: int) -> Registration | None:
        row = (await self._conn.execute(_REGISTRATION, {"session_id": session_id, "person_id": person_id})).first()
        return _registration(row) if row else None

    async def for_person(self, person_id: int) -> list[Registration]:
        r = t.registrations
        rows = await self._conn.execute(select(r).where(r.c.person_id == person_id).order_by(r.c.id))
        return [_registration(row) for row in rows]

    async def waitlist(self, session_id: int) -> list[Registration]:
        r = t.registrations
        rows = await self._conn.execute(
            select(r)
            .where(r.c.session_id == session_id, r.c.status == RegistrationStatus.WAITLISTED.value)
            .order_by(r.c.waitlisted_at, r.c.id)
        )
        return [_registration(row) for row in rows]

    async def waitlist_position(self, registration: Registration) -> int:
        params = {"session_id": registration.session_id, "at": registration.waitlisted_at, "id": registration.id}
        return int((await self._conn.execute(_WAITLIST_AHEAD, params)).scalar_one())

    async def save(self, registration: Registration) -> Registration:
        values = {
            "session_id": registration.session_id,
            "person_id": registration.person_id,
            "status": registration.status.value,
            "after_talk": registration.after_talk,
            "absence_reason": registration.absence_reason,
            "created_at": registration.created_at,
            "status_changed_at": registration.status_changed_at,
            "waitlisted_at": registration.waitlisted_at,
        }
        # Its events first: their writes may travel in front of the registration's own, in one statement.
        if registration.events:
            await self._record(registration.status_changed_at, *registration.events)
            registration = replace(registration, events=())
        if registration.id is None:
            new_id = (await self._conn.execute(_INSERT_REGISTRATION, values)).scalar_one()
            return replace(registration, id=new_id)
        await self._conn.execute(_UPDATE_REGISTRATION, {**values, "registration_id": registration.id})
        return registration

    async def entries(self, session_id: int) -> list[tuple[Person, Registration]]:
        r, p = t.registrations, t.people
        columns = [c.label(f"p_{c.name}") for c in p.c] + [c.label(f"r_{c.name}") for c in r.c]
        rows = await self._conn.execute(
            select(*columns)
            .join_from(p, r, r.c.person_id == p.c.id)
            .where(r.c.session_id == session_id)
            .order_by(r.c.id)
        )
        result = []
        for row in rows.mappings():
            person = _Row({c.name: row[f"p_{c.name}"] for c in p.c})
            registration = _Row({c.name: row[f"r_{c.name}"] for c in r.c})
            result.append((_person(person), _registration(registration)))  # type: ignore[arg-type]
        return result

    async def series_participants(self, series_id: int) -> list[int]:
        r, s = t.registrations, t.sessions
        rows = await self._conn.execute(
            select(r.c.person_id).join(s, s.c.id == r.c.session_id).where(s.c.series_id == series_id).distinct()
        )
        return sorted(rows.scalars())

    async def per_organisation(self, series_id: int) -> list[tuple[str, int]]:
        r, s, p = t.registrations, t.sessions, t.people
        rows = await self._conn.execute(
            select(p.c.organisation, func.count())
            .select_from(r.join(s, s.c.id == r.c.session_id).join(p, p.c.id == r.c.person_id))
            .where(
                s.c.series_id == series_id,
                # A cancelled session's places were never taken up: they are no municipality's figure.
                s.c.status == SessionStatus.PUBLISHED.value,
                r.c.status == RegistrationStatus.REGISTERED.value,
            )
            .group_by(p.c.organisation)
            .order_by(func.count().desc(), p.c.organisation)
        )
        return [(organisation or "–", int(count)) for organisation, count in map(tuple, rows)]

    async def absences_since(
        self, series_id: int, since: datetime | None, until: datetime
    ) -> list[tuple[Session, Person, Registration]]:
        r, s, p = t.registrations, t.sessions, t.people
        columns = (
            [c.label(f"s_{c.name}") for c in s.c]
            + [c.label(f"p_{c.name}") for c in p.c]
            + [c.label(f"r_{c.name}") for c in r.c]
        )
        query = (
            select(*columns)
            .select_from(r.join(s, s.c.id == r.c.session_id).join(p, p.c.id == r.c.person_id))
            .where(
                s.c.series_id == series_id,
                r.c.status == RegistrationStatus.ABSENT.value,
                r.c.status_changed_at < until,
            )
            .order_by(s.c.number, r.c.status_changed_at)
        )
        if since is not None:
            query = query.where(r.c.status_changed_at >= since)
        result = []
        for row in (await self._conn.execute(query)).mappings():

            def part(prefix: str, table: Any, row: Any = row) -> Any:
                return _Row({c.name: row[f"{prefix}_{c.name}"] for c in table.c})

            result.append((_session(part("s", s)), _person(part("p", p)), _registration(part("r", r))))
        return result


class SqlOrganiserRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def list(self, series_id: int) -> list[str]:
        o = t.organisers
        rows = await self._conn.execute(select(o.c.aad_object_id).where(o.c.series_id == series_id).order_by(o.c.id))
        return list(rows.scalars())

    async def series_of(self, aad_object_id: str) -> tuple[int, ...]:
        o = t.organisers
        rows = await self._conn.execute(
            select(o.c.series_id).where(func.lower(o.c.aad_object_id) == aad_object_id.lower()).order_by(o.c.series_id)
        )
        return tuple(rows.scalars())

    async def names(self, series_id: int) -> dict[str, str]:
        o = t.organisers
        rows = await self._conn.execute(
            select(o.c.aad_object_id, o.c.name).where(o.c.series_id == series_id, o.c.name != "")
        )
        return dict(map(tuple, rows))

    async def add(self, series_id: int, aad_object_id: str, added_by: str, now: datetime, name: str = "") -> bool:
        o = t.organisers
        statement = (
            _insert(self._conn, o)
            .values(series_id=series_id, aad_object_id=aad_object_id, name=name, added_by=added_by, added_at=now)
            .on_conflict_do_nothing(index_elements=[o.c.series_id, o.c.aad_object_id])
            .returning(o.c.id)
        )
        return (await self._conn.execute(statement)).first() is not None

    async def remove(self, series_id: int, aad_object_id: str) -> bool:
        o = t.organisers
        result = await self._conn.execute(
            delete(o).where(o.c.series_id == series_id, o.c.aad_object_id == aad_object_id).returning(o.c.id)
        )
        return result.first() is not None


class SqlSeriesRegistrationRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def add(self, series_id: int, person_id: int, now: datetime) -> bool:
        sr = t.series_registrations
        statement = (
            _insert(self._conn, sr)
            .values(series_id=series_id, person_id=person_id, created_at=now)
            .on_conflict_do_nothing(index_elements=[sr.c.series_id, sr.c.person_id])
            .returning(sr.c.id)
        )
        return (await self._conn.execute(statement)).first() is not None

    async def remove(self, series_id: int, person_id: int) -> bool:
        sr = t.series_registrations
        result = await self._conn.execute(
            delete(sr).where(sr.c.series_id == series_id, sr.c.person_id == person_id).returning(sr.c.id)
        )
        return result.first() is not None

    async def of_person(self, person_id: int) -> frozenset[int]:
        sr = t.series_registrations
        return frozenset(
            (await self._conn.execute(select(sr.c.series_id).where(sr.c.person_id == person_id))).scalars()
        )

    async def members(self, series_id: int) -> list[int]:
        sr = t.series_registrations
        rows = await self._conn.execute(
            select(sr.c.person_id).where(sr.c.series_id == series_id).order_by(sr.c.created_at, sr.c.id)
        )
        return list(rows.scalars())


class SqlAuditRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def add(self, series_id: int, entry: AuditEntry) -> None:
        await self._conn.execute(
            t.audit_log.insert().values(
                series_id=series_id,
                actor_aad_object_id=entry.actor_aad_object_id,
                actor_name=entry.actor_name,
                action=entry.action,
                subject=entry.subject,
                before=entry.before,
                after=entry.after,
                at=entry.at,
            )
        )

    async def latest(self, series_id: int, limit: int) -> list[AuditEntry]:
        a = t.audit_log
        rows = await self._conn.execute(
            select(a).where(a.c.series_id == series_id).order_by(a.c.at.desc(), a.c.id.desc()).limit(limit)
        )
        return [
            AuditEntry(r.actor_aad_object_id, r.actor_name, r.action, r.subject, r.at, r.before, r.after) for r in rows
        ]


class SqlOutboxClaims:
    """Claiming, leasing and settling outbox rows, for the delivery worker."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def claim(self, now: datetime, limit: int, lease: datetime) -> list[OutboxItem]:
        o = t.outbox
        query = (
            select(
                o.c.id,
                o.c.idempotency_key,
                o.c.kind,
                o.c.person_id,
                o.c.session_id,
                o.c.payload,
                o.c.attempts,
                o.c.next_attempt_at,
            )
            .where(o.c.status == "pending", o.c.next_attempt_at <= now)
            .order_by(o.c.next_attempt_at, o.c.id)
            .limit(limit)
        )
        if self._conn.dialect.name == "postgresql":
            # Several instances: each takes rows no other worker holds, without waiting for them.
            query = query.with_for_update(skip_locked=True)
        rows = (await self._conn.execute(query)).all()
        if not rows:
            return []
        ids = [row.id for row in rows]
        await self._conn.execute(o.update().where(o.c.id.in_(ids)).values(status="claimed", lease_until=lease))
        return [
            OutboxItem(
                r.id, r.idempotency_key, r.kind, r.person_id, r.session_id, r.payload, r.attempts, r.next_attempt_at
            )
            for r in rows
        ]

    async def sending(self, item_id: int, lease: datetime) -> bool:
        o = t.outbox
        result = await self._conn.execute(
            o.update().where(o.c.id == item_id, o.c.status == "claimed").values(status="sending", lease_until=lease)
        )
        return result.rowcount == 1

    async def sent(self, item_id: int, now: datetime) -> None:
        o = t.outbox
        await self._conn.execute(
            o.update()
            .where(o.c.id == item_id)
            .values(status="sent", sent_at=now, lease_until=None, attempts=o.c.attempts + 1)
        )

    async def retry(self, item_id: int, at: datetime, error: str) -> None:
        o = t.outbox
        await self._conn.execute(
            o.update()
            .where(o.c.id == item_id)
            .values(
                status="pending",
                next_attempt_at=at,
                lease_until=None,
                attempts=o.c.attempts + 1,
                last_error=error[:300],
            )
        )

    async def failed(self, item_id: int, error: str, now: datetime) -> None:
        o = t.outbox
        await self._conn.execute(
            o.update()
            .where(o.c.id == item_id)
            .values(status="failed", lease_until=None, attempts=o.c.attempts + 1, last_error=error[:300], failed_at=now)
        )

    async def abandon_expired(self, now: datetime) -> Abandoned:
        o = t.outbox
        released = await self._conn.execute(
            o.update()
            .where(o.c.status == "claimed", o.c.lease_until < now)
            .values(status="pending", lease_until=None)
            .returning(o.c.id)
        )
        lost = await self._conn.execute(
            o.update()
            .where(o.c.status == "sending", o.c.lease_until < now)
            .values(status="failed", lease_until=None, last_error=INTERRUPTED, failed_at=now)
            .returning(o.c.id)
        )
        return Abandoned(released=len(released.fetchall()), lost=len(lost.fetchall()))

    async def failed_since(self, series_id: int, since: datetime, until: datetime) -> int:
        o, s = t.outbox, t.sessions
        in_series = o.c.session_id.in_(select(s.c.id).where(s.c.series_id == series_id))
        query = select(func.count()).where(o.c.failed_at >= since, o.c.failed_at < until, in_series)
        return int((await self._conn.execute(query)).scalar_one())

    async def counts(self) -> dict[str, int]:
        o = t.outbox
        rows = await self._conn.execute(select(o.c.status, func.count()).group_by(o.c.status))
        return {status: int(n) for status, n in map(tuple, rows)}


class SqlOutboxRepository(SqlOutboxClaims):
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def enqueue(self, messages: Sequence[Message], now: datetime) -> None:
        rows = [
            {"key": m.key[:200], "kind": m.kind.value, "person_id": m.person_id, "session_id": m.session_id,
             "payload": m.payload(), "now": now}
            for m in messages
        ]  # fmt: skip
        if len(rows) == 1:
            # Nobody reads its result: PostgreSQL sends it in front of the transaction's next write.
            await self._conn.execute_later(_ENQUEUE, rows[0])
            return
        for row in rows:
            await self._conn.execute(_ENQUEUE, row)


class SqlFeedbackRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def save(self, session_id: int, person_id: int, feedback: Feedback, now: datetime) -> None:
        f = t.feedback
        insert = _insert(self._conn, f).values(
            session_id=session_id, person_id=person_id, rating=feedback.rating, comment=feedback.comment, created_at=now
        )
        await self._conn.execute(
            insert.on_conflict_do_update(
                index_elements=[f.c.session_id, f.c.person_id],
                set_={"rating": insert.excluded.rating, "comment": insert.excluded.comment, "created_at": now},
            )
        )

    async def for_session(self, session_id: int) -> list[Feedback]:
        f = t.feedback
        rows = await self._conn.execute(
            select(f.c.rating, f.c.comment).where(f.c.session_id == session_id).order_by(f.c.id)
        )
        return [Feedback(r.rating, r.comment) for r in rows]


class SqlSuggestionRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def add(self, series_id: int, person_id: int, text: str, now: datetime) -> None:
        s = t.theme_suggestions
        digest = hashlib.sha256(text.encode()).hexdigest()
        insert = _insert(self._conn, s).values(
            series_id=series_id, person_id=person_id, text=text, digest=digest, created_at=now
        )
        await self._conn.execute(
            insert.on_conflict_do_nothing(index_elements=[s.c.series_id, s.c.person_id, s.c.digest])
        )

    async def count(self, series_id: int, since: datetime | None = None, until: datetime | None = None) -> int:
        s = t.theme_suggestions
        query = select(func.count()).select_from(s).where(s.c.series_id == series_id)
        if since is not None:
            query = query.where(s.c.created_at >= since)
        if until is not None:
            query = query.where(s.c.created_at < until)
        return int((await self._conn.execute(query)).scalar_one())

    async def newest(self, series_id: int, limit: int | None = None, offset: int = 0) -> list[ThemeSuggestion]:
        s, p = t.theme_suggestions, t.people
        rows = await self._conn.execute(
            # Outer: a suggestion past the retention period has no author any more.
            select(s.c.text, func.coalesce(p.c.name, ""), func.coalesce(p.c.organisation, ""), s.c.created_at)
            .outerjoin(p, p.c.id == s.c.person_id)
            .where(s.c.series_id == series_id)
            .order_by(s.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [ThemeSuggestion(*row) for row in map(tuple, rows)]


class SqlExportRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def add(self, token_hash: str, grant: ExportGrant, created_by: str, now: datetime) -> None:
        await self._conn.execute(
            t.exports.insert().values(
                token_hash=token_hash,
                series_id=grant.series_id,
                session_id=grant.session_id,
                created_by=created_by,
                created_at=now,
                expires_at=grant.expires_at,
            )
        )

    async def get(self, token_hash: str) -> ExportGrant | None:
        e = t.exports
        row = (await self._conn.execute(select(e).where(e.c.token_hash == token_hash))).first()
        return ExportGrant(row.series_id, row.session_id, row.expires_at) if row else None


class SqlActivityLog:
    def __init__(self, conn: Connection, locked: set[int] | None = None) -> None:
        self._conn = conn
        self._locked = locked if locked is not None else set()  # shared with the session repository

    async def claim(self, activity_id: str, now: datetime) -> bool:
        params = {"activity_id": activity_id[:200], "processed_at": now}
        return (await self._conn.execute(_CLAIM, params)).first() is not None

    async def arrive(
        self, activity_id: str, key: PersonKey, name: str, teams_locale: str | None, now: datetime,
        reach: ConversationRef | None = None, *, lock_session: int | None = None,
    ) -> tuple[bool, Person]:  # fmt: skip
        if self._conn.dialect.name != "postgresql":  # SQLite has no INSERT in a WITH; two statements there
            first = await self.claim(activity_id, now)  # and no row locks: BEGIN IMMEDIATE serialised us
            return first, await SqlPersonRepository(self._conn).seen(key, name, teams_locale, now, reach)
        params = {"activity_id": activity_id[:200], "lock_session": lock_session,
                  **_seen_params(key, name, teams_locale, now, reach)}  # fmt: skip
        row = (await self._conn.execute(_ARRIVE, params)).one()
        if row.locked and lock_session is not None:
            self._locked.add(lock_session)
        return bool(row.first_delivery), _person(row)
