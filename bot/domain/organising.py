"""Rules for organisers: the session form, publishing and cancelling, meeting links, participant lists."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from bot.domain import errors
from bot.domain.meetings import AttendanceRecord, AttendanceSummary
from bot.domain.model import (
    Person,
    ProgrammeItem,
    Registration,
    RegistrationStatus,
    Session,
    SessionStatus,
    clean_text,
)

# Form fields, also the input ids on the organisers' session card.
TITLE = "title"
DATE = "date"
START = "start"
END = "end"
AFTER_TALK_END = "after_talk_end"
DEADLINE = "deadline"
CAPACITY = "capacity"
PLACE = "place"
GUEST = "guest"
DESCRIPTION = "description"
PROGRAMME = "programme"


@dataclass(frozen=True)
class SessionForm:
    """What an organiser typed, as text; `validate` turns it into a session or says what is wrong."""

    title: str = ""
    date: str = ""
    start: str = ""
    end: str = ""
    after_talk_end: str = ""
    deadline: str = ""
    capacity: str = ""
    place: str = "Teams"
    guest: str = ""
    description: str = ""
    programme: str = ""

    @classmethod
    def of(cls, session: Session, zone: ZoneInfo) -> SessionForm:
        local = session.starts_at.astimezone(zone)
        return cls(
            title=session.title,
            date=local.date().isoformat(),
            start=local.strftime("%H:%M"),
            end=session.ends_at.astimezone(zone).strftime("%H:%M"),
            after_talk_end=session.after_talk_ends_at.astimezone(zone).strftime("%H:%M")
            if session.after_talk_ends_at
            else "",
            deadline=session.registration_deadline.astimezone(zone).date().isoformat(),
            capacity="" if session.capacity is None else str(session.capacity),
            place=session.place,
            guest=session.guest,
            description=session.description,
            programme=format_programme(session.programme),
        )


def copied(form: SessionForm, weeks: int = 1) -> SessionForm:
    """A session's form for its copy: the same programme and times, the day and the last day to register
    `weeks` later (a series meets on the same weekday), for the organiser to change what differs."""

    def later(day: str) -> str:
        try:
            return (date.fromisoformat(day) + timedelta(weeks=weeks)).isoformat()
        except ValueError:
            return day

    return dataclasses.replace(form, date=later(form.date), deadline=later(form.deadline))


@dataclass(frozen=True)
class SessionFields:
    title: str
    starts_at: datetime
    ends_at: datetime
    after_talk_ends_at: datetime | None
    registration_deadline: datetime
    capacity: int | None
    place: str
    guest: str
    description: str
    programme: tuple[ProgrammeItem, ...]


_PROGRAMME_SEPARATOR = re.compile(r"\s+[–—-]\s+")


def parse_programme(text: str) -> tuple[ProgrammeItem, ...]:
    """One item a line: `Title – Speakers` (or `Title | Speakers`); a line without speakers is fine."""
    items = []
    for line in text.splitlines():
        line = clean_text(line.lstrip("•*-· "), 300)
        if not line:
            continue
        if "|" in line:
            title, _, speakers = line.partition("|")
        else:
            title, speakers = [*_PROGRAMME_SEPARATOR.split(line, maxsplit=1), ""][:2]
        items.append(ProgrammeItem(title.strip(), speakers.strip()))
    return tuple(items[:30])


def format_programme(items: Sequence[ProgrammeItem]) -> str:
    return "\n".join(f"{i.title} | {i.speakers}" if i.speakers else i.title for i in items)


def _date(value: str, field: str, problems: list[tuple[str, str]]) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        problems.append((field, "missing" if not value.strip() else "bad_date"))
        return None


def _time(value: str, field: str, problems: list[tuple[str, str]], *, required: bool = True) -> time | None:
    value = value.strip()
    if not value and not required:
        return None
    # Teams sends HH:MM; people type 9.00 as often as 09:00.
    match = re.fullmatch(r"(\d{1,2})[:.](\d{2})(?::00)?", value)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        problems.append((field, "missing" if not value else "bad_time"))
        return None
    return time(int(match[1]), int(match[2]))


def validate_session_form(form: SessionForm, zone: ZoneInfo, now: datetime, registered: int = 0) -> SessionFields:
    """Server-side check of everything the card's own validation may have let through."""
    problems: list[tuple[str, str]] = []
    title = clean_text(form.title, 300)
    if not title:
        problems.append((TITLE, "missing"))
    day = _date(form.date, DATE, problems)
    start = _time(form.start, START, problems)
    end = _time(form.end, END, problems)
    after = _time(form.after_talk_end, AFTER_TALK_END, problems, required=False)
    deadline_day = _date(form.deadline, DEADLINE, problems) if form.deadline.strip() else None
    capacity: int | None = None
    if form.capacity.strip():
        try:
            capacity = int(form.capacity.strip())
        except ValueError:
            problems.append((CAPACITY, "bad_number"))
        else:
            if capacity < 1 or capacity > 10_000:
                problems.append((CAPACITY, "bad_number"))
            elif capacity < registered:
                problems.append((CAPACITY, "below_registered"))
    starts_at = ends_at = after_at = deadline = None
    if day and start and end:
        starts_at = datetime.combine(day, start, zone)
        ends_at = datetime.combine(day, end, zone)
        if ends_at <= starts_at:
            problems.append((END, "end_before_start"))
        if starts_at <= now:
            problems.append((DATE, "in_the_past"))
        if after is not None:
            after_at = datetime.combine(day, after, zone)
            if after_at <= ends_at:
                problems.append((AFTER_TALK_END, "after_talk_before_end"))
        # The page's "senast 2021-09-03": the whole day counts. Default: a week before.
        deadline_day = deadline_day or day - timedelta(days=7)
        deadline = datetime.combine(deadline_day, time(23, 59), zone)
        if deadline_day > day:
            problems.append((DEADLINE, "deadline_after_start"))
        deadline = min(deadline, starts_at)
    if problems:
        raise errors.SessionFormInvalid(tuple(problems))
    assert starts_at is not None
    assert ends_at is not None
    assert deadline is not None
    return SessionFields(
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        after_talk_ends_at=after_at,
        registration_deadline=deadline,
        capacity=capacity,
        place=clean_text(form.place, 200) or "Teams",
        guest=clean_text(form.guest, 300),
        description=form.description.strip()[:4000],
        programme=parse_programme(form.programme),
    )


