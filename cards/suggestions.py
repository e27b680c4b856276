"""Theme suggestions: the participant's form and thanks, and the organisers' list."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.model import MAX_SUGGESTION
from bot.domain.views import SuggestionPage
from bot.i18n import Translator
from cards import verbs
from cards.elements import Card, Element, alert, card, choice_input, execute, heading, plain, text, text_input
from cards.paging import page_buttons, page_note


def _who_sees(t: Translator) -> str:
    return t.gettext("The organisers see your name and organisation with it, so they can ask you more.")


def suggestion_form(
    t: Translator, *, value: str = "", problem: str = "", series: Sequence[tuple[int, str]] = ()
) -> Card:
    """`series`: (id, title) to choose among, when the bot can't tell which series the suggestion is for."""
    body: list[Element] = [heading(t.gettext("Suggest a theme"), size="Medium")]
    if problem:
        body.append(alert(problem))
    body += [
        text(
            t.gettext(
                "The themes and content of the sessions are shaped by those who take part. What would you like "
                "a coming session to take up: a theme, a question, an experience to share, a guest to invite?"
            )
        ),
        text_input(
            verbs.TEXT,
            t.gettext("Your suggestion"),
            value=value,
            multiline=True,
            max_length=MAX_SUGGESTION,
            required=True,
            error=t.gettext("Write your suggestion"),
        ),
        text(_who_sees(t), isSubtle=True),
    ]
    if series:
        choices = [(title, str(series_id)) for series_id, title in series]
        which = choice_input(
            verbs.SERIES, t.gettext("For which series?"), choices, required=True, error=t.gettext("Choose a series")
        )
        body.insert(-2, which)
    return card(body, [execute(t.gettext("Send suggestion"), verbs.SUGGEST)])


def suggestion_thanks(t: Translator) -> Card:
    return card(
        [
            text(t.gettext("Thank you! Your suggestion has gone to the organisers."), weight="Bolder"),
            # Also here: a suggestion typed after the command word never showed the form that says so.
            text(_who_sees(t), isSubtle=True),
        ],
        [execute(t.gettext("Suggest another"), verbs.SUGGEST), execute(t.gettext("All sessions"), verbs.SESSIONS)],
    )


def suggestions_card(t: Translator, found: SuggestionPage) -> Card:
    body: list[Element] = [heading(t.gettext("Theme suggestions"), size="Medium")]
    if not found.suggestions:
        body.append(
            text(t.gettext("No suggestions yet. Participants suggest themes by writing “suggest” to me in a chat."))
        )
        return card(body)
    body.append(
        text(
            t.ngettext(
                "{n} suggestion from participants, newest first",
                "{n} suggestions from participants, newest first",
                found.total,
            ).format(n=found.total),
            isSubtle=True,
        )
    )
    for suggestion in found.suggestions:
        who = ", ".join(part for part in (suggestion.name, suggestion.organisation) if part)
        body.append(plain(f"{t.date(suggestion.created_at)} · {who}", weight="Bolder", separator=True))
        body.append(plain(suggestion.text, spacing="Small"))
    body.extend(page_note(t, found.page, found.pages))
    return card(body, page_buttons(t, found.page, found.pages, verbs.ORG_SUGGESTIONS))
