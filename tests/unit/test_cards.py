"""Every card, in every state and both languages, is valid Adaptive Card 1.5 and small enough for Teams."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bot import datafile
from bot.domain import errors
from bot.domain import series_form as sf
from bot.domain.meetings import Meeting, MeetingMode
from bot.domain.model import (
    Language,
    Person,
    PersonKey,
    Registration,
    RegistrationStatus,
    SessionStanding,
    SessionStatus,
)
from bot.domain.organising import Entry, ParticipantList, SessionForm
from bot.domain.privacy import (
    AttendanceRecordView,
    Candidate,
    Erasure,
    FeedbackRecord,
    PersonalData,
    RegistrationRecord,
    SuggestionRecord,
)
from bot.domain.series_form import SeriesForm
from bot.domain.views import AuditEntry, SessionCounts, SuggestionPage, ThemeSuggestion
from bot.i18n import SERIES_TIMEZONE, Catalogs
from cards import notifications as notify
from cards import verbs
from cards.conversation import apology_card, channel_hint_card, error_card, help_card, welcome_card
from cards.organisers import (
    audit_card,
    cancel_form_card,
    export_card,
    notice_card,
    organiser_help_card,
    organisers_card,
    participants_card,
    series_form_card,
    series_saved_card,
    session_admin_card,
    session_form_card,
    stats_card,
)
from cards.privacy import (
    erase_candidates_card,
    erase_question_card,
    erased_card,
    my_data_card,
    organiser_erased_card,
)
from cards.sessions import (
    absence_card,
    confirmation_card,
    details_card,
    mine_card,
    noted_card,
    profile_card,
    series_card,
    series_choice_card,
    sessions_card,
    withdraw_question_card,
)
from cards.suggestions import suggestion_form, suggestion_thanks, suggestions_card
from tests.conftest import DEMO_DATA

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SCHEMA = json.loads((files("adaptive_cards") / "schemas" / "schema-1.5.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft6Validator(SCHEMA)
CATALOGS = Catalogs.load()


def _demo() -> tuple[Any, list[Any]]:
    series, sessions = datafile.load(DEMO_DATA)
    sessions = [replace(s, id=i + 1, series_id=1) for i, s in enumerate(datafile.moved_to_future(sessions, NOW))]
    return replace(series, id=1), sessions


def _standings() -> list[SessionStanding]:
    _, sessions = _demo()
    session = replace(sessions[0], capacity=3)

    def reg(status: RegistrationStatus, reason: str = "") -> Registration:
        return Registration(
            1, session.id, 1, status, True, NOW, NOW, NOW if status is RegistrationStatus.WAITLISTED else None, reason
        )

    return [
        SessionStanding(session, None, 0),
        SessionStanding(session, None, 3),
        SessionStanding(session, reg(RegistrationStatus.REGISTERED), 1),
        SessionStanding(
            replace(session, join_url="https://teams.microsoft.com/l/meetup-join/x"),
            reg(RegistrationStatus.REGISTERED),
            1,
        ),
        SessionStanding(session, reg(RegistrationStatus.WAITLISTED), 3, waitlist_position=2),
        SessionStanding(session, reg(RegistrationStatus.ABSENT, "Sjuk"), 2),
        SessionStanding(session, reg(RegistrationStatus.WITHDRAWN), 2),
        SessionStanding(sessions[1], None, 0),
    ]


def _all_cards(language: Language) -> list[tuple[str, dict[str, Any]]]:
    t = CATALOGS.translator(language)
    series, sessions = _demo()
    other = replace(series, id=series.id + 1, slug="natverket", title="Nätverket för digitalisering")
    person = Person(1, PersonKey("t", "a"), "Alex")
    standings = _standings()
    late = NOW + timedelta(days=30)
    cards = [
        ("welcome", welcome_card(t, [series], standings, NOW)),
        ("welcome-empty", welcome_card(t, [], [], NOW)),
        ("sessions", sessions_card(t, standings, NOW)),
        ("sessions-page-2", sessions_card(t, standings, NOW, page=1)),
        ("sessions-empty", sessions_card(t, [], NOW)),
        ("sessions-after-deadline", sessions_card(t, standings, late)),
        ("profile", profile_card(t, series, sessions[0], person, True)),
        (
            "profile-problem",
            profile_card(t, series, sessions[0], person.with_profile("Annan org", ""), False, "Fyll i"),
        ),
        ("mine", mine_card(t, standings, NOW)),
        ("mine-empty", mine_card(t, [], NOW)),
        ("help", help_card(t)),
        ("help-unknown", help_card(t, unknown="vad?")),
        ("channel", channel_hint_card(t)),
        ("apology", apology_card(t, "abc123")),
        ("feedback-thanks", notify.feedback_thanks(t)),
        ("suggestion-form", suggestion_form(t)),
        ("suggestion-form-problem", suggestion_form(t, value="Lång text", problem="För lång")),
        ("suggestion-thanks", suggestion_thanks(t)),
        ("suggestion-form-series", suggestion_form(t, series=[(1, series.title), (2, "Nätverket")])),
        ("welcome-in-series", welcome_card(t, [series], standings, NOW, frozenset({series.id}))),
        ("welcome-two-series", welcome_card(t, [series, other], standings, NOW, frozenset({other.id}))),
        ("sessions-two-series", sessions_card(t, standings, NOW, series=[(series, True), (other, False)])),
        ("profile-series", profile_card(t, series, None, person, False)),
        ("series", series_card(t, series, False, standings, NOW)),
        ("series-registered", series_card(t, series, True, standings, NOW, notice="Klart")),
        ("series-empty", series_card(t, series, True, [], NOW)),
        ("series-choice", series_choice_card(t, [series, other])),
    ]
    for i, standing in enumerate(standings):
        cards.append((f"details-{i}", details_card(t, series, standing, NOW)))
        cards.append((f"details-series-{i}", details_card(t, series, standing, NOW, in_series=i % 2 == 0)))
        cards.append(
            (f"message-series-confirmation-{i}", notify.confirmation_message(t, standing, NOW, by_series=True))
        )
        cards.append((f"confirmation-{i}", confirmation_card(t, series, standing, NOW)))
        cards.append((f"absence-{i}", absence_card(t, standing)))
        cards.append((f"withdraw-question-{i}", withdraw_question_card(t, standing)))
        cards.append((f"noted-{i}", noted_card(t, standing)))
        cards += [
            (f"message-confirmation-{i}", notify.confirmation_message(t, standing, NOW)),
            (f"message-promoted-{i}", notify.promoted_message(t, standing, NOW)),
            (f"message-reminder-{i}", notify.reminder_message(t, standing, 7, NOW)),
            (f"message-link-{i}", notify.join_link_message(t, standing, NOW)),
            (f"message-changed-{i}", notify.changed_message(t, standing, NOW)),
            (f"message-cancelled-{i}", notify.cancelled_message(t, standing, "Sjuk")),
            (f"message-announcement-{i}", notify.announcement_message(t, series, standing, NOW)),
            (f"message-organisers-{i}", notify.organiser_message(t, standing, "Alex", "Hej!", NOW)),
            (f"message-feedback-{i}", notify.feedback_message(t, standing)),
            (f"message-declined-{i}", notify.declined_message(t, standing, NOW)),
        ]
    for error in (
        errors.SessionNotFound(), errors.SessionCancelled(1), errors.SessionAlreadyStarted(1),
        errors.SessionAlreadyOver(1), errors.RegistrationClosed(1, NOW), errors.NotRegistered(),
        errors.ProfileIncomplete(("role",)), errors.InvalidInput(), errors.NotAnOrganiser(),
        errors.NotTheOrganiserChannel(), errors.UnknownSessionNumber(7), errors.NotATeamsMeetingUrl(),
        errors.NothingToSend(), errors.LastOrganiser(), errors.ExportExpired(), errors.SessionNotPublished(3),
        errors.MeetingsNotConfigured(), errors.SuggestionTooLong(1000), errors.ParticipantNotFound(""),
        errors.ParticipantNotFound("anna@example.org"), errors.WhichSeries(("Lärprojekt innovation", "Nätverket")),
        errors.SeriesNeedsChannel(), errors.ChannelTaken("Lärprojekt innovation"),
    ):  # fmt: skip
        cards.append((f"error-{type(error).__name__}", error_card(t, error)))
        cards.append((f"organiser-error-{type(error).__name__}", error_card(t, error, organiser=True)))
    return cards + _organiser_cards(t) + _privacy_cards(t)


def personal_data(rows: int, text: str) -> PersonalData:
    """Someone with `rows` of everything, each free text `text`: the worst case when `text` is long."""
    when = NOW - timedelta(days=30)
    return PersonalData(
        "tenant", "aad", text[:200], "a@example.org", text[:200], text[:200], "sv", "sv-SE", False, True, when, NOW,
        tuple(RegistrationRecord(text[:200], n, text[:300], when, RegistrationStatus.ABSENT, True, text, when, when)
              for n in range(rows)),
        tuple(FeedbackRecord(n, text[:300], 4, text, when) for n in range(rows)),
        tuple(SuggestionRecord(text[:200], text, when) for _ in range(rows)),
        tuple(AttendanceRecordView(n, text[:300], when, 61, text[:200], "a@example.org") for n in range(rows)),
        (text[:200],),
        (text[:200],),
    )  # fmt: skip


def _privacy_cards(t: Any) -> list[tuple[str, dict[str, Any]]]:
    person = Person(7, PersonKey("t", "a"), "Åsa Öberg", "asa@example.org", "Pajala kommun", "Strateg")
    url = "https://lartraff.example.se/my-data/" + "x" * 43
    return [
        ("my-data", my_data_card(t, personal_data(3, "Krockar med [annat](https://evil.example)"), url, NOW, url)),
        ("my-data-empty", my_data_card(t, personal_data(0, ""), url, NOW, url)),
        ("my-data-worst", my_data_card(t, personal_data(500, "x" * 4000), url, NOW, url)),
        ("erase-question", erase_question_card(t)),
        ("erased", erased_card(t, Erasure(2, 3))),
        ("erased-nothing", erased_card(t, Erasure(0, 0))),
        (
            "org-erase-candidates",
            erase_candidates_card(
                t, [Candidate(person, 3), Candidate(replace(person, id=8, organisation="Luleå kommun"), 0)]
            ),
        ),
        ("org-erased", organiser_erased_card(t, Erasure(1, 2))),
    ]


def _organiser_cards(t: Any) -> list[tuple[str, dict[str, Any]]]:
    series, sessions = _demo()
    person = Person(1, PersonKey("t", "a"), "Alex", organisation="Luleå kommun", role="Strateg")
    entries = [
        Entry(replace(person, id=n, name=f"P{n}"), Registration(n, 1, n, status, True, NOW, NOW, NOW, "Sjuk"))
        for n, status in enumerate(list(RegistrationStatus) * 15)
    ]
    people = ParticipantList.of(entries)
    counts = SessionCounts(3, 1, 1, 0, 2)
    logged = ("create", "edit", "publish", "cancel", "link", "message", "export", "add_organiser", "bind_channel")
    audit = [AuditEntry("aad", "Alex", action, "session 1", NOW, {"a": 1}, {"a": 2}) for action in logged]
    form = SessionForm.of(sessions[0], SERIES_TIMEZONE)
    cards = [
        ("org-help", organiser_help_card(t)),
        ("org-help-problem", organiser_help_card(t, problem=True)),
        ("org-form-new", session_form_card(t, SessionForm(), None)),
        ("org-form-edit", session_form_card(t, form, 1)),
        ("org-form-problems", session_form_card(t, form, 1, [("end", "end_before_start"), ("title", "missing")])),
        ("org-cancel", cancel_form_card(t, sessions[0])),
        ("org-participants", participants_card(t, sessions[0], people)),
        ("org-participants-2", participants_card(t, sessions[0], people, 1)),
        ("org-series-new", series_form_card(t, SeriesForm(), editing=False)),
        (
            "org-series-edit",
            series_form_card(
                t, SeriesForm.of(series), editing=True, problems=[(sf.TITLE, "missing"), (sf.CONTACTS, "bad_contact")]
            ),
        ),
        ("org-series-created", series_saved_card(t, series, created=True)),
        ("org-series-saved", series_saved_card(t, series, created=False)),
        ("org-participants-empty", participants_card(t, sessions[0], ParticipantList.of([]))),
        ("org-participants-series", participants_card(t, sessions[0], people, whole_series=frozenset({1, 2}))),
        ("org-stats", stats_card(t, series, [(s, counts) for s in sessions], [("Luleå kommun", 3)])),
        ("org-stats-empty", stats_card(t, series, [], [])),
        ("org-stats-series", stats_card(t, series, [], [], whole_series=12)),
        ("org-audit", audit_card(t, audit)),
        ("org-audit-empty", audit_card(t, [])),
        ("org-organisers", organisers_card(t, [("aad-1", person.name), ("aad-2", "")])),
        ("org-notice", notice_card(t, "Klart", sessions[0])),
        ("org-export", export_card(t, "https://lartraff.example.se/exports/token", NOW)),
    ]
    for status in SessionStatus:
        session = replace(sessions[0], status=status, cancel_reason="Sjuk" if status is SessionStatus.CANCELLED else "")
        cards.append((f"org-session-{status}", session_admin_card(t, session, counts, "Sparat")))
    published = replace(sessions[0], status=SessionStatus.PUBLISHED)
    for name, meeting in {
        "creating": Meeting(published.id, MeetingMode.GRAPH, "tx", NOW),
        "problem": Meeting(published.id, MeetingMode.GRAPH, "tx", NOW, problem="forbidden"),
        "synced": Meeting(published.id, MeetingMode.GRAPH, "tx", NOW, event_id="e"),
        "by-hand": Meeting(published.id, MeetingMode.MANUAL, "tx", NOW),
    }.items():
        cards.append((f"org-session-meeting-{name}", session_admin_card(t, published, counts, meeting=meeting)))
    suggestions = tuple(
        ThemeSuggestion(f"Tema {n}: hur når vi unga vuxna?", "Alex", "Luleå kommun", NOW) for n in range(10)
    )
    cards += [
        ("org-suggestions-empty", suggestions_card(t, SuggestionPage(0, 0, 1, ()))),
        ("org-suggestions", suggestions_card(t, SuggestionPage(25, 0, 3, suggestions))),
        ("org-suggestions-middle", suggestions_card(t, SuggestionPage(25, 1, 3, suggestions))),
        ("org-suggestions-last", suggestions_card(t, SuggestionPage(25, 2, 3, suggestions[:5]))),
    ]
    cards.append(("digest", notify.digest_message(t, [(1, "Alex", "Luleå kommun", "Sjuk"), (2, "Kim", "", "")])))
    cards.append(("digest-suggestions", notify.digest_message(t, [], 3)))
    cards.append(("digest-both", notify.digest_message(t, [(1, "Alex", "Luleå kommun", "")], 1)))
    cards.append(("meeting-problem", notify.meeting_problem_message(t, 1, "no_join_url", {"mailbox": "m@example.org"})))
    cards.append(("meeting-limit", notify.meeting_problem_message(t, 1, "over_limit", {"left_out": 3})))
    return cards


@pytest.mark.parametrize("language", list(Language))
def test_every_card_is_valid_adaptive_card_1_5(language: Language) -> None:
    for name, card in _all_cards(language):
        problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(card)]
        assert problems == [], name
        assert card["version"] == "1.5"
        assert len(json.dumps(card).encode()) < 28_000, f"{name} is too large for a Teams message"


def _objects(node: Any, skip: str = "") -> Iterator[dict[str, Any]]:
    """Every JSON object in a card, depth first, leaving out what is under the key `skip`."""
    if isinstance(node, dict):
        yield node
        for key, value in node.items():
            if key != skip:
                yield from _objects(value, skip)
    elif isinstance(node, list):
        for item in node:
            yield from _objects(item, skip)


@pytest.mark.parametrize("language", list(Language))
def test_every_execute_action_has_a_submit_fallback_with_the_verb(language: Language) -> None:
    for _, card in _all_cards(language):
        # A refresh is no button: Teams asks for the card again, there is no fallback to show.
        for node in _objects(card, skip="refresh"):
            if node.get("type") == "Action.Execute":
                assert node["fallback"]["type"] == "Action.Submit"
                assert node["fallback"]["data"]["verb"] == node["verb"] == node["data"]["verb"]


def test_the_details_card_puts_the_place_and_the_button_first_and_the_long_text_behind_show_more() -> None:
    t = CATALOGS.translator(Language.SV)
    series, _ = _demo()
    card = details_card(t, series, _standings()[0], NOW)
    kinds = [e.get("type") for e in card["body"]]
    status = next(i for i, e in enumerate(card["body"]) if e.get("text") == "Du är inte anmäld.")
    button = kinds.index("ActionSet")
    programme = next(i for i, e in enumerate(card["body"]) if e.get("text") == "Program")
    assert status < button < programme, "where I stand and what I can do, before the programme"
    more = next(e for e in card["body"] if e.get("id") == "more")
    assert more["isVisible"] is False
    assert series.description.split("\n\n")[0] in json.dumps(more, ensure_ascii=False)
    toggle = next(a for a in _objects(card) if a.get("type") == "Action.ToggleVisibility")
    assert (toggle["title"], toggle["targetElements"]) == ("Visa mer", ["more"])


# Views that change nothing: what a card may be refreshed with when it comes into view.
_READ_ONLY = {verbs.WELCOME, verbs.SESSIONS, verbs.MINE, verbs.DETAILS, verbs.STATUS, verbs.SERIES_STATUS}


@pytest.mark.parametrize("language", list(Language))
def test_cards_that_show_a_place_are_refreshed_with_a_view(language: Language) -> None:
    refreshed = {name: c["refresh"]["action"] for name, c in _all_cards(language) if "refresh" in c}
    for prefix in ("welcome", "sessions", "mine", "details", "confirmation-"):
        assert any(name.startswith(prefix) for name in refreshed), prefix
    for name, action in refreshed.items():
        assert action["verb"] in _READ_ONLY, name
        assert action["data"]["verb"] == action["verb"]
    assert not [name for name, c in _all_cards(language) if "refresh" in c and name.startswith(("profile", "absence"))]


def test_buttons_fit_the_state() -> None:
    t = CATALOGS.translator(Language.EN)
    series, _ = _demo()
    titles = []
    for standing in _standings()[:7]:
        card = details_card(t, series, standing, NOW)
        titles.append([a["title"] for a in _objects(card, skip="refresh") if a.get("type") == "Action.Execute"])
    # The demo's first session has an after-talk: a place in it can stay for it, or skip it, at any time.
    assert titles == [
        ["Register", "All sessions"],
        ["Join the waiting list", "All sessions"],
        ["Skip the after-talk", "Can't come", "Withdraw", "All sessions"],
        ["Skip the after-talk", "Can't come", "Withdraw", "All sessions"],
        ["Skip the after-talk", "Can't come", "Leave the waiting list", "All sessions"],
        ["Register", "All sessions"],
        ["Register again", "All sessions"],
    ]
    withdraw = next(a for a in _objects(details_card(t, series, _standings()[2], NOW)) if a.get("title") == "Withdraw")
    assert withdraw["verb"] == verbs.WITHDRAW_ASK, "withdrawing asks first"


def test_list_card_carries_one_after_talk_toggle_per_open_session() -> None:
    t = CATALOGS.translator(Language.SV)
    standings = _standings()
    card = sessions_card(t, [standings[0], standings[7]], NOW)
    ids = [e["id"] for c in card["body"] if c["type"] == "Container" for e in c["items"] if e["type"] == "Input.Toggle"]
    assert ids == [verbs.after_talk_input(1), verbs.after_talk_input(2)]


def test_sessions_are_paginated() -> None:
    t = CATALOGS.translator(Language.SV)
    many = _standings() * 2
    first = sessions_card(t, many, NOW)
    containers = [c for c in first["body"] if c["type"] == "Container"]
    assert len(containers) == 5
    assert any(a["title"] == "Fler lärträffar" and a["data"]["page"] == 1 for a in first["actions"])


@pytest.mark.parametrize("language", list(Language))
def test_a_full_page_of_the_longest_suggestions_fits_in_a_teams_message(language: Language) -> None:
    """Teams takes at most 28 KB a message; the bot sends UTF-8, where ö is two bytes."""
    from bot.domain.model import MAX_SUGGESTION
    from bot.services.organisers import SUGGESTIONS_PAGE

    longest = ThemeSuggestion("ö" * MAX_SUGGESTION, "Å" * 120, "Ä" * 120, NOW)
    page = SuggestionPage(1000, 1, 100, (longest,) * SUGGESTIONS_PAGE)
    card = suggestions_card(CATALOGS.translator(language), page)
    assert len(json.dumps(card, ensure_ascii=False).encode()) < 28_000


@pytest.mark.parametrize("language", list(Language))
def test_my_data_fits_in_a_teams_message_whatever_was_typed(language: Language) -> None:
    """Hundreds of rows of the longest texts, in ö (two bytes in the UTF-8 the bot sends)."""
    t = CATALOGS.translator(language)
    url = "https://lartraff.example.se/my-data/" + "x" * 43
    card = my_data_card(t, personal_data(500, "ö" * 4000), url, NOW, url)
    assert len(json.dumps(card, ensure_ascii=False).encode()) < 28_000


FIXTURES = Path(__file__).parents[1] / "fixtures"
THEMES = {
    theme: json.loads((FIXTURES / f"teams-hostconfig-{theme}.json").read_text())
    for theme in ("light", "dark", "high-contrast")
}


def _over(colour: str, background: str) -> str:
    """An #aarrggbb colour as it shows over `background` (Teams' subtle text is the default colour, translucent)."""
    digits = colour.lstrip("#")
    if len(digits) == 6:
        return colour
    alpha = int(digits[:2], 16) / 255
    back = background.lstrip("#")
    mixed = [round(alpha * int(digits[i : i + 2], 16) + (1 - alpha) * int(back[i - 2 : i], 16)) for i in (2, 4, 6)]
    return "#" + "".join(f"{c:02x}" for c in mixed)


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(one: str, other: str) -> float:
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_contrast_is_computed_as_wcag_does() -> None:
    assert round(_contrast("#92c353", "#ffffff"), 2) == 2.07  # Teams' "good" green on white, as the review found
    assert round(_contrast("#000000", "#ffffff"), 1) == 21.0