def apply_fields(session: Session, fields: SessionFields) -> Session:
    return dataclasses.replace(session, **{f.name: getattr(fields, f.name) for f in dataclasses.fields(fields)})


def publish(session: Session, now: datetime) -> Session:
    if session.status is SessionStatus.CANCELLED:
        raise errors.SessionCancelled(session.number)
    if now >= session.starts_at:
        raise errors.SessionAlreadyStarted(session.number)
    return dataclasses.replace(session, status=SessionStatus.PUBLISHED)


def cancel(session: Session, reason: str, now: datetime) -> Session:
    if session.status is SessionStatus.CANCELLED:
        raise errors.SessionCancelled(session.number)
    if now >= session.ends_at:
        raise errors.SessionAlreadyOver(session.number)
    return dataclasses.replace(session, status=SessionStatus.CANCELLED, cancel_reason=clean_text(reason, 500))


_TEAMS_HOSTS = ("teams.microsoft.com", "teams.live.com", "gov.teams.microsoft.us", "dod.teams.microsoft.us")


def validate_meeting_url(url: str) -> str:
    """A Teams meeting join link (classic meetup-join or the newer short /meet/ form), nothing else."""
    url = url.strip().strip("<>")
    parts = urlsplit(url)
    if (
        parts.scheme != "https"
        or parts.hostname not in _TEAMS_HOSTS
        or not (parts.path.startswith("/l/meetup-join/") or parts.path.startswith("/meet/"))
        or len(url) > 2000
    ):
        raise errors.NotATeamsMeetingUrl()
    return url


def invitation_changed(before: Session, after: Session) -> bool:
    """Whether the calendar invitation (subject, time, body) must be sent again."""

    def shown(s: Session) -> tuple[object, ...]:
        return (s.title, s.starts_at, s.ends_at, s.after_talk_ends_at, s.description, s.programme, s.guest)

    return shown(before) != shown(after)


def time_changed(before: Session, after: Session) -> bool:
    return (before.starts_at, before.ends_at, before.after_talk_ends_at) != (
        after.starts_at,
        after.ends_at,
        after.after_talk_ends_at,
    )


@dataclass(frozen=True)
class Entry:
    person: Person
    registration: Registration


@dataclass(frozen=True)
class ParticipantList:
    registered: tuple[Entry, ...]
    waitlisted: tuple[Entry, ...]  # in queue order
    absent: tuple[Entry, ...]
    withdrawn: tuple[Entry, ...]
    # Who joined the Teams meeting, once its attendance report has been read; None before that.
    attendance: tuple[AttendanceRecord, ...] | None = None

    @classmethod
    def of(cls, entries: Sequence[Entry], attendance: Sequence[AttendanceRecord] | None = None) -> ParticipantList:
        def having(status: RegistrationStatus) -> tuple[Entry, ...]:
            chosen = [e for e in entries if e.registration.status is status]
            if status is RegistrationStatus.WAITLISTED:
                chosen.sort(
                    key=lambda e: (e.registration.waitlisted_at or e.registration.created_at, e.registration.id or 0)
                )
            else:
                chosen.sort(key=lambda e: (e.person.organisation.casefold(), e.person.name.casefold()))
            return tuple(chosen)

        return cls(
            having(RegistrationStatus.REGISTERED),
            having(RegistrationStatus.WAITLISTED),
            having(RegistrationStatus.ABSENT),
            having(RegistrationStatus.WITHDRAWN),
            tuple(attendance) if attendance is not None else None,
        )

    def attended(self, entry: Entry) -> bool | None:
        """Whether a registered person joined the meeting; None while there is no report."""
        if self.attendance is None:
            return None
        return any(r.person_id == entry.person.id for r in self.attendance)

    def matched_by_name(self, entry: Entry) -> bool:
        """Whether the person was found in the report by display name alone (an attendee from another tenant
        whose record had neither object id nor e-mail)."""
        found = [r for r in self.attendance or () if r.person_id == entry.person.id]
        return bool(found) and all(r.uncertain for r in found)

    @property
    def unregistered_attendees(self) -> tuple[AttendanceRecord, ...]:
        registered = {e.person.id for e in self.registered}
        return tuple(r for r in self.attendance or () if r.person_id is None or r.person_id not in registered)

    @property
    def attendance_summary(self) -> AttendanceSummary | None:
        if self.attendance is None:
            return None
        return AttendanceSummary.of([e.person.id for e in self.registered], self.attendance)

    @property
    def after_talk(self) -> int:
        return sum(1 for e in self.registered if e.registration.after_talk)

    def per_organisation(self) -> list[tuple[str, int]]:
        counts = Counter(e.person.organisation or "–" for e in self.registered)
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
