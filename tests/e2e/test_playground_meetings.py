"""With Microsoft Graph (a fake one on 127.0.0.1): the demo bot creates the sessions' Teams meetings, a
registration in the Playground puts the person in the invitation, and organisers see where it stands."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, expect

from tests.e2e.chat import TIMEOUT, ask_in_channel, card_saying, last_card, say, shot
from tests.e2e.conftest import ROOT, Demo, run_demo
from tests.fakegraph import environment
from tests.processes import free_port, wait_for_port

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def fake_graph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("graph") / "graph.log"
    with log.open("wb") as sink:
        process = subprocess.Popen([sys.executable, "-m", "tests.fakegraph", str(port)], cwd=ROOT, stderr=sink)
    try:
        wait_for_port(port, process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, fake_graph: str) -> Iterator[Demo]:
    yield from run_demo(tmp_path_factory.mktemp("demo-graph"), environment(fake_graph))


async def _until(found: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + TIMEOUT / 1000
    while time.monotonic() < deadline:
        value = await found() if asyncio.iscoroutinefunction(found) else found()
        if value:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _query(demo: Demo, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(demo.database) as db:
        return db.execute(sql).fetchall()


async def test_a_registration_in_teams_lands_in_the_meeting_invitation(page: Page, demo: Demo, fake_graph: str) -> None:
    await expect(last_card(page)).to_contain_text("Welcome to Lärprojekt innovation", timeout=TIMEOUT)
    join_url = await _until(
        lambda: _query(demo, "SELECT join_url FROM sessions WHERE number = 1 AND join_url IS NOT NULL"),
        "session 1's Teams meeting",
    )
    assert join_url[0][0].startswith("https://teams.microsoft.com/l/meetup-join/")

    await say(page, "sessions")
    sessions = card_saying(page, "Coming sessions")
    await expect(sessions).to_be_visible(timeout=TIMEOUT)
    await sessions.get_by_role("button", name="Register").first.click()
    profile = card_saying(page, "tell us where you work")
    await expect(profile).to_be_visible(timeout=TIMEOUT)
    await profile.get_by_role("combobox").click()
    await page.get_by_role("option", name="Piteå kommun").click()
    await profile.get_by_label("Your role").fill("Rektor")
    await profile.get_by_role("button", name="Register").click()
    registered = card_saying(page, "You are registered")
    await expect(registered).to_be_visible(timeout=TIMEOUT)
    await expect(registered.get_by_role("link", name="Join the meeting in Teams")).to_be_visible()
    await shot(page, "graph-1-registered-en")

    (email,) = _query(demo, "SELECT email FROM people WHERE organisation = 'Piteå kommun'")[0]
    assert email, "Teams gave the person's address"

    async def invited() -> bool:
        async with aiohttp.ClientSession() as http, http.get(f"{fake_graph}/_state") as response:
            state = await response.json()
        events = [e for e in state["events"] if e["onlineMeeting"]["joinUrl"] == join_url[0][0]]
        return bool(events) and [a["emailAddress"]["address"] for a in events[0]["attendees"]] == [email]

    await _until(invited, "the invitation to hold exactly the registered person")

    await say(page, "svenska")
    await page.get_by_role("treeitem", name="My Team - General").click()
    session = await ask_in_channel(page, "träff 1", "Teams-möte i arrangörernas kalender")
    await expect(session).to_contain_text("alla anmälda är inbjudna", timeout=TIMEOUT)
    await shot(page, "graph-2-session-sv")
    await ask_in_channel(page, "möte 1", "Teams-mötet skapas eller uppdateras")
    await shot(page, "graph-3-meeting-command-sv")
