"""Organiser actions: sessions from form to cancellation, participants, exports, messages, organisers."""

from __future__ import annotations

from pydantic import Field, field_validator

from bot import chart
from bot.actions.context import Context, NoPayload, Payload, Refused
from bot.domain import errors, organising
from bot.domain.model import Session, SessionStatus
from bot.domain.organising import SessionForm
from bot.domain.series_form import SeriesForm
from bot.domain.views import SessionCounts
from bot.i18n import SERIES_TIMEZONE, Translator
from bot.services import organisers as org
from bot.services import series_admin
from cards.elements import Card
from cards.organisers import (
    audit_card,
    cancel_form_card,
    export_card,
    feedback_card,
    notice_card,
    organiser_help_card,
    organisers_card,
    participants_card,
    series_form_card,
    series_saved_card,
    session_admin_card,
    session_form_card,
    stats_card,
)
from cards.suggestions import suggestions_card

Number = Field(ge=1, le=10_000)


class NumberPayload(Payload):
    number: int = Number


class OptionalNumberPayload(Payload):
    number: int | None = Field(None, ge=1, le=10_000)


class PagePayload(NumberPayload):
    page: int = Field(0, ge=0, le=1000)


class TextPayload(Payload):
    text: str = Field("", max_length=4000)


class OrganiserIdPayload(TextPayload):
    """An Entra object id, typed or found for an @mention (Route.takes_mention)."""

    mentioned: str = Field("", max_length=300)

    def object_id(self) -> str:
        if not self.text.strip() and self.mentioned:
            raise errors.MemberNotFound(self.mentioned)
        return self.text


class NumberTextPayload(NumberPayload, TextPayload):
    pass


class SessionFormPayload(Payload):
    """The organisers' session card; number 0 is a new session."""

    number: int = Field(0, ge=0, le=10_000)
    title: str = Field("", max_length=1000)
    date: str = Field("", max_length=40)
    start: str = Field("", max_length=20)
    end: str = Field("", max_length=20)
    after_talk_end: str = Field("", max_length=20)
    deadline: str = Field("", max_length=40)
    capacity: str = Field("", max_length=20)  # Input.Number: Teams sends a string, some clients a number
    place: str = Field("Teams", max_length=1000)
    guest: str = Field("", max_length=1000)
    description: str = Field("", max_length=8000)
    programme: str = Field("", max_length=8000)

    @field_validator("capacity", mode="before")
    @classmethod
    def _number_as_text(cls, value: object) -> object:
        if isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value) if isinstance(value, int | float) else value

    def form(self) -> SessionForm:
        return SessionForm(**self.model_dump(exclude={"number"}))


async def _counts(ctx: Context, session_id: int) -> SessionCounts:
    return (await ctx.uow.sessions.counts(ctx.who.series.id)).get(session_id, SessionCounts())


async def _admin_card(ctx: Context, session: Session, notice: str = "") -> Card:
    meeting = await ctx.uow.meetings.get(session.id) if ctx.policy.meetings else None
    return session_admin_card(ctx.t, session, await _counts(ctx, session.id), notice, meeting)


class SeriesFormPayload(Payload):
    """The organisers' series card: its inputs, by their ids (bot.domain.series_form)."""

    series_title: str = Field("", max_length=1000)
    series_organiser: str = Field("", max_length=1000)
    series_language: str = Field("sv", max_length=10)
    series_description: str = Field("", max_length=10_000)
    series_target_group: str = Field("", max_length=4000)
    series_organisations: str = Field("", max_length=10_000)
    series_contacts: str = Field("", max_length=6000)
    series_fee: str = Field("", max_length=1000)

    def form(self) -> SeriesForm:
        return SeriesForm(
            title=self.series_title,
            organiser=self.series_organiser,
            language=self.series_language,
            description=self.series_description,
            target_group=self.series_target_group,
            organisations=self.series_organisations,
            contacts=self.series_contacts,
            fee=self.series_fee,
        )


async def new_series(ctx: Context, _: NoPayload) -> Card:
    return series_form_card(ctx.t, SeriesForm(language=ctx.t.language.value), editing=False)


async def create_series(ctx: Context, payload: SeriesFormPayload) -> Card:
    where = org.Where(ctx.turn.conversation, ctx.turn.channel_id)
    try:
        series = await series_admin.create_series(
            payload.form(), ctx.person, where, ctx.turn.service_url, ctx.uow, ctx.now
        )
    except errors.SeriesFormInvalid as invalid:
        raise Refused(series_form_card(ctx.t, payload.form(), editing=False, problems=invalid.problems)) from invalid
    return series_saved_card(ctx.t, series, created=True)


