"""What the services need from storage: repositories and a Unit of Work, as protocols."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from bot.conversation import ConversationRef
from bot.domain.events import Event, Message
from bot.domain.meetings import AttendanceRecord, Meeting, MeetingMode
from bot.domain.model import Person, PersonKey, Registration, Series, Session
from bot.domain.privacy import PersonalData, Purge
from bot.domain.views import AuditEntry, Feedback, SessionCounts, ThemeSuggestion


@dataclass(frozen=True)
class OutboxItem:
    """A claimed outbox row, ready to be rendered and sent."""

    id: int
    key: str
    kind: str
    person_id: int | None
    session_id: int | None
    payload: dict[str, Any]
    attempts: int
    due_at: datetime | None = None  # when it was due to go (a reminder: its time), for the telemetry's lag


@dataclass(frozen=True)
class ChatCard:
    """One of our messages about a session in a person's chat, as it was sent."""

    id: int
    activity_id: str
    kind: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class ExportGrant:
    series_id: int
    session_id: int | None
    expires_at: datetime


class SeriesRepository(Protocol):
    async def list_all(self) -> list[Series]: ...

    async def get(self, series_id: int) -> Series | None: ...

    async def get_by_slug(self, slug: str) -> Series | None: ...

    async def add(self, series: Series, now: datetime) -> Series: ...

    async def update(self, series: Series) -> None: ...


class SessionRepository(Protocol):
    async def get(self, session_id: int, *, lock: bool = False) -> Session | None:
        """`lock` holds the session row until commit, so capacity decisions are taken one at a time."""
        ...

    async def list_for_series(self, series_id: int) -> list[Session]: ...

    async def add(self, session: Session, now: datetime) -> Session: ...

    async def update(self, session: Session, now: datetime) -> None: ...

    async def registered_counts(self, session_ids: Sequence[int]) -> dict[int, int]: ...

    async def by_number(self, series_id: int, number: int, *, lock: bool = False) -> Session | None: ...

    async def next_number(self, series_id: int) -> int: ...

    async def by_calendar_token(self, token: str) -> Session | None:
        """The session an "add to calendar" link is for."""
        ...

    async def counts(self, series_id: int) -> dict[int, SessionCounts]:
        """Registrations per session of a series, by status."""
        ...

    async def standing(
        self, session_id: int, person_id: int, *, lock: bool = False
    ) -> tuple[Session, Registration | None, int] | None: ...

    async def visible_for(self, person_id: int, now: datetime) -> list[tuple[Session, Registration | None, int]]:
        """Published sessions that have not ended, soonest first, each with the person's registration and
        the number registered: the whole overview in one statement."""
        ...

    async def starting_between(self, start: datetime, end: datetime) -> list[Session]:
        """Published sessions that start in [start, end)."""
        ...

    async def ended_between(self, start: datetime, end: datetime) -> list[Session]:
        """Published sessions that ended in [start, end)."""
        ...


class PersonRepository(Protocol):
    async def seen(
        self, key: PersonKey, name: str, teams_locale: str | None, now: datetime, reach: ConversationRef | None = None
    ) -> Person:
        """The person behind a Teams user, created on first contact; name, locale and 1:1 chat kept fresh."""
        ...

    async def get(self, person_id: int) -> Person | None: ...

    async def by_aad_ids(self, tenant_id: str, aad_object_ids: Sequence[str]) -> list[Person]: ...

    async def matching(self, aad_object_ids: Sequence[str], emails: Sequence[str]) -> list[Person]:
        """People known by Entra object id or e-mail address (case-insensitive), in any tenant."""
        ...

    async def reach(self, person_id: int) -> ConversationRef | None: ...

    async def with_chat(self) -> list[int]:
        """Everyone reachable who has a 1:1 chat with the bot."""
        ...

    async def set_unreachable(self, key: PersonKey, now: datetime) -> None: ...

    async def save(self, person: Person, now: datetime) -> None: ...


class RegistrationRepository(Protocol):
    async def get(self, session_id: int, person_id: int) -> Registration | None: ...

    async def for_person(self, person_id: int) -> list[Registration]: ...

    async def waitlist(self, session_id: int) -> list[Registration]:
        """Waitlisted registrations in queue order."""
        ...

    async def waitlist_position(self, registration: Registration) -> int:
        """Where a waitlisted registration stands in its queue: 1 is next."""
        ...

    async def save(self, registration: Registration) -> Registration: ...

    async def entries(self, session_id: int) -> list[tuple[Person, Registration]]:
        """Everyone with a registration for the session, whatever its status."""
        ...

    async def series_participants(self, series_id: int) -> list[int]:
        """Ids of everyone who has registered for any session of the series."""
        ...

    async def per_organisation(self, series_id: int) -> list[tuple[str, int]]:
        """Registered places per organisation over the whole series."""
        ...

    async def absences_since(
        self, series_id: int, since: datetime | None, until: datetime
    ) -> list[tuple[Session, Person, Registration]]:
        """Absences reported in [since, until), for the organisers' digest."""
        ...


