"""The rights over one's data: see it, download it, delete it; and an organiser's erasure on someone's request."""

from __future__ import annotations

from pydantic import Field

from bot.actions.context import Context, NoPayload, Payload
from bot.actions.organiser import OrganiserIdPayload
from bot.domain import errors
from bot.services import privacy as svc
from cards.elements import Card
from cards.privacy import (
    erase_candidates_card,
    erase_question_card,
    erased_card,
    my_data_card,
    organiser_erased_card,
)


class PersonPayload(Payload):
    person: int = Field(ge=1, le=2**31 - 1)


async def show_my_data(ctx: Context, _: NoPayload) -> Card:
    data = await svc.my_data(ctx.person, ctx.uow)
    token = await svc.create_link(ctx.person, ctx.uow, ctx.now)
    base = ctx.public_base_url.rstrip("/")
    return my_data_card(ctx.t, data, f"{base}/my-data/{token}", ctx.now + svc.LINK_LIFETIME, f"{base}/privacy")


async def ask_erase(ctx: Context, _: NoPayload) -> Card:
    return erase_question_card(ctx.t)


async def erase(ctx: Context, _: NoPayload) -> Card:
    erasure = await svc.erase(ctx.person.id, ctx.uow, ctx.now)
    # The turn's person as erased: nothing after the turn may look them up again (their e-mail, say).
    ctx.person = await ctx.uow.people.get(ctx.person.id) or ctx.person
    return erased_card(ctx.t, erasure)


async def find_for_erasure(ctx: Context, payload: OrganiserIdPayload) -> Card:
    if not payload.text.strip():
        raise errors.ParticipantNotFound(payload.mentioned)
    return erase_candidates_card(ctx.t, await svc.find_participants(ctx.who, payload.text, ctx.uow))


async def erase_for_organiser(ctx: Context, payload: PersonPayload) -> Card:
    return organiser_erased_card(ctx.t, await svc.erase_for_organiser(ctx.who, payload.person, ctx.uow, ctx.now))
