"""Dates in Swedish and English, and catalogs that cover every message in the code."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from bot.domain.model import Language
from bot.i18n import Catalogs

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


def test_formatted_dates_are_kept_and_the_store_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.i18n as i18n

    monkeypatch.setattr(i18n, "_FORMATTED_KEPT", 3)
    t = Catalogs.load().translator(Language.SV)
    moments = [datetime(2026, 9, day, 7, 0, tzinfo=UTC) for day in range(1, 8)]
    first = [t.date(m) for m in moments]
    assert first[0] == "tisdag 1 september 2026"
    assert [t.date(m) for m in moments] == first  # the kept answers equal fresh ones
    assert t.time(moments[0]) == "09.00"
    assert t.short_date(moments[0]) == "tis 1 sep."
    assert len(t._formatted) <= 3
