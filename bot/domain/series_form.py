"""A series as organisers write it in Teams: the form's text, checked, and the series it makes."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass

from bot.domain import errors
from bot.domain.model import Contact, Language, Series, clean_text

# Form fields, also the input ids on the organisers' series card.
TITLE = "series_title"
ORGANISER = "series_organiser"
LANGUAGE = "series_language"
DESCRIPTION = "series_description"
TARGET_GROUP = "series_target_group"
ORGANISATIONS = "series_organisations"
CONTACTS = "series_contacts"
FEE = "series_fee"

# As the series data file allows, and so that the details card stays within Teams' 28 KB.
TITLE_LENGTH = 200
DESCRIPTION_LENGTH = 4000
TARGET_GROUP_LENGTH = 1000
ORGANISATION_LENGTH = 120
MAX_ORGANISATIONS = 40
MAX_CONTACTS = 8
_EMAIL = re.compile(r"^[^@\s|]+@[^@\s|]+\.[^@\s|]+$")


@dataclass(frozen=True)
class SeriesForm:
    """What an organiser typed, as text. Organisations one a line; contacts one a line, "Name | organisation |
    role | e-mail | phone", as much of it as they like."""

    title: str = ""
    organiser: str = ""
    language: str = Language.SV.value
    description: str = ""
    target_group: str = ""
    organisations: str = ""
    contacts: str = ""
    fee: str = ""

    @classmethod
    def of(cls, series: Series) -> SeriesForm:
        return cls(
            title=series.title,
            organiser=series.organiser,
            language=series.language.value,
            description=series.description,
            target_group=series.target_group,
            organisations="\n".join(series.organisations),
            contacts="\n".join(format_contact(c) for c in series.contacts),
            fee=series.fee,
        )


def format_contact(contact: Contact) -> str:
    parts = [contact.name, contact.organisation, contact.role, contact.email, contact.phone]
    while parts and not parts[-1]:
        parts.pop()
    return " | ".join(parts)


def _lines(text: str) -> list[str]:
    return [line for line in (clean_text(raw, 500) for raw in text.splitlines()) if line]


def validate_series_form(form: SeriesForm, base: Series) -> Series:
    """`base` with the form's fields, or SeriesFormInvalid naming each problem; for a new series, `base` is
    Series with its id and slug to come."""
    problems: list[tuple[str, str]] = []
    title = clean_text(form.title, TITLE_LENGTH + 1)
    if not title:
        problems.append((TITLE, "missing"))
    elif len(title) > TITLE_LENGTH:
        problems.append((TITLE, "too_long"))
    organiser = clean_text(form.organiser, TITLE_LENGTH + 1)
    if not organiser:
        problems.append((ORGANISER, "missing"))
    elif len(organiser) > TITLE_LENGTH:
        problems.append((ORGANISER, "too_long"))
    language = Language.from_locale(form.language)
    if language is None:
        problems.append((LANGUAGE, "missing"))
    description = form.description.strip()
    if len(description) > DESCRIPTION_LENGTH:
        problems.append((DESCRIPTION, "too_long"))
    target_group = form.target_group.strip()
    if len(target_group) > TARGET_GROUP_LENGTH:
        problems.append((TARGET_GROUP, "too_long"))
    organisations = list(dict.fromkeys(_lines(form.organisations)))
    if len(organisations) > MAX_ORGANISATIONS or any(len(o) > ORGANISATION_LENGTH for o in organisations):
        problems.append((ORGANISATIONS, "too_many"))
    contacts: list[Contact] = []
    for line in _lines(form.contacts):
        parts = [clean_text(p, 200) for p in line.split("|")]
        parts += [""] * (5 - len(parts))
        name, organisation, role, email, phone = parts[:5]
        if not name or len(parts) > 5 or (email and not _EMAIL.match(email)):
            problems.append((CONTACTS, "bad_contact"))
            break
        contacts.append(Contact(name, organisation, role, email.lower(), phone))
    if len(contacts) > MAX_CONTACTS:
        problems.append((CONTACTS, "too_many"))
    if problems:
        raise errors.SeriesFormInvalid(tuple(problems))
    assert language is not None
    return dataclasses.replace(
        base,
        title=title,
        organiser=organiser,
        language=language,
        description=description,
        target_group=target_group,
        organisations=tuple(organisations),
        contacts=tuple(contacts),
        fee=clean_text(form.fee, 200),
    )


def slug_for(title: str, taken: Collection[str]) -> str:
    """A series' short name in the export's file name and the data file: from its title, unique."""
    folded = unicodedata.normalize("NFKD", title.casefold()).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:90].strip("-") or "serie"
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug
