"""The participant's journey clicked through in Microsoft's Teams simulator, in Swedish."""

from __future__ import annotations

import sqlite3

import pytest
from playwright.async_api import Page, expect

from tests.e2e.chat import TIMEOUT, card_saying, last_card, say, shot
from tests.e2e.conftest import Demo

pytestmark = pytest.mark.e2e


async def test_register_report_absence_see_my_data_and_delete_it(page: Page, demo: Demo) -> None:
    # The Playground always says en-US: the welcome is in English until the person chooses Swedish.
    await expect(last_card(page)).to_contain_text("Welcome to Lärprojekt innovation", timeout=TIMEOUT)
    await last_card(page).get_by_role("button", name="På svenska").click()
    await expect(last_card(page)).to_contain_text("Välkommen till Lärprojekt innovation", timeout=TIMEOUT)
    await expect(last_card(page).get_by_role("button", name="Föreslå ett tema")).to_be_visible()
    await shot(page, "0-valkommen")

    # One session in full: where I stand and the button first, the long texts behind "Visa mer".
    await say(page, "detaljer 1")
    details = last_card(page)
    await expect(details).to_contain_text("Sista anmälningsdag", timeout=TIMEOUT)
    await expect(details.get_by_role("button", name="Visa mer")).to_be_visible()
    await expect(details.get_by_role("link", name="marie.malkan@kfbd.se")).to_be_visible()
    await shot(page, "1b-detaljer")

    await say(page, "träffar")
    sessions = last_card(page)
    await expect(sessions).to_contain_text("Kommande lärträffar", timeout=TIMEOUT)
    await expect(sessions).to_contain_text("kl. 09.00–11.30")
    await shot(page, "1-traffar")

    await sessions.get_by_role("button", name="Anmäl mig").first.click()
    form = last_card(page)
    await expect(form).to_contain_text("Första gången berättar du var du arbetar", timeout=TIMEOUT)
    # "Annan" without saying which: refused, with the actual problem named and what was typed kept.
    await form.get_by_role("combobox").click()
    await page.get_by_role("option", name="Annan", exact=True).click()
    await form.get_by_label("Din roll").fill("Utvecklingsstrateg")
    await form.get_by_role("button", name="Anmäl mig").click()
    await expect(last_card(page)).to_contain_text("Du valde Annan – skriv vilken organisation", timeout=TIMEOUT)
    await expect(last_card(page).get_by_label("Din roll")).to_have_value("Utvecklingsstrateg")
    await shot(page, "2a-profil-fel")
    form = last_card(page)
    await form.get_by_role("combobox").click()
    await page.get_by_role("option", name="Pajala kommun").click()
    await shot(page, "2-profil")
    await form.get_by_role("button", name="Anmäl mig").click()
    # One confirmation: the message the outbox sends; the card clicked in just shows the new place.
    confirmation = card_saying(page, "Din anmälan")
    await expect(confirmation).to_contain_text("Du är anmäld, utan eftersnacket", timeout=TIMEOUT)
    await expect(page.locator(".ac-adaptiveCard").filter(has_text="Din anmälan")).to_have_count(1)
    await shot(page, "3-anmald")

    # The after-talk is the person's choice, changed from "mina" with the seat kept.
    await say(page, "mina")
    await expect(last_card(page)).to_contain_text("Mina anmälningar", timeout=TIMEOUT)
    # That very card, by its place in the chat: it changes in place with each click below.
    mine = page.locator(".ac-adaptiveCard").nth(await page.locator(".ac-adaptiveCard").count() - 1)
    await mine.get_by_role("button", name="Stanna på eftersnacket").click()
    await expect(mine).to_contain_text("Du är anmäld, även till eftersnacket", timeout=TIMEOUT)
    # ...and the confirmation above follows, updated in place.
    await expect(confirmation).to_contain_text("Du är anmäld, även till eftersnacket", timeout=TIMEOUT)
    await shot(page, "4-eftersnack")

    # Each step below starts from a fresh "mina": once a message is updated, the Playground may redraw cards
    # changed in place as first sent (a simulator's quirk, see the README).
    await say(page, "mina")
    await expect(last_card(page)).to_contain_text("även till eftersnacket", timeout=TIMEOUT)
    mine = page.locator(".ac-adaptiveCard").nth(await page.locator(".ac-adaptiveCard").count() - 1)
    await mine.get_by_role("button", name="Meddela förhinder").click()
    await expect(mine).to_contain_text("Varför kan du inte komma?", timeout=TIMEOUT)
    await expect(mine).to_contain_text("Skriv inget om din hälsa")  # the choices invite no health data
    await shot(page, "5-forhinder")
    await mine.get_by_label("Något mer som arrangörerna behöver veta? (frivilligt)").fill("Kommunstyrelsen")
    await mine.get_by_role("button", name="Meddela förhinder").click()
    await expect(mine).to_contain_text(
        "Du har meddelat förhinder. Anledning: Krockar med något annat: Kommunstyrelsen", timeout=TIMEOUT
    )
    # The earlier confirmation no longer says "registered": it says what is true, with the button that fits.
    await expect(confirmation).to_contain_text("Du har meddelat förhinder", timeout=TIMEOUT)
    await expect(confirmation.get_by_role("button", name="Anmäl mig")).to_be_visible()
    await shot(page, "6-bekraftelsen-uppdaterad")

    with sqlite3.connect(demo.database) as db:
        rows = db.execute("SELECT status, absence_reason, after_talk FROM registrations").fetchall()
    assert rows == [("absent", "Krockar med något annat: Kommunstyrelsen", 1)]

    # Withdrawing asks once, then offers the way back.
    await say(page, "mina")
    await expect(last_card(page)).to_contain_text("Du har meddelat förhinder", timeout=TIMEOUT)
    mine = page.locator(".ac-adaptiveCard").nth(await page.locator(".ac-adaptiveCard").count() - 1)
    await mine.get_by_role("button", name="Anmäl mig").click()
    await expect(mine).to_contain_text("Du är anmäld", timeout=TIMEOUT)
    # Again from a fresh "mina", once the confirmation above is updated.
    await expect(confirmation).to_contain_text("Du är anmäld", timeout=TIMEOUT)
    await say(page, "mina")
    await expect(last_card(page)).to_contain_text("Mina anmälningar", timeout=TIMEOUT)
    mine = page.locator(".ac-adaptiveCard").nth(await page.locator(".ac-adaptiveCard").count() - 1)
    await expect(mine).to_contain_text("Du är anmäld", timeout=TIMEOUT)
    await mine.get_by_role("button", name="Avanmäl mig").click()
    await expect(mine).to_contain_text("Vill du avanmäla dig från lärträff 1?", timeout=TIMEOUT)
    await shot(page, "7-avanmal-fraga")
    await mine.get_by_role("button", name="Ja, avanmäl mig").click()
    await expect(confirmation).to_contain_text("Du är inte anmäld", timeout=TIMEOUT)
    await expect(confirmation.get_by_role("button", name="Anmäl mig igen")).to_be_visible()
    await shot(page, "8-avanmald")

    # "Lärträffarnas teman och innehåll medskapas av de som deltar": a theme for a coming session.
    await say(page, "förslag")
    suggestion = last_card(page)
    await expect(suggestion).to_contain_text("medskapas av er som deltar", timeout=TIMEOUT)
    await suggestion.get_by_label("Ditt förslag").fill("Hur når vi unga vuxna med digitala tjänster?")
    await suggestion.get_by_role("button", name="Skicka förslaget").click()
    await expect(last_card(page)).to_contain_text("Tack! Ditt förslag har gått till arrangörerna.", timeout=TIMEOUT)
    await shot(page, "9-forslag")

    with sqlite3.connect(demo.database) as db:
        rows = db.execute("SELECT status, after_talk FROM registrations").fetchall()
        person = db.execute("SELECT organisation, role, language, email FROM people").fetchall()
        suggested = db.execute("SELECT text FROM theme_suggestions").fetchall()
    assert rows == [("withdrawn", 0)]
    assert person == [("Pajala kommun", "Utvecklingsstrateg", "sv", "alexw@example.com")]
    assert suggested == [("Hur når vi unga vuxna med digitala tjänster?",)]

    # What is kept about me, then its erasure: one question, one answer.
    await say(page, "mina uppgifter")
    mine_data = last_card(page)
    await expect(mine_data).to_contain_text("Det här är allt Lärträff sparar om dig", timeout=TIMEOUT)
    await expect(mine_data).to_contain_text("Utvecklingsstrateg")
    await expect(mine_data).to_contain_text("Hur når vi unga vuxna")
    await shot(page, "10-mina-uppgifter")
    await expect(mine_data.get_by_text("Ladda ner (Excel)")).to_be_visible()
    await mine_data.get_by_role("button", name="Radera mina uppgifter").click()
    question = last_card(page)
    await expect(question).to_contain_text("Det går inte att ångra", timeout=TIMEOUT)
    await shot(page, "11-radera")
    await question.get_by_role("button", name="Ja, radera mina uppgifter").click()
    await expect(last_card(page)).to_contain_text("Dina uppgifter är raderade", timeout=TIMEOUT)
    await shot(page, "12-raderad")

    with sqlite3.connect(demo.database) as db:
        person = db.execute("SELECT name, email, role, organisation FROM people").fetchall()
        reasons = db.execute("SELECT absence_reason FROM registrations").fetchall()
        suggested = db.execute("SELECT text FROM theme_suggestions").fetchall()
    assert person == [("", "", "", "Pajala kommun")]
    assert reasons == [("",)]
    assert suggested == []
