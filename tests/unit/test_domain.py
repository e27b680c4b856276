"""Domain rules, pure: no I/O, the clock passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import errors
from bot.domain.events import Confirmation, SeatsChanged
from bot.domain.model import (
    MAX_SUGGESTION,
    Language,
    Person,
    PersonKey,
    Registration,
    RegistrationStatus,
    Session,
    SessionStatus,
    clean_text,
    decide_registration,
    decide_series_registration,
    promotions,
    validate_profile,
    validate_suggestion,
)

START = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
NOW = START - timedelta(days=10)


def _session(
    capacity: int | None = None, status: SessionStatus = SessionStatus.PUBLISHED, after_talk: bool = True
) -> Session:
    return Session(
        id=1, series_id=1, number=1, title="T", starts_at=START, ends_at=START + timedelta(hours=2, minutes=30),
        registration_deadline=START - timedelta(days=7), status=status, capacity=capacity,
        after_talk_ends_at=START + timedelta(hours=3) if after_talk else None,
    )  # fmt: skip


def _reg(person_id: int, status: RegistrationStatus, at: datetime = NOW, reg_id: int | None = None) -> Registration:
    waitlisted = at if status is RegistrationStatus.WAITLISTED else None
    return Registration(reg_id or person_id, 1, person_id, status, False, at, at, waitlisted)


def test_registers_while_seats_are_left_then_waitlists() -> None:
    assert decide_registration(_session(2), None, 1, 7, True, NOW).registration.status is RegistrationStatus.REGISTERED
    decision = decide_registration(_session(2), None, 2, 7, True, NOW)
    assert decision.registration.status is RegistrationStatus.WAITLISTED
    assert decision.registration.waitlisted_at == NOW


def test_no_capacity_means_no_limit() -> None:
    assert (
        decide_registration(_session(None), None, 10_000, 7, False, NOW).registration.status
        is RegistrationStatus.REGISTERED
    )


def test_after_talk_is_only_recorded_when_the_session_has_one() -> None:
    assert decide_registration(_session(after_talk=False), None, 0, 7, True, NOW).registration.after_talk is False
    assert decide_registration(_session(), None, 0, 7, True, NOW).registration.after_talk is True


def test_repeat_is_no_change_but_after_talk_can_be_changed() -> None:
    existing = _reg(7, RegistrationStatus.REGISTERED)
    assert decide_registration(_session(), existing, 1, 7, False, NOW).changed is False
    changed = decide_registration(_session(), existing, 1, 7, True, NOW)
    assert changed.changed
    assert changed.registration.after_talk is True


@pytest.mark.parametrize(
    ("now", "status", "error"),
    [
        (START - timedelta(days=7) + timedelta(seconds=1), SessionStatus.PUBLISHED, errors.RegistrationClosed),
        (START, SessionStatus.PUBLISHED, errors.SessionAlreadyStarted),
        (NOW, SessionStatus.CANCELLED, errors.SessionCancelled),
        (NOW, SessionStatus.DRAFT, errors.SessionNotFound),
    ],
)
def test_closed_sessions_refuse(now: datetime, status: SessionStatus, error: type[Exception]) -> None:
    with pytest.raises(error):
        decide_registration(_session(status=status), None, 0, 7, True, now)


def test_promotions_fill_free_seats_in_queue_order() -> None:
    queue = [
        _reg(3, RegistrationStatus.WAITLISTED, NOW + timedelta(minutes=2)),
        _reg(1, RegistrationStatus.WAITLISTED, NOW),
        _reg(2, RegistrationStatus.WAITLISTED, NOW + timedelta(minutes=1)),
    ]
    promoted = promotions(_session(3), 1, queue, NOW)
    assert [r.person_id for r in promoted] == [1, 2]
    assert all(r.status is RegistrationStatus.REGISTERED and r.waitlisted_at is None for r in promoted)


def test_no_promotions_once_the_session_has_started() -> None:
    assert promotions(_session(3), 0, [_reg(1, RegistrationStatus.WAITLISTED)], START) == []


def test_withdrawn_cannot_be_withdrawn_again() -> None:
    with pytest.raises(errors.NotRegistered):
        _reg(1, RegistrationStatus.WITHDRAWN).withdrawn(NOW)


@pytest.mark.parametrize(
    ("chosen", "locale", "expected"),
    [
        (None, "sv-SE", Language.SV),
        (None, "en-US", Language.EN),
        (None, "fi-FI", Language.SV),
        (None, None, Language.SV),
        (Language.EN, "sv-SE", Language.EN),
        (Language.SV, "en-US", Language.SV),
    ],
)
def test_language_choice_then_teams_locale_then_series(
    chosen: Language | None, locale: str | None, expected: Language
) -> None:
    person = Person(1, PersonKey("t", "a"), "N", language=chosen, teams_locale=locale)
    assert person.effective_language(Language.SV) is expected


def test_profile_validation() -> None:
    profile = validate_profile(" pajala KOMMUN", "  Utvecklare ", ["Pajala kommun"])
    assert (profile.organisation, profile.role) == ("Pajala kommun", "Utvecklare")
    assert validate_profile("Region Norrbotten", "x", ["Pajala kommun"]).organisation == "Region Norrbotten"
    with pytest.raises(errors.ProfileIncomplete):
        validate_profile("", "", [])


def test_clean_text_folds_whitespace_and_drops_control_characters() -> None:
    assert clean_text("a\x00b\n\n  c\u200b", 10) == "a b c"
    assert len(clean_text("x" * 1000)) == 500


def test_a_suggestion_is_cleaned_and_may_be_as_long_as_the_limit() -> None:
    assert validate_suggestion("  Hur når vi\tunga\u0007 vuxna?\n\n ") == "Hur når vi unga vuxna?"
    assert validate_suggestion(" \n ") == ""
    assert validate_suggestion("å" * MAX_SUGGESTION) == "å" * MAX_SUGGESTION
    assert validate_suggestion("a " + "b" * (MAX_SUGGESTION - 2) + "   ") == "a " + "b" * (MAX_SUGGESTION - 2)


def test_a_suggestion_longer_than_the_limit_is_refused_not_cut() -> None:
    with pytest.raises(errors.SuggestionTooLong) as refused:
        validate_suggestion("x" * (MAX_SUGGESTION + 1))
    assert refused.value.limit == MAX_SUGGESTION


def test_a_whole_series_registration_takes_a_seat_or_queues_without_a_message_of_its_own() -> None:
    seat = decide_series_registration(_session(2), None, 1, 7, NOW, tell=False)
    assert seat is not None
    assert seat.status is RegistrationStatus.REGISTERED
    assert seat.after_talk is False, "staying on is the person's choice, made per session"
    assert seat.events == (SeatsChanged(1),), "the meeting follows; the turn's card is the confirmation"
    queued = decide_series_registration(_session(2), None, 2, 7, NOW, tell=False)
    assert queued is not None
    assert queued.status is RegistrationStatus.WAITLISTED
    assert queued.events == ()


def test_a_session_published_later_tells_why_the_person_was_registered() -> None:
    seat = decide_series_registration(_session(), None, 0, 7, NOW, tell=True)
    assert seat is not None
    assert seat.events == (SeatsChanged(1), Confirmation(7, 1, at=NOW, series=True))
    assert Confirmation(7, 1, at=NOW, series=True).payload() == {"series": True}


@pytest.mark.parametrize(
    ("status", "kept"),
    [
        (RegistrationStatus.REGISTERED, True),
        (RegistrationStatus.WAITLISTED, True),
        (RegistrationStatus.ABSENT, True),  # "can't come" still holds
        (RegistrationStatus.WITHDRAWN, False),  # registering for the whole series is the newer wish
    ],
)
def test_a_whole_series_registration_leaves_a_place_already_decided(status: RegistrationStatus, kept: bool) -> None:
    decided = decide_series_registration(_session(), _reg(7, status), 0, 7, NOW, tell=True)
    assert (decided is None) is kept
    if decided is not None:
        assert decided.status is RegistrationStatus.REGISTERED
        assert decided.id == 7


def test_a_whole_series_registration_skips_sessions_closed_for_registration() -> None:
    after_deadline = START - timedelta(days=6)
    assert decide_series_registration(_session(), None, 0, 7, after_deadline, tell=True) is None
    assert decide_series_registration(_session(status=SessionStatus.CANCELLED), None, 0, 7, NOW, tell=True) is None
    assert decide_series_registration(_session(status=SessionStatus.DRAFT), None, 0, 7, NOW, tell=True) is None
