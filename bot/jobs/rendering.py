"""Turns an outbox row into the card to send and where to send it, from the state at send time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.conversation import ConversationRef
from bot.domain.events import (
    Cancellation,
    CardRefresh,
    Confirmation,
    Digest,
    MessageKind,
    OrganiserNote,
    Reminder,
    series_in,
)
from bot.domain.model import Language, Person, PersonKey, RegistrationStatus, Series, SessionStanding, SessionStatus
from bot.i18n import Catalogs, Translator
from bot.services.participants import standing_of
from bot.services.ports import ChatCard, OutboxItem, UnitOfWork
from cards import notifications as cards


@dataclass(frozen=True)
class Rendered:
    to: ConversationRef
    card: dict[str, Any]
    person: PersonKey | None  # whose 1:1 chat, so that a 403 can mark them unreachable
    summary: str  # the line the chat list, the notification and a screen reader show


@dataclass(frozen=True)
class Updates:
    """Earlier messages to bring up to date in place: (chat card id, Teams activity id, card) each; none
    left to update is done, not failed."""

    to: ConversationRef
    cards: tuple[tuple[int, str, dict[str, Any]], ...]
    person: PersonKey


@dataclass(frozen=True)
class Skip:
    """Nothing to send any more (the reason is recorded on the row)."""

    reason: str


@dataclass(frozen=True)
class _About:
    """What a message to a person about a session is rendered from: the state at send time."""

    item: OutboxItem
    person: Person
    series: Series
    standing: SessionStanding
    t: Translator
    now: datetime
    calendar_base: str = ""  # the bot's public address when it offers .ics files (no Graph), else ""

    @property
    def calendar_url(self) -> str:
        token = self.standing.session.calendar_token
        return f"{self.calendar_base.rstrip('/')}/calendar/{token}.ics" if self.calendar_base and token else ""

    @property
    def registered(self) -> bool:
        registration = self.standing.registration
        return registration is not None and registration.status is RegistrationStatus.REGISTERED

    @property
    def active(self) -> bool:
        registration = self.standing.registration
        return registration is not None and registration.is_active


_NO_LONGER_REGISTERED = Skip("no longer registered")


def _confirmation(a: _About) -> dict[str, Any] | Skip:
    if not a.active:
        return _NO_LONGER_REGISTERED
    by_series = Confirmation.by_series(a.item.payload)
    return cards.confirmation_message(a.t, a.standing, a.now, a.calendar_url, by_series=by_series)


def _promoted(a: _About) -> dict[str, Any] | Skip:
    return cards.promoted_message(a.t, a.standing, a.now, a.calendar_url)


def _reminder(a: _About) -> dict[str, Any] | Skip:
    return cards.reminder_message(a.t, a.standing, Reminder.days_in(a.item.payload), a.now, a.calendar_url)


def _join_link(a: _About) -> dict[str, Any] | Skip:
    return cards.join_link_message(a.t, a.standing, a.now)


def _changed(a: _About) -> dict[str, Any] | Skip:
    return cards.changed_message(a.t, a.standing, a.now)


def _feedback(a: _About) -> dict[str, Any] | Skip:
    return cards.feedback_message(a.t, a.standing)


def _cancelled(a: _About) -> dict[str, Any] | Skip:
    return cards.cancelled_message(a.t, a.standing, Cancellation.reason_in(a.item.payload))


def _announcement(a: _About) -> dict[str, Any] | Skip:
    if a.person.announcements_opt_out:  # may have opted out while the row waited
        return Skip("opted out of announcements")
    return cards.announcement_message(a.t, a.series, a.standing, a.now)


def _declined(a: _About) -> dict[str, Any] | Skip:
    registration = a.standing.registration
    if registration is None or registration.status is not RegistrationStatus.ABSENT:
        return Skip("registered again since")
    return cards.declined_message(a.t, a.standing, a.now)


def _organiser_message(a: _About) -> dict[str, Any] | Skip:
    sender, text = OrganiserNote.read(a.item.payload)
    return cards.organiser_message(a.t, a.standing, sender, text, a.now)


# Kinds that only someone who still holds a seat is sent.
_FOR_SEATS = frozenset(
    {
        MessageKind.PROMOTED,
        MessageKind.REMINDER,
        MessageKind.JOIN_LINK,
        MessageKind.SESSION_CHANGED,
        MessageKind.FEEDBACK,
    }
)

# Messages to a person about a session: one renderer per kind.
_TO_PEOPLE: dict[MessageKind, Callable[[_About], dict[str, Any] | Skip]] = {
    MessageKind.CONFIRMATION: _confirmation,
    MessageKind.PROMOTED: _promoted,
    MessageKind.REMINDER: _reminder,
    MessageKind.JOIN_LINK: _join_link,
    MessageKind.SESSION_CHANGED: _changed,
    MessageKind.FEEDBACK: _feedback,
    MessageKind.SESSION_CANCELLED: _cancelled,
    MessageKind.ANNOUNCEMENT: _announcement,
    MessageKind.DECLINED: _declined,
    MessageKind.ORGANISER_MESSAGE: _organiser_message,
}
# Messages kept up to date in the chat after they are sent: all to a person about a session but the
# "how was it?" form, which would lose what is being typed into it.
TRACKED = frozenset(_TO_PEOPLE) - {MessageKind.FEEDBACK}
# Messages that tell of a change of the person's place or of the session: once one is sent, the earlier
# cards about the session are brought up to date. Not reminders, announcements or organisers' notes, which
# change nothing (sixteen notes would otherwise redraw the chat sixteen times over).
REPORTS_CHANGE = frozenset(
    {
        MessageKind.CONFIRMATION,
        MessageKind.PROMOTED,
        MessageKind.DECLINED,
        MessageKind.SESSION_CHANGED,
        MessageKind.SESSION_CANCELLED,
        MessageKind.JOIN_LINK,
    }
)


def _again(card: ChatCard, a: _About) -> dict[str, Any]:
    """A card sent earlier, drawn again with the state of the moment. A card its kind would no longer send
    (a confirmation after withdrawing, say) shows the person's place and the buttons that fit it."""
    session = a.standing.session
    if session.status is SessionStatus.CANCELLED:
        return cards.cancelled_message(a.t, a.standing, session.cancel_reason)
    kind = MessageKind(card.kind)
    item = OutboxItem(0, "", card.kind, a.person.id, session.id, card.payload, 0)
    again = _About(item, a.person, a.series, a.standing, a.t, a.now, a.calendar_base)
    drawn = _TO_PEOPLE[kind](again) if kind in TRACKED else None
    if drawn is None or isinstance(drawn, Skip) or (kind in _FOR_SEATS and not a.registered):
        return cards.confirmation_message(a.t, a.standing, a.now, a.calendar_url)
    return drawn


