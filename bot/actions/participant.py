"""Participant actions: browse, register (for a session or the whole series), report absence, withdraw, choose a
language, suggest themes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator

from bot.actions.context import Context, NoPayload, Payload, Refused
from bot.domain import errors
from bot.domain.model import Language, Series, SessionStanding
from bot.i18n import Translator
from bot.services import participants as svc
from cards import verbs
from cards.conversation import error_message, help_card, welcome_card
from cards.elements import Card
from cards.notifications import feedback_thanks, subscription_card
from cards.sessions import (
    absence_card,
    cause_choices,
    confirmation_card,
    details_card,
    mine_card,
    noted_card,
    profile_card,
    series_card,
    series_choice_card,
    sessions_card,
    thanks_card,
    which_card,
    withdraw_question_card,
)
from cards.suggestions import suggestion_form, suggestion_thanks


class PagePayload(Payload):
    page: int = Field(0, ge=0, le=1000)


class SessionPayload(Payload):
    session: int = Field(ge=1, le=2**31 - 1)
    view: Literal["", "sessions", "mine", "welcome", "message"] = ""  # verbs.VIEWS: the card clicked in
    page: int = Field(0, ge=0, le=1000)  # its page, for `mina`, which pages


class ProfileFields(Payload):
    """The profile form's inputs, sent with the first registration, for a session or the whole series."""

    organisation: str | None = Field(None, max_length=300)
    organisation_other: str | None = Field(None, max_length=300)
    role: str | None = Field(None, max_length=300)

    def chosen_organisation(self) -> str | None:
        if self.organisation == verbs.OTHER_ORGANISATION:
            return self.organisation_other or ""
        return self.organisation


class RegisterPayload(SessionPayload, ProfileFields):
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
        return bool(self.after_talk)  # off unless chosen


class AbsencePayload(SessionPayload):
    cause: Literal["clash", "travel", "other"] | None = None  # verbs.CAUSES; None from a typed command
    reason: str = Field("", max_length=2000)

    def stated(self, t: Translator) -> str:
        """What the organisers read: the cause chosen, in the person's words, then anything they added."""
        label = dict((value, title) for title, value in cause_choices(t)).get(self.cause or "", "")
        extra = self.reason.strip()
        return f"{label}: {extra}" if label and extra else label or extra


class SpokenPayload(Payload):
    """A typed phrase's session: its number as participants see it ("Lärträff 2"), or none."""

    number: int | None = Field(None, ge=1, le=99_999)


class LanguagePayload(Payload):
    language: Language


async def show_welcome(ctx: Context, _: NoPayload) -> Card:
    overview = await svc.overview(ctx.person, ctx.uow, ctx.now)
    return welcome_card(ctx.t, overview.series, overview.standings, ctx.now, overview.in_series)


async def show_sessions(ctx: Context, payload: PagePayload) -> Card:
    overview = await svc.overview(ctx.person, ctx.uow, ctx.now)
    series = [(s, s.id in overview.in_series) for s in overview.series]
    return sessions_card(ctx.t, overview.standings, ctx.now, payload.page, series)


async def show_details(ctx: Context, payload: SessionPayload) -> Card:
    series, standing = await svc.standing(ctx.person, payload.session, ctx.uow, ctx.now)
    return await _details(ctx, series, standing)


async def _details(ctx: Context, series: Series, standing: SessionStanding) -> Card:
    return details_card(ctx.t, series, standing, ctx.now, await svc.in_series(ctx.person, series.id, ctx.uow))


async def show_status(ctx: Context, payload: SessionPayload) -> Card:
    series, standing = await svc.standing(ctx.person, payload.session, ctx.uow, ctx.now)
    return confirmation_card(ctx.t, series, standing, ctx.now)


async def register(ctx: Context, payload: RegisterPayload) -> Card:
    organisation = payload.chosen_organisation()
    command = svc.Register(
        ctx.person.id,
        payload.session,
        payload.wants_after_talk(),
        organisation,
        payload.role,
        ctx.member_email,
        ctx.verified_organisation,
    )
    try:
        outcome = await svc.register(command, ctx.person, ctx.uow, ctx.now, ctx.clock)
    except errors.ProfileIncomplete as problem:
        # The form again, with what was typed and the actual problem named.
        series, standing = await svc.standing(ctx.person, payload.session, ctx.uow, ctx.now)
        typed = ctx.person.with_profile(organisation or "", payload.role or "")
        raise Refused(
            profile_card(
                ctx.t,
                series,
                standing.session,
                typed,
                payload.wants_after_talk(),
                _profile_problem(ctx.t, payload, ctx.verified_organisation),
                payload.view,
                chosen=payload.organisation,
                verified=ctx.verified_organisation,
            )
        ) from problem
    if isinstance(outcome, svc.ProfileNeeded):
        return profile_card(
            ctx.t,
            outcome.series,
            outcome.session,
            outcome.person,
            outcome.after_talk,
            view=payload.view,
            verified=ctx.verified_organisation,
        )
    return await _answer(ctx, payload, outcome.series, outcome.standing)


