"""The events a registration's changes carry (pure), and that every kind of message has one renderer."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.events import CardRefresh, Confirmation, MessageKind, Promotion, SeatsChanged
from bot.domain.model import RegistrationStatus, decide_registration, promotions
from bot.jobs import rendering as notifications
from tests.unit.test_domain import NOW, _reg, _session

LATER = NOW + timedelta(hours=1)


def test_a_new_registration_with_a_seat_changes_the_seats_and_is_confirmed() -> None:
    decision = decide_registration(_session(2), None, 0, 7, True, NOW)
    assert decision.registration.events == (SeatsChanged(1), Confirmation(7, 1, at=NOW))


def test_a_place_on_the_waiting_list_is_confirmed_but_changes_no_seat() -> None:
    decision = decide_registration(_session(1), None, 1, 7, True, NOW)
    assert decision.registration.status is RegistrationStatus.WAITLISTED
    assert decision.registration.events == (Confirmation(7, 1, at=NOW),)


def test_a_repeated_click_carries_nothing_a_changed_after_talk_updates_the_cards() -> None:
    held = _reg(7, RegistrationStatus.REGISTERED)
    assert decide_registration(_session(2), held, 1, 7, False, NOW).registration.events == ()
    assert decide_registration(_session(2), held, 1, 7, True, NOW).registration.events == (CardRefresh(7, 1, at=NOW),)


def test_leaving_a_seat_changes_the_seats_leaving_the_queue_does_not_both_update_the_cards() -> None:
    cards = CardRefresh(7, 1, at=LATER)
    assert _reg(7, RegistrationStatus.REGISTERED).absent("", LATER).events == (SeatsChanged(1), cards)
    assert _reg(7, RegistrationStatus.REGISTERED).withdrawn(LATER).events == (SeatsChanged(1), cards)
    assert _reg(7, RegistrationStatus.WAITLISTED).withdrawn(LATER).events == (cards,)


def test_a_promotion_takes_a_seat_and_tells_the_person() -> None:
    (promoted,) = promotions(_session(1), 0, [_reg(7, RegistrationStatus.WAITLISTED, reg_id=40)], LATER)
    assert promoted.events == (SeatsChanged(1), Promotion(7, 1, registration=40, at=LATER))


def test_events_do_not_make_two_registrations_unequal() -> None:
    registration = _reg(7, RegistrationStatus.REGISTERED)
    assert registration.with_events(SeatsChanged(1)) == registration


def test_every_kind_of_message_has_exactly_one_renderer() -> None:
    to_people, to_channels = set(notifications._TO_PEOPLE), set(notifications._TO_CHANNELS)
    assert to_people.isdisjoint(to_channels)
    # A card refresh sends nothing new: it draws the earlier messages again with their own renderers.
    assert to_people | to_channels | {MessageKind.CARD_REFRESH} == set(MessageKind)
