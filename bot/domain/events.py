"""What happened in a transaction that the world outside must hear of: typed events the services record and
the unit of work turns into rows of the same transaction (the outbox, the meetings' change log).

A message event is one message the bot will send on its own. Its kind names its renderer; its key makes
a second recording of the same message a no-op (a retried turn, two instances of a job); its payload holds
only what the renderer cannot read from the database at send time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar


class Event:
    """Something that happened, with effects outside the transaction."""


@dataclass(frozen=True)
class SeatsChanged(Event):
    """Who holds a seat in the session changed: its Teams meeting's invitees must follow."""

    session_id: int


@dataclass(frozen=True)
class InvitationChanged(Event):
    """Title, time, programme or cancellation: the session's calendar event must be told."""

    session_id: int


class MessageKind(StrEnum):
    """The kinds of message, as the outbox stores them; one renderer each (jobs/rendering.py)."""

    CONFIRMATION = "confirmation"
    PROMOTED = "promoted"
    REMINDER = "reminder"
    JOIN_LINK = "join_link"
    SESSION_CHANGED = "session_changed"
    SESSION_CANCELLED = "session_cancelled"
    ANNOUNCEMENT = "announcement"
    ORGANISER_MESSAGE = "organiser_message"
    FEEDBACK = "feedback"
    DIGEST = "digest"
    DECLINED = "declined"
    MEETING_PROBLEM = "meeting_problem"
    CARD_REFRESH = "card_refresh"


@dataclass(frozen=True)
class Message(Event):
    """A message to a person about a session (person_id set), or to a series' organisers' channel."""

    kind: ClassVar[MessageKind]

    @property
    def key(self) -> str:
        raise NotImplementedError

    @property
    def person_id(self) -> int | None:
        return None

    @property
    def session_id(self) -> int | None:
        return None

    def payload(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class _ToPerson(Message):
    person: int
    session: int

    @property
    def person_id(self) -> int | None:
        return self.person

    @property
    def session_id(self) -> int | None:
        return self.session


@dataclass(frozen=True)
class Confirmation(_ToPerson):
    """Registered or queued: a confirmation that stays in the chat, whatever later clicks do to the card."""

    kind: ClassVar[MessageKind] = MessageKind.CONFIRMATION
    at: datetime
    series: bool = False  # made by their registration for the whole series, when the session was published

    @property
    def key(self) -> str:
        return f"confirmation:{self.session}:{self.person}:{self.at.isoformat()}"

    def payload(self) -> dict[str, Any]:
        return {"series": True} if self.series else {}

    @staticmethod
    def by_series(payload: Mapping[str, Any]) -> bool:
        return bool(payload.get("series", False))


@dataclass(frozen=True)
class CardRefresh(_ToPerson):
    """The person's place changed: the cards about the session already in their chat are brought up to date
    in place. Queued by a change with no message of its own (can't come, withdrawn, after-talk), and after a
    message that tells the news (`sent`: that one, which needs no update)."""

    kind: ClassVar[MessageKind] = MessageKind.CARD_REFRESH
    at: datetime
    sent: str = ""

    @property
    def key(self) -> str:
        return f"cards:{self.session}:{self.person}:{self.at.isoformat()}:{self.sent}"

    def payload(self) -> dict[str, Any]:
        return {"until": self.at.isoformat(), "sent": self.sent}

    @staticmethod
    def read(payload: Mapping[str, Any]) -> tuple[datetime, str]:
        """(cards sent until this moment are brought up to date, the activity id of one that needs not)"""
        return datetime.fromisoformat(str(payload["until"])), str(payload.get("sent", ""))


@dataclass(frozen=True)
class Promotion(_ToPerson):
    """Moved up from the waiting list into a seat."""

    kind: ClassVar[MessageKind] = MessageKind.PROMOTED
    registration: int
    at: datetime

    @property
    def key(self) -> str:
        return f"promoted:{self.registration}:{self.at.isoformat()}"


@dataclass(frozen=True)
class DeclineNoted(_ToPerson):
    """They declined the meeting invitation in Outlook: noted as absent, seat given on."""

    kind: ClassVar[MessageKind] = MessageKind.DECLINED
    registration: int
    at: datetime

    @property
    def key(self) -> str:
        return f"declined:{self.registration}:{self.at.isoformat()}"


@dataclass(frozen=True)
class Reminder(_ToPerson):
    kind: ClassVar[MessageKind] = MessageKind.REMINDER
    days: int
    offset_seconds: int  # which of the reminders (a week, a day before ...)

    @property
    def key(self) -> str:
        return f"reminder:{self.session}:{self.person}:{self.offset_seconds}"

    def payload(self) -> dict[str, Any]:
        return {"days": self.days}

    @staticmethod
    def days_in(payload: Mapping[str, Any]) -> int:
        return int(payload.get("days", 1))


@dataclass(frozen=True)
class FeedbackRequest(_ToPerson):
    """ "How was the session?" after the session."""

    kind: ClassVar[MessageKind] = MessageKind.FEEDBACK

    @property
    def key(self) -> str:
        return f"feedback:{self.session}:{self.person}"


@dataclass(frozen=True)
class Announcement(_ToPerson):
    """A session published, to those who took part in the series before."""

    kind: ClassVar[MessageKind] = MessageKind.ANNOUNCEMENT

    @property
    def key(self) -> str:
        return f"announce:{self.session}:{self.person}"


@dataclass(frozen=True)
class SessionMoved(_ToPerson):
    """The session's time changed."""

    kind: ClassVar[MessageKind] = MessageKind.SESSION_CHANGED
    at: datetime

    @property
    def key(self) -> str:
        return f"changed:{self.session}:{self.at.isoformat()}:{self.person}"


@dataclass(frozen=True)
class Cancellation(_ToPerson):
    kind: ClassVar[MessageKind] = MessageKind.SESSION_CANCELLED
    reason: str

    @property
    def key(self) -> str:
        return f"cancelled:{self.session}:{self.person}"

    def payload(self) -> dict[str, Any]:
        return {"reason": self.reason}

    @staticmethod
    def reason_in(payload: Mapping[str, Any]) -> str:
        return str(payload.get("reason", ""))


@dataclass(frozen=True)
class JoinLink(_ToPerson):
    """The meeting's link, once per link."""

    kind: ClassVar[MessageKind] = MessageKind.JOIN_LINK
    link_digest: str

    @property
    def key(self) -> str:
        return f"link:{self.session}:{self.link_digest}:{self.person}"


@dataclass(frozen=True)
class OrganiserNote(_ToPerson):
    """An organiser's message to the registered ("meddela 3 …")."""

    kind: ClassVar[MessageKind] = MessageKind.ORGANISER_MESSAGE
    message_id: str
    sender: str
    text: str

    @property
    def key(self) -> str:
        return f"message:{self.message_id}:{self.person}"

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "from": self.sender}

    @staticmethod
    def read(payload: Mapping[str, Any]) -> tuple[str, str]:
        """(sender, text)"""
        return str(payload.get("from", "")), str(payload.get("text", ""))


