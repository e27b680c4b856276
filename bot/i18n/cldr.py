"""Dates, times and decimals as Swedish and British English write them: CLDR's names and symbols, as tables.

Babel would give the same (a test holds the two equal for every day of a year), but formatting with it
loads a locale's whole CLDR data, 4 MiB held for the life of the process, for 38 names and a comma.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from bot.domain.model import Language


class Names:
    def __init__(
        self,
        weekdays: str,
        short_weekdays: str,
        months: str,
        short_months: str,
        time_separator: str,
        decimal_separator: str,
    ) -> None:
        self.weekdays = weekdays.split()  # Monday first, as datetime.weekday() counts
        self.short_weekdays = short_weekdays.split()
        self.months = months.split()
        self.short_months = short_months.split()
        self.time_separator = time_separator
        self.decimal_separator = decimal_separator


NAMES = {
    Language.SV: Names(
        "måndag tisdag onsdag torsdag fredag lördag söndag",
        "mån tis ons tors fre lör sön",
        "januari februari mars april maj juni juli augusti september oktober november december",
        "jan. feb. mars apr. maj juni juli aug. sep. okt. nov. dec.",
        ".",  # Swedish writes 09.00
        ",",
    ),
    Language.EN: Names(
        "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
        "Mon Tue Wed Thu Fri Sat Sun",
        "January February March April May June July August September October November December",
        "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec",
        ":",
        ".",
    ),
}
_TENTH = Decimal("0.1")


def long_date(language: Language, moment: datetime) -> str:
    """CLDR's "EEEE d MMMM y": `fredag 10 september 2021` / `Friday 10 September 2021`."""
    names = NAMES[language]
    return f"{names.weekdays[moment.weekday()]} {moment.day} {names.months[moment.month - 1]} {moment.year}"


def short_date(language: Language, moment: datetime) -> str:
    """CLDR's "EEE d MMM": `fre 10 sep.` / `Fri 10 Sept`."""
    names = NAMES[language]
    return f"{names.short_weekdays[moment.weekday()]} {moment.day} {names.short_months[moment.month - 1]}"


def clock(language: Language, moment: datetime) -> str:
    """`09.00` / `09:00`."""
    return f"{moment.hour:02d}{NAMES[language].time_separator}{moment.minute:02d}"


def one_decimal(language: Language, value: float) -> str:
    """CLDR's "0.0", rounded half to even from the number's shortest decimal form, as Babel does: 4,5 / 4.5."""
    rounded = Decimal(repr(value)).quantize(_TENTH, rounding=ROUND_HALF_EVEN)
    text = f"{abs(rounded):f}".replace(".", NAMES[language].decimal_separator)
    return f"-{text}" if rounded.is_signed() else text  # Babel's "0.0" writes a hyphen-minus, in Swedish too