class OrganiserRepository(Protocol):
    async def list(self, series_id: int) -> list[str]: ...

    async def series_of(self, aad_object_id: str) -> tuple[int, ...]:
        """The series a person organises (not counting the organisers named in the settings)."""
        ...

    async def names(self, series_id: int) -> dict[str, str]:
        """The names kept for organisers added by @mention, by object id."""
        ...

    async def add(self, series_id: int, aad_object_id: str, added_by: str, now: datetime, name: str = "") -> bool: ...

    async def remove(self, series_id: int, aad_object_id: str) -> bool: ...


class SeriesRegistrationRepository(Protocol):
    """Who is registered for a whole series."""

    async def add(self, series_id: int, person_id: int, now: datetime) -> bool:
        """False when they already were."""
        ...

    async def remove(self, series_id: int, person_id: int) -> bool: ...

    async def of_person(self, person_id: int) -> frozenset[int]:
        """The series the person is registered for as a whole."""
        ...

    async def members(self, series_id: int) -> list[int]:
        """Person ids, first registered first: the order seats are given in when a session is published."""
        ...


class AuditRepository(Protocol):
    async def add(self, series_id: int, entry: AuditEntry) -> None: ...

    async def latest(self, series_id: int, limit: int) -> list[AuditEntry]: ...


INTERRUPTED = "interrupted while sending; not resent"


@dataclass(frozen=True)
class Abandoned:
    released: int  # claimed by a worker that died before trying them: sent by another
    lost: int  # in flight when their worker died: maybe delivered, never resent


class OutboxRepository(Protocol):
    async def enqueue(self, messages: Sequence[Message], now: datetime) -> None:
        """Adds the messages not already queued under their key (the unit of work's `record` calls it)."""
        ...

    async def claim(self, now: datetime, limit: int, lease: datetime) -> list[OutboxItem]:
        """Due rows, marked 'claimed' until `lease`; rows another worker holds are skipped."""
        ...

    async def sending(self, item_id: int, lease: datetime) -> bool:
        """Marks a claimed row as in flight, just before its request goes; False if it is no longer ours."""
        ...

    async def sent(self, item_id: int, now: datetime) -> None: ...

    async def retry(self, item_id: int, at: datetime, error: str) -> None: ...

    async def failed(self, item_id: int, error: str, now: datetime) -> None: ...

    async def abandon_expired(self, now: datetime) -> Abandoned:
        """Rows of a worker that died: those it never tried go back to pending; those in flight may have
        arrived, so they are marked failed, never resent."""
        ...

    async def failed_since(self, series_id: int, since: datetime, until: datetime) -> int:
        """Messages about the series' sessions that failed or were lost in [since, until), for the digest."""
        ...

    async def counts(self) -> dict[str, int]: ...


class FeedbackRepository(Protocol):
    async def save(self, session_id: int, person_id: int, feedback: Feedback, now: datetime) -> None: ...

    async def for_session(self, session_id: int) -> list[Feedback]: ...


class SuggestionRepository(Protocol):
    async def add(self, series_id: int, person_id: int, text: str, now: datetime) -> None:
        """Keeps nothing new when the person suggested the same text before (a second click)."""
        ...

    async def count(self, series_id: int, since: datetime | None = None, until: datetime | None = None) -> int:
        """How many the series has, or how many came in [since, until)."""
        ...

    async def newest(self, series_id: int, limit: int | None = None, offset: int = 0) -> list[ThemeSuggestion]:
        """The series' suggestions, newest first: `limit` of them (all when None), skipping `offset`."""
        ...


class ExportRepository(Protocol):
    async def add(self, token_hash: str, grant: ExportGrant, created_by: str, now: datetime) -> None: ...

    async def get(self, token_hash: str) -> ExportGrant | None: ...


class ChatCardRepository(Protocol):
    async def add(
        self, person_id: int, session_id: int, activity_id: str, kind: str, payload: dict[str, Any], now: datetime
    ) -> None: ...

    async def sent_until(self, person_id: int, session_id: int, until: datetime) -> list[ChatCard]:
        """The person's cards about the session sent until `until`, newest first."""
        ...

    async def forget(self, card_id: int) -> None:
        """The message is gone from the chat (Teams answered 404)."""
        ...


