"""The series, its sessions, the people in it and their registrations: pure data and rules, no I/O.

Every rule that depends on time takes `now` (an aware datetime) from the caller.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain import errors
from bot.domain.events import CardRefresh, Confirmation, Event, Promotion, SeatsChanged


class Language(StrEnum):
    SV = "sv"
    EN = "en"

    @classmethod
    def from_locale(cls, locale: str | None) -> Language | None:
        """`sv-SE` -> SV, `en-US` -> EN, anything else -> None."""
        if not locale:
            return None
        prefix = locale.replace("_", "-").split("-", 1)[0].lower()
        try:
            return cls(prefix)
        except ValueError:
            return None


class SessionStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class RegistrationStatus(StrEnum):
    REGISTERED = "registered"
    WAITLISTED = "waitlisted"
    ABSENT = "absent"
    WITHDRAWN = "withdrawn"


# Statuses that hold a place (a seat or a place in the queue).
ACTIVE_STATUSES = frozenset({RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED})


@dataclass(frozen=True)
class Contact:
    name: str
    organisation: str = ""
    role: str = ""
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class ProgrammeItem:
    title: str
    speakers: str = ""


@dataclass(frozen=True)
class Series:
    id: int
    slug: str
    title: str
    organiser: str
    description: str
    target_group: str
    language: Language
    fee: str = ""
    contacts: tuple[Contact, ...] = ()
    organisations: tuple[str, ...] = ()
    total_sessions: int | None = None
    organiser_channel_id: str | None = None  # the Teams channel where organiser commands are taken
    organiser_service_url: str | None = None  # how to post in that channel (the organisers' digest)
    last_digest_at: datetime | None = None


@dataclass(frozen=True)
class Session:
    id: int
    series_id: int
    number: int
    title: str
    starts_at: datetime
    ends_at: datetime
    registration_deadline: datetime
    status: SessionStatus = SessionStatus.DRAFT
    after_talk_ends_at: datetime | None = None
    place: str = "Teams"
    description: str = ""
    programme: tuple[ProgrammeItem, ...] = ()
    guest: str = ""
    contributors: tuple[str, ...] = ()
    capacity: int | None = None
    join_url: str | None = None
    cancel_reason: str = ""
    # Given by the storage, not part of what a session is: two sessions that differ only here are equal.
    calendar_token: str = dataclasses.field(default="", compare=False)  # of its "add to calendar" link
    updated_at: datetime | None = dataclasses.field(default=None, compare=False)  # when it was last stored

    @property
    def has_after_talk(self) -> bool:
        return self.after_talk_ends_at is not None

    def is_upcoming(self, now: datetime) -> bool:
        return self.ends_at > now

    def is_visible_to_participants(self, now: datetime) -> bool:
        return self.status is SessionStatus.PUBLISHED and self.is_upcoming(now)

    def registration_open(self, now: datetime) -> bool:
        return self.status is SessionStatus.PUBLISHED and now <= self.registration_deadline and now < self.starts_at

    def seats_left(self, registered: int) -> int | None:
        if self.capacity is None:
            return None
        return max(self.capacity - registered, 0)

    def check_open_for_registration(self, now: datetime) -> None:
        if self.status is SessionStatus.CANCELLED:
            raise errors.SessionCancelled(self.number)
        if self.status is not SessionStatus.PUBLISHED:
            raise errors.SessionNotFound()
        if now >= self.starts_at:
            raise errors.SessionAlreadyStarted(self.number)
        if now > self.registration_deadline:
            raise errors.RegistrationClosed(self.number, self.registration_deadline)

    def check_changeable(self, now: datetime) -> None:
        """Absence and withdrawal are possible until the session has ended."""
        if self.status is SessionStatus.CANCELLED:
            raise errors.SessionCancelled(self.number)
        if now >= self.ends_at:
            raise errors.SessionAlreadyOver(self.number)


@dataclass(frozen=True)
class PersonKey:
    tenant_id: str
    aad_object_id: str


@dataclass(frozen=True)
class Person:
    id: int
    key: PersonKey
    name: str
    email: str = ""
    organisation: str = ""
    role: str = ""
    language: Language | None = None  # chosen by the person; wins over the Teams locale
    teams_locale: str | None = None
    reachable: bool = True
    announcements_opt_out: bool = False
    erased: bool = False  # on request or by retention: a row that names nobody, kept for the statistics

    @property
    def has_profile(self) -> bool:
        return bool(self.organisation and self.role)

    def effective_language(self, series_language: Language) -> Language:
        return self.language or Language.from_locale(self.teams_locale) or series_language

    def with_profile(self, organisation: str, role: str) -> Person:
        return dataclasses.replace(self, organisation=organisation, role=role)


@dataclass(frozen=True)
class Registration:
    id: int | None
    session_id: int
    person_id: int
    status: RegistrationStatus
    after_talk: bool
    created_at: datetime
    status_changed_at: datetime
    # The queue position is the time one last joined the waiting list.
    waitlisted_at: datetime | None = None
    absence_reason: str = ""
    # What the changes since it was read mean outside the transaction; the unit of work records them when
    # the registration is saved, so that no change of who holds a seat goes unnoticed by the meeting.
    events: tuple[Event, ...] = dataclasses.field(default=(), compare=False, repr=False)

    @property
    def holds_seat(self) -> bool:
        return self.status is RegistrationStatus.REGISTERED

    def with_events(self, *events: Event) -> Registration:
        return dataclasses.replace(self, events=self.events + events)

    def _seat_events(self, before: Registration | None) -> tuple[Event, ...]:
        held = before is not None and before.holds_seat
        return (SeatsChanged(self.session_id),) if held != self.holds_seat else ()

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def _moved_to(self, status: RegistrationStatus, now: datetime, **changes: object) -> Registration:
        moved = dataclasses.replace(self, status=status, status_changed_at=now, **changes)  # type: ignore[arg-type]
        return moved.with_events(*moved._seat_events(self))

    def promoted(self, now: datetime) -> Registration:
        moved = self._moved_to(RegistrationStatus.REGISTERED, now, waitlisted_at=None)
        if self.id is None:
            return moved
        return moved.with_events(Promotion(self.person_id, self.session_id, registration=self.id, at=now))

    def _cards_refreshed(self, now: datetime) -> Registration:
        return self.with_events(CardRefresh(self.person_id, self.session_id, at=now))

    def withdrawn(self, now: datetime) -> Registration:
        if self.status is RegistrationStatus.WITHDRAWN:
            raise errors.NotRegistered()
        return self._moved_to(RegistrationStatus.WITHDRAWN, now, waitlisted_at=None)._cards_refreshed(now)

    def absent(self, reason: str, now: datetime) -> Registration:
        if self.status is RegistrationStatus.WITHDRAWN:
            raise errors.NotRegistered()
        moved = self._moved_to(RegistrationStatus.ABSENT, now, absence_reason=reason, waitlisted_at=None)
        return moved._cards_refreshed(now)

    def with_after_talk(self, after_talk: bool, now: datetime) -> Registration:
        return dataclasses.replace(self, after_talk=after_talk)._cards_refreshed(now)


@dataclass(frozen=True)
class RegistrationDecision:
    registration: Registration
    changed: bool  # False when the person already held this place (a repeated click)


def decide_registration(
    session: Session,
    existing: Registration | None,
    registered_count: int,
    person_id: int,
    after_talk: bool,
    now: datetime,
) -> RegistrationDecision:
    """Register, or queue when full. A repeat of an active registration only updates the after-talk."""
    if existing is not None and existing.is_active:
        if existing.after_talk == after_talk or not session.has_after_talk:
            return RegistrationDecision(existing, changed=False)
        return RegistrationDecision(existing.with_after_talk(after_talk, now), changed=True)
    session.check_open_for_registration(now)
    seats = session.seats_left(registered_count)
    status = RegistrationStatus.WAITLISTED if seats == 0 else RegistrationStatus.REGISTERED
    after_talk = after_talk and session.has_after_talk
    waitlisted_at = now if status is RegistrationStatus.WAITLISTED else None
    if existing is not None:
        # Coming back after a withdrawal or absence: a fresh start, the old reason no longer holds.
        registration = dataclasses.replace(
            existing,
            status=status,
            after_talk=after_talk,
            status_changed_at=now,
            waitlisted_at=waitlisted_at,
            absence_reason="",
        )
    else:
        registration = Registration(
            id=None,
            session_id=session.id,
            person_id=person_id,
            status=status,
            after_talk=after_talk,
            created_at=now,
            status_changed_at=now,
            waitlisted_at=waitlisted_at,
        )
    # Registered or queued anew: a confirmation that stays in the chat, whatever later clicks do to the card.
    confirmation = Confirmation(person_id, session.id, at=now)
    return RegistrationDecision(registration.with_events(*registration._seat_events(existing), confirmation), True)


def decide_series_registration(
    session: Session,
    existing: Registration | None,
    registered_count: int,
    person_id: int,
    now: datetime,
    *,
    tell: bool,
) -> Registration | None:
    """A whole-series registration's place in one of its sessions: registered, or queued when full. None where
    the person already has a place, has said they can't come (that still holds), or registration is closed.
    `tell`: a confirmation of its own (a session published later); in the turn itself, one card answers."""
    if existing is not None and (existing.is_active or existing.status is RegistrationStatus.ABSENT):
        return None
    if not session.registration_open(now):
        return None
    registration = decide_registration(session, existing, registered_count, person_id, False, now).registration
    events = tuple(e for e in registration.events if not isinstance(e, Confirmation))
    if tell:
        events += (Confirmation(person_id, session.id, at=now, series=True),)
    return dataclasses.replace(registration, events=events)


def promotions(
    session: Session, registered_count: int, waitlist: Sequence[Registration], now: datetime
) -> list[Registration]:
    """Who moves up from the waiting list, first come first served, while seats are free."""
    if session.status is not SessionStatus.PUBLISHED or now >= session.starts_at:
        return []
    queue = sorted(
        (r for r in waitlist if r.status is RegistrationStatus.WAITLISTED),
        key=lambda r: (r.waitlisted_at or r.created_at, r.id or 0),
    )
    free = len(queue) if session.capacity is None else max(session.capacity - registered_count, 0)
    return [r.promoted(now) for r in queue[:free]]


@dataclass(frozen=True)
class Profile:
    organisation: str
    role: str


MAX_TEXT = 500


def clean_text(value: str, limit: int = MAX_TEXT) -> str:
    """Collapse whitespace and strip control characters from what a person typed."""
    printable = "".join(ch if ch.isprintable() or ch in "\n" else " " for ch in value)
    return " ".join(printable.split())[:limit]


MAX_SUGGESTION = 1000  # organisers read them a page at a time, in a card of at most 28 KB


def validate_suggestion(value: str) -> str:
    """A theme or question for a coming session, as organisers will read it; "" when nothing was written."""
    suggestion = clean_text(value, MAX_SUGGESTION + 1)
    if len(suggestion) > MAX_SUGGESTION:
        raise errors.SuggestionTooLong(MAX_SUGGESTION)
    return suggestion


def validate_profile(organisation: str, role: str, known_organisations: Sequence[str]) -> Profile:
    organisation = clean_text(organisation, 120)
    role = clean_text(role, 120)
    missing = [name for name, value in (("organisation", organisation), ("role", role)) if not value]
    if missing:
        raise errors.ProfileIncomplete(tuple(missing))
    # Match a known organisation regardless of case so that statistics group correctly.
    for known in known_organisations:
        if known.casefold() == organisation.casefold():
            organisation = known
            break
    return Profile(organisation, role)


@dataclass(frozen=True)
class SessionStanding:
    """One person's place in one session, as shown on a card."""

    session: Session
    registration: Registration | None
    registered_count: int  # the seats taken; 0 for a session without a limit, where nothing counts them
    waitlist_position: int | None = None

    @property
    def seats_left(self) -> int | None:
        return self.session.seats_left(self.registered_count)
