"""Message catalogs (gettext .po files read with Babel) and date/time formatting per language.

Message ids are English; `locales/sv/LC_MESSAGES/messages.po` holds the Swedish text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.pofile import read_po

from bot.domain.model import Language
from bot.i18n import cldr

LOCALES = Path(__file__).with_name("locales")
SERIES_TIMEZONE = ZoneInfo("Europe/Stockholm")


@dataclass(frozen=True)
class Translator:
    language: Language
    _messages: dict[str, str | tuple[str, ...]]

    def gettext(self, message: str) -> str:
        found = self._messages.get(message)
        return found if isinstance(found, str) and found else message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        found = self._messages.get(singular)
        if isinstance(found, tuple) and all(found):
            # Swedish and English share the plural rule n != 1.
            return found[0 if n == 1 else 1]
        return singular if n == 1 else plural

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(SERIES_TIMEZONE)

    def date(self, moment: datetime) -> str:
        """`fredag 10 september 2021` / `Friday 10 September 2021`."""
        return cldr.long_date(self.language, self.local(moment))

    def short_date(self, moment: datetime) -> str:
        """`fre 10 sep.` / `Fri 10 Sept`."""
        return cldr.short_date(self.language, self.local(moment))

    def time(self, moment: datetime) -> str:
        return cldr.clock(self.language, self.local(moment))

    def time_span(self, start: datetime, end: datetime) -> str:
        """`fredag 10 september 2021 kl. 09.00–11.30`; English adds that times are Swedish."""
        return self.gettext("{date}, {start}–{end} Swedish time").format(
            date=self.date(start), start=self.time(start), end=self.time(end)
        )

    def decimal(self, value: float) -> str:
        """One decimal, as the language writes it: 4,5 / 4.5."""
        return cldr.one_decimal(self.language, value)

    def moment(self, moment: datetime) -> str:
        """`fredag 3 september 2021 kl. 23.59`."""
        return self.gettext("{date} at {time}").format(date=self.date(moment), time=self.time(moment))


class Catalogs:
    """The loaded catalogs; built once by the composition root."""

    def __init__(self, messages: dict[Language, dict[str, str | tuple[str, ...]]]) -> None:
        self._translators = {lang: Translator(lang, messages.get(lang, {})) for lang in Language}

    @classmethod
    def load(cls, root: Path = LOCALES) -> Catalogs:
        messages: dict[Language, dict[str, str | tuple[str, ...]]] = {}
        for language in Language:
            path = root / language.value / "LC_MESSAGES" / "messages.po"
            if not path.exists():
                continue
            with path.open("rb") as handle:
                catalog = read_po(handle)  # no locale: its CLDR data (plural rules) would be loaded, unused
            table: dict[str, str | tuple[str, ...]] = {}
            for message in catalog:
                if not message.id or message.fuzzy:
                    continue
                key = str(message.id[0] if isinstance(message.id, (tuple, list)) else message.id)
                string = message.string
                table[key] = tuple(string) if isinstance(string, (tuple, list)) else str(string or "")
            messages[language] = table
        return cls(messages)

    def translator(self, language: Language) -> Translator:
        return self._translators[language]
