"""Series made and changed: from a data file (with its sessions), or by organisers in Teams."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from bot.conversation import ConversationKind
from bot.domain import errors
from bot.domain.events import InvitationChanged
from bot.domain.meetings import MeetingMode
from bot.domain.model import Language, Person, Series, Session, SessionStatus
from bot.domain.series_form import SeriesForm, slug_for, validate_series_form
from bot.services.organisers import Organiser, OrganiserPolicy, Where, organised, record_audit
from bot.services.ports import UnitOfWork


@dataclass(frozen=True)
class ImportResult:
    series: Series
    series_created: bool
    sessions_created: int
    sessions_updated: int


async def import_series(
    series: Series, sessions: Sequence[Session], uow: UnitOfWork, now: datetime, organisers: Sequence[str] = ()
) -> ImportResult:
    """Idempotent: importing the same file twice changes nothing the second time.

    Sessions are matched by number; what the organisers did in the bot (status, meeting link) is kept.
    """
    existing = await uow.series.get_by_slug(series.slug)
    if existing is None:
        stored = await uow.series.add(series, now)
    else:
        channel = series.organiser_channel_id or existing.organiser_channel_id
        stored = replace(series, id=existing.id, organiser_channel_id=channel)
        await uow.series.update(stored)
    for aad_object_id in organisers:
        await uow.organisers.add(stored.id, aad_object_id, "data file", now)
    known = {s.number: s for s in await uow.sessions.list_for_series(stored.id)}
    created = updated = 0
    for session in sessions:
        previous = known.get(session.number)
        if previous is None:
            added = await uow.sessions.add(replace(session, series_id=stored.id), now)
            if added.status is SessionStatus.PUBLISHED:
                mode = MeetingMode.MANUAL if added.join_url else MeetingMode.GRAPH
                await uow.meetings.follow(added.id, mode, now)
            created += 1
            continue
        # What organisers did in Teams (publish, cancel, meeting link) wins over the file.
        merged = replace(
            session,
            id=previous.id,
            series_id=stored.id,
            status=previous.status,
            join_url=previous.join_url,
            cancel_reason=previous.cancel_reason,
        )
        if merged != previous:
            await uow.sessions.update(merged, now)
            await uow.record(now, InvitationChanged(merged.id))
            updated += 1
    return ImportResult(stored, existing is None, created, updated)


async def is_empty(uow: UnitOfWork) -> bool:
    return not await uow.series.list_all()


async def may_create_series(person: Person, where: Where, uow: UnitOfWork, policy: OrganiserPolicy) -> None:
    """Organisers named in the settings and organisers of any series may start another, in a channel no
    series has taken: it becomes the new series' organisers' channel."""
    everything = await uow.series.list_all()
    if not policy.organises_every_series(person):  # they may start the first; anyone else must organise one
        await organised(person, everything, uow, policy)
    if where.conversation is ConversationKind.GROUP:
        raise errors.NotTheOrganiserChannel()
    if where.conversation is not ConversationKind.CHANNEL or not where.channel_id:
        raise errors.SeriesNeedsChannel()
    bound = next((s for s in everything if s.organiser_channel_id == where.channel_id), None)
    if bound is None and where.channel_id == policy.channel_id:
        # The settings' channel serves the series that have not taken their own.
        bound = next((s for s in everything if not s.organiser_channel_id), None)
    if bound is not None:
        raise errors.ChannelTaken(bound.title)


async def create_series(
    form: SeriesForm, person: Person, where: Where, service_url: str, uow: UnitOfWork, now: datetime
) -> Series:
    """The series, with the channel it was made in as its organisers' channel and its maker as organiser."""
    taken = {s.slug for s in await uow.series.list_all()}
    draft = Series(id=0, slug="", title="", organiser="", description="", target_group="", language=Language.SV)
    series = validate_series_form(form, draft)
    series = replace(
        series,
        slug=slug_for(series.title, taken),
        organiser_channel_id=where.channel_id,
        organiser_service_url=service_url or None,
    )
    stored = await uow.series.add(series, now)
    await uow.organisers.add(stored.id, person.key.aad_object_id, person.key.aad_object_id, now, person.name)
    await record_audit(uow, Organiser(person, stored), "create_series", stored.title, now)
    return stored


async def edit_series(form: SeriesForm, who: Organiser, uow: UnitOfWork, now: datetime) -> Series:
    after = validate_series_form(form, who.series)
    if after != who.series:
        await uow.series.update(after)
        await record_audit(uow, who, "edit_series", after.title, now)
    return after
