"""An association and its member organisations, each in its own Microsoft 365 tenant: who may use the bot,
where they work (the tenant says it), and messages to each person in their own conversation."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.jobs.delivery import DeliveryWorker
from bot.storage import tables
from bot.storage.engine import Database
from cards import verbs
from tests.integration.harness import ALEX, BotClient, User, all_text, session_ids

LULEA = "11111111-1111-4111-8111-111111111111"
PITEA = "22222222-2222-4222-8222-222222222222"
STRANGER = "33333333-3333-4333-8333-333333333333"
ASSOCIATION = "00000000-0000-0000-0000-0000000000001"  # the fixtures' tenant

LINNEA = User("user-lulea", "aaaaaaaa-0000-4000-8000-000000000001", "Linnéa Lind", tenant_id=LULEA)
PER = User("user-pitea", "bbbbbbbb-0000-4000-8000-000000000002", "Per Persson", tenant_id=PITEA)
OUTSIDER = User("user-other", "cccccccc-0000-4000-8000-000000000003", "Otto Utsida", tenant_id=STRANGER)


@pytest.fixture
def settings(settings: Settings) -> Settings:  # the suite's bot, with these settings
    return settings.model_copy(
        update={
            "allowed_tenant_ids": frozenset({ASSOCIATION}),
            "member_tenants": ((LULEA, "Luleå kommun"), (PITEA, "Piteå kommun")),
        }
    )


async def _person(engine: Database, user: User) -> tuple[str, str, str]:
    p = tables.people
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(p.c.tenant_id, p.c.organisation, p.c.role).where(p.c.aad_object_id == user.aad_object_id)
            )
        ).one()
    return row.tenant_id, row.organisation, row.role


def test_member_tenants_are_read_from_the_setting() -> None:
    settings = Settings(
        _env_file=None,
        member_tenants=f" {LULEA.upper()} = Luleå  kommun ; {PITEA}=Piteå kommun;",
        allowed_tenant_ids="",
        app_tenant_id=ASSOCIATION,
    )
    assert settings.member_tenants == ((LULEA, "Luleå kommun"), (PITEA, "Piteå kommun"))
    assert settings.admitted_tenant_ids == {LULEA, PITEA, ASSOCIATION}, "the association's own tenant too"
    with pytest.raises(ValueError, match="MEMBER_TENANTS"):
        Settings(_env_file=None, member_tenants="Luleå kommun")


async def test_a_member_is_asked_only_their_role_and_the_tenant_says_where_they_work(
    bot: BotClient, engine: Database
) -> None:
    ids = await session_ids(engine)
    form = await bot.click(verbs.REGISTER, {"session": ids[1]}, LINNEA)
    text = all_text(form)
    assert "Luleå kommun" in text
    assert "kommer från ditt Microsoft 365-konto" in text
    assert not [e for e in form["body"] if e.get("id") == verbs.ORGANISATION], "no choice of organisation"
    refused = await bot.click(verbs.REGISTER, {"session": ids[1], verbs.ROLE: " "}, LINNEA)
    assert "Skriv din roll" in all_text(refused)
    # What the card sends besides the role is not taken: the tenant is.
    done = await bot.click(
        verbs.REGISTER,
        {"session": ids[1], verbs.ORGANISATION: "Kiruna kommun", verbs.ROLE: "Utvecklingsledare"},
        LINNEA,
    )
    assert "Du är anmäld" in all_text(done)
    assert await _person(engine, LINNEA) == (LULEA, "Luleå kommun", "Utvecklingsledare")


async def test_the_association_s_own_people_choose_their_organisation(bot: BotClient, engine: Database) -> None:
    ids = await session_ids(engine)
    form = await bot.click(verbs.REGISTER, {"session": ids[1]}, ALEX)
    assert [e for e in form["body"] if e.get("id") == verbs.ORGANISATION], "asked, as before"
    await bot.click(
        verbs.REGISTER, {"session": ids[1], verbs.ORGANISATION: "Kiruna kommun", verbs.ROLE: "Strateg"}, ALEX
    )
    assert (await _person(engine, ALEX))[1:] == ("Kiruna kommun", "Strateg")


async def test_a_tenant_that_is_no_member_is_refused_and_nothing_is_stored(bot: BotClient, engine: Database) -> None:
    status, _ = await bot.post(bot.activities.message("hej", OUTSIDER))
    assert status == 403
    async with engine.connect() as conn:
        found = (await conn.execute(select(tables.people.c.id).where(tables.people.c.tenant_id == STRANGER))).all()
    assert found == []


async def test_people_of_three_tenants_get_their_messages_in_their_own_chats(
    bot: BotClient, engine: Database, worker: DeliveryWorker
) -> None:
    ids = await session_ids(engine)
    bot.connector.scripted[f"personal-{PER.id}"] = [403]  # Piteå's admin has removed the app for Per
    for user, organisation in ((ALEX, "Kiruna kommun"), (LINNEA, None), (PER, None)):
        profile = {verbs.ROLE: "Strateg"} | ({verbs.ORGANISATION: organisation} if organisation else {})
        await bot.click(verbs.REGISTER, {"session": ids[2], **profile}, user)
    while await worker.run_once():
        pass
    for user in (ALEX, LINNEA):
        (confirmation,) = bot.connector.proactive_cards(f"personal-{user.id}")
        assert "Din anmälan" in all_text(confirmation)
    assert bot.connector.proactive_cards(f"personal-{PER.id}") == []
    people = tables.people
    async with engine.connect() as conn:
        reachable = dict(
            (await conn.execute(select(people.c.tenant_id, people.c.reachable).where(people.c.tenant_id != ""))).all()
        )
    assert reachable == {ASSOCIATION: True, LULEA: True, PITEA: False}, "only Per, and only until he writes"

    listed = all_text(await bot.say_in_channel("deltagare 2"))
    assert "Linnéa Lind · Luleå kommun ✓ · Strateg" in listed
    assert "Per Persson · Piteå kommun ✓ · Strateg" in listed
    assert "Alex Wilber · Kiruna kommun · Strateg" in listed, "chosen, not vouched for by a tenant"
    assert "✓ organisationen kommer från personens Microsoft 365-konto" in listed

    card = await bot.say_in_channel("exportera 2")
    url = next(a["url"] for a in card["actions"] if a["type"] == "Action.OpenUrl")
    async with bot.http.get(bot.server.make_url("/exports/" + url.rsplit("/exports/", 1)[1])) as response:
        sheet = openpyxl.load_workbook(io.BytesIO(await response.read())).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][10] == "Organisation från Microsoft 365"
    assert sorted((r[2], r[10]) for r in rows[1:]) == [
        ("Alex Wilber", "Nej"), ("Linnéa Lind", "Ja"), ("Per Persson", "Ja")
    ]  # fmt: skip
