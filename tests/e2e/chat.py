"""Driving the Agents Playground like a person: write in a chat, post in a channel, find cards, screenshots."""

from __future__ import annotations

from playwright.async_api import Locator, Page, expect

from tests.e2e.conftest import ARTIFACTS

TIMEOUT = 20_000


async def say(page: Page, text: str) -> None:
    """Write in the 1:1 chat and press Enter."""
    composer = page.locator('[data-lexical-editor="true"]')
    await composer.click()
    await page.keyboard.type(text)
    await page.keyboard.press("Enter")


async def post_in_channel(page: Page, text: str) -> None:
    """As in Teams: type @, pick the bot from the menu, write, Post."""
    composer = page.locator('[data-lexical-editor="true"]').first
    await composer.click()
    await page.keyboard.type("@")
    await page.get_by_role("menuitem", name="Test Bot").click()
    await page.keyboard.type(f" {text}")
    await page.get_by_role("button", name="Post").click()


ATTEMPTS = 3


async def ask_in_channel(page: Page, text: str, answer: str) -> Locator:
    """Posts a command that changes nothing when asked twice and waits for the card saying `answer`, posting
    it again (up to ATTEMPTS times in all) while it does not show: the Playground sometimes accepts a reply
    in a channel (201 in its log) yet never draws it under its post, when the bot answers within
    milliseconds of the post (seen in CI on a busy machine). The bot did answer; only the drawing is lost."""
    card = card_saying(page, answer)
    for attempt in range(1, ATTEMPTS + 1):
        await post_in_channel(page, text)
        try:
            await expect(card).to_be_visible(timeout=TIMEOUT / 2)
        except AssertionError:
            if attempt == ATTEMPTS:
                raise
            continue
        break
    return card


def last_card(page: Page) -> Locator:
    return page.locator(".ac-adaptiveCard").last


def card_saying(page: Page, text: str) -> Locator:
    """The newest card saying `text`: proactive messages and replayed install events may come in between."""
    return page.locator(".ac-adaptiveCard").filter(has_text=text).last


async def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
