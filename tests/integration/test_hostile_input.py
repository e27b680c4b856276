"""Activities that are authenticated but hostile or malformed: wrong types, absurd lengths, deep nesting,
a card action without its action, a client that hangs up. Each gets 400 or a friendly card, never a 5xx,
and nothing is half-stored; pages carry security headers and no software versions."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.storage import tables
from bot.storage.engine import Database
from cards import verbs
from tests.integration.harness import BotClient, User, all_text, session_ids
from tests.processes import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"x": value}
    return value


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(activity: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = activity
        for key in parents:
            target = target[key]
        target[last] = value

    return change


BROKEN: dict[str, Callable[[dict[str, Any]], None]] = {
    "text a number": _set("text", 5),
    "text a list": _set("text", ["träffar"]),
    "text an object": _set("text", {"a": 1}),
    "conversation id a number": _set("conversation.id", 12345),
    "service URL a number": _set("serviceUrl", 7),
    "aadObjectId of 30,000 characters": _set("from.aadObjectId", "a" * 30_000),
    "tenant id of 1,000 characters": _set("channelData.tenant.id", "t" * 1_000),
    "locale an object": _set("locale", {"sv": True}),
    "nested 300 levels": _set("channelData.deep", _nested(300)),
    "value a string": _set("value", "register"),
}


async def _people(engine: Database) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(tables.people))).scalar_one())


@pytest.mark.parametrize("broken", list(BROKEN), ids=list(BROKEN))
async def test_a_field_of_the_wrong_type_or_length_is_400_and_stores_nothing(
    bot: BotClient, engine: Database, broken: str
) -> None:
    activity = bot.activities.message("träffar")
    BROKEN[broken](activity)
    status, _ = await bot.post(activity)
    assert status == 400
    assert await _people(engine) == 0
    assert bot.connector.received == []


async def test_a_card_action_without_its_action_is_400(bot: BotClient) -> None:
    activity = bot.activities.invoke(verbs.SESSIONS)
    activity["value"] = {"action": {}}
    status, _ = await bot.post(activity)
    assert status == 400


async def test_a_display_name_of_256_characters_registers(bot: BotClient, engine: Database) -> None:
    """Entra allows 256; people.name keeps 200 (VARCHAR(200) on PostgreSQL refused it before)."""
    long_name = User("user-long", "00000000-0000-0000-0000-00000000abcd", "Å" * 256)
    session_id = (await session_ids(engine))[2]
    data = {"session": session_id, verbs.ORGANISATION: "Luleå kommun", verbs.ROLE: "Lärare"}
    assert "Du är anmäld" in all_text(await bot.click(verbs.REGISTER, data, long_name))
    async with engine.connect() as conn:
        name = (await conn.execute(select(tables.people.c.name))).scalar_one()
    assert name == "Å" * 200


async def test_a_client_that_hangs_up_mid_body_leaves_no_error_in_the_log(database_url: str, tmp_path: Path) -> None:
    """In a bot process as deployed: aiohttp's test server does not pass the hang-up on to the handler."""
    port, log = free_port(), tmp_path / "bot.log"
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "DATABASE_URL": database_url,
           "MicrosoftAppId": "", "LOG_LEVEL": "DEBUG", "BACKGROUND_JOBS": "false"}  # fmt: skip
    with log.open("wb") as sink:
        process = subprocess.Popen([sys.executable, "app.py", "serve"], cwd=ROOT, env=env, stderr=sink)  # noqa: ASYNC220
    try:
        wait_for_port(port, process, log)
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /api/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 5000\r\n\r\n" + b'{"type": "message", "text": "'
        )
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        async with asyncio.timeout(20):  # until the bot has noticed, one way or the other
            while "went away" not in log.read_text() and "Traceback" not in log.read_text():  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    finally:
        process.terminate()
        process.wait(20)
    logged = log.read_text()
    assert "the client went away before its request had arrived" in logged
    assert "Traceback" not in logged
    assert " ERROR " not in logged


@pytest.mark.parametrize("path", ["/privacy", "/terms", "/healthz", "/exports/no-such-token"])
async def test_answers_carry_security_headers_and_no_versions(bot: BotClient, path: str) -> None:
    async with bot.http.get(bot.server.make_url(path)) as response:
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Server"] == "lartraff"
        assert "Python" not in response.headers["Server"]
        if response.content_type == "text/html":
            assert "default-src 'none'" in response.headers["Content-Security-Policy"]
            assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


PHISH = "[Klicka här](https://evil.example/phish)"


def _where(card: Any, needle: str) -> set[str]:
    """The kinds of element whose text holds `needle`: a TextRun shows it as typed, anything else as Markdown."""
    found: set[str] = set()

    def walk(node: Any, kind: str) -> None:
        if isinstance(node, dict):
            kind = str(node.get("type", kind))
            for key in ("text", "title", "value"):
                if isinstance(node.get(key), str) and needle in node[key]:
                    found.add(kind)
            for value in node.values():
                walk(value, kind)
        elif isinstance(node, list):
            for item in node:
                walk(item, kind)

    walk(card, "")
    return found


async def test_markdown_in_what_participants_type_shows_as_typed(bot: BotClient, engine: Database) -> None:
    """A link in a suggestion, an organisation, a display name or a reason never becomes a live link in the
    organisers' trusted view: it is shown in TextRuns, which Teams does not read as Markdown."""
    sly = User("user-sly", "00000000-0000-0000-0000-00000000beef", f"Sly {PHISH}")
    session_id = (await session_ids(engine))[1]
    profile = {"session": session_id, verbs.ORGANISATION: verbs.OTHER_ORGANISATION,
               verbs.ORGANISATION_OTHER: f"Kommun {PHISH}", verbs.ROLE: f"**Chef** {PHISH}"}  # fmt: skip
    assert "Du är anmäld" in all_text(await bot.click(verbs.REGISTER, profile, sly))
    absent = await bot.click(verbs.ABSENCE, {"session": session_id, verbs.REASON: f"Krock {PHISH}"}, sly)
    await bot.say(f"förslag Läs mer: {PHISH}", sly)
    assert _where(absent, PHISH) == {"TextRun"}

    number = 1
    cards = [
        await bot.say_in_channel("förslagen"),
        await bot.say_in_channel(f"deltagare {number}"),
        await bot.say_in_channel("statistik"),
    ]
    for card in cards:
        assert _where(card, PHISH) <= {"TextRun"}, card
    assert _where(cards[0], PHISH) == {"TextRun"}, "the suggestion and its author are shown"
    assert _where(cards[1], PHISH) == {"TextRun"}, "name, organisation, role and reason are shown"