@pytest.mark.parametrize("language", list(Language))
def test_every_colour_a_card_uses_is_readable(language: Language) -> None:
    """WCAG 2.2 AA, 4.5:1, on Teams' light, dark and high-contrast themes: text is in the host's own colour,
    plain or subtle; status and problems are words and an icon, never Teams' green, yellow or red (red is 3.2:1
    on the dark theme)."""
    used = {
        node["color"].casefold()
        for _, card in _all_cards(language)
        for node in _objects(card)
        if isinstance(node.get("color"), str)
    }
    assert used <= {"default"}, used
    styles = {node["style"] for _, card in _all_cards(language) for node in _objects(card)
              if node.get("type") == "Container" and "style" in node}  # fmt: skip
    assert styles <= {"default", "emphasis"}, styles  # the backgrounds the themes below give
    for theme, config in THEMES.items():
        for background in config["backgrounds"].values():
            for colour in (config["foregroundColors"]["default"], _over(config["subtle"], background)):
                assert _contrast(colour, background) >= 4.5, (theme, colour, background)


def _inputs_and_actions(card: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for node in _objects(card, skip="refresh"):
        if str(node.get("type", "")).startswith(("Input.", "Action.")):
            yield node


@pytest.mark.parametrize("language", list(Language))
def test_every_card_speaks_and_every_input_is_labelled(language: Language) -> None:
    for name, card in _all_cards(language):
        assert card["speak"].strip(), name
        assert "](" not in card["speak"], (name, "Markdown is not read out")
        assert "**" not in card["speak"], name
        for node in _inputs_and_actions(card):
            if node["type"] == "Input.Toggle":
                assert node["title"].strip(), name  # the text beside the box is its label
            elif node["type"].startswith("Input."):
                assert node.get("label", "").strip(), (name, node["id"], "a placeholder is no label")


def test_a_card_says_what_it_is_about_first() -> None:
    t = CATALOGS.translator(Language.SV)
    series, _ = _demo()
    standing = _standings()[2]
    assert details_card(t, series, standing, NOW)["speak"] == (
        f"Lärträff 1: {standing.session.title}. {t.time_span(standing.session.starts_at, standing.session.ends_at)}."
    )
    assert sessions_card(t, [], NOW)["speak"].startswith("Kommande lärträffar. Just nu finns inga")


@pytest.mark.parametrize("language", list(Language))
def test_repeated_buttons_and_toggles_say_which_session_they_act_on(language: Language) -> None:
    """Two "Register" buttons, or two after-talk toggles, on one card must differ in what is read out."""
    for name, card in _all_cards(language):
        seen: dict[tuple[str, str], str] = {}
        toggles: dict[str, str] = {}  # id (one per session) -> title
        for node in _inputs_and_actions(card):
            if node["type"] == "Input.Toggle":
                toggles[node["id"]] = node["title"]
            elif node["type"] in ("Action.Execute", "Action.Submit") and "fallback" in node:
                key = (node["title"], node.get("tooltip", ""))
                data = json.dumps(node["data"], sort_keys=True)
                assert seen.setdefault(key, data) == data, (name, key)
        assert len(toggles) == len(set(toggles.values())), (name, toggles)


def test_session_titles_are_headings() -> None:
    t = CATALOGS.translator(Language.SV)
    series, _ = _demo()
    standings = _standings()
    for card in (
        sessions_card(t, standings, NOW),
        mine_card(t, standings, NOW),
        details_card(t, series, standings[2], NOW),
        confirmation_card(t, series, standings[2], NOW),
        noted_card(t, standings[2]),
    ):
        titles = [n for n in _objects(card) if n.get("type") == "TextBlock" and n["text"].startswith("Lärträff ")]
        assert titles
        assert all(n.get("style") == "heading" for n in titles), titles


def _worst_series_and_standings() -> tuple[Any, list[SessionStanding]]:
    """Every field as long as the organisers' form or the series file lets it be, in "ö" (two bytes in the UTF-8
    the bot sends)."""
    from bot.domain.model import Contact, ProgrammeItem

    series, sessions = _demo()
    series = replace(
        series,
        title="Ö" * 200,
        description="ö" * 20_000,
        target_group="ö" * 5_000,
        fee="ö" * 500,
        contacts=tuple(Contact("Ö" * 100, "ö" * 100, "ö" * 100, "a" * 60 + "@example.org", "0" * 20) for _ in range(6)),
    )
    session = replace(
        sessions[0],
        title="Ö" * 300,
        description="ö" * 4000,
        programme=tuple(ProgrammeItem("ö" * 300, "Ö" * 300) for _ in range(30)),
        guest="ö" * 300,
        place="ö" * 200,
        contributors=tuple("Ö" * 200 for _ in range(40)),
        capacity=10_000,
    )
    registration = Registration(1, session.id, 1, RegistrationStatus.ABSENT, True, NOW, NOW, None, "ö" * 500)
    standings = [SessionStanding(replace(session, id=n, number=n), registration, 9_999) for n in range(1, 40)]
    return series, standings


def _worst_statistics(t: Any, sessions: list[Any]) -> dict[str, Any]:
    """39 published sessions, 40 organisations named as long as the series file lets them be."""
    from bot.actions.organiser import stats_picture
    from bot.services.organisers import Stats

    counts = SessionCounts(registered=9_999, waitlisted=9_999, absent=9_999, after_talk=9_999)
    published = tuple((replace(s, status=SessionStatus.PUBLISHED), counts) for s in sessions)
    organisations = tuple(("Ö" * 120 + str(n), 9_999 - n) for n in range(40))
    stats = Stats(published, organisations, whole_series=9_999)
    picture = stats_picture(t, stats)
    return stats_card(t, replace(_demo()[0], title="Ö" * 200), published, organisations, None, 9_999, picture)


@pytest.mark.parametrize("language", list(Language))
def test_the_longest_sessions_fit_in_a_teams_message(language: Language) -> None:
    t = CATALOGS.translator(language)
    series, standings = _worst_series_and_standings()
    one = standings[0]
    # The sessions of twelve series, one series after another on the page.
    spread = [replace(s, session=replace(s.session, series_id=n % 12)) for n, s in enumerate(standings)]
    built = {
        "details": details_card(t, series, one, NOW),
        "list": sessions_card(t, standings, NOW),
        "mine": mine_card(t, standings, NOW),
        "welcome": welcome_card(t, [series] * 3, standings, NOW),
        "confirmation": confirmation_card(t, series, one, NOW),
        "absence": absence_card(t, one),
        "withdraw": withdraw_question_card(t, one),
        "announcement": notify.announcement_message(t, series, one, NOW),
        "reminder": notify.reminder_message(t, one, 1, NOW),
        "cancelled": notify.cancelled_message(t, one, "ö" * 500),
        "organisers": notify.organiser_message(t, one, "Ö" * 200, "ö" * 2000, NOW),
        "profile": profile_card(t, series, one.session, Person(1, PersonKey("t", "a"), "Ö" * 200), True, "ö" * 200),
        "details-series": details_card(t, series, one, NOW, in_series=False),
        "list-series": sessions_card(t, spread, NOW, series=[(replace(series, id=n), False) for n in range(12)]),
        "welcome-series": welcome_card(t, [series] * 12, standings, NOW, frozenset()),
        "series": series_card(t, series, True, standings, NOW, "ö" * 200),
        "statistics": _worst_statistics(t, [s.session for s in standings]),
    }
    for name, card in built.items():
        size = len(json.dumps(card, ensure_ascii=False).encode())
        assert size < 28_000, (name, size)
        assert [e.message for e in VALIDATOR.iter_errors(card)] == [], name


def test_teams_own_status_colours_are_what_the_cards_avoid() -> None:
    """Why the cards use no colour: Teams' green and yellow fail on white, its red on the dark theme."""
    light, dark = THEMES["light"], THEMES["dark"]
    assert _contrast(light["foregroundColors"]["good"], "#ffffff") < 4.5
    assert _contrast(light["foregroundColors"]["warning"], "#ffffff") < 4.5
    assert _contrast(dark["foregroundColors"]["attention"], dark["backgrounds"]["default"]) < 4.5
    assert _over("#80ffffff", "#000000") == "#808080"
