"""What people write instead of pressing a button, in Swedish and English: each phrase to its action, with or
without a session number, whatever the case, with the dots on å, ä, ö left out, and a trailing "!" or "?"."""

from __future__ import annotations

from typing import Any

import pytest

from bot.router import parse_command
from cards import verbs

PHRASES: list[tuple[str, str, dict[str, Any]]] = [
    ("anmäl mig", verbs.SAY_REGISTER, {}),
    ("Anmäl mig 2", verbs.SAY_REGISTER, {verbs.NUMBER: 2}),
    ("anmal mig till lärträff 3!", verbs.SAY_REGISTER, {verbs.NUMBER: 3}),
    ("register", verbs.SAY_REGISTER, {}),
    ("Register me for session 4", verbs.SAY_REGISTER, {verbs.NUMBER: 4}),
    ("meddela förhinder", verbs.SAY_ABSENCE, {}),
    ("meddela forhinder 1", verbs.SAY_ABSENCE, {verbs.NUMBER: 1}),
    ("förhinder", verbs.SAY_ABSENCE, {}),
    ("kan inte komma", verbs.SAY_ABSENCE, {}),
    ("Jag kan inte komma på lärträff 2", verbs.SAY_ABSENCE, {verbs.NUMBER: 2}),
    ("can't come", verbs.SAY_ABSENCE, {}),
    ("avanmäl mig", verbs.SAY_WITHDRAW, {}),
    ("avanmala", verbs.SAY_WITHDRAW, {}),
    ("avanmäl mig 2?", verbs.SAY_WITHDRAW, {verbs.NUMBER: 2}),
    ("cancel my registration", verbs.SAY_WITHDRAW, {}),
    ("withdraw", verbs.SAY_WITHDRAW, {}),
    ("detaljer", verbs.SAY_DETAILS, {}),
    ("detaljer #1", verbs.SAY_DETAILS, {verbs.NUMBER: 1}),
    ("details", verbs.SAY_DETAILS, {}),
    ("sessions", verbs.SESSIONS, {}),
    ("Traffar?", verbs.SESSIONS, {}),
    ("tack", verbs.THANKS, {}),
    ("Tack så mycket!", verbs.THANKS, {}),
    ("thanks", verbs.THANKS, {}),
    ("HEJ!", verbs.WELCOME, {}),
    ("hjalp", verbs.HELP, {}),
    ("mina uppgifter", verbs.MY_DATA, {}),
]


@pytest.mark.parametrize(("typed", "verb", "data"), PHRASES)
def test_each_phrase_means_its_action(typed: str, verb: str, data: dict[str, Any]) -> None:
    assert parse_command(typed) == (verb, data)


@pytest.mark.parametrize("typed", ["anmäl mig kanske", "förhinder för alla", "detaljer om allt", "anmäl mig 123456"])
def test_a_phrase_with_words_it_does_not_take_is_not_understood(typed: str) -> None:
    assert parse_command(typed) is None


def test_organisers_commands_that_start_alike_keep_their_meaning() -> None:
    assert parse_command("meddela 3 Välkomna!") == (verbs.ORG_MESSAGE, {verbs.NUMBER: "3", verbs.TEXT: "Välkomna!"})
    assert parse_command("cancel 3 ill") == (verbs.ORG_CANCEL, {verbs.NUMBER: "3", verbs.TEXT: "ill"})


def test_text_after_a_command_keeps_its_letters() -> None:
    assert parse_command("forslag: Hur når vi äldre?") == (verbs.SUGGEST, {verbs.TEXT: "Hur når vi äldre?"})
