"""What organisers are shown that is read from storage rather than decided: plain data for the cards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class AuditEntry:
    actor_aad_object_id: str
    actor_name: str
    action: str
    subject: str
    at: datetime
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


@dataclass(frozen=True)
class Feedback:
    rating: int
    comment: str


@dataclass(frozen=True)
class ThemeSuggestion:
    """A theme or question a participant would like a coming session to take up, as organisers see it."""

    text: str
    name: str
    organisation: str
    created_at: datetime


@dataclass(frozen=True)
class SuggestionPage:
    total: int
    page: int  # from 0
    pages: int
    suggestions: tuple[ThemeSuggestion, ...]


@dataclass(frozen=True)
class SessionCounts:
    registered: int = 0
    waitlisted: int = 0
    absent: int = 0
    withdrawn: int = 0
    after_talk: int = 0
