"""Lists shown a page at a time: where the reader is, and the buttons to the pages beside it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.i18n import Translator
from cards.elements import Element, execute, text


def page_note(t: Translator, page: int, pages: int, **style: Any) -> list[Element]:
    """“Page 2 of 3” (`page` counts from 0); nothing when there is one page."""
    if pages <= 1:
        return []
    return [text(t.gettext("Page {page} of {pages}").format(page=page + 1, pages=pages), isSubtle=True, **style)]


def page_buttons(
    t: Translator, page: int, pages: int, verb: str, data: Mapping[str, Any] | None = None, *, next_title: str = ""
) -> list[Element]:
    """Previous and Next, as far as there are pages; `data` goes with both, beside the page asked for."""
    buttons: list[Element] = []
    if page > 0:
        buttons.append(execute(t.gettext("Previous"), verb, {**(data or {}), "page": page - 1}))
    if page + 1 < pages:
        buttons.append(execute(next_title or t.gettext("Next"), verb, {**(data or {}), "page": page + 1}))
    return buttons
