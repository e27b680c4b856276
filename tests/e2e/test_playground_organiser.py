"""The organiser's journey in the Playground's team channel: create, publish, see who comes."""

from __future__ import annotations

import sqlite3

import pytest
from playwright.async_api import Locator, Page, expect

from tests.e2e.conftest import ARTIFACTS, Demo

pytestmark = pytest.mark.e2e
TIMEOUT = 20_000


def _last_card(page: Page) -> Locator:
    return page.locator(".ac-adaptiveCard").last


def _card(page: Page, text: str) -> Locator:
    """The newest card saying `text`: in a channel, replayed install events may post cards in between."""
    return page.locator(".ac-adaptiveCard").filter(has_text=text).last


async def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def _post_in_channel(page: Page, text: str) -> None:
    """As in Teams: type @, pick the bot from the menu, write, Post."""
    composer = page.locator('[data-lexical-editor="true"]').first
    await composer.click()
    await page.keyboard.type("@")
    await page.get_by_role("menuitem", name="Test Bot").click()
    await page.keyboard.type(f" {text}")
    await page.get_by_role("button", name="Post").click()


async def _say_in_personal_chat(page: Page, text: str) -> None:
    composer = page.locator('[data-lexical-editor="true"]')
    await composer.click()
    await page.keyboard.type(text)
    await page.keyboard.press("Enter")


async def test_create_publish_and_list_participants(page: Page, demo: Demo) -> None:
    await expect(_last_card(page)).to_contain_text("Welcome to Lärprojekt innovation", timeout=TIMEOUT)
    await page.get_by_role("treeitem", name="My Team - General").click()

    await _post_in_channel(page, "new session")
    form = _card(page, "Title or theme")
    await expect(form).to_be_visible(timeout=TIMEOUT)
    await form.get_by_label("Title or theme").fill("Digital välfärd")
    date = form.get_by_role("combobox").first  # Teams renders Input.Date as a date picker
    await date.fill("2027-03-05")
    await date.press("Enter")
    await page.keyboard.press("Escape")
    await _shot(page, "org-1-form")
    await form.get_by_role("button", name="Create draft").click()
    saved = _card(page, "Draft saved")
    await expect(saved).to_be_visible(timeout=TIMEOUT)
    await expect(saved).to_contain_text("Session 9: Digital välfärd")
    await expect(saved).to_contain_text("Friday 5 March 2027, 09:00–11:30 Swedish time")
    await saved.get_by_role("button", name="Publish").click()
    await expect(_card(page, "Published.")).to_be_visible(timeout=TIMEOUT)
    await _shot(page, "org-2-published")

    # A participant sees it at once.
    await page.get_by_role("treeitem", name="Personal Chat").click()
    await _say_in_personal_chat(page, "sessions")
    sessions = _last_card(page)
    await expect(sessions).to_contain_text("Session 9: Digital välfärd", timeout=TIMEOUT)
    await sessions.get_by_role("button", name="Register").last.click()
    profile = _last_card(page)
    await expect(profile).to_contain_text("tell us where you work", timeout=TIMEOUT)
    await profile.get_by_role("combobox").click()
    await page.get_by_role("option", name="Luleå kommun").click()
    await profile.get_by_label("Your role").fill("Utvecklingsledare")
    await profile.get_by_role("button", name="Register").click()
    await expect(_last_card(page)).to_contain_text("You are registered", timeout=TIMEOUT)

    await page.get_by_role("treeitem", name="My Team - General").click()
    await _post_in_channel(page, "participants 9")
    participants = _card(page, "Participants: Session 9: Digital välfärd")
    await expect(participants).to_be_visible(timeout=TIMEOUT)
    await expect(participants).to_contain_text("Alex Wilber · Luleå kommun · Utvecklingsledare")
    await _shot(page, "org-3-participants")

    with sqlite3.connect(demo.database) as db:
        session = db.execute("SELECT title, status FROM sessions WHERE number = 9").fetchone()
        audit = [row[0] for row in db.execute("SELECT action FROM audit_log ORDER BY id")]
    assert session == ("Digital välfärd", "published")
    assert audit == ["create", "publish"]


async def test_other_channel_is_refused(page: Page) -> None:
    await expect(_last_card(page)).to_contain_text("Lärprojekt innovation", timeout=TIMEOUT)
    await page.get_by_role("treeitem", name="My Team - Ops Alerts").click()
    await _post_in_channel(page, "stats")
    await expect(_card(page, "organisers' channel")).to_be_visible(timeout=TIMEOUT)
