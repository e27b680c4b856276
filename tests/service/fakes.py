"""Small in-memory stand-ins for the repositories and the Unit of Work."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from types import TracebackType
from typing import Self

from bot import datafile
from bot.domain.meetings import MeetingMode
from bot.domain.model import Person, PersonKey, Registration, RegistrationStatus, Series, Session, SessionStatus
from bot.services.ports import AuditEntry, ConversationRef, OutgoingMessage, ThemeSuggestion
from bot.services.series_admin import import_series
from tests.conftest import DEMO_DATA


class FakeSeries:
    def __init__(self) -> None:
        self.rows: dict[int, Series] = {}

    async def list_all(self) -> list[Series]:
        return [self.rows[k] for k in sorted(self.rows)]

    async def get(self, series_id: int) -> Series | None:
        return self.rows.get(series_id)

    async def get_by_slug(self, slug: str) -> Series | None:
        return next((s for s in self.rows.values() if s.slug == slug), None)

    async def add(self, series: Series, now: datetime) -> Series:
        stored = replace(series, id=len(self.rows) + 1)
        self.rows[stored.id] = stored
        return stored

    async def update(self, series: Series) -> None:
        self.rows[series.id] = series


class FakeSessions:
    def __init__(self, registrations: FakeRegistrations) -> None:
        self.rows: dict[int, Session] = {}
        self.locked: list[int] = []
        self._registrations = registrations

    async def get(self, session_id: int, *, lock: bool = False) -> Session | None:
        if lock:
            self.locked.append(session_id)
        return self.rows.get(session_id)

    async def list_for_series(self, series_id: int) -> list[Session]:
        return sorted((s for s in self.rows.values() if s.series_id == series_id), key=lambda s: s.number)

    async def _visible(self, now: datetime) -> list[Session]:
        visible = [s for s in self.rows.values() if s.status is SessionStatus.PUBLISHED and s.ends_at > now]
        return sorted(visible, key=lambda s: (s.starts_at, s.id))

    async def visible_for(self, person_id: int, now: datetime) -> list[tuple[Session, Registration | None, int]]:
        sessions = await self._visible(now)
        counts = await self.registered_counts([s.id for s in sessions])
        return [(s, await self._registrations.get(s.id, person_id), counts.get(s.id, 0)) for s in sessions]

    async def standing(
        self, session_id: int, person_id: int, *, lock: bool = False
    ) -> tuple[Session, Registration | None, int] | None:
        session = await self.get(session_id, lock=lock)
        if session is None:
            return None
        counts = await self.registered_counts([session_id])
        return session, await self._registrations.get(session_id, person_id), counts.get(session_id, 0)

    async def add(self, session: Session, now: datetime) -> Session:
        stored = replace(session, id=len(self.rows) + 1)
        self.rows[stored.id] = stored
        return stored

    async def update(self, session: Session, now: datetime) -> None:
        self.rows[session.id] = session

    async def registered_counts(self, session_ids: Sequence[int]) -> dict[int, int]:
        counts: dict[int, int] = {}
        for r in self._registrations.rows.values():
            if r.session_id in session_ids and r.status is RegistrationStatus.REGISTERED:
                counts[r.session_id] = counts.get(r.session_id, 0) + 1
        return counts


class FakePeople:
    def __init__(self) -> None:
        self.rows: dict[int, Person] = {}

    async def seen(
        self, key: PersonKey, name: str, teams_locale: str | None, now: datetime, reach: object = None
    ) -> Person:
        for person in self.rows.values():
            if person.key == key:
                updated = replace(person, name=name or person.name, teams_locale=teams_locale or person.teams_locale)
                self.rows[person.id] = updated
                return updated
        person = Person(id=len(self.rows) + 1, key=key, name=name, teams_locale=teams_locale)
        self.rows[person.id] = person
        return person

    async def save(self, person: Person, now: datetime) -> None:
        self.rows[person.id] = person


class FakeRegistrations:
    def __init__(self) -> None:
        self.rows: dict[int, Registration] = {}

    async def get(self, session_id: int, person_id: int) -> Registration | None:
        return next((r for r in self.rows.values() if (r.session_id, r.person_id) == (session_id, person_id)), None)

    async def for_person(self, person_id: int) -> list[Registration]:
        return [r for r in self.rows.values() if r.person_id == person_id]

    async def waitlist(self, session_id: int) -> list[Registration]:
        queue = [
            r for r in self.rows.values() if r.session_id == session_id and r.status is RegistrationStatus.WAITLISTED
        ]
        return sorted(queue, key=lambda r: (r.waitlisted_at or r.created_at, r.id or 0))

    async def waitlist_position(self, registration: Registration) -> int:
        queue = await self.waitlist(registration.session_id)
        return next(i for i, r in enumerate(queue, 1) if r.id == registration.id)

    async def save(self, registration: Registration) -> Registration:
        if registration.id is None:
            if await self.get(registration.session_id, registration.person_id) is not None:
                raise AssertionError("a second registration for the same person and session")
            registration = replace(registration, id=len(self.rows) + 1)
        self.rows[registration.id] = registration  # type: ignore[index]
        return registration


class FakeOutbox:
    def __init__(self) -> None:
        self.messages: dict[str, OutgoingMessage] = {}

    async def enqueue(self, messages: Sequence[OutgoingMessage], now: datetime) -> int:
        added = [m for m in messages if m.key not in self.messages]
        self.messages.update({m.key: m for m in added})
        return len(added)

    async def enqueue_later(self, messages: Sequence[OutgoingMessage], now: datetime) -> None:
        await self.enqueue(messages, now)

    def kinds(self) -> list[str]:
        return sorted(m.kind for m in self.messages.values())


class FakeOrganisers:
    def __init__(self) -> None:
        self.ids: dict[int, list[str]] = {}
        self.named: dict[str, str] = {}

    async def list(self, series_id: int) -> list[str]:
        return list(self.ids.get(series_id, []))

    async def names(self, series_id: int) -> dict[str, str]:
        return {aad: name for aad, name in self.named.items() if aad in self.ids.get(series_id, [])}

    async def add(self, series_id: int, aad_object_id: str, added_by: str, now: datetime, name: str = "") -> bool:
        ids = self.ids.setdefault(series_id, [])
        if aad_object_id in ids:
            return False
        ids.append(aad_object_id)
        if name:
            self.named[aad_object_id] = name
        return True

    async def remove(self, series_id: int, aad_object_id: str) -> bool:
        ids = self.ids.setdefault(series_id, [])
        if aad_object_id not in ids:
            return False
        ids.remove(aad_object_id)
        return True


class FakeAudit:
    def __init__(self) -> None:
        self.entries: list[tuple[int, AuditEntry]] = []

    async def add(self, series_id: int, entry: AuditEntry) -> None:
        self.entries.append((series_id, entry))

    async def latest(self, series_id: int, limit: int) -> list[AuditEntry]:
        return [e for s, e in reversed(self.entries) if s == series_id][:limit]


class FakeActivities:
    def __init__(self, people: FakePeople) -> None:
        self.seen: set[str] = set()
        self._people = people

    async def arrive(
        self, activity_id: str, key: PersonKey, name: str, teams_locale: str | None, now: datetime,
        reach: ConversationRef | None = None, *, lock_session: int | None = None,
    ) -> tuple[bool, Person]:  # fmt: skip
        return await self.claim(activity_id, now), await self._people.seen(key, name, teams_locale, now, reach)

    async def claim(self, activity_id: str, now: datetime) -> bool:
        if activity_id in self.seen:
            return False
        self.seen.add(activity_id)
        return True


class FakeMeetings:
    """Records the markers the services set; the reconciler itself is tested against the database."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, int]] = []

    async def follow(self, session_id: int, mode: MeetingMode, now: datetime) -> None:
        self.marks.append((f"follow:{mode.value}", session_id))

    async def attendees_changed(self, session_id: int, now: datetime) -> None:
        self.marks.append(("attendees", session_id))

    async def details_changed(self, session_id: int, now: datetime) -> None:
        self.marks.append(("details", session_id))


