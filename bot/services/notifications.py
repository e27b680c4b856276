"""Turns an outbox row into the card to send and where to send it, from the state at send time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.model import Language, PersonKey, RegistrationStatus, Series, SessionStatus
from bot.i18n import Catalogs
from bot.services.participants import standing_of
from bot.services.ports import ConversationRef, OutboxItem, UnitOfWork
from cards import notifications as cards

# The kinds of message, as written to the outbox.
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


@dataclass(frozen=True)
class Prepared:
    to: ConversationRef
    card: dict[str, Any]
    person: PersonKey | None  # whose 1:1 chat, so that a 403 can mark them unreachable


@dataclass(frozen=True)
class Skip:
    """Nothing to send any more (the reason is recorded on the row)."""

    reason: str


async def prepare(
    item: OutboxItem, uow: UnitOfWork, now: datetime, catalogs: Catalogs, default_language: Language
) -> Prepared | Skip:
    if item.kind == DIGEST:
        return await _digest(item, uow, catalogs)
    if item.kind == MEETING_PROBLEM:
        return await _meeting_problem(item, uow, catalogs)
    person = await uow.people.get(item.person_id) if item.person_id is not None else None
    if person is None:
        return Skip("person gone")
    if not person.reachable:
        return Skip("unreachable: the app was removed or blocked")
    if item.kind == ANNOUNCEMENT and person.announcements_opt_out:
        return Skip("opted out of announcements")
    to = await uow.people.reach(person.id)
    if to is None:
        return Skip("no 1:1 chat with the bot yet")
    session = await uow.sessions.get(item.session_id) if item.session_id is not None else None
    if session is None:
        return Skip("session gone")
    series = await uow.series.get(session.series_id)
    if series is None:
        return Skip("series gone")
    t = catalogs.translator(person.effective_language(series.language or default_language))
    standing = await standing_of(person, session, uow)
    registered = standing.registration is not None and standing.registration.status is RegistrationStatus.REGISTERED
    active = standing.registration is not None and standing.registration.is_active

    if item.kind == SESSION_CANCELLED:
        card = cards.cancelled_message(t, standing, str(item.payload.get("reason", "")))
    elif session.status is not SessionStatus.PUBLISHED:
        return Skip("session no longer published")
    elif item.kind == ANNOUNCEMENT:
        card = cards.announcement_message(t, series, standing, now)
    elif item.kind == DECLINED:
        if standing.registration is None or standing.registration.status is not RegistrationStatus.ABSENT:
            return Skip("registered again since")
        card = cards.declined_message(t, standing, now)
    elif item.kind == CONFIRMATION:
        if not active:
            return Skip("no longer registered")
        card = cards.confirmation_message(t, standing, now)
    elif item.kind in (PROMOTED, REMINDER, JOIN_LINK, SESSION_CHANGED, FEEDBACK) and not registered:
        return Skip("no longer registered")
    elif item.kind == PROMOTED:
        card = cards.promoted_message(t, standing, now)
    elif item.kind == REMINDER:
        card = cards.reminder_message(t, standing, int(item.payload.get("days", 1)), now)
    elif item.kind == JOIN_LINK:
        card = cards.join_link_message(t, standing, now)
    elif item.kind == SESSION_CHANGED:
        card = cards.changed_message(t, standing, now)
    elif item.kind == FEEDBACK:
        card = cards.feedback_message(t, standing)
    elif item.kind == ORGANISER_MESSAGE:
        card = cards.organiser_message(
            t, standing, str(item.payload.get("from", "")), str(item.payload.get("text", "")), now
        )
    else:
        return Skip(f"unknown kind {item.kind!r}")
    return Prepared(to, card, person.key)


async def _organisers_channel(item: OutboxItem, uow: UnitOfWork) -> tuple[Series, ConversationRef] | Skip:
    """The series named in the payload and its organisers' channel."""
    series = await uow.series.get(int(item.payload.get("series", 0)))
    if series is None or not (series.organiser_service_url and series.organiser_channel_id):
        return Skip("no organiser channel to post in")
    return series, ConversationRef(series.organiser_service_url, series.organiser_channel_id, "")


async def _meeting_problem(item: OutboxItem, uow: UnitOfWork, catalogs: Catalogs) -> Prepared | Skip:
    found = await _organisers_channel(item, uow)
    if isinstance(found, Skip):
        return found
    series, to = found
    card = cards.meeting_problem_message(
        catalogs.translator(series.language),
        int(item.payload.get("number", 0)),
        str(item.payload.get("problem", "")),
        dict(item.payload),
    )
    return Prepared(to, card, None)


async def _digest(item: OutboxItem, uow: UnitOfWork, catalogs: Catalogs) -> Prepared | Skip:
    found = await _organisers_channel(item, uow)
    if isinstance(found, Skip):
        return found
    series, to = found
    lines = [(int(n), str(name), str(org), str(reason)) for n, name, org, reason in item.payload.get("lines", [])]
    suggestions = int(item.payload.get("suggestions", 0))
    undelivered = int(item.payload.get("undelivered", 0))
    card = cards.digest_message(catalogs.translator(series.language), lines, suggestions, undelivered)
    return Prepared(to, card, None)
