"""What the services need from the organisers' calendar (Microsoft Graph behind it): a protocol and its types."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class EventDetails:
    subject: str
    body_html: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Invitee:
    email: str
    name: str


@dataclass(frozen=True)
class CreatedEvent:
    event_id: str
    join_url: str | None  # None: the event exists but Teams gave it no meeting
    # The invitees' addresses (lower case) as Graph reports them: a create retried with the same
    # transaction id answers with the event first created, and its invitees, whatever the retry asked for.
    invitees: frozenset[str] = frozenset()


def addresses(invitees: Sequence[Invitee]) -> frozenset[str]:
    return frozenset(invitee.email.lower() for invitee in invitees)


@dataclass(frozen=True)
class InviteeResponse:
    email: str
    response: str  # Graph's responseStatus.response: none, accepted, tentativelyAccepted, declined, ...
    at: datetime | None


@dataclass(frozen=True)
class Attendee:
    """One person in a meeting's attendance records, merged over all reports of the meeting."""

    aad_object_id: str
    email: str
    name: str
    seconds: int


class CalendarError(Exception):
    """Graph said no or could not be reached."""

    def __init__(self, status: int, code: str = "", retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status} {code}".strip())
        self.status = status
        self.code = code
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        """Worth trying again by itself; otherwise an organiser must fix something first."""
        return self.status in (0, 408, 409, 412, 429, 500, 502, 503, 504)


class Calendar(Protocol):
    @property
    def mailbox(self) -> str: ...

    async def create_event(
        self, details: EventDetails, invitees: Sequence[Invitee], transaction_id: str
    ) -> CreatedEvent:
        """One event with a Teams meeting; a retry with the same transaction id gives the same event."""
        ...

    async def update_event(self, event_id: str, details: EventDetails) -> None:
        """Subject, time and our part of the body; the Teams join block in the body is kept."""
        ...

    async def set_attendees(self, event_id: str, invitees: Sequence[Invitee]) -> frozenset[str]:
        """The whole invitee list, replacing the previous one; returns the addresses Graph now reports."""
        ...

    async def cancel_event(self, event_id: str, comment: str) -> None: ...

    async def responses(self, event_id: str) -> list[InviteeResponse]: ...

    async def attendance(self, join_url: str) -> list[Attendee] | None:
        """Everyone who joined; None while Teams has no attendance report for the meeting yet."""
        ...

    async def admit(self, join_url: str, scope: str) -> bool | None:
        """Who bypasses the meeting's lobby (`invited`, `organizationAndFederated`, `everyone`), set unless it
        already is; True when it was changed, None when Teams does not know the meeting (yet)."""
        ...
