"""The organiser's journey in the Playground's team channel: create, publish, see who comes."""

from __future__ import annotations

import sqlite3

import pytest
from playwright.async_api import Page, expect

from tests.e2e.chat import TIMEOUT, ask_in_channel, card_saying, last_card, say, shot
from tests.e2e.conftest import Demo

pytestmark = pytest.mark.e2e


async def test_create_publish_and_list_participants(page: Page, demo: Demo) -> None:
    await expect(last_card(page)).to_contain_text("Welcome to Lärprojekt innovation", timeout=TIMEOUT)
    await page.get_by_role("treeitem", name="My Team - General").click()

    form = await ask_in_channel(page, "new session", "Title or theme")  # a form: asking twice saves nothing
    await form.get_by_label("Title or theme").fill("Digital välfärd")
    date = form.get_by_role("combobox").first  # Teams renders Input.Date as a date picker
    await date.fill("2027-03-05")
    await date.press("Enter")
    await page.keyboard.press("Escape")
    await shot(page, "org-1-form")
    await form.get_by_role("button", name="Create draft").click()
    saved = card_saying(page, "Draft saved")
    await expect(saved).to_be_visible(timeout=TIMEOUT)
    await expect(saved).to_contain_text("Session 9: Digital välfärd")
    await expect(saved).to_contain_text("Friday 5 March 2027, 09:00–11:30 Swedish time")
    await saved.get_by_role("button", name="Publish").click()
    await expect(card_saying(page, "Published.")).to_be_visible(timeout=TIMEOUT)
    await shot(page, "org-2-published")

    # A participant sees it at once; everyone who has used the bot is told, through the outbox.
    await page.get_by_role("treeitem", name="Personal Chat").click()
    await expect(card_saying(page, "New session in Lärprojekt innovation")).to_be_visible(timeout=TIMEOUT)
    await say(page, "sessions")
    sessions = card_saying(page, "Coming sessions")
    await expect(sessions).to_contain_text("Session 9: Digital välfärd", timeout=TIMEOUT)
    await sessions.get_by_role("button", name="Register").last.click()
    profile = card_saying(page, "tell us where you work")
    await expect(profile).to_be_visible(timeout=TIMEOUT)
    await profile.get_by_role("combobox").click()
    await page.get_by_role("option", name="Luleå kommun").click()
    await profile.get_by_label("Your role").fill("Utvecklingsledare")
    await profile.get_by_role("button", name="Register").click()
    await expect(card_saying(page, "You are registered")).to_be_visible(timeout=TIMEOUT)
    await say(page, "suggest: Digital services for young adults")
    await expect(card_saying(page, "Your suggestion has gone to the organisers")).to_be_visible(timeout=TIMEOUT)
    await shot(page, "org-3-suggested-en")

    await page.get_by_role("treeitem", name="My Team - General").click()
    suggestions = await ask_in_channel(page, "suggestions", "Theme suggestions")
    await expect(suggestions).to_contain_text("1 suggestion from participants, newest first")
    await expect(suggestions).to_contain_text("Alex Wilber, Luleå kommun")
    await expect(suggestions).to_contain_text("Digital services for young adults")
    await shot(page, "org-4-suggestions")

    participants = await ask_in_channel(page, "participants 9", "Participants: Session 9: Digital välfärd")
    await expect(participants).to_contain_text("Alex Wilber · Luleå kommun · Utvecklingsledare")
    await shot(page, "org-5-participants")

    with sqlite3.connect(demo.database) as db:
        session = db.execute("SELECT title, status FROM sessions WHERE number = 9").fetchone()
        audit = [row[0] for row in db.execute("SELECT action FROM audit_log ORDER BY id")]
    assert session == ("Digital välfärd", "published")
    assert audit == ["create", "publish"]


async def test_other_channel_is_refused(page: Page) -> None:
    await expect(last_card(page)).to_contain_text("Lärprojekt innovation", timeout=TIMEOUT)
    await page.get_by_role("treeitem", name="My Team - Ops Alerts").click()
    await ask_in_channel(page, "stats", "organisers' channel")  # refused, so asking again changes nothing