def _profile_problem(t: Translator, payload: ProfileFields, verified: str) -> str:
    if verified:
        return t.gettext("Write your role, for example development strategist.")
    other_empty = payload.organisation == verbs.OTHER_ORGANISATION and not (payload.organisation_other or "").strip()
    no_organisation = other_empty or not (payload.organisation or "").strip()
    no_role = not (payload.role or "").strip()
    if other_empty and no_role:
        return t.gettext("You chose Other – write which organisation you work for, and your role.")
    if other_empty:
        return t.gettext("You chose Other – write which organisation you work for.")
    if no_organisation and no_role:
        return t.gettext("Choose your organisation and write your role.")
    if no_organisation:
        return t.gettext("Choose the organisation you work for.")
    return t.gettext("Write your role, for example development strategist.")


async def _answer(ctx: Context, clicked: SessionPayload, series: Series, standing: SessionStanding) -> Card:
    """The card the person clicked in, brought up to date, never a second confirmation beside the message the
    outbox sends. A click in the list or the welcome is answered with a line of what changed rather than the
    whole list again, which would cost as much as asking for it (a registration is the hot path)."""
    view = clicked.view
    if view in (verbs.VIEW_SESSIONS, verbs.VIEW_WELCOME):
        return noted_card(ctx.t, standing)
    if view == verbs.VIEW_MINE:
        return await show_mine(ctx, PagePayload(page=clicked.page))
    if view == verbs.VIEW_MESSAGE:
        return confirmation_card(ctx.t, series, standing, ctx.now)
    return await _details(ctx, series, standing)


class SeriesPayload(Payload):
    series: int | None = Field(None, ge=1, le=2**31 - 1)  # None from a typed command: the only series, or asked


class SeriesRegisterPayload(SeriesPayload, ProfileFields):
    pass


async def _series_id(ctx: Context, payload: SeriesPayload) -> int:
    """The series a whole-series command is for; with several and none named, the card that asks."""
    if payload.series is not None:
        return payload.series
    all_series = await ctx.uow.series.list_all()
    if len(all_series) != 1:
        if not all_series:
            raise errors.SessionNotFound()
        raise Refused(series_choice_card(ctx.t, all_series))
    return all_series[0].id


async def show_series(ctx: Context, payload: SeriesPayload) -> Card:
    found = await svc.series_standing(ctx.person, await _series_id(ctx, payload), ctx.uow, ctx.now)
    return series_card(ctx.t, found.series, found.registered, found.standings, ctx.now)


async def register_series(ctx: Context, payload: SeriesRegisterPayload) -> Card:
    series_id = await _series_id(ctx, payload)
    organisation = payload.chosen_organisation()
    command = svc.RegisterSeries(
        ctx.person.id, series_id, organisation, payload.role, ctx.member_email, ctx.verified_organisation
    )
    try:
        outcome = await svc.register_series(command, ctx.person, ctx.uow, ctx.now, ctx.clock)
    except errors.ProfileIncomplete as problem:
        series = await ctx.uow.series.get(series_id)
        assert series is not None  # register_series found it before it checked the profile
        typed = ctx.person.with_profile(organisation or "", payload.role or "")
        problem_text = _profile_problem(ctx.t, payload, ctx.verified_organisation)
        raise Refused(
            profile_card(
                ctx.t, series, None, typed, False, problem_text, chosen=payload.organisation,
                verified=ctx.verified_organisation,
            )
        ) from problem  # fmt: skip
    if isinstance(outcome, svc.SeriesProfileNeeded):
        return profile_card(ctx.t, outcome.series, None, outcome.person, False, verified=ctx.verified_organisation)
    notice = ctx.t.gettext("Done: you are registered for the whole series.")
    return series_card(ctx.t, outcome.series, outcome.registered, outcome.standings, ctx.now, notice)


async def leave_series(ctx: Context, payload: SeriesPayload) -> Card:
    found = await svc.leave_series(ctx.person, await _series_id(ctx, payload), ctx.uow, ctx.now)
    notice = ctx.t.gettext(
        "You have left the series. Your places in the coming sessions are still yours: "
        "withdraw under “My registrations” from those you won't come to."
    )
    return series_card(ctx.t, found.series, found.registered, found.standings, ctx.now, notice)


async def show_absence_form(ctx: Context, payload: SessionPayload) -> Card:
    _, standing = await svc.standing(ctx.person, payload.session, ctx.uow, ctx.now)
    if standing.registration is None or not standing.registration.is_active:
        raise errors.NotRegistered()
    return absence_card(ctx.t, standing, payload.view, payload.page)


async def report_absence(ctx: Context, payload: AbsencePayload) -> Card:
    series, standing = await svc.report_absence(
        svc.ReportAbsence(ctx.person.id, payload.session, payload.stated(ctx.t)), ctx.person, ctx.uow, ctx.now
    )
    return await _answer(ctx, payload, series, standing)


async def ask_withdraw(ctx: Context, payload: SessionPayload) -> Card:
    _, standing = await svc.standing(ctx.person, payload.session, ctx.uow, ctx.now)
    if standing.registration is None or not standing.registration.is_active:
        raise errors.NotRegistered()
    return withdraw_question_card(ctx.t, standing, payload.view, payload.page)


