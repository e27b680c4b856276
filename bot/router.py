"""One visible table from card verbs and typed commands to actions; one transaction per turn."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.domain import errors
from bot.domain.model import Language, Person
from bot.i18n import Catalogs, Translator
from bot.services import participants as svc
from bot.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from bot.turn import ConversationKind, Reply, Turn, TurnKind
from cards import verbs
from cards.conversation import channel_hint_card, error_card, error_message, help_card, welcome_card
from cards.elements import Card
from cards.sessions import (
    absence_card,
    confirmation_card,
    details_card,
    mine_card,
    profile_card,
    sessions_card,
)

log = logging.getLogger(__name__)

MEMBER_LOOKUP_SECONDS = 3.0


# --- Card data, parsed at the edge into typed payloads ------------------------------------------


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class NoPayload(_Payload):
    pass


class PagePayload(_Payload):
    page: int = Field(0, ge=0, le=1000)


class SessionPayload(_Payload):
    session: int = Field(ge=1, le=2**31 - 1)


class RegisterPayload(SessionPayload):
    organisation: str | None = Field(None, max_length=300)
    organisation_other: str | None = Field(None, max_length=300)
    role: str | None = Field(None, max_length=300)
    after_talk: bool | None = None
    # Toggles on list cards carry the session id in their input id.
    extra_toggles: dict[str, bool] = Field(default_factory=dict)

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> RegisterPayload:
        toggles = {k: v for k, v in data.items() if k.startswith(verbs.AFTER_TALK + "_")}
        return cls.model_validate({**data, "extra_toggles": toggles})

    def wants_after_talk(self) -> bool:
        specific = self.extra_toggles.get(verbs.after_talk_input(self.session))
        if specific is not None:
            return specific
        return True if self.after_talk is None else self.after_talk

    def chosen_organisation(self) -> str | None:
        if self.organisation == verbs.OTHER_ORGANISATION:
            return self.organisation_other or ""
        return self.organisation


class AbsencePayload(SessionPayload):
    reason: str = Field("", max_length=2000)


class LanguagePayload(_Payload):
    language: Language


# --- Actions ----------------------------------------------------------------------------------


@dataclass
class Context:
    turn: Turn
    uow: UnitOfWork
    person: Person
    t: Translator
    now: datetime
    catalogs: Catalogs
    member_email: str | None = None


async def show_welcome(ctx: Context, _: NoPayload) -> Card:
    overview = await svc.overview(ctx.person, ctx.uow, ctx.now)
    return welcome_card(ctx.t, overview.series, overview.standings, ctx.now)


async def show_sessions(ctx: Context, payload: PagePayload) -> Card:
    overview = await svc.overview(ctx.person, ctx.uow, ctx.now)
    return sessions_card(ctx.t, overview.standings, ctx.now, payload.page)


async def show_details(ctx: Context, payload: SessionPayload) -> Card:
    series, standing = await svc.standing(ctx.person, payload.session, ctx.uow, ctx.now)
    return details_card(ctx.t, series, standing, ctx.now)


async def register(ctx: Context, payload: RegisterPayload) -> Card:
    organisation = payload.chosen_organisation()
    command = svc.Register(
        ctx.person.id, payload.session, payload.wants_after_talk(), organisation, payload.role, ctx.member_email
    )
    try:
        outcome = await svc.register(command, ctx.person, ctx.uow, ctx.now)
    except errors.ProfileIncomplete as problem:
        await ctx.uow.rollback()
        series, standing = await svc.standing(ctx.person, payload.session, ctx.uow, ctx.now)
        return profile_card(
            ctx.t,
            series,
            standing.session,
            ctx.person,
            payload.wants_after_talk(),
            problem=error_message(ctx.t, problem),
        )
    if isinstance(outcome, svc.ProfileNeeded):
        return profile_card(ctx.t, outcome.series, outcome.session, outcome.person, outcome.after_talk)
    return confirmation_card(ctx.t, outcome.series, outcome.standing, ctx.now)


async def show_absence_form(ctx: Context, payload: SessionPayload) -> Card:
    _, standing = await svc.standing(ctx.person, payload.session, ctx.uow, ctx.now)
    if standing.registration is None or not standing.registration.is_active:
        raise errors.NotRegistered()
    return absence_card(ctx.t, standing)


async def report_absence(ctx: Context, payload: AbsencePayload) -> Card:
    series, standing = await svc.report_absence(
        svc.ReportAbsence(ctx.person.id, payload.session, payload.reason), ctx.person, ctx.uow, ctx.now
    )
    return confirmation_card(ctx.t, series, standing, ctx.now)


async def withdraw(ctx: Context, payload: SessionPayload) -> Card:
    series, standing = await svc.withdraw(svc.Withdraw(ctx.person.id, payload.session), ctx.person, ctx.uow, ctx.now)
    return confirmation_card(ctx.t, series, standing, ctx.now)


async def show_mine(ctx: Context, _: NoPayload) -> Card:
    return mine_card(ctx.t, await svc.my_registrations(ctx.person, ctx.uow, ctx.now), ctx.now)


async def show_help(ctx: Context, _: NoPayload) -> Card:
    return help_card(ctx.t)


async def choose_language(ctx: Context, payload: LanguagePayload) -> Card:
    ctx.person = await svc.set_language(ctx.person, payload.language, ctx.uow, ctx.now)
    ctx.t = ctx.catalogs.translator(payload.language)
    return await show_welcome(ctx, NoPayload())


@dataclass(frozen=True)
class Route:
    parse: Callable[[Mapping[str, Any]], _Payload]
    action: Callable[[Context, Any], Awaitable[Card]]


def _route(model: type[_Payload], action: Callable[[Context, Any], Awaitable[Card]]) -> Route:
    return Route(model.model_validate, action)


WELCOME = "welcome"

# The table: every card verb (and every text command, through COMMANDS) lands here.
ROUTES: dict[str, Route] = {
    WELCOME: _route(NoPayload, show_welcome),
    verbs.SESSIONS: _route(PagePayload, show_sessions),
    verbs.DETAILS: _route(SessionPayload, show_details),
    verbs.REGISTER: Route(RegisterPayload.parse, register),
    verbs.ABSENCE_FORM: _route(SessionPayload, show_absence_form),
    verbs.ABSENCE: _route(AbsencePayload, report_absence),
    verbs.WITHDRAW: _route(SessionPayload, withdraw),
    verbs.MINE: _route(NoPayload, show_mine),
    verbs.HELP: _route(NoPayload, show_help),
    verbs.LANGUAGE: _route(LanguagePayload, choose_language),
}

# Typed commands, Swedish and English, to (verb, data).
COMMANDS: dict[str, tuple[str, dict[str, Any]]] = {
    "träffar": (verbs.SESSIONS, {}),
    "traffar": (verbs.SESSIONS, {}),
    "lärträffar": (verbs.SESSIONS, {}),
    "sessions": (verbs.SESSIONS, {}),
    "mina": (verbs.MINE, {}),
    "mina anmälningar": (verbs.MINE, {}),
    "my": (verbs.MINE, {}),
    "mine": (verbs.MINE, {}),
    "my registrations": (verbs.MINE, {}),
    "hjälp": (verbs.HELP, {}),
    "hjalp": (verbs.HELP, {}),
    "help": (verbs.HELP, {}),
    "?": (verbs.HELP, {}),
    "english": (verbs.LANGUAGE, {"language": "en"}),
    "engelska": (verbs.LANGUAGE, {"language": "en"}),
    "in english": (verbs.LANGUAGE, {"language": "en"}),
    "svenska": (verbs.LANGUAGE, {"language": "sv"}),
    "swedish": (verbs.LANGUAGE, {"language": "sv"}),
    "på svenska": (verbs.LANGUAGE, {"language": "sv"}),
    "hej": (WELCOME, {}),
    "hallå": (WELCOME, {}),
    "hi": (WELCOME, {}),
    "hello": (WELCOME, {}),
    "start": (WELCOME, {}),
}


def parse_command(text: str) -> tuple[str, dict[str, Any]] | None:
    return COMMANDS.get(" ".join(text.casefold().split()).strip(" .!"))


class Router:
    def __init__(
        self, uow_factory: UnitOfWorkFactory, clock: Clock, catalogs: Catalogs, default_language: Language
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._catalogs = catalogs
        self._default_language = default_language

    def translator_for_locale(self, locale: str | None) -> Translator:
        """For answers given without a database, such as the apology after an unexpected error."""
        return self._catalogs.translator(Language.from_locale(locale) or self._default_language)

    async def handle(self, turn: Turn) -> Reply:
        if turn.kind is TurnKind.IGNORED:
            return Reply(None)
        # Asked before the transaction opens, so no lock is held while Teams answers.
        member_email = await self._member_email(turn) if self._is_profile_form(turn) else None
        async with self._uow_factory() as uow:
            now = self._clock.now()
            first_delivery = await uow.activities.claim(turn.activity_id, now)
            person = await svc.identify(turn.actor, uow, now)
            language = person.effective_language(await svc.series_language(uow, self._default_language))
            t = self._catalogs.translator(language)
            if not first_delivery:
                log.info("redelivered activity %s ignored", turn.activity_id)
                await uow.rollback()
                # A retried invoke still needs a card; it shows the current state and changes nothing.
                if turn.is_invoke:
                    person = await svc.identify(turn.actor, uow, now)
                    return Reply(await show_sessions(Context(turn, uow, person, t, now, self._catalogs), PagePayload()))
                return Reply(None)
            verb, data = self._resolve(turn)
            if turn.conversation is not ConversationKind.PERSONAL:
                await uow.commit()
                return Reply(channel_hint_card(t))
            route = ROUTES.get(verb)
            if route is None:
                await uow.commit()
                return Reply(help_card(t, unknown=turn.text or verb))
            ctx = Context(turn, uow, person, t, now, self._catalogs, member_email)
            try:
                payload = route.parse(data)
                card = await route.action(ctx, payload)
            except ValidationError as invalid:
                await uow.rollback()
                log.info("card data for %r rejected (%d errors)", verb, invalid.error_count())
                return Reply(error_card(t, errors.InvalidInput()))
            except errors.DomainError as expected:
                await uow.rollback()
                return Reply(error_card(ctx.t, expected))
            await uow.commit()
            return Reply(card)

    @staticmethod
    def _is_profile_form(turn: Turn) -> bool:
        return turn.kind is TurnKind.CARD_ACTION and turn.verb == verbs.REGISTER and verbs.ROLE in turn.data

    @staticmethod
    async def _member_email(turn: Turn) -> str | None:
        try:
            async with asyncio.timeout(MEMBER_LOOKUP_SECONDS):
                member = await turn.lookup_member()
        except Exception as error:  # noqa: BLE001 - the e-mail is welcome, never required
            log.info("member lookup failed: %s", type(error).__name__)
            return None
        return member.email if member else None

    def _resolve(self, turn: Turn) -> tuple[str, Mapping[str, Any]]:
        if turn.kind is TurnKind.INSTALL:
            return WELCOME, {}
        if turn.kind is TurnKind.CARD_ACTION:
            return turn.verb, turn.data
        command = parse_command(turn.text)
        if command is None:
            return "", {}
        return command
