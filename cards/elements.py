"""Small builders for Adaptive Card 1.5 elements and actions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from bot.domain.model import Contact
from cards import verbs

Card = dict[str, Any]
Element = dict[str, Any]

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"


def card(body: list[Element], actions: list[Element] | None = None) -> Card:
    """`speak`, what a screen reader or a voice assistant says for the card, is its heading and the line after
    it, which every card puts first: what it is about and where the person stands."""
    result: Card = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": "1.5",
        "speak": _spoken(body)[:_SPEAK_LENGTH],
        "body": body,
    }
    if actions:
        result["actions"] = actions
    return result


_SPEAK_LENGTH = 400
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def _texts(elements: list[Element]) -> Iterator[tuple[str, bool]]:
    """(text, is a heading) of the card's visible text in reading order, hidden parts left out."""
    for element in elements:
        if element.get("isVisible") is False:
            continue
        kind = element.get("type")
        if kind == "TextBlock":
            yield _LINK.sub(r"\1", element["text"]).replace("**", ""), element.get("style") == "heading"
        elif kind == "RichTextBlock":
            yield "".join(run.get("text", "") for run in element["inlines"]), False
        elif kind == "Container":
            yield from _texts(element["items"])
        elif kind == "ColumnSet":
            for column in element.get("columns", []):
                yield from _texts(column.get("items", []))


def _spoken(body: list[Element]) -> str:
    """The first heading and the line after it; without a heading, the first two lines. Stops reading at the
    line after the heading: this runs for every card, the long list included."""
    before: list[str] = []
    said: list[str] = []
    for value, is_heading in _texts(body):
        value = value.strip().rstrip(".")
        if not value:
            continue
        if is_heading and not said:
            said.append(value)
        elif said:
            said.append(value)
            break
        else:
            before.append(value)
    said = said or before[:2]
    return ". ".join(said) + "." if said else ""


def kept_current(result: Card, verb: str, data: dict[str, Any] | None = None) -> Card:
    """Universal Actions' refresh: when the card comes into view, Teams asks for it again (`verb`, a view
    that changes nothing) and shows the answer. Without `userIds` Teams does it for everyone in a chat of up
    to 60, which a 1:1 chat is; clients that can't (some phones) keep what they have, which the outbox
    updates in place for our messages."""
    result["refresh"] = {"action": {"type": "Action.Execute", "verb": verb, "data": {"verb": verb, **(data or {})}}}
    return result


def text(value: str, **style: Any) -> Element:
    return {"type": "TextBlock", "text": value, "wrap": True, **style}


_RUN_STYLE = frozenset({"weight", "isSubtle", "color", "size", "italic"})


def plain(*parts: str, **style: Any) -> Element:
    """Text that holds what people typed (names, organisations, reasons, suggestions, comments): TextRuns,
    which no client reads as Markdown, so "[Klicka här](https://…)" shows as typed and never as a link.
    Backslash escapes in a TextBlock are not read alike by Teams on desktop, web and phones."""
    run_style = {k: v for k, v in style.items() if k in _RUN_STYLE}
    block_style = {k: v for k, v in style.items() if k not in _RUN_STYLE}
    inlines = [{"type": "TextRun", "text": part, **run_style} for part in parts if part]
    return {"type": "RichTextBlock", "inlines": inlines or [{"type": "TextRun", "text": " "}], **block_style}


def cut(value: str, limit: int) -> str:
    """At most `limit` characters, "…" marking a cut: what a card shows of a text it does not bound itself."""
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def contact_line(contact: Contact, *, with_organisation: bool = False) -> str:
    """A series contact in a line, e-mail and phone as links (the series' own data, not what people type)."""
    parts = [contact.name, contact.organisation if with_organisation else contact.role]
    if contact.email:
        parts.append(f"[{contact.email}](mailto:{contact.email})")
    if contact.phone:
        parts.append(f"[{contact.phone}](tel:{contact.phone.replace(' ', '')})")
    return " · ".join(p for p in parts if p)


def alert(value: str) -> Element:
    """What went wrong, in words with an icon in the host's own text colour: Teams' red is 3.2:1 on its dark
    theme's background (WCAG asks 4.5:1), and colour alone says nothing to many."""
    return text("⚠️ " + value, weight="Bolder")


def heading(value: str, size: str = "Large") -> Element:
    return text(value, size=size, weight="Bolder", style="heading")


def facts(pairs: list[tuple[str, str]]) -> Element:
    return {"type": "FactSet", "facts": [{"title": title, "value": value} for title, value in pairs if value]}


def container(items: list[Element], **style: Any) -> Element:
    return {"type": "Container", "items": items, **style}


def action_set(actions: list[Element]) -> Element:
    return {"type": "ActionSet", "actions": actions}


def open_url(title: str, url: str) -> Element:
    return {"type": "Action.OpenUrl", "title": title, "url": url}


def execute(
    title: str, verb: str, data: dict[str, Any] | None = None, *, style: str | None = None, tooltip: str = ""
) -> Element:
    """Action.Execute (the card is replaced in place) with an Action.Submit fallback for older clients.

    The verb travels in the data too, so a Submit that arrives as a message can be routed the same way.
    """
    payload = {"verb": verb, **(data or {})}
    action: Element = {
        "type": "Action.Execute",
        "title": title,
        "verb": verb,
        "data": payload,
        "fallback": {"type": "Action.Submit", "title": title, "data": payload},
    }
    if style:
        action["style"] = style
    if tooltip:
        # Read out by screen readers and shown on hover: which session "Register" acts on, where several do.
        action["tooltip"] = tooltip
        action["fallback"]["tooltip"] = tooltip
    return action


def toggle(input_id: str, title: str, value: bool) -> Element:
    return {
        "type": "Input.Toggle",
        "id": input_id,
        "title": title,
        "value": "true" if value else "false",
        "valueOn": "true",
        "valueOff": "false",
    }


def text_input(
    input_id: str,
    label: str,
    *,
    value: str = "",
    placeholder: str = "",
    required: bool = False,
    error: str = "",
    multiline: bool = False,
    max_length: int = 500,
) -> Element:
    element: Element = {
        "type": "Input.Text",
        "id": input_id,
        "label": label,
        "value": value,
        "maxLength": max_length,
        "isMultiline": multiline,
    }
    if placeholder:
        element["placeholder"] = placeholder
    if required:
        element["isRequired"] = True
        element["errorMessage"] = error
    return element


def choice_input(
    input_id: str,
    label: str,
    choices: list[tuple[str, str]],
    *,
    value: str = "",
    required: bool = False,
    error: str = "",
) -> Element:
    element: Element = {
        "type": "Input.ChoiceSet",
        "id": input_id,
        "label": label,
        "style": "compact",
        "choices": [{"title": title, "value": val} for title, val in choices],
    }
    if value:
        element["value"] = value
    if required:
        element["isRequired"] = True
        element["errorMessage"] = error
    return element


def language_switch(current: str) -> Element:
    """One click to the other language; labels are in the target language on purpose."""
    if current == "sv":
        return execute("In English", verbs.LANGUAGE, {"language": "en"})
    return execute("På svenska", verbs.LANGUAGE, {"language": "sv"})
