"""The series form: what organisers write in Teams, checked, and the series it makes."""

from __future__ import annotations

import pytest

from bot.domain import errors
from bot.domain import series_form as sf
from bot.domain.model import Contact, Language, Series
from bot.domain.series_form import SeriesForm, slug_for, validate_series_form

BASE = Series(0, "", "", "", "", "", Language.SV)


def test_a_form_makes_the_series_participants_read() -> None:
    form = SeriesForm(
        title="  Nätverket för digitalisering ",
        organiser="Norrbottens Kommuner",
        language="en",
        description="Ett nätverk.\n\nFör alla.",
        organisations="Luleå kommun\n\nKiruna kommun\nLuleå kommun",
        contacts="Johan Hörnemalm | Norrbottens Kommuner | projektledare | Johan@Example.org | 070-123\nAnna",
    )
    series = validate_series_form(form, BASE)
    assert series.title == "Nätverket för digitalisering"
    assert series.language is Language.EN
    assert series.description == "Ett nätverk.\n\nFör alla."
    assert series.organisations == ("Luleå kommun", "Kiruna kommun"), "blank lines and repeats dropped"
    assert series.contacts == (
        Contact("Johan Hörnemalm", "Norrbottens Kommuner", "projektledare", "johan@example.org", "070-123"),
        Contact("Anna"),
    )
    assert SeriesForm.of(series).contacts.splitlines()[1] == "Anna", "written back as it is read"
    assert validate_series_form(SeriesForm.of(series), BASE) == series


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"title": " "}, (sf.TITLE, "missing")),
        ({"title": "x" * 201}, (sf.TITLE, "too_long")),
        ({"organiser": ""}, (sf.ORGANISER, "missing")),
        ({"language": "fi"}, (sf.LANGUAGE, "missing")),
        ({"description": "x" * 4001}, (sf.DESCRIPTION, "too_long")),
        ({"organisations": "\n".join(f"Kommun {n}" for n in range(41))}, (sf.ORGANISATIONS, "too_many")),
        ({"contacts": " | Norrbottens Kommuner"}, (sf.CONTACTS, "bad_contact")),
        ({"contacts": "Anna | | | anna.example.org"}, (sf.CONTACTS, "bad_contact")),
        ({"contacts": "A | b | c | d@e.se | 1 | extra"}, (sf.CONTACTS, "bad_contact")),
        ({"contacts": "\n".join(f"Person {n}" for n in range(9))}, (sf.CONTACTS, "too_many")),
    ],
)
def test_each_problem_is_named(changes: dict[str, str], problem: tuple[str, str]) -> None:
    form = SeriesForm(**{"title": "Serien", "organiser": "Norrbottens Kommuner", **changes})
    with pytest.raises(errors.SeriesFormInvalid) as raised:
        validate_series_form(form, BASE)
    assert problem in raised.value.problems


def test_a_slug_comes_from_the_title_and_is_unique() -> None:
    assert slug_for("Lärprojekt innovation 2027!", set()) == "larprojekt-innovation-2027"
    assert slug_for("Lärprojekt innovation", {"larprojekt-innovation"}) == "larprojekt-innovation-2"
    assert slug_for("Öö", {"oo", "oo-2"}) == "oo-3"
    assert slug_for("???", set()) == "serie"
    assert len(slug_for("å" * 300, set())) <= 100