async def _refresh(about: _About, to: ConversationRef, uow: UnitOfWork) -> Updates:
    until, sent = CardRefresh.read(about.item.payload)
    earlier = await uow.chat_cards.sent_until(about.person.id, about.standing.session.id, until)
    cards_ = tuple((c.id, c.activity_id, _again(c, about)) for c in earlier if c.activity_id != sent)
    return Updates(to, cards_, about.person.key)


async def render(
    item: OutboxItem,
    uow: UnitOfWork,
    now: datetime,
    catalogs: Catalogs,
    default_language: Language,
    calendar_base: str = "",
) -> Rendered | Updates | Skip:
    try:
        kind = MessageKind(item.kind)
    except ValueError:
        return Skip(f"unknown kind {item.kind!r}")
    to_channel = _TO_CHANNELS.get(kind)
    if to_channel is not None:
        return await to_channel(item, uow, catalogs)
    person = await uow.people.get(item.person_id) if item.person_id is not None else None
    if person is None:
        return Skip("person gone")
    if not person.reachable:
        return Skip("unreachable: the app was removed or blocked")
    to = await uow.people.reach(person.id)
    if to is None:
        return Skip("no 1:1 chat with the bot yet")
    session = await uow.sessions.get(item.session_id) if item.session_id is not None else None
    if session is None:
        return Skip("session gone")
    series = await uow.series.get(session.series_id)
    if series is None:
        return Skip("series gone")
    updates = kind is MessageKind.CARD_REFRESH
    if kind is not MessageKind.SESSION_CANCELLED and not updates and session.status is not SessionStatus.PUBLISHED:
        return Skip("session no longer published")
    t = catalogs.translator(person.effective_language(series.language or default_language))
    standing = await standing_of(person, session, uow)
    about = _About(item, person, series, standing, t, now, calendar_base)
    if updates:
        return await _refresh(about, to, uow)
    if kind in _FOR_SEATS and not about.registered:
        return _NO_LONGER_REGISTERED
    card = _TO_PEOPLE[kind](about)
    if isinstance(card, Skip):
        return card
    days = Reminder.days_in(item.payload) if kind is MessageKind.REMINDER else 0
    sender = OrganiserNote.read(item.payload)[0] if kind is MessageKind.ORGANISER_MESSAGE else ""
    return Rendered(to, card, person.key, cards.summary(t, kind, standing, days=days, sender=sender))


async def _organisers_channel(item: OutboxItem, uow: UnitOfWork) -> tuple[Series, ConversationRef] | Skip:
    """The series named in the payload and its organisers' channel."""
    series = await uow.series.get(series_in(item.payload))
    if series is None or not (series.organiser_service_url and series.organiser_channel_id):
        return Skip("no organiser channel to post in")
    return series, ConversationRef(series.organiser_service_url, series.organiser_channel_id, "")


async def _meeting_problem(item: OutboxItem, uow: UnitOfWork, catalogs: Catalogs) -> Rendered | Skip:
    found = await _organisers_channel(item, uow)
    if isinstance(found, Skip):
        return found
    series, to = found
    t = catalogs.translator(series.language)
    number = int(item.payload.get("number", 0))
    card = cards.meeting_problem_message(t, number, str(item.payload.get("problem", "")), dict(item.payload))
    return Rendered(to, card, None, cards.meeting_problem_summary(t, number))


async def _digest(item: OutboxItem, uow: UnitOfWork, catalogs: Catalogs) -> Rendered | Skip:
    found = await _organisers_channel(item, uow)
    if isinstance(found, Skip):
        return found
    series, to = found
    lines, suggestions, undelivered = Digest.read(item.payload)
    t = catalogs.translator(series.language)
    card = cards.digest_message(t, lines, suggestions, undelivered)
    return Rendered(to, card, None, cards.digest_summary(t, len(lines), suggestions, undelivered))


# Messages to a series' organisers' channel.
_TO_CHANNELS: dict[MessageKind, Callable[[OutboxItem, UnitOfWork, Catalogs], Awaitable[Rendered | Skip]]] = {
    MessageKind.DIGEST: _digest,
    MessageKind.MEETING_PROBLEM: _meeting_problem,
}