DigestLine = tuple[int, str, str, str]  # session number, name, organisation, absence reason


@dataclass(frozen=True)
class Digest(Message):
    """The organisers' digest of a window: absences, suggestions, messages that did not arrive."""

    kind: ClassVar[MessageKind] = MessageKind.DIGEST
    series: int
    bucket: int
    lines: Sequence[DigestLine] = ()
    suggestions: int = 0
    undelivered: int = 0

    @property
    def key(self) -> str:
        return f"digest:{self.series}:{self.bucket}"

    def payload(self) -> dict[str, Any]:
        return {
            "series": self.series,
            "lines": [list(line) for line in self.lines],
            "suggestions": self.suggestions,
            "undelivered": self.undelivered,
        }

    @staticmethod
    def read(payload: Mapping[str, Any]) -> tuple[list[DigestLine], int, int]:
        """(lines, suggestions, undelivered)"""
        lines = [(int(n), str(name), str(org), str(reason)) for n, name, org, reason in payload.get("lines", [])]
        return lines, int(payload.get("suggestions", 0)), int(payload.get("undelivered", 0))


@dataclass(frozen=True)
class MeetingProblem(Message):
    """What is wrong with a session's Teams meeting and what to do, in the organisers' channel."""

    kind: ClassVar[MessageKind] = MessageKind.MEETING_PROBLEM
    series: int
    session: int
    number: int
    problem: str
    at: datetime
    details: Mapping[str, object] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"meeting_problem:{self.session}:{self.problem}:{self.at.isoformat()}"

    @property
    def session_id(self) -> int | None:
        return self.session

    def payload(self) -> dict[str, Any]:
        return {"series": self.series, "number": self.number, "problem": self.problem, **self.details}


def series_in(payload: Mapping[str, Any]) -> int:
    """The series whose organisers' channel a channel message goes to."""
    return int(payload.get("series", 0))
