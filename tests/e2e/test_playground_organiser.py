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

    # The commands with their placeholders, which Teams would strip from Markdown as if they were HTML tags.
    help_card = await ask_in_channel(page, "organiser", "Organiser commands")
    await expect(help_card).to_contain_text("cancel 3 <reason>")
    await expect(help_card).to_contain_text("message 3 <text>")
    await shot(page, "org-0-help")

    form = await ask_in_channel(page, "new session", "Title or theme")  # a form: asking twice saves nothing
    await form.get_by_label("Title or theme").fill("Digital välfärd")
    await form.get_by_label("Seats (empty: no limit)").fill("1")
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

    # A colleague in Kiruna has taken the one seat (someone the Playground cannot be at the same time).
    with sqlite3.connect(demo.database) as db:
        db.execute(
            "INSERT INTO people (tenant_id, aad_object_id, name, email, organisation, role, reachable,"
            " announcements_opt_out, created_at, updated_at) SELECT tenant_id, 'colleague', 'Kim Kollega', '',"
            " 'Kiruna kommun', 'Strateg', 1, 1, created_at, updated_at FROM people LIMIT 1"
        )
        db.execute(
            "INSERT INTO registrations (session_id, person_id, status, after_talk, absence_reason, created_at,"
            " status_changed_at) SELECT s.id, p.id, 'registered', 0, '', p.created_at, p.created_at"
            " FROM sessions s, people p WHERE s.number = 9 AND p.aad_object_id = 'colleague'"
        )

    # A participant sees it at once; everyone who has used the bot is told, through the outbox.
    await page.get_by_role("treeitem", name="Personal Chat").click()
    await expect(card_saying(page, "New session in Lärprojekt innovation")).to_be_visible(timeout=TIMEOUT)
    await say(page, "sessions")
    sessions = card_saying(page, "Coming sessions")
    await expect(sessions).to_contain_text("Session 9: Digital välfärd", timeout=TIMEOUT)
    await expect(sessions).to_contain_text("Fully booked: new registrations join the waiting list")
    await sessions.get_by_role("button", name="Join the waiting list").last.click()
    profile = card_saying(page, "tell us where you work")
    await expect(profile).to_be_visible(timeout=TIMEOUT)
    await profile.get_by_role("combobox").click()
    await page.get_by_role("option", name="Luleå kommun").click()
    await profile.get_by_label("Your role").fill("Utvecklingsledare")
    await profile.get_by_role("button", name="Register").click()
    waiting = card_saying(page, "Your registration")
    await expect(waiting).to_contain_text("⏳ You are on the waiting list, place 1.", timeout=TIMEOUT)
    await expect(waiting.get_by_role("button", name="Leave the waiting list")).to_be_visible()
    await shot(page, "org-3-waiting-list")
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
    await expect(participants).to_contain_text("1. Alex Wilber · Luleå kommun · Utvecklingsledare")
    await expect(participants).to_contain_text("Kim Kollega · Kiruna kommun")
    await shot(page, "org-5-participants")

    stats = await ask_in_channel(page, "stats", "Statistics: Lärprojekt innovation")
    await expect(stats).to_contain_text("Session 9, Friday 5 March 2027")
    await expect(stats).to_contain_text("1 registered · 1 on the waiting list")
    await shot(page, "org-6-statistics")

    with sqlite3.connect(demo.database) as db:
        session = db.execute("SELECT title, status FROM sessions WHERE number = 9").fetchone()
        audit = [row[0] for row in db.execute("SELECT action FROM audit_log ORDER BY id")]
    assert session == ("Digital välfärd", "published")
    assert audit == ["create", "publish"]


async def test_other_channel_is_refused(page: Page) -> None:
    await expect(last_card(page)).to_contain_text("Lärprojekt innovation", timeout=TIMEOUT)
    await page.get_by_role("treeitem", name="My Team - Ops Alerts").click()
    await ask_in_channel(page, "stats", "organisers' channel")  # refused, so asking again changes nothing
