"""Organisers' rules, pure: the session form, meeting links, participant lists, command parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import errors
from bot.domain.model import Person, PersonKey, ProgrammeItem, Registration, RegistrationStatus, Session, SessionStatus
from bot.domain.organising import (
    Entry,
    ParticipantList,
    SessionForm,
    cancel,
    parse_programme,
    publish,
    validate_meeting_url,
    validate_session_form,
)
from bot.i18n import SERIES_TIMEZONE
from bot.router import parse_command
from cards import verbs

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
FORM = SessionForm(title="T", date="2027-03-05", start="09:00", end="11:30", after_talk_end="12:00")


def test_a_valid_form_becomes_times_in_stockholm() -> None:
    fields = validate_session_form(FORM, SERIES_TIMEZONE, NOW)
    assert fields.starts_at == datetime(2027, 3, 5, 8, 0, tzinfo=UTC)
    assert fields.after_talk_ends_at == datetime(2027, 3, 5, 11, 0, tzinfo=UTC)
    # No deadline given: the whole day a week before counts.
    assert fields.registration_deadline.astimezone(SERIES_TIMEZONE).isoformat() == "2027-02-26T23:59:00+01:00"
    assert fields.capacity is None


def test_times_typed_with_a_dot_are_understood() -> None:
    fields = validate_session_form(
        SessionForm(title="T", date="2027-03-05", start="9.00", end="11.30"), SERIES_TIMEZONE, NOW
    )
    assert fields.ends_at.astimezone(SERIES_TIMEZONE).strftime("%H:%M") == "11:30"


def test_all_problems_are_reported_at_once() -> None:
    form = SessionForm(title="", date="2027-03-05", start="10:00", end="09:00", capacity="x")
    with pytest.raises(errors.SessionFormInvalid) as raised:
        validate_session_form(form, SERIES_TIMEZONE, NOW)
    assert set(raised.value.problems) == {("title", "missing"), ("end", "end_before_start"), ("capacity", "bad_number")}


def test_programme_lines() -> None:
    assert parse_programme("• Inledning | Johan\nDialog – Alla\n\nReflektion\n") == (
        ProgrammeItem("Inledning", "Johan"),
        ProgrammeItem("Dialog", "Alla"),
        ProgrammeItem("Reflektion", ""),
    )
    assert parse_programme("Innovation i offentlig sektor – erfarenheter | Klas") == (
        ProgrammeItem("Innovation i offentlig sektor – erfarenheter", "Klas"),
    )


def test_form_round_trip() -> None:
    fields = validate_session_form(FORM, SERIES_TIMEZONE, NOW)
    session = Session(1, 1, 9, fields.title, fields.starts_at, fields.ends_at, fields.registration_deadline,
                      after_talk_ends_at=fields.after_talk_ends_at)  # fmt: skip
    again = SessionForm.of(session, SERIES_TIMEZONE)
    assert (again.date, again.start, again.end, again.after_talk_end, again.deadline) == (
        "2027-03-05", "09:00", "11:30", "12:00", "2027-02-26",
    )  # fmt: skip


@pytest.mark.parametrize(
    "url",
    [
        "https://teams.microsoft.com/l/meetup-join/19%3ameeting_x%40thread.v2/0?context=%7b%7d",
        "https://teams.microsoft.com/meet/1234567890?p=abc",
        "<https://teams.live.com/meet/9876>",
    ],
)
def test_teams_links_are_accepted(url: str) -> None:
    assert validate_meeting_url(url).startswith("https://")


@pytest.mark.parametrize(
    "url",
    ["http://teams.microsoft.com/l/meetup-join/x", "https://teams.microsoft.com.evil.se/l/meetup-join/x",
     "https://zoom.us/j/1", "https://teams.microsoft.com/", "javascript:alert(1)", ""],
)  # fmt: skip
def test_other_links_are_refused(url: str) -> None:
    with pytest.raises(errors.NotATeamsMeetingUrl):
        validate_meeting_url(url)


def _session(status: SessionStatus = SessionStatus.DRAFT) -> Session:
    start = NOW + timedelta(days=10)
    return Session(1, 1, 3, "T", start, start + timedelta(hours=2), start - timedelta(days=7), status=status)


def test_publish_and_cancel_rules() -> None:
    assert publish(_session(), NOW).status is SessionStatus.PUBLISHED
    with pytest.raises(errors.SessionCancelled):
        publish(_session(SessionStatus.CANCELLED), NOW)
    cancelled = cancel(_session(SessionStatus.PUBLISHED), "  Sjuk\nföreläsare ", NOW)
    assert (cancelled.status, cancelled.cancel_reason) == (SessionStatus.CANCELLED, "Sjuk föreläsare")
    with pytest.raises(errors.SessionAlreadyOver):
        cancel(_session(), "x", NOW + timedelta(days=30))


def test_participant_list_groups_and_orders() -> None:
    def entry(n: int, status: RegistrationStatus, org: str, minutes: int) -> Entry:
        at = NOW + timedelta(minutes=minutes)
        person = Person(n, PersonKey("t", str(n)), f"P{n}", organisation=org)
        waitlisted = at if status is RegistrationStatus.WAITLISTED else None
        return Entry(person, Registration(n, 1, n, status, n % 2 == 0, at, at, waitlisted))

    people = ParticipantList.of([
        entry(1, RegistrationStatus.REGISTERED, "Luleå", 0), entry(2, RegistrationStatus.REGISTERED, "Boden", 1),
        entry(3, RegistrationStatus.WAITLISTED, "Kiruna", 9), entry(4, RegistrationStatus.WAITLISTED, "Kiruna", 5),
        entry(5, RegistrationStatus.ABSENT, "Pajala", 2), entry(6, RegistrationStatus.REGISTERED, "Luleå", 3),
    ])  # fmt: skip
    assert [e.person.id for e in people.registered] == [2, 1, 6]
    assert [e.person.id for e in people.waitlisted] == [4, 3]
    assert people.per_organisation() == [("Luleå", 2), ("Boden", 1)]
    assert people.after_talk == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("publicera 3", (verbs.ORG_PUBLISH, {verbs.NUMBER: "3"})),
        ("Publish #3", (verbs.ORG_PUBLISH, {verbs.NUMBER: "3"})),
        ("ställ in 3 Föreläsaren är sjuk", (verbs.ORG_CANCEL, {verbs.NUMBER: "3", verbs.TEXT: "Föreläsaren är sjuk"})),
        ("meddela 2 Hej!\nVälkomna", (verbs.ORG_MESSAGE, {verbs.NUMBER: "2", verbs.TEXT: "Hej!\nVälkomna"})),
        ("exportera", (verbs.ORG_EXPORT, {})),
        ("export 4", (verbs.ORG_EXPORT, {verbs.NUMBER: "4"})),
        ("deltagare 1 2", (verbs.ORG_PARTICIPANTS, {verbs.NUMBER: "1", "page": "2"})),
        ("ny träff", (verbs.ORG_NEW_SESSION, {})),
        ("lägg till arrangör ABC", (verbs.ORG_ADD_ORGANISER, {verbs.TEXT: "ABC"})),
        ("träffar", (verbs.SESSIONS, {})),
        ("Mina", (verbs.MINE, {})),
        ("hjälp!", (verbs.HELP, {})),
        ("?", (verbs.HELP, {})),
        ("Träffar.", (verbs.SESSIONS, {})),
        ("publicera", (verbs.ORG_PUBLISH, {verbs.NUMBER: None})),
    ],
)
def test_commands_parse(text: str, expected: tuple[str, dict[str, object]]) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize("text", ["träffar i morgon", "hej på dig du", "", "publiceringar"])
def test_other_text_is_not_a_command(text: str) -> None:
    assert parse_command(text) is None


def test_every_example_in_the_organiser_help_is_a_command() -> None:
    from bot.domain.model import Language
    from bot.i18n import Catalogs
    from cards.organisers import organiser_help_card

    for language in Language:
        card = organiser_help_card(Catalogs.load().translator(language))
        examples = [e["inlines"][0]["text"] for e in card["body"] if e["type"] == "RichTextBlock"]
        assert len(examples) == 18
        assert sum("<" in example for example in examples) == 3, "placeholders shown, in text Teams does not strip"
        for example in examples:
            for variant in example.replace("<", "").replace(">", "").split(" / "):
                assert parse_command(variant.replace("Teams-länk", "x").replace("Teams link", "x")) is not None, variant


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("förslag AI i skolan", (verbs.SUGGEST, {verbs.TEXT: "AI i skolan"})),
        ("Förslag: AI i skolan", (verbs.SUGGEST, {verbs.TEXT: "AI i skolan"})),
        ("förslag", (verbs.SUGGEST, {verbs.TEXT: ""})),
        ("suggest: two\nlines", (verbs.SUGGEST, {verbs.TEXT: "two\nlines"})),
        ("förslagen", (verbs.ORG_SUGGESTIONS, {})),
        ("meddela: 3 Välkomna!", (verbs.ORG_MESSAGE, {verbs.NUMBER: "3", verbs.TEXT: "Välkomna!"})),
    ],
)
def test_suggestion_commands_and_a_colon_after_the_command_word(
    text: str, expected: tuple[str, dict[str, str]]
) -> None:
    assert parse_command(text) == expected
