"""A second series made in another channel of the Playground's team, and a participant registered for all of it."""

from __future__ import annotations

import sqlite3

import pytest
from playwright.async_api import Page, expect

from tests.e2e.chat import TIMEOUT, ask_in_channel, card_saying, last_card, say, shot
from tests.e2e.conftest import Demo

pytestmark = pytest.mark.e2e

CHANNEL = "My Team - Ops Alerts"


async def test_a_series_made_in_its_channel_and_registered_for_as_a_whole(page: Page, demo: Demo) -> None:
    await expect(last_card(page)).to_contain_text("Welcome to Lärprojekt innovation", timeout=TIMEOUT)
    await page.get_by_role("treeitem", name=CHANNEL).click()

    form = await ask_in_channel(page, "new series", "This channel becomes the series' organisers' channel")
    await form.get_by_label("Name of the series").fill("Nätverket för digitalisering")
    await form.get_by_label("Organised by").fill("Norrbottens Kommuner")
    await form.get_by_label("About the series").fill("Kommunernas digitaliseringsledare lär av varandra.")
    await form.get_by_label("Organisations to choose from when registering (one a line)").fill(
        "Luleå kommun\nKiruna kommun\nÖvertorneå kommun"
    )
    await shot(page, "series-1-form")
    await form.get_by_role("button", name="Create the series").click()
    created = card_saying(page, "The series is created.")
    await expect(created).to_be_visible(timeout=TIMEOUT)
    await shot(page, "series-2-created")

    # Its first session, from the button on the answer, saved and published in the same channel.
    await created.get_by_role("button", name="New session").click()
    session_form = card_saying(page, "Title or theme")
    await expect(session_form).to_be_visible(timeout=TIMEOUT)
    await session_form.get_by_label("Title or theme").fill("AI i kommunal verksamhet")
    date = session_form.get_by_role("combobox").first
    await date.fill("2027-03-12")
    await date.press("Enter")
    await page.keyboard.press("Escape")
    await session_form.get_by_role("button", name="Create draft").click()
    saved = card_saying(page, "Draft saved")
    await expect(saved).to_contain_text("Session 1: AI i kommunal verksamhet", timeout=TIMEOUT)
    await saved.get_by_role("button", name="Publish").click()
    await expect(card_saying(page, "Published.")).to_be_visible(timeout=TIMEOUT)

    # The participant: the whole network, from the list, the profile asked once.
    await page.get_by_role("treeitem", name="Personal Chat").click()
    await say(page, "sessions")
    sessions = card_saying(page, "Coming sessions")
    await expect(sessions).to_contain_text(
        "Want to come to every session of Nätverket för digitalisering?", timeout=TIMEOUT
    )
    await sessions.get_by_role("button", name="Register for the whole series").last.click()
    profile = card_saying(page, "tell us where you work")
    await expect(profile).to_be_visible(timeout=TIMEOUT)
    await profile.get_by_role("combobox").click()
    await page.get_by_role("option", name="Övertorneå kommun").click()
    await profile.get_by_label("Your role").fill("Digitaliseringsledare")
    await profile.get_by_role("button", name="Register").click()
    joined = card_saying(page, "Done: you are registered for the whole series.")
    await expect(joined).to_be_visible(timeout=TIMEOUT)
    await expect(joined).to_contain_text("Session 1: AI i kommunal verksamhet")
    await expect(joined).to_contain_text("✅ You are registered, without the after-talk.")  # theirs to choose
    await expect(joined.get_by_role("button", name="Leave the series")).to_be_visible()
    await shot(page, "series-3-whole-series")

    # The organisers' statistics of the network: words and the picture.
    await page.get_by_role("treeitem", name=CHANNEL).click()
    stats = await ask_in_channel(page, "stats", "Statistics: Nätverket för digitalisering")
    await expect(stats).to_contain_text("1 person registered for the whole series")
    picture = stats.get_by_role("img", name="Bars of registered places per session and per organisation")
    await expect(picture).to_be_visible(timeout=TIMEOUT)
    assert (await picture.evaluate("image => image.naturalWidth")) > 0, "the picture was drawn"
    await shot(page, "series-4-statistics")

    with sqlite3.connect(demo.database) as db:
        channel, organiser = db.execute(
            "SELECT s.organiser_channel_id, o.name FROM series s JOIN organisers o ON o.series_id = s.id"
            " WHERE s.title = 'Nätverket för digitalisering'"
        ).fetchone()
        whole = db.execute("SELECT count(*) FROM series_registrations").fetchone()[0]
    assert channel
    assert organiser == "Alex Wilber"
    assert whole == 1