async def edit_series(ctx: Context, _: NoPayload) -> Card:
    return series_form_card(ctx.t, SeriesForm.of(ctx.who.series), editing=True)


async def save_series(ctx: Context, payload: SeriesFormPayload) -> Card:
    try:
        series = await series_admin.edit_series(payload.form(), ctx.who, ctx.uow, ctx.now)
    except errors.SeriesFormInvalid as invalid:
        raise Refused(series_form_card(ctx.t, payload.form(), editing=True, problems=invalid.problems)) from invalid
    return series_saved_card(ctx.t, series, created=False)


async def help_(ctx: Context, _: NoPayload) -> Card:
    return organiser_help_card(ctx.t)


async def new_session(ctx: Context, _: NoPayload) -> Card:
    return session_form_card(ctx.t, SessionForm(start="09:00", end="11:30", after_talk_end="12:00"), None)


async def edit_session(ctx: Context, payload: NumberPayload) -> Card:
    session = await ctx.uow.sessions.by_number(ctx.who.series.id, payload.number)
    if session is None:
        raise errors.UnknownSessionNumber(payload.number)
    return session_form_card(ctx.t, SessionForm.of(session, SERIES_TIMEZONE), payload.number)


async def copy_session(ctx: Context, payload: NumberPayload) -> Card:
    """Nothing is saved until the organiser saves the form: a copy abandoned leaves no draft behind."""
    session = await ctx.uow.sessions.by_number(ctx.who.series.id, payload.number)
    if session is None:
        raise errors.UnknownSessionNumber(payload.number)
    form = organising.copied(SessionForm.of(session, SERIES_TIMEZONE))
    return session_form_card(ctx.t, form, None, copy_of=payload.number)


async def save_session(ctx: Context, payload: SessionFormPayload) -> Card:
    form = payload.form()
    try:
        if payload.number:
            session = await org.edit_session(payload.number, form, ctx.who, ctx.uow, SERIES_TIMEZONE, ctx.now)
            notice = ctx.t.gettext("Changes saved.")
        else:
            session = await org.create_session(form, ctx.who, ctx.uow, SERIES_TIMEZONE, ctx.now)
            notice = ctx.t.gettext("Draft saved. Participants see it when you publish it.")
    except errors.SessionFormInvalid as invalid:
        raise Refused(session_form_card(ctx.t, form, payload.number or None, invalid.problems)) from invalid
    return await _admin_card(ctx, session, notice)


async def show_session(ctx: Context, payload: NumberPayload) -> Card:
    session = await ctx.uow.sessions.by_number(ctx.who.series.id, payload.number)
    if session is None:
        raise errors.UnknownSessionNumber(payload.number)
    return await _admin_card(ctx, session)


async def publish(ctx: Context, payload: NumberPayload) -> Card:
    published = await org.publish_session(payload.number, ctx.who, ctx.uow, ctx.now)
    session, announced = published.session, published.announced
    notice = ctx.t.ngettext(
        "Published. {n} earlier participant will be told.",
        "Published. {n} earlier participants will be told.",
        announced,
    ).format(n=announced)
    if published.enrolled:
        notice += " " + ctx.t.ngettext(
            "{n} person registered for the whole series was registered and told.",
            "{n} people registered for the whole series were registered and told.",
            published.enrolled,
        ).format(n=published.enrolled)
    if ctx.policy.meetings and not session.join_url:
        notice += " " + ctx.t.gettext("The Teams meeting is being created; everyone who registers is invited to it.")
    return await _admin_card(ctx, session, notice)


async def cancel_form(ctx: Context, payload: NumberPayload) -> Card:
    session = await ctx.uow.sessions.by_number(ctx.who.series.id, payload.number)
    if session is None:
        raise errors.UnknownSessionNumber(payload.number)
    return cancel_form_card(ctx.t, session)


async def cancel(ctx: Context, payload: NumberTextPayload) -> Card:
    if not payload.text.strip():
        session = await ctx.uow.sessions.by_number(ctx.who.series.id, payload.number)
        if session is None:
            raise errors.UnknownSessionNumber(payload.number)
        return cancel_form_card(ctx.t, session)
    session, told = await org.cancel_session(payload.number, payload.text, ctx.who, ctx.uow, ctx.now)
    notice = ctx.t.ngettext("Cancelled. {n} person will be told.", "Cancelled. {n} people will be told.", told)
    return await _admin_card(ctx, session, notice.format(n=told))


async def participants(ctx: Context, payload: PagePayload) -> Card:
    session, people = await org.participants(payload.number, ctx.who, ctx.uow)
    everyone = people.registered + people.waitlisted + people.absent + people.withdrawn
    verified = frozenset(e.person.id for e in everyone if ctx.policy.vouches_for(e.person))
    whole_series = frozenset(await ctx.uow.series_registrations.members(ctx.who.series.id))
    listed = whole_series & {e.person.id for e in everyone}
    return participants_card(ctx.t, session, people, payload.page, verified, listed)