class PrivacyRepository(Protocol):
    async def collect(self, person_id: int) -> PersonalData | None:
        """Every row that names the person, with the sessions and series they concern."""
        ...

    async def add_link(self, token_hash: str, person_id: int, now: datetime, expires_at: datetime) -> None: ...

    async def link(self, token_hash: str) -> tuple[int, datetime] | None:
        """The person a download link is for, and when it expires."""
        ...

    async def anonymise(self, person_id: int, now: datetime) -> None:
        """Name, e-mail, role, identity, chat reference, free texts, queued messages and attendance names
        gone; the organisation, statuses and ratings kept, linked to nobody."""
        ...

    async def purge(self, cutoff: datetime, now: datetime) -> Purge:
        """Retention: free text, attendance names and suggestions' authors of what ended before `cutoff`,
        and people not seen since who have nothing later, are purged; expired download links deleted."""
        ...


class MeetingRepository(Protocol):
    async def get(self, session_id: int) -> Meeting | None: ...

    async def for_sessions(self, session_ids: Sequence[int]) -> dict[int, Meeting]: ...

    async def follow(self, session_id: int, mode: MeetingMode, now: datetime) -> None:
        """Graph keeps the session's meeting (again), or leaves it to the organisers; either way look now."""
        ...

    async def attendees_changed(self, session_id: int, now: datetime) -> None:
        """Marks, in the registration change's own transaction, that Graph's invitees are out of date."""
        ...

    async def details_changed(self, session_id: int, now: datetime) -> None: ...

    async def claim(self, holder: str, now: datetime, lease_until: datetime, limit: int) -> list[Meeting]: ...

    async def settle(self, meeting: Meeting, holder: str, now: datetime, due_at: datetime | None) -> bool: ...


class GraphSlots(Protocol):
    async def ensure(self, mailbox: str, count: int) -> None: ...

    async def acquire(
        self, mailbox: str, holder: str, now: datetime, lease_until: datetime, count: int
    ) -> int | None: ...

    async def release(self, mailbox: str, slot: int, holder: str) -> None: ...


class AttendanceRepository(Protocol):
    async def replace(self, session_id: int, records: Sequence[AttendanceRecord]) -> None: ...

    async def for_sessions(self, session_ids: Sequence[int]) -> dict[int, list[AttendanceRecord]]: ...


class ActivityLog(Protocol):
    async def claim(self, activity_id: str, now: datetime) -> bool:
        """True the first time an activity id is seen; false for a redelivery."""
        ...

    async def arrive(
        self, activity_id: str, key: PersonKey, name: str, teams_locale: str | None, now: datetime,
        reach: ConversationRef | None = None, *, lock_session: int | None = None,
    ) -> tuple[bool, Person]:  # fmt: skip
        """What every turn does first: `claim` the activity, and the sender as `PersonRepository.seen`;
        and lock `lock_session` as `SessionRepository.standing(lock=True)` would, which then need not."""
        ...


class UnitOfWork(Protocol):
    # Read-only properties, so that implementations may hold more specific repositories.
    @property
    def series(self) -> SeriesRepository: ...

    @property
    def sessions(self) -> SessionRepository: ...

    @property
    def people(self) -> PersonRepository: ...

    @property
    def registrations(self) -> RegistrationRepository: ...

    @property
    def series_registrations(self) -> SeriesRegistrationRepository: ...

    @property
    def activities(self) -> ActivityLog: ...

    @property
    def organisers(self) -> OrganiserRepository: ...

    @property
    def audit(self) -> AuditRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def exports(self) -> ExportRepository: ...

    @property
    def feedback(self) -> FeedbackRepository: ...

    @property
    def suggestions(self) -> SuggestionRepository: ...

    @property
    def meetings(self) -> MeetingRepository: ...

    @property
    def graph_slots(self) -> GraphSlots: ...

    @property
    def attendance(self) -> AttendanceRepository: ...

    @property
    def privacy(self) -> PrivacyRepository: ...

    @property
    def chat_cards(self) -> ChatCardRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def record(self, now: datetime, *events: Event) -> None:
        """Turns events into rows of this transaction: messages into the outbox, changes of who holds a seat
        and of an invitation into the meetings' change log. Registrations' own events are recorded when
        they are saved."""
        ...

    async def commit(self) -> None:
        """Only the owner of the turn or the job commits; services and actions never do."""
        ...

    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


class Clock(Protocol):
    def now(self) -> datetime: ...
