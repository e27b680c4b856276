"""Dates in Swedish and English, and catalogs that cover every message in the code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.model import Language
from bot.i18n import SERIES_TIMEZONE, Catalogs

ROOT = Path(__file__).resolve().parents[2]


def test_swedish_date_and_time_as_on_the_invitation() -> None:
    t = Catalogs.load().translator(Language.SV)
    start = datetime(2021, 9, 10, 7, 0, tzinfo=UTC)  # 09.00 in Stockholm (summer time)
    end = datetime(2021, 9, 10, 9, 30, tzinfo=UTC)
    assert t.time_span(start, end) == "fredag 10 september 2021 kl. 09.00–11.30"


def test_english_date_says_swedish_time() -> None:
    t = Catalogs.load().translator(Language.EN)
    start = datetime(2022, 2, 11, 8, 0, tzinfo=UTC)  # 09:00 in Stockholm (winter time)
    end = datetime(2022, 2, 11, 10, 30, tzinfo=UTC)
    assert t.time_span(start, end) == "Friday 11 February 2022, 09:00–11:30 Swedish time"


def test_plurals() -> None:
    sv = Catalogs.load().translator(Language.SV)
    assert sv.ngettext("{n} seat left", "{n} seats left", 1).format(n=1) == "1 plats kvar"
    assert sv.ngettext("{n} seat left", "{n} seats left", 5).format(n=5) == "5 platser kvar"


def test_every_message_in_the_code_has_a_swedish_translation() -> None:
    catalogs = Catalogs.load()
    sv = catalogs.translator(Language.SV)
    missing = []
    seen = 0
    for directory in ("bot", "cards"):
        for filename, _lineno, message, _comments, _context in extract_from_dir(
            ROOT / directory, keywords={"gettext": None, "ngettext": (1, 2)}, method_map=[("**.py", "python")]
        ):
            msgid = message[0] if isinstance(message, tuple) else message
            seen += 1
            if sv.gettext(msgid) == msgid and sv._messages.get(msgid) is None:
                missing.append(f"{directory}/{filename}: {msgid}")
    assert seen > 50, "extraction found the messages"
    assert missing == []


@pytest.mark.parametrize("language", list(Language))
def test_dates_and_times_are_written_as_cldr_writes_them_every_day_of_a_year(language: Language) -> None:
    """Our tables hold what Babel would have given from CLDR, for every day of a year and every quarter hour."""
    from babel import Locale
    from babel.dates import format_date, format_time

    locale = Locale.parse({Language.SV: "sv_SE", Language.EN: "en_GB"}[language])
    clock_pattern = {Language.SV: "HH.mm", Language.EN: "HH:mm"}[language]
    t = Catalogs.load().translator(language)
    first = datetime(2027, 1, 1, 8, 0, tzinfo=SERIES_TIMEZONE)
    for day in range(365):
        moment = first + timedelta(days=day, minutes=15 * day)
        assert t.date(moment) == format_date(moment, "EEEE d MMMM y", locale=locale)
        assert t.short_date(moment) == format_date(moment, "EEE d MMM", locale=locale)
        assert t.time(moment) == format_time(moment, clock_pattern, locale=locale)


@settings(max_examples=300, deadline=None)
@given(
    language=st.sampled_from(list(Language)),
    value=st.one_of(
        st.builds(lambda total, n: total / n, st.integers(1, 5000), st.integers(1, 1000)),  # averages of ratings
        st.floats(-1000, 1000, allow_nan=False),
    ),
)
def test_decimals_are_rounded_and_written_as_babel_does(language: Language, value: float) -> None:
    from babel.numbers import format_decimal

    expected = format_decimal(value, "0.0", locale={Language.SV: "sv_SE", Language.EN: "en_GB"}[language])
    assert Catalogs.load().translator(language).decimal(value) == expected
