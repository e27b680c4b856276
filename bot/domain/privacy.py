"""A person's data as the law sees it: what is kept about them (for "my data"), when it is purged, and what
an erasure leaves. Pure: the storage collects and changes the rows, the clock is passed in."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.model import Person, RegistrationStatus

DEFAULT_RETENTION_MONTHS = 12


def retention_cutoff(now: datetime, months: int) -> datetime:
    """The moment `months` calendar months before `now` (31 March less one month is 28 or 29 February):
    what concerns sessions that ended before it is purged."""
    if months < 1:
        raise ValueError("the retention period is at least a month")
    month_index = now.year * 12 + now.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    return now.replace(year=year, month=month + 1, day=day)


def erased_identity(person_id: int) -> str:
    """What stands in the place of an erased person's Entra object id: unique, and linked to nobody.
    A person who writes to the bot again after an erasure is met as someone new."""
    return f"erased:{person_id}"


@dataclass(frozen=True)
class RegistrationRecord:
    series: str
    session_number: int
    session_title: str
    starts_at: datetime
    status: RegistrationStatus
    after_talk: bool
    reason: str
    registered_at: datetime
    changed_at: datetime


@dataclass(frozen=True)
class FeedbackRecord:
    session_number: int
    session_title: str
    rating: int
    comment: str
    given_at: datetime


@dataclass(frozen=True)
class SuggestionRecord:
    series: str
    text: str
    given_at: datetime


@dataclass(frozen=True)
class AttendanceRecordView:
    session_number: int
    session_title: str
    starts_at: datetime
    minutes: int
    name: str
    email: str


@dataclass(frozen=True)
class PersonalData:
    """Everything stored about one person (GDPR art. 15): the profile, and every row that names them."""

    tenant_id: str
    aad_object_id: str
    name: str
    email: str
    organisation: str
    role: str
    language: str | None  # chosen by the person
    teams_locale: str | None
    announcements_opt_out: bool
    reachable_in_chat: bool  # whether a 1:1 chat reference is kept
    first_seen: datetime
    last_seen: datetime | None
    registrations: tuple[RegistrationRecord, ...]
    feedback: tuple[FeedbackRecord, ...]
    suggestions: tuple[SuggestionRecord, ...]
    attendance: tuple[AttendanceRecordView, ...]
    organiser_of: tuple[str, ...]  # series the person organises
    whole_series: tuple[str, ...] = ()  # series the person is registered for as a whole

    def as_json(self, exported_at: datetime) -> dict[str, Any]:
        """The same, machine-readable (art. 20), in English keys and ISO 8601 times."""
        return {
            "exported_at": exported_at.isoformat(),
            "profile": {
                "tenant_id": self.tenant_id,
                "entra_object_id": self.aad_object_id,
                "name": self.name,
                "email": self.email,
                "organisation": self.organisation,
                "role": self.role,
                "language": self.language,
                "teams_locale": self.teams_locale,
                "announcements_opt_out": self.announcements_opt_out,
                "chat_reference_kept": self.reachable_in_chat,
                "first_seen": self.first_seen.isoformat(),
                "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            },
            "registrations": [
                {
                    "series": r.series,
                    "session": r.session_number,
                    "title": r.session_title,
                    "starts_at": r.starts_at.isoformat(),
                    "status": r.status.value,
                    "after_talk": r.after_talk,
                    "reason": r.reason,
                    "registered_at": r.registered_at.isoformat(),
                    "changed_at": r.changed_at.isoformat(),
                }
                for r in self.registrations
            ],
            "feedback": [
                {
                    "session": f.session_number,
                    "title": f.session_title,
                    "rating": f.rating,
                    "comment": f.comment,
                    "given_at": f.given_at.isoformat(),
                }
                for f in self.feedback
            ],
            "suggestions": [
                {"series": s.series, "text": s.text, "given_at": s.given_at.isoformat()} for s in self.suggestions
            ],
            "attendance": [
                {
                    "session": a.session_number,
                    "title": a.session_title,
                    "starts_at": a.starts_at.isoformat(),
                    "minutes": a.minutes,
                    "name": a.name,
                    "email": a.email,
                }
                for a in self.attendance
            ],
            "organiser_of": list(self.organiser_of),
            "registered_for_whole_series": list(self.whole_series),
        }


@dataclass(frozen=True)
class Erasure:
    """What an erasure did, to tell the person (or the organiser who asked for them)."""

    withdrawn: int  # registrations for coming sessions, their seats given to the waiting list
    kept: int  # past registrations kept without a name, for the statistics per organisation


@dataclass(frozen=True)
class Candidate:
    """Someone an organiser was asked to erase, as the confirmation shows them."""

    person: Person
    registrations: int


@dataclass(frozen=True)
class Purge:
    """What one retention run removed, as counts for the log."""

    reasons: int = 0
    comments: int = 0
    suggestions: int = 0
    attendance: int = 0
    people: int = 0
    links: int = 0

    @property
    def total(self) -> int:
        return self.reasons + self.comments + self.suggestions + self.attendance + self.people + self.links
