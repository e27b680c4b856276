"""One visible table from card verbs and typed commands to actions; one transaction per turn."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import Enum, auto
from operator import attrgetter
from typing import Any

from pydantic import ValidationError

from bot.actions import organiser as o
from bot.actions import participant as p
from bot.actions import privacy as gdpr
from bot.actions.context import Context, NoPayload, Payload, Refused
from bot.conversation import ConversationKind
from bot.domain import errors
from bot.domain.model import Language
from bot.i18n import Catalogs, Translator
from bot.logs import bind
from bot.services import organisers as org
from bot.services import participants as svc
from bot.services import series_admin
from bot.services.ports import Clock, UnitOfWorkFactory
from bot.turn import Reply, Turn, TurnKind
from cards import verbs
from cards.conversation import channel_hint_card, error_card, help_card
from cards.elements import Card
from cards.organisers import organiser_help_card

log = logging.getLogger(__name__)

MEMBER_LOOKUP_SECONDS = 3.0
WELCOME = verbs.WELCOME


@dataclass(frozen=True)
class Route:
    parse: Callable[[Mapping[str, Any]], Payload]
    action: Callable[[Context, Any], Awaitable[Card]]
    organiser: bool = False  # only organisers, only in their channel or a 1:1 chat
    # The session whose row the action locks for its decision: taken with the turn's first statement.
    locks_session: Callable[[Any], int] | None = None
    # Takes a person: "@Megan" stands for her Entra object id, asked of Teams before the transaction opens.
    takes_mention: bool = False
    # Makes a series rather than acting on one: any organiser, in a channel no series has taken.
    creates_series: bool = False


def _r(
    model: type[Payload],
    action: Callable[[Context, Any], Awaitable[Card]],
    *,
    organiser: bool = False,
    takes_mention: bool = False,
) -> Route:
    return Route(model.model_validate, action, organiser, takes_mention=takes_mention)


# The table: every card verb, and every typed command through COMMANDS, lands here.
ROUTES: dict[str, Route] = {
    WELCOME: _r(NoPayload, p.show_welcome),
    verbs.SESSIONS: _r(p.PagePayload, p.show_sessions),
    verbs.DETAILS: _r(p.SessionPayload, p.show_details),
    verbs.STATUS: _r(p.SessionPayload, p.show_status),
    verbs.REGISTER: Route(p.RegisterPayload.parse, p.register, locks_session=attrgetter("session")),
    verbs.ABSENCE_FORM: _r(p.SessionPayload, p.show_absence_form),
    verbs.ABSENCE: _r(p.AbsencePayload, p.report_absence),
    verbs.WITHDRAW_ASK: _r(p.SessionPayload, p.ask_withdraw),
    verbs.WITHDRAW: _r(p.SessionPayload, p.withdraw),
    verbs.MINE: _r(p.PagePayload, p.show_mine),
    verbs.HELP: _r(NoPayload, p.show_help),
    verbs.THANKS: _r(NoPayload, p.welcome_thanks),
    verbs.SAY_REGISTER: _r(p.SpokenPayload, p.say_register),
    verbs.SAY_ABSENCE: _r(p.SpokenPayload, p.say_absence),
    verbs.SAY_WITHDRAW: _r(p.SpokenPayload, p.say_withdraw),
    verbs.SAY_DETAILS: _r(p.SpokenPayload, p.say_details),
    verbs.LANGUAGE: _r(p.LanguagePayload, p.choose_language),
    verbs.FEEDBACK: _r(p.FeedbackPayload, p.give_feedback),
    verbs.SUBSCRIBE: _r(p.SubscribePayload, p.subscribe),
    verbs.SUGGEST: _r(p.SuggestionPayload, p.suggest),
    verbs.SERIES_STATUS: _r(p.SeriesPayload, p.show_series),
    verbs.SERIES_REGISTER: _r(p.SeriesRegisterPayload, p.register_series),
    verbs.SERIES_LEAVE: _r(p.SeriesPayload, p.leave_series),
    verbs.MY_DATA: _r(NoPayload, gdpr.show_my_data),
    verbs.ERASE_ASK: _r(NoPayload, gdpr.ask_erase),
    verbs.ERASE: _r(NoPayload, gdpr.erase),
    verbs.ORG_HELP: _r(NoPayload, o.help_, organiser=True),
    verbs.ORG_NEW_SERIES: Route(NoPayload.model_validate, o.new_series, organiser=True, creates_series=True),
    verbs.ORG_SERIES_CREATE: Route(
        o.SeriesFormPayload.model_validate, o.create_series, organiser=True, creates_series=True
    ),
    verbs.ORG_SERIES_EDIT: _r(NoPayload, o.edit_series, organiser=True),
    verbs.ORG_SERIES_SAVE: _r(o.SeriesFormPayload, o.save_series, organiser=True),
    verbs.ORG_NEW_SESSION: _r(NoPayload, o.new_session, organiser=True),
    verbs.ORG_EDIT: _r(o.NumberPayload, o.edit_session, organiser=True),
    verbs.ORG_SAVE: _r(o.SessionFormPayload, o.save_session, organiser=True),
    verbs.ORG_COPY: _r(o.NumberPayload, o.copy_session, organiser=True),
    verbs.ORG_SESSION: _r(o.NumberPayload, o.show_session, organiser=True),
    verbs.ORG_PUBLISH: _r(o.NumberPayload, o.publish, organiser=True),
    verbs.ORG_CANCEL_FORM: _r(o.NumberPayload, o.cancel_form, organiser=True),
    verbs.ORG_CANCEL: _r(o.NumberTextPayload, o.cancel, organiser=True),
    verbs.ORG_PARTICIPANTS: _r(o.PagePayload, o.participants, organiser=True),
    verbs.ORG_EXPORT: _r(o.OptionalNumberPayload, o.export, organiser=True),
    verbs.ORG_MESSAGE: _r(o.NumberTextPayload, o.message, organiser=True),
    verbs.ORG_LINK: _r(o.NumberTextPayload, o.link, organiser=True),
    verbs.ORG_MEETING: _r(o.NumberPayload, o.meeting, organiser=True),
    verbs.ORG_STATS: _r(NoPayload, o.stats, organiser=True),
    verbs.ORG_AUDIT: _r(NoPayload, o.audit, organiser=True),
    verbs.ORG_ORGANISERS: _r(NoPayload, o.list_organisers, organiser=True),
    verbs.ORG_ADD_ORGANISER: _r(o.OrganiserIdPayload, o.add_organiser, organiser=True, takes_mention=True),
    verbs.ORG_REMOVE_ORGANISER: _r(o.OrganiserIdPayload, o.remove_organiser, organiser=True, takes_mention=True),
    verbs.ORG_BIND_CHANNEL: _r(NoPayload, o.bind_channel, organiser=True),
    verbs.ORG_FEEDBACK: _r(o.NumberPayload, o.feedback, organiser=True),
    verbs.ORG_SUGGESTIONS: _r(o.SuggestionsPagePayload, o.suggestions, organiser=True),
    verbs.ORG_ERASE_ASK: _r(o.OrganiserIdPayload, gdpr.find_for_erasure, organiser=True, takes_mention=True),
    verbs.ORG_ERASE: _r(gdpr.PersonPayload, gdpr.erase_for_organiser, organiser=True),
}


class Args(Enum):
    NONE = auto()  # nothing may follow
    NUMBER = auto()  # "publicera 3"
    OPTIONAL_NUMBER = auto()  # "exportera" or "exportera 3"
    NUMBER_TEXT = auto()  # "ställ in 3 Föreläsaren är sjuk"
    TEXT = auto()  # "lägg till arrangör <id>"
    SESSION = auto()  # "anmäl mig", "anmäl mig 2", "anmäl mig till lärträff 2": a session's number, or none


# Typed commands, Swedish and English: the words, then what may follow them.
COMMANDS: dict[str, tuple[str, Args, dict[str, Any]]] = {
    **{w: (verbs.SESSIONS, Args.NONE, {}) for w in ("träffar", "traffar", "lärträffar", "sessions")},
    **{w: (verbs.MINE, Args.NONE, {}) for w in ("mina", "mina anmälningar", "my", "mine", "my registrations")},
    **{w: (verbs.HELP, Args.NONE, {}) for w in ("hjälp", "hjalp", "help", "?")},
    **{w: (verbs.LANGUAGE, Args.NONE, {"language": "en"}) for w in ("english", "engelska", "in english")},
    **{w: (verbs.LANGUAGE, Args.NONE, {"language": "sv"}) for w in ("svenska", "swedish", "på svenska")},
    **{w: (WELCOME, Args.NONE, {}) for w in ("hej", "hallå", "hej hej", "god morgon", "hi", "hello", "start")},
    **{
        w: (verbs.THANKS, Args.NONE, {})
        for w in ("tack", "tack så mycket", "tusen tack", "tackar", "thanks", "thank you", "thx")
    },
    # The words on the buttons, and what people write instead (the button's action, for a session by number).
    **{
        w: (verbs.SAY_REGISTER, Args.SESSION, {})
        for w in (
            "anmäl mig",
            "anmäl",
            "anmälan",
            "jag vill anmäla mig",
            "register",
            "register me",
            "sign me up",
            "sign up",
        )
    },
    **{
        w: (verbs.SAY_ABSENCE, Args.SESSION, {})
        for w in (
            "meddela förhinder",
            "förhinder",
            "kan inte komma",
            "jag kan inte komma",
            "kan ej komma",
            "can't come",
            "cannot come",
            "i can't come",
            "can not come",
        )
    },
    **{
        w: (verbs.SAY_WITHDRAW, Args.SESSION, {})
        for w in (
            "avanmäl mig",
            "avanmäl",
            "avanmäla",
            "avanmäla mig",
            "avboka",
            "cancel my registration",
            "withdraw",
            "unregister",
        )
    },
    **{w: (verbs.SAY_DETAILS, Args.SESSION, {}) for w in ("detaljer", "details", "mer info", "more info")},
    **{
        w: (verbs.SERIES_REGISTER, Args.NONE, {})
        for w in ("anmäl mig till hela serien", "anmäl mig till alla", "register for the whole series")
    },
    **{w: (verbs.SERIES_STATUS, Args.NONE, {}) for w in ("hela serien", "serien", "whole series", "the series")},
    **{w: (verbs.SERIES_LEAVE, Args.NONE, {}) for w in ("lämna serien", "leave the series", "leave series")},
    **{w: (verbs.SUBSCRIBE, Args.NONE, {"wanted": False}) for w in ("avsluta", "sluta", "unsubscribe", "stop")},
    **{w: (verbs.SUBSCRIBE, Args.NONE, {"wanted": True}) for w in ("prenumerera", "subscribe")},
    **{w: (verbs.SUGGEST, Args.TEXT, {}) for w in ("förslag", "föreslå", "suggest", "suggestion")},
    **{w: (verbs.MY_DATA, Args.NONE, {}) for w in ("mina uppgifter", "mina data", "my data", "my details")},
    **{
        w: (verbs.ERASE_ASK, Args.NONE, {})
        for w in ("radera mina uppgifter", "radera mig", "ta bort mina uppgifter", "delete my data", "erase my data")
    },
    # Organisers
    **{w: (verbs.ORG_HELP, Args.NONE, {}) for w in ("arrangör", "arrangörshjälp", "organiser", "organizer", "admin")},
    **{w: (verbs.ORG_NEW_SESSION, Args.NONE, {}) for w in ("ny träff", "ny lärträff", "new session")},
    **{w: (verbs.ORG_NEW_SERIES, Args.NONE, {}) for w in ("ny serie", "new series")},
    **{w: (verbs.ORG_SERIES_EDIT, Args.NONE, {}) for w in ("ändra serien", "edit series", "edit the series")},
    **{w: (verbs.ORG_EDIT, Args.NUMBER, {}) for w in ("ändra", "redigera", "edit")},
    **{w: (verbs.ORG_SESSION, Args.NUMBER, {}) for w in ("träff", "session")},
    **{w: (verbs.ORG_COPY, Args.NUMBER, {}) for w in ("kopiera", "copy")},
    **{w: (verbs.ORG_PUBLISH, Args.NUMBER, {}) for w in ("publicera", "publish")},
    **{w: (verbs.ORG_CANCEL, Args.NUMBER_TEXT, {}) for w in ("ställ in", "cancel")},
    **{w: (verbs.ORG_PARTICIPANTS, Args.NUMBER, {}) for w in ("deltagare", "participants")},
    **{w: (verbs.ORG_EXPORT, Args.OPTIONAL_NUMBER, {}) for w in ("exportera", "export")},
    **{w: (verbs.ORG_MESSAGE, Args.NUMBER_TEXT, {}) for w in ("meddela", "message")},
    **{w: (verbs.ORG_LINK, Args.NUMBER_TEXT, {}) for w in ("länk", "link")},
    **{w: (verbs.ORG_MEETING, Args.NUMBER, {}) for w in ("möte", "teamsmöte", "meeting")},
    **{w: (verbs.ORG_STATS, Args.NONE, {}) for w in ("statistik", "stats", "statistics")},
    **{w: (verbs.ORG_FEEDBACK, Args.NUMBER, {}) for w in ("omdömen", "utvärdering", "feedback")},
    **{w: (verbs.ORG_SUGGESTIONS, Args.NONE, {}) for w in ("förslagen", "temaförslag", "suggestions")},
    **{w: (verbs.ORG_AUDIT, Args.NONE, {}) for w in ("logg", "händelselogg", "audit")},
    **{w: (verbs.ORG_ORGANISERS, Args.NONE, {}) for w in ("arrangörer", "organisers", "organizers")},
    **{w: (verbs.ORG_ADD_ORGANISER, Args.TEXT, {}) for w in ("lägg till arrangör", "add organiser", "add organizer")},
    **{
        w: (verbs.ORG_REMOVE_ORGANISER, Args.TEXT, {})
        for w in ("ta bort arrangör", "remove organiser", "remove organizer")
    },
    **{w: (verbs.ORG_BIND_CHANNEL, Args.NONE, {}) for w in ("använd den här kanalen", "use this channel")},
    **{
        w: (verbs.ORG_ERASE_ASK, Args.TEXT, {})
        for w in ("radera deltagare", "radera deltagaren", "erase participant", "delete participant")
    },
}
# People leave the dots off: "anmal mig", "forhinder". Each letter that may lose them matches either way.
_BARE = str.maketrans("åäöéü", "aaoeu")
_EITHER = {"å": "[åa]", "ä": "[äa]", "ö": "[öo]", "é": "[ée]", "ü": "[üu]"}


def _fold(word: str) -> str:
    return word.casefold().translate(_BARE)


def _pattern(words: str) -> re.Pattern[str]:
    tolerant = "".join(_EITHER.get(ch, re.escape(ch)) for ch in words)
    # "förslag: …" as well as "förslag …"; a trailing "!" or "?" on a command alone.
    return re.compile(rf"{tolerant}(?:[.!?]*|:?\s+(?P<rest>.*))", flags=re.IGNORECASE | re.DOTALL)


# Candidates by first word, folded, longest first: a message is matched against a handful, not all.
_BY_FIRST_WORD: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
for _words in sorted(COMMANDS, key=len, reverse=True):
    _BY_FIRST_WORD.setdefault(_fold(_words.split()[0]), []).append((_words, _pattern(_words)))


def parse_command(text: str) -> tuple[str, dict[str, Any]] | None:
    """Words first (longest match), then the arguments their command takes; None when nothing fits."""
    text = text.strip()
    first = _fold(text.split(maxsplit=1)[0]) if text else ""
    for words, pattern in _BY_FIRST_WORD.get(first) or _BY_FIRST_WORD.get(first.rstrip(".!?:"), []):
        match = pattern.fullmatch(text)
        if match is None:
            continue
        verb, args, fixed = COMMANDS[words]
        rest = (match.group("rest") or "").strip()
        data = _arguments(args, rest)
        if data is None:
            continue
        return verb, {**fixed, **data}
    return None


# Words that may stand between a phrase and its session: "anmäl mig till lärträff 2".
_FILLER = {"till", "to", "for", "pa", "on", "lartraff", "session", "nr", "nummer"}  # folded, as _fold leaves them


def _arguments(args: Args, rest: str) -> dict[str, Any] | None:
    if args is Args.NONE:
        return {} if not rest.strip(".!? ") else None
    if args is Args.TEXT:
        return {verbs.TEXT: rest}
    if args is Args.SESSION:
        words = [w for w in rest.rstrip(".!? ").split() if _fold(w) not in _FILLER]
        if not words:
            return {}
        number = words[0].lstrip("#")
        return {verbs.NUMBER: int(number)} if len(words) == 1 and number.isdigit() and len(number) <= 5 else None
    number, _, text = rest.partition(" ")
    number = number.lstrip("#").rstrip(".!?")
    if args is Args.OPTIONAL_NUMBER and not number:
        return {}
    # A missing or bad number still reaches the action, whose payload check answers with a clear card.
    data: dict[str, Any] = {verbs.NUMBER: number if number else None}
    if args is Args.NUMBER_TEXT:
        data[verbs.TEXT] = text.strip()
    elif text.strip():
        data["page"] = text.strip()
    return data


def _parse(route: Route | None, data: Mapping[str, Any]) -> Payload | ValidationError | None:
    """The payload, parsed before the transaction opens (its session may be locked with the first
    statement); a rejection is kept to be answered where it always was."""
    if route is None:
        return None
    try:
        return route.parse(data)
    except ValidationError as invalid:
        return invalid


class Router:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        catalogs: Catalogs,
        default_language: Language,
        policy: org.OrganiserPolicy | None = None,
        public_base_url: str = "",
        after_commit: Callable[[], None] | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._catalogs = catalogs
        self._default_language = default_language
        self._policy = policy or org.OrganiserPolicy()
        self._public_base_url = public_base_url
        self._after_commit = after_commit or (lambda: None)
        self._background: set[asyncio.Task[None]] = set()

    def translator_for_locale(self, locale: str | None) -> Translator:
        """For answers given without a database, such as the apology after an unexpected error."""
        return self._catalogs.translator(Language.from_locale(locale) or self._default_language)

    async def handle(self, turn: Turn) -> Reply:
        if turn.kind is TurnKind.IGNORED:
            return Reply(None)
        if turn.kind is TurnKind.UNINSTALL:
            async with self._uow_factory() as uow:
                await uow.people.set_unreachable(turn.actor.key, self._clock.now())
                await uow.commit()
            return Reply(None)
        # Asked before the transaction opens, so no lock is held while Teams answers.
        member_email = await self._member_email(turn) if self._is_profile_form(turn) else None
        verb, data = self._resolve(turn)
        bind(route=verb)
        route = ROUTES.get(verb)
        if route is not None and route.takes_mention:
            data = await self._mentioned(turn, data)
        parsed = _parse(route, data)
        lock = route.locks_session(parsed) if route and route.locks_session and isinstance(parsed, Payload) else None
        async with self._uow_factory() as uow:
            now = self._clock.now()
            first_delivery, person = await svc.arrive(turn.activity_id, turn.actor, uow, now, lock_session=lock)
            language = person.effective_language(await svc.series_language(uow, self._default_language))
            t = self._catalogs.translator(language)
            ctx = Context(
                turn, uow, person, t, now, self._catalogs, member_email, self._policy, self._public_base_url,
                clock=self._clock,
            )  # fmt: skip
            if not first_delivery:
                log.info("redelivered activity %s ignored", turn.activity_id)
                await uow.rollback()
                # A retried invoke still needs a card; it shows the current state and changes nothing.
                if turn.is_invoke and turn.conversation is ConversationKind.PERSONAL:
                    ctx.person = await svc.identify(turn.actor, uow, now)
                    return Reply(await p.show_sessions(ctx, p.PagePayload()))
                return Reply(None)
            personal = turn.conversation is ConversationKind.PERSONAL
            if route is None or (not route.organiser and not personal):
                await uow.commit()
                if not personal:
                    return Reply(channel_hint_card(t))
                contacts = [c for series in await uow.series.list_all() for c in series.contacts]
                return Reply(help_card(t, unknown=turn.text or verb, contacts=contacts))
            try:
                where = org.Where(turn.conversation, turn.channel_id)
                if route.creates_series:
                    await series_admin.may_create_series(person, where, uow, self._policy)
                elif route.organiser:
                    binding = verb == verbs.ORG_BIND_CHANNEL
                    ctx.organiser = await org.authorize(person, where, uow, self._policy, binding_channel=binding)
                    if turn.conversation is ConversationKind.CHANNEL and turn.service_url:
                        ctx.organiser = await org.note_channel(
                            ctx.organiser, where, turn.service_url, uow, self._policy
                        )
                if isinstance(parsed, ValidationError):
                    raise parsed  # after the organiser check, as before: who may ask comes first
                card = await route.action(ctx, parsed)
            except Refused as refusal:
                await uow.rollback()
                return Reply(refusal.card)
            except ValidationError as invalid:
                await uow.rollback()
                log.info("input for %r rejected (%d errors)", verb, invalid.error_count())
                if route.organiser:
                    return Reply(organiser_help_card(t, problem=True))
                return Reply(error_card(t, errors.InvalidInput()))
            except (errors.NotAnOrganiser, errors.NotTheOrganiserChannel) as refused:
                await uow.rollback()
                log.warning("organiser command %r refused: %s", verb, type(refused).__name__)
                return Reply(
                    error_card(t, refused, organiser=personal and isinstance(refused, errors.NotTheOrganiserChannel))
                )
            except errors.DomainError as expected:
                await uow.rollback()
                return Reply(error_card(ctx.t, expected, organiser=route.organiser))
            await uow.commit()
            self._after_commit()  # messages this turn queued leave now, after the commit, off the reply path
            if personal and ctx.person.has_profile and not ctx.person.email:
                self._in_background(self._complete_email(turn, ctx.person.id))
            return Reply(card)

    def _in_background(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)  # held, or the loop may collect it half-way
        task.add_done_callback(self._background.discard)

    async def settle(self) -> None:
        """Waits for the work started after turns (e-mail look-ups); for shutdown and tests."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    async def _complete_email(self, turn: Turn, person_id: int) -> None:
        """Teams did not give the e-mail of someone who registered (busy, or it did not say): asked again after
        each of their turns until it does, off the reply path. Without it Graph cannot invite them."""
        email = await self._member_email(turn)
        if not email:
            return
        try:
            async with self._uow_factory() as uow:
                completed = await svc.complete_email(person_id, email, uow, self._clock.now())
                await uow.commit()
        except Exception:
            log.exception("the e-mail of a person could not be stored")
            return
        if completed:
            self._after_commit()

    @staticmethod
    def _is_profile_form(turn: Turn) -> bool:
        profile_forms = (verbs.REGISTER, verbs.SERIES_REGISTER)
        return turn.kind is TurnKind.CARD_ACTION and turn.verb in profile_forms and verbs.ROLE in turn.data

    @staticmethod
    async def _member_email(turn: Turn) -> str | None:
        try:
            async with asyncio.timeout(MEMBER_LOOKUP_SECONDS):
                member = await turn.lookup_member()
        except Exception as error:  # noqa: BLE001 - the e-mail is welcome, never required
            log.info("member lookup failed: %s", type(error).__name__)
            return None
        return member.email if member else None

    @staticmethod
    async def _mentioned(turn: Turn, data: Mapping[str, Any]) -> Mapping[str, Any]:
        """For “add organiser @Megan”: the first person mentioned, when nothing else was written, by object id."""
        if not turn.mentions or str(data.get(verbs.TEXT) or "").strip():
            return data
        mention = turn.mentions[0]
        try:
            async with asyncio.timeout(MEMBER_LOOKUP_SECONDS):
                object_id = await turn.lookup_object_id(mention.teams_id)
        except Exception as error:  # noqa: BLE001 - answered as "Teams did not tell me", nothing changes
            log.info("member lookup failed: %s", type(error).__name__)
            object_id = None
        return {**data, verbs.TEXT: object_id or "", verbs.MENTIONED: mention.name or mention.teams_id}

    def _resolve(self, turn: Turn) -> tuple[str, Mapping[str, Any]]:
        if turn.kind is TurnKind.INSTALL:
            return WELCOME, {}
        if turn.kind is TurnKind.CARD_ACTION:
            return turn.verb, turn.data
        command = parse_command(turn.text)
        if command is None:
            return "", {}
        return command