class FakeSuggestions:
    def __init__(self, people: FakePeople) -> None:
        self.people = people
        self.rows: list[tuple[int, int, str, datetime]] = []  # (series, person, text, at), oldest first

    async def add(self, series_id: int, person_id: int, text: str, now: datetime) -> None:
        if not any(r[:3] == (series_id, person_id, text) for r in self.rows):
            self.rows.append((series_id, person_id, text, now))

    async def count(self, series_id: int, since: datetime | None = None, until: datetime | None = None) -> int:
        def within(at: datetime) -> bool:
            return (since is None or at >= since) and (until is None or at < until)

        return sum(1 for r in self.rows if r[0] == series_id and within(r[3]))

    async def newest(self, series_id: int, limit: int | None = None, offset: int = 0) -> list[ThemeSuggestion]:
        mine = [r for r in reversed(self.rows) if r[0] == series_id][offset:][:limit]
        people = self.people.rows
        return [ThemeSuggestion(text, people[p].name, people[p].organisation, at) for _, p, text, at in mine]


async def demo_unit_of_work(now: datetime, capacity: int | None = None) -> FakeUnitOfWork:
    """The demo series moved ahead of `now`, its first session limited to `capacity`."""
    uow = FakeUnitOfWork()
    series, sessions = datafile.load(DEMO_DATA)
    weeks = datafile.weeks_to_future(sessions, now)
    sessions = [datafile.shifted(s, weeks) for s in sessions]
    sessions[0] = replace(sessions[0], capacity=capacity)
    await import_series(series, sessions, uow, now)
    return uow


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.series = FakeSeries()
        self.registrations = FakeRegistrations()
        self.sessions = FakeSessions(self.registrations)
        self.people = FakePeople()
        self.activities = FakeActivities(self.people)
        self.outbox = FakeOutbox()
        self.organisers = FakeOrganisers()
        self.audit = FakeAudit()
        self.meetings = FakeMeetings()
        self.suggestions = FakeSuggestions(self.people)
        self.commits = 0

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def commit(self) -> None:
        self.commits += 1

    async def rollback(self) -> None:
        return None
