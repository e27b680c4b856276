"""Theme suggestions on the real unit of work over in-process SQLite: participants suggest, organisers read
them a page at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import errors
from bot.domain.model import MAX_SUGGESTION, Person, PersonKey
from bot.services import organisers as org
from bot.services import participants as svc
from bot.storage.uow import SqlUnitOfWork
from tests.service.conftest import import_demo

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


async def _participant(uow: SqlUnitOfWork, n: int = 1) -> Person:
    person = await uow.people.seen(PersonKey("tenant", f"aad-{n}"), f"Person {n}", "sv-SE", NOW)
    person = person.with_profile("Kiruna kommun", "Strateg")
    await uow.people.save(person, NOW)
    return person


async def _organiser(uow: SqlUnitOfWork) -> org.Organiser:
    (series,) = await uow.series.list_all()
    return org.Organiser(await _participant(uow, 99), series)


async def test_a_suggestion_is_kept_cleaned_for_the_series(uow: SqlUnitOfWork) -> None:
    await import_demo(uow, NOW)
    person = await _participant(uow)
    assert await svc.suggest_theme(svc.SuggestTheme("  AI i\tskolan:\n hur  börjar vi? "), person, uow, NOW)
    (series,) = await uow.series.list_all()
    (kept,) = await uow.suggestions.newest(series.id)
    assert (kept.text, kept.name, kept.created_at) == ("AI i skolan: hur börjar vi?", "Person 1", NOW)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
async def test_nothing_written_keeps_nothing(text: str, uow: SqlUnitOfWork) -> None:
    await import_demo(uow, NOW)
    person = await _participant(uow)
    assert not await svc.suggest_theme(svc.SuggestTheme(text), person, uow, NOW)
    (series,) = await uow.series.list_all()
    assert await uow.suggestions.count(series.id) == 0


async def test_a_suggestion_too_long_is_refused_and_keeps_nothing(uow: SqlUnitOfWork) -> None:
    await import_demo(uow, NOW)
    person = await _participant(uow)
    assert await svc.suggest_theme(svc.SuggestTheme("x" * MAX_SUGGESTION), person, uow, NOW)
    with pytest.raises(errors.SuggestionTooLong) as refused:
        await svc.suggest_theme(svc.SuggestTheme("y" * (MAX_SUGGESTION + 1)), person, uow, NOW)
    assert refused.value.limit == MAX_SUGGESTION
    (series,) = await uow.series.list_all()
    assert [len(s.text) for s in await uow.suggestions.newest(series.id)] == [MAX_SUGGESTION]


async def test_organisers_read_them_newest_first_a_page_at_a_time(uow: SqlUnitOfWork) -> None:
    await import_demo(uow, NOW)
    person = await _participant(uow)
    size = org.SUGGESTIONS_PAGE
    for n in range(size + 3):
        await svc.suggest_theme(svc.SuggestTheme(f"Tema {n}"), person, uow, NOW + timedelta(minutes=n))
    who = await _organiser(uow)

    first = await org.suggestions(0, who, uow)
    assert (first.total, first.page, first.pages) == (size + 3, 0, 2)
    assert [s.text for s in first.suggestions] == [f"Tema {n}" for n in range(size + 2, 2, -1)]
    assert (first.suggestions[0].name, first.suggestions[0].organisation) == ("Person 1", "Kiruna kommun")

    second = await org.suggestions(1, who, uow)
    assert [s.text for s in second.suggestions] == ["Tema 2", "Tema 1", "Tema 0"]
    beyond = await org.suggestions(7, who, uow)  # a card older than the list: the last page
    assert beyond == second


async def test_no_suggestions_is_one_empty_page(uow: SqlUnitOfWork) -> None:
    await import_demo(uow, NOW)
    found = await org.suggestions(3, await _organiser(uow), uow)
    assert (found.total, found.page, found.pages, found.suggestions) == (0, 0, 1, ())
