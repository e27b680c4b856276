"""Small builders for Adaptive Card 1.5 elements and actions."""

from __future__ import annotations

from typing import Any

from bot.domain.model import Contact
from cards import verbs

Card = dict[str, Any]
Element = dict[str, Any]

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"


def card(body: list[Element], actions: list[Element] | None = None) -> Card:
    result: Card = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": "1.5", "body": body}
    if actions:
        result["actions"] = actions
    return result


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


def contact_line(contact: Contact, *, with_organisation: bool = False) -> str:
    """A series contact in a line, e-mail and phone as links (the series' own data, not what people type)."""
    parts = [contact.name, contact.organisation if with_organisation else contact.role]
    if contact.email:
        parts.append(f"[{contact.email}](mailto:{contact.email})")
    if contact.phone:
        parts.append(f"[{contact.phone}](tel:{contact.phone.replace(' ', '')})")
    return " · ".join(p for p in parts if p)


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


def execute(title: str, verb: str, data: dict[str, Any] | None = None, *, style: str | None = None) -> Element:
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