async def feedback(ctx: Context, payload: NumberPayload) -> Card:
    session, answers = await org.feedback(payload.number, ctx.who, ctx.uow)
    return feedback_card(ctx.t, session, answers)


class SuggestionsPagePayload(Payload):
    page: int = Field(0, ge=0, le=10_000)


async def suggestions(ctx: Context, payload: SuggestionsPagePayload) -> Card:
    return suggestions_card(ctx.t, await org.suggestions(payload.page, ctx.who, ctx.uow))


async def export(ctx: Context, payload: OptionalNumberPayload) -> Card:
    export = await org.create_export(payload.number, ctx.who, ctx.uow, ctx.now)
    url = f"{ctx.public_base_url.rstrip('/')}/exports/{export.token}"
    return export_card(ctx.t, url, ctx.now + org.EXPORT_LIFETIME, export.session)


async def message(ctx: Context, payload: NumberTextPayload) -> Card:
    session, told = await org.message_registrants(
        payload.number, payload.text, ctx.who, ctx.uow, ctx.now, ctx.turn.activity_id
    )
    notice = ctx.t.ngettext(
        "Your message goes to {n} registered person.", "Your message goes to {n} registered people.", told
    )
    return notice_card(ctx.t, notice.format(n=told), session)


async def link(ctx: Context, payload: NumberTextPayload) -> Card:
    session, told = await org.set_link(payload.number, payload.text, ctx.who, ctx.uow, ctx.now)
    notice = ctx.t.ngettext(
        "Meeting link saved; {n} registered person gets it.", "Meeting link saved; {n} registered people get it.", told
    )
    return notice_card(ctx.t, notice.format(n=told), session)


async def meeting(ctx: Context, payload: NumberPayload) -> Card:
    if not ctx.policy.meetings:
        raise errors.MeetingsNotConfigured()
    session = await org.request_meeting(payload.number, ctx.who, ctx.uow, ctx.now)
    notice = ctx.t.gettext(
        "The Teams meeting is being created or brought up to date in the organisers' calendar. "
        "Everyone registered is invited and gets the link."
    )
    return notice_card(ctx.t, notice, session)


async def stats(ctx: Context, _: NoPayload) -> Card:
    result = await org.stats(ctx.who, ctx.uow)
    return stats_card(
        ctx.t, ctx.who.series, result.sessions, result.per_organisation, result.attendance, result.whole_series,
        stats_picture(ctx.t, result),
    )  # fmt: skip


def stats_picture(t: Translator, stats: org.Stats) -> str:
    """The figures of the published sessions as bars, for the statistics card; "" before there are any."""
    published = [
        (t.gettext("Session {number}, {date}").format(number=s.number, date=t.short_date(s.starts_at)), c.registered)
        for s, c in stats.sessions
        if s.status is SessionStatus.PUBLISHED
    ]
    if not published:
        return ""
    panels = [
        chart.Panel(t.gettext("Registered per session"), published),
        chart.Panel(t.gettext("Registered places per organisation"), stats.per_organisation),
    ]
    return chart.data_uri(chart.png(panels))


async def audit(ctx: Context, _: NoPayload) -> Card:
    return audit_card(ctx.t, await org.audit_log(ctx.who, ctx.uow))


async def list_organisers(ctx: Context, _: NoPayload) -> Card:
    return organisers_card(ctx.t, await org.organisers(ctx.who, ctx.uow, ctx.policy))


async def add_organiser(ctx: Context, payload: OrganiserIdPayload) -> Card:
    added = await org.add_organiser(payload.object_id(), ctx.who, ctx.uow, ctx.now, payload.mentioned)
    message = ctx.t.gettext("Organiser added.") if added else ctx.t.gettext("Already an organiser.")
    return notice_card(ctx.t, message)


async def remove_organiser(ctx: Context, payload: OrganiserIdPayload) -> Card:
    removed = await org.remove_organiser(payload.object_id(), ctx.who, ctx.uow, ctx.policy, ctx.now)
    message = ctx.t.gettext("Organiser removed.") if removed else ctx.t.gettext("That id belongs to no organiser.")
    return notice_card(ctx.t, message)


async def bind_channel(ctx: Context, _: NoPayload) -> Card:
    if ctx.turn.channel_id is None:
        raise errors.NotTheOrganiserChannel()
    await org.bind_channel(ctx.turn.channel_id, ctx.turn.service_url, ctx.who, ctx.uow, ctx.now)
    return notice_card(ctx.t, ctx.t.gettext("From now on, organiser commands are taken in this channel."))
