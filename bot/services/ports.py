"""What the services need from storage: repositories and a Unit of Work, as protocols."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from bot.domain.model import Person, PersonKey, Registration, Series, Session


class SeriesRepository(Protocol):
    async def list_all(self) -> list[Series]: ...

    async def get(self, series_id: int) -> Series | None: ...

    async def get_by_slug(self, slug: str) -> Series | None: ...

    async def add(self, series: Series, now: datetime) -> Series: ...

    async def update(self, series: Series) -> None: ...


class SessionRepository(Protocol):
    async def get(self, session_id: int, *, lock: bool = False) -> Session | None:
        """`lock` holds the session row until commit, so capacity decisions are taken one at a time."""
        ...

    async def list_for_series(self, series_id: int) -> list[Session]: ...

    async def list_visible(self, now: datetime) -> list[Session]:
        """Published sessions that have not ended, soonest first."""
        ...

    async def add(self, session: Session, now: datetime) -> Session: ...

    async def update(self, session: Session, now: datetime) -> None: ...

    async def registered_counts(self, session_ids: Sequence[int]) -> dict[int, int]: ...


class PersonRepository(Protocol):
    async def seen(self, key: PersonKey, name: str, teams_locale: str | None, now: datetime) -> Person:
        """The person behind a Teams user, created on first contact, name and locale kept fresh."""
        ...

    async def save(self, person: Person, now: datetime) -> None: ...


class RegistrationRepository(Protocol):
    async def get(self, session_id: int, person_id: int) -> Registration | None: ...

    async def for_person(self, person_id: int) -> list[Registration]: ...

    async def waitlist(self, session_id: int) -> list[Registration]:
        """Waitlisted registrations in queue order."""
        ...

    async def save(self, registration: Registration) -> Registration: ...


class ActivityLog(Protocol):
    async def claim(self, activity_id: str, now: datetime) -> bool:
        """True the first time an activity id is seen; false for a redelivery."""
        ...


class UnitOfWork(Protocol):
    # Read-only properties, so that implementations may hold more specific repositories.
    @property
    def series(self) -> SeriesRepository: ...

    @property
    def sessions(self) -> SessionRepository: ...

    @property
    def people(self) -> PersonRepository: ...

    @property
    def registrations(self) -> RegistrationRepository: ...

    @property
    def activities(self) -> ActivityLog: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


class Clock(Protocol):
    def now(self) -> datetime: ...
