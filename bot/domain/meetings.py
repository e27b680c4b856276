"""A session's Teams meeting as the reconciler sees it: what Graph still has to be told, pure rules."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.model import Person, Registration, RegistrationStatus, Session, SessionStatus

# Outlook and Teams invite at most 500 people to one event.
MAX_INVITEES = 500
# Teams writes the attendance report some minutes after the meeting; we look for it this long.
ATTENDANCE_FIRST_LOOK = timedelta(minutes=20)
ATTENDANCE_GIVE_UP = timedelta(days=2)
ATTENDANCE_RETRY = timedelta(hours=1)


class MeetingMode(StrEnum):
    GRAPH = "graph"  # the bot keeps an event in the organisers' mailbox
    MANUAL = "manual"  # an organiser set the link by hand: Graph is left alone


class AttendanceState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    UNAVAILABLE = "unavailable"  # no report came within ATTENDANCE_GIVE_UP


class Step(StrEnum):
    CREATE = "create"
    CANCEL = "cancel"
    UPDATE = "update"
    ATTENDEES = "attendees"
    RESPONSES = "responses"
    ATTENDANCE = "attendance"


@dataclass(frozen=True)
class Meeting:
    session_id: int
    mode: MeetingMode
    transaction_id: str
    due_at: datetime
    event_id: str | None = None
    attendees_version: int = 0
    attendees_synced: int = 0
    details_version: int = 0
    details_synced: int = 0
    cancelled: bool = False
    attempts: int = 0
    retry_at: datetime | None = None
    last_error: str = ""
    problem: str = ""  # what organisers were last told is wrong, so that they are told once
    responses_checked_at: datetime | None = None
    attendance: AttendanceState = AttendanceState.PENDING

    def next_step(self, session: Session, now: datetime, poll_every: timedelta) -> Step | None:
        """The one thing to do next; None when Graph agrees with us until `next_due`."""
        if self.mode is MeetingMode.MANUAL:
            return None
        if session.status is SessionStatus.CANCELLED:
            return Step.CANCEL if self.event_id and not self.cancelled else None
        if session.status is not SessionStatus.PUBLISHED:
            return None
        if self.event_id is None:
            return Step.CREATE if now < session.ends_at else None
        if self.details_version > self.details_synced:
            return Step.UPDATE
        if self.attendees_version > self.attendees_synced:
            return Step.ATTENDEES
        if now < session.ends_at:
            polled = self.responses_checked_at
            return Step.RESPONSES if polled is None or now >= polled + poll_every else None
        if self.attendance is AttendanceState.PENDING and now >= session.ends_at + ATTENDANCE_FIRST_LOOK:
            return Step.ATTENDANCE
        return None

    def next_due(self, session: Session, now: datetime, poll_every: timedelta) -> datetime | None:
        """When to look again after a step; None: never, unless something changes."""
        if self.mode is MeetingMode.MANUAL or self.event_id is None or session.status is not SessionStatus.PUBLISHED:
            return None
        if self.next_step(session, now, poll_every) is not None:
            return now
        if now < session.ends_at:
            polled = self.responses_checked_at or now
            return min(polled + poll_every, session.ends_at + ATTENDANCE_FIRST_LOOK)
        if self.attendance is AttendanceState.PENDING:
            return max(now, session.ends_at + ATTENDANCE_FIRST_LOOK)
        return None

    def failed(self, now: datetime, delay: timedelta, error: str) -> Meeting:
        return dataclasses.replace(self, attempts=self.attempts + 1, retry_at=now + delay, last_error=error[:300])


def backoff(attempts: int, retry_after: float | None, jitter: float) -> timedelta:
    """Exponential from 5 s to 10 min, with jitter; Retry-After is a floor. An hour of Graph being down
    costs about ten requests per meeting, and it is caught up within ten minutes of coming back."""
    exponential = min(600.0, 5.0 * 2**attempts) * (0.5 + 0.5 * jitter)
    return timedelta(seconds=max(exponential, retry_after or 0.0))


@dataclass(frozen=True)
class InviteeList:
    invitees: tuple[Person, ...]
    left_out: int  # registered but beyond MAX_INVITEES
    without_email: int  # registered, but Teams gave no address: they get the link from the bot only


def desired_invitees(entries: Iterable[tuple[Person, Registration]]) -> InviteeList:
    """Exactly the registered, first come first served; withdrawn, absent and waitlisted are not invited."""
    registered = sorted(
        (e for e in entries if e[1].status is RegistrationStatus.REGISTERED),
        key=lambda e: (e[1].status_changed_at, e[1].id or 0),
    )
    with_email = [p for p, _ in registered if p.email]
    seen: set[str] = set()
    unique = []
    for person in with_email:
        if person.email.lower() not in seen:
            seen.add(person.email.lower())
            unique.append(person)
    return InviteeList(
        tuple(unique[:MAX_INVITEES]), max(len(unique) - MAX_INVITEES, 0), len(registered) - len(with_email)
    )


def declined(
    responses: Sequence[tuple[str, str, datetime | None]], entries: Iterable[tuple[Person, Registration]]
) -> list[tuple[Person, Registration]]:
    """Registered people who declined the invitation after they registered (an older decline is stale:
    they declined, then registered again with the bot)."""
    by_email = {p.email.lower(): (p, r) for p, r in entries if r.status is RegistrationStatus.REGISTERED and p.email}
    result = []
    for email, response, at in responses:
        found = by_email.get(email.lower())
        if found is None or response != "declined":
            continue
        if at is not None and at < found[1].status_changed_at:
            continue
        result.append(found)
    return result


@dataclass(frozen=True)
class AttendanceRecord:
    """One person who joined a session's meeting, matched to a person of ours where possible."""

    person_id: int | None
    aad_object_id: str
    email: str
    name: str
    seconds: int
    uncertain: bool = False  # matched by display name alone

    @property
    def key(self) -> str:
        return self.aad_object_id or self.email or self.name


