"""The pure rules of personal data: when the retention period has passed, what the download holds, and the
words that ask for one's data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.privacy import erased_identity, retention_cutoff
from bot.router import parse_command
from cards import verbs
from tests.unit.test_cards import NOW, personal_data


@pytest.mark.parametrize(
    ("now", "months", "cutoff"),
    [
        (datetime(2026, 12, 4, 9, 30, tzinfo=UTC), 12, datetime(2025, 12, 4, 9, 30, tzinfo=UTC)),
        (datetime(2026, 3, 31, tzinfo=UTC), 1, datetime(2026, 2, 28, tzinfo=UTC)),  # no 31 February
        (datetime(2028, 3, 31, tzinfo=UTC), 1, datetime(2028, 2, 29, tzinfo=UTC)),  # a leap year
        (datetime(2026, 1, 15, tzinfo=UTC), 1, datetime(2025, 12, 15, tzinfo=UTC)),  # over the new year
        (datetime(2026, 5, 1, tzinfo=UTC), 36, datetime(2023, 5, 1, tzinfo=UTC)),
    ],
)
def test_the_cutoff_is_calendar_months_back(now: datetime, months: int, cutoff: datetime) -> None:
    assert retention_cutoff(now, months) == cutoff


def test_a_retention_shorter_than_a_month_is_refused() -> None:
    with pytest.raises(ValueError, match="at least a month"):
        retention_cutoff(NOW, 0)


def test_the_erased_identity_fits_the_column_and_names_nobody() -> None:
    identity = erased_identity(2**31 - 1)
    assert len(identity) <= 64
    assert identity != erased_identity(1)


def test_the_download_holds_every_row_in_plain_json_types() -> None:
    data = personal_data(2, "Krockar med annat")
    exported = data.as_json(NOW)
    assert exported["exported_at"] == NOW.isoformat()
    assert exported["profile"]["entra_object_id"] == "aad"
    assert [len(exported[k]) for k in ("registrations", "feedback", "suggestions", "attendance")] == [2, 2, 2, 2]
    assert exported["registrations"][0]["status"] == "absent"
    assert exported["attendance"][0]["minutes"] == 61
    assert exported["organiser_of"] == ["Krockar med annat"]


@pytest.mark.parametrize(
    ("typed", "verb"),
    [
        ("mina uppgifter", verbs.MY_DATA),
        ("My data", verbs.MY_DATA),
        ("mina", verbs.MINE),
        ("radera mina uppgifter", verbs.ERASE_ASK),
        ("delete my data", verbs.ERASE_ASK),
        ("radera deltagare anna@example.org", verbs.ORG_ERASE_ASK),
    ],
)
def test_the_words(typed: str, verb: str) -> None:
    parsed = parse_command(typed)
    assert parsed is not None
    assert parsed[0] == verb