async def withdraw(ctx: Context, payload: SessionPayload) -> Card:
    series, standing = await svc.withdraw(svc.Withdraw(ctx.person.id, payload.session), ctx.person, ctx.uow, ctx.now)
    return await _answer(ctx, payload, series, standing)


async def show_mine(ctx: Context, payload: PagePayload) -> Card:
    return mine_card(ctx.t, await svc.my_registrations(ctx.person, ctx.uow, ctx.now), ctx.now, payload.page)


async def show_help(ctx: Context, _: NoPayload) -> Card:
    return help_card(ctx.t)


async def choose_language(ctx: Context, payload: LanguagePayload) -> Card:
    ctx.person = await svc.set_language(ctx.person, payload.language, ctx.uow, ctx.now)
    ctx.t = ctx.catalogs.translator(payload.language)
    return await show_welcome(ctx, NoPayload())


class FeedbackPayload(SessionPayload):
    rating: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=4000)


class SubscribePayload(Payload):
    wanted: bool


async def give_feedback(ctx: Context, payload: FeedbackPayload) -> Card:
    await svc.give_feedback(
        svc.GiveFeedback(payload.session, payload.rating, payload.comment), ctx.person, ctx.uow, ctx.now
    )
    return feedback_thanks(ctx.t)


async def subscribe(ctx: Context, payload: SubscribePayload) -> Card:
    ctx.person = await svc.set_announcements(ctx.person, payload.wanted, ctx.uow, ctx.now)
    return subscription_card(ctx.t, payload.wanted)


class SuggestionPayload(Payload):
    # Generous: the domain says how long a suggestion may be, with a message that says so.
    text: str = Field("", max_length=20_000)
    series: int | None = Field(None, ge=1, le=2**31 - 1)

    @field_validator("series", mode="before")
    @classmethod
    def _unchosen(cls, value: object) -> object:
        return None if value == "" else value  # a choice left empty comes as ""


async def suggest(ctx: Context, payload: SuggestionPayload) -> Card:
    """`suggest <text>` keeps it; `suggest` alone, or the form sent empty, shows the form; the form asks for
    the series too when the person's registrations don't say which."""
    try:
        kept = await svc.suggest_theme(svc.SuggestTheme(payload.text, payload.series), ctx.person, ctx.uow, ctx.now)
    except errors.SuggestionTooLong as too_long:
        return suggestion_form(ctx.t, value=payload.text[: too_long.limit], problem=error_message(ctx.t, too_long))
    except errors.WhichSeries:
        choices = [(s.id, s.title) for s in await ctx.uow.series.list_all()]
        return suggestion_form(ctx.t, value=payload.text, series=choices)
    return suggestion_thanks(ctx.t) if kept else suggestion_form(ctx.t)


async def welcome_thanks(ctx: Context, _: NoPayload) -> Card:
    return thanks_card(ctx.t)


async def _spoken(
    ctx: Context, payload: SpokenPayload, fits: Callable[[SessionStanding], bool], verb: str
) -> SessionStanding | Card:
    """The session a typed phrase means: the one that fits (by number, or the only one), or a short card
    asking which, with a button each; none that fits answers as the button would."""
    overview = await svc.overview(ctx.person, ctx.uow, ctx.now)
    numbered = [s for s in overview.standings if payload.number in (None, s.session.number)]
    fitting = [s for s in numbered if fits(s)]
    if len(fitting) == 1:
        return fitting[0]
    if not fitting and payload.number is not None and not numbered:
        raise errors.SessionNotFound()
    return which_card(ctx.t, fitting, verb, ctx.now)


def _open_for(now: datetime) -> Callable[[SessionStanding], bool]:
    def fits(s: SessionStanding) -> bool:
        return (s.registration is None or not s.registration.is_active) and s.session.registration_open(now)

    return fits


def _held(s: SessionStanding) -> bool:
    return s.registration is not None and s.registration.is_active


async def say_register(ctx: Context, payload: SpokenPayload) -> Card:
    found = await _spoken(ctx, payload, _open_for(ctx.now), verbs.REGISTER)
    if not isinstance(found, SessionStanding):
        return found
    return await register(ctx, RegisterPayload(session=found.session.id))


async def say_absence(ctx: Context, payload: SpokenPayload) -> Card:
    found = await _spoken(ctx, payload, _held, verbs.ABSENCE_FORM)
    if not isinstance(found, SessionStanding):
        return found
    return await show_absence_form(ctx, SessionPayload(session=found.session.id))


async def say_withdraw(ctx: Context, payload: SpokenPayload) -> Card:
    found = await _spoken(ctx, payload, _held, verbs.WITHDRAW_ASK)
    if not isinstance(found, SessionStanding):
        return found
    return await ask_withdraw(ctx, SessionPayload(session=found.session.id))


async def say_details(ctx: Context, payload: SpokenPayload) -> Card:
    found = await _spoken(ctx, payload, lambda _: True, verbs.DETAILS)
    if not isinstance(found, SessionStanding):
        return found
    return await show_details(ctx, SessionPayload(session=found.session.id))