@dataclass(frozen=True)
class AttendanceSummary:
    attended: int = 0  # registered and joined
    no_show: int = 0  # registered, did not join
    unregistered: int = 0  # joined without being registered

    @classmethod
    def of(cls, registered_ids: Iterable[int], records: Iterable[AttendanceRecord]) -> AttendanceSummary:
        registered = set(registered_ids)
        present = {r.person_id for r in records if r.person_id is not None}
        walk_ins = [r for r in records if r.person_id is None or r.person_id not in registered]
        return cls(len(registered & present), len(registered - present), len(walk_ins))


def match_attendance(
    attendees: Iterable[tuple[str, str, str, int]], people: Iterable[Person], registered: Iterable[Person] = ()
) -> list[AttendanceRecord]:
    """Attendance records (id, email, name, seconds) matched to people: by Entra object id (also when the
    report gives it as a Teams id, "8:orgid:<id>"), then e-mail, then, for attendees from other tenants whose
    report gives neither, by display name among those registered when exactly one of them bears it; such a
    match is marked uncertain."""
    known = list(people)
    by_aad = {p.key.aad_object_id.lower(): p for p in known}
    by_email = {p.email.lower(): p for p in known if p.email}
    by_name: dict[str, list[Person]] = {}
    for one in registered:
        if one.name:
            by_name.setdefault(_name_key(one.name), []).append(one)
    result = []
    for identity, email, name, seconds in attendees:
        aad = teams_object_id(identity)
        person: Person | None = by_aad.get(aad) if aad else None
        person = person or (by_email.get(email.lower()) if email else None)
        uncertain = False
        if person is None and name:
            namesakes = by_name.get(_name_key(name), [])
            if len(namesakes) == 1:
                person, uncertain = namesakes[0], True
        result.append(AttendanceRecord(person.id if person else None, aad, email.lower(), name, seconds, uncertain))
    return result


def teams_object_id(identity: str) -> str:
    """An Entra object id as reports give it: plain, or as a Teams id ("8:orgid:<id>")."""
    value = identity.strip().lower()
    return value.removeprefix("8:orgid:")


def _name_key(name: str) -> str:
    return " ".join(name.casefold().split())
