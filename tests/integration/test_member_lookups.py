"""Member look-ups at Teams (for the e-mail Graph invites by) within Teams' limits, tried again on 429, and
completed at a later turn when Teams did not give the e-mail at the first registration."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.storage import tables as t
from bot.storage.engine import Database
from bot.web import ROUTER
from cards import verbs
from tests.integration.harness import MEGAN, BotClient, all_text, numbered_user, session_ids


def _profile(session_id: int) -> dict[str, object]:
    return {"session": session_id, verbs.ORGANISATION: "Luleå kommun", verbs.ROLE: "Lärare"}


async def _emails(engine: Database) -> dict[str, str]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(t.people.c.aad_object_id, t.people.c.email))
        return {aad: email for aad, email in map(tuple, rows)}


async def test_a_burst_of_first_registrations_draws_no_429_and_everyone_has_an_email(
    bot: BotClient, engine: Database
) -> None:
    """300 people register for the first time, 16 at a time; Teams allows an app 50 requests a second."""
    bot.connector.requests_per_second = 50
    session_id = (await session_ids(engine))[2]  # no limit on seats: everyone is registered
    people = [numbered_user(n) for n in range(300)]
    slots = asyncio.Semaphore(16)

    async def register(n: int) -> str:
        async with slots:
            return all_text(await bot.click(verbs.REGISTER, _profile(session_id), people[n]))

    answers = await asyncio.gather(*(register(n) for n in range(len(people))))
    assert all("Du är anmäld" in answer for answer in answers)
    assert bot.connector.throttled == 0
    emails = await _emails(engine)
    assert [emails[p.aad_object_id] for p in people] == [f"{p.id}@example.com" for p in people]


async def test_a_429_on_a_member_look_up_is_tried_again_after_retry_after(bot: BotClient, engine: Database) -> None:
    bot.connector.requests_per_second = 1
    session_id = (await session_ids(engine))[2]
    first, second = numbered_user(1), numbered_user(2)
    await bot.click(verbs.REGISTER, _profile(session_id), first)
    await bot.click(verbs.REGISTER, _profile(session_id), second)  # within the same second: Teams says 429
    emails = await _emails(engine)
    assert (emails[first.aad_object_id], emails[second.aad_object_id]) == (
        f"{first.id}@example.com",
        f"{second.id}@example.com",
    )


async def test_an_email_teams_did_not_give_is_completed_at_the_next_turn(bot: BotClient, engine: Database) -> None:
    router = bot.server.app[ROUTER]
    session_id = (await session_ids(engine))[1]
    bot.connector.member_status = 503  # Teams busy for longer than a turn waits
    assert "Du är anmäld" in all_text(await bot.click(verbs.REGISTER, _profile(session_id), MEGAN))
    await router.settle()
    assert (await _emails(engine))[MEGAN.aad_object_id] == ""
    async with engine.connect() as conn:
        changes_before = (await conn.execute(select(func.count()).select_from(t.meeting_changes))).scalar_one()

    bot.connector.member_status = 200
    await bot.say("träffar", MEGAN)
    await router.settle()
    assert (await _emails(engine))[MEGAN.aad_object_id] == f"{MEGAN.id}@example.com"
    async with engine.connect() as conn:
        changes = (await conn.execute(select(func.count()).select_from(t.meeting_changes))).scalar_one()
    assert changes == changes_before + 1, "the meeting is told to invite her"

    asked = bot.connector.member_requests
    await bot.say("träffar", MEGAN)
    await router.settle()
    assert bot.connector.member_requests == asked, "not asked again once known"
