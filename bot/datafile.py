"""Reads a series data file (TOML) into domain objects, checking every field."""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.domain.model import Contact, Language, ProgrammeItem, Series, Session, SessionStatus
from bot.i18n import SERIES_TIMEZONE


class DataFileError(Exception):
    """The file cannot be read or does not describe a valid series; the message says where."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Contact(_Strict):
    name: str = Field(min_length=1)
    organisation: str = ""
    role: str = ""
    email: str = ""
    phone: str = ""


class _ProgrammeItem(_Strict):
    title: str = Field(min_length=1)
    speakers: str = ""


class _Series(_Strict):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,99}$")
    title: str = Field(min_length=1, max_length=200)
    organiser: str = Field(min_length=1, max_length=200)
    language: Language = Language.SV
    fee: str = ""
    total_sessions: int | None = Field(None, ge=1)
    description: str = ""
    target_group: str = ""
    organisations: list[str] = Field(default_factory=list)
    contacts: list[_Contact] = Field(default_factory=list)
    # Entra object ids of the people who run the series from Teams.
    organisers: list[str] = Field(default_factory=list)
    organiser_channel_id: str | None = None


class _Session(_Strict):
    number: int = Field(ge=1)
    status: Literal["draft", "published", "cancelled"] = "draft"
    title: str = Field(min_length=1, max_length=300)
    date: dt.date
    start: time
    end: time
    after_talk_end: time | None = None
    registration_deadline: dt.date
    place: str = "Teams"
    guest: str = ""
    contributors: list[str] = Field(default_factory=list)
    capacity: int | None = Field(None, ge=0)
    description: str = ""
    programme: list[_ProgrammeItem] = Field(default_factory=list)

    @model_validator(mode="after")
    def _times_in_order(self) -> _Session:
        if self.end <= self.start:
            raise ValueError(f"session {self.number}: end must be after start")
        if self.after_talk_end is not None and self.after_talk_end <= self.end:
            raise ValueError(f"session {self.number}: the after-talk must end after the session")
        if self.registration_deadline > self.date:
            raise ValueError(f"session {self.number}: the registration deadline is after the session")
        return self


class _File(_Strict):
    series: _Series
    sessions: list[_Session] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_numbers(self) -> _File:
        numbers = [s.number for s in self.sessions]
        if len(numbers) != len(set(numbers)):
            raise ValueError("two sessions have the same number")
        return self


def _at(day: dt.date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=SERIES_TIMEZONE).astimezone(UTC)


@dataclass(frozen=True)
class SeriesFile:
    series: Series
    sessions: list[Session]
    organisers: list[str]


def load(path: Path) -> tuple[Series, list[Session]]:
    loaded = load_file(path)
    return loaded.series, loaded.sessions


def load_file(path: Path) -> SeriesFile:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        parsed = _File.model_validate(raw)
    except OSError as error:
        raise DataFileError(f"{path}: cannot read: {error.strerror}") from error
    except tomllib.TOMLDecodeError as error:
        raise DataFileError(f"{path}: not valid TOML: {error}") from error
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise DataFileError(f"{path}: {problems}") from error
    s = parsed.series
    series = Series(
        id=0,
        slug=s.slug,
        title=s.title,
        organiser=s.organiser,
        description=s.description,
        target_group=s.target_group,
        language=s.language,
        fee=s.fee,
        contacts=tuple(Contact(**c.model_dump()) for c in s.contacts),
        organisations=tuple(s.organisations),
        total_sessions=s.total_sessions,
        organiser_channel_id=s.organiser_channel_id,
    )
    sessions = [
        Session(
            id=0,
            series_id=0,
            number=x.number,
            title=x.title,
            starts_at=_at(x.date, x.start),
            ends_at=_at(x.date, x.end),
            after_talk_ends_at=_at(x.date, x.after_talk_end) if x.after_talk_end else None,
            # The page says "senast 2021-09-03": the whole of that day counts.
            registration_deadline=_at(x.registration_deadline, time(23, 59)),
            status=SessionStatus(x.status),
            place=x.place,
            description=x.description,
            programme=tuple(ProgrammeItem(**p.model_dump()) for p in x.programme),
            guest=x.guest,
            contributors=tuple(x.contributors),
            capacity=x.capacity,
        )
        for x in sorted(parsed.sessions, key=lambda x: x.number)
    ]
    return SeriesFile(series, sessions, [o.strip().lower() for o in s.organisers])


def weeks_to_future(sessions: list[Session], now: datetime, lead: timedelta = timedelta(days=14)) -> int:
    """Whole weeks to move a series so that its first session is at least `lead` away (weekdays stay)."""
    if not sessions:
        return 0
    gap = now + lead - min(s.starts_at for s in sessions)
    if gap <= timedelta(0):
        return 0
    return math.ceil(gap / timedelta(weeks=1))


def moved_to_future(sessions: list[Session], now: datetime) -> list[Session]:
    """The series moved by whole weeks so that it lies ahead (the demo, and tests that start from the real
    invitation), each session then put off by a further week while it would fall on a Swedish public holiday
    or an eve that is in practice a day off (Christmas Eve, Midsummer Eve, New Year's Eve), and its last day
    to register brought forward to a working day."""
    import holidays  # only the demo and tests move a series; the bot never does

    weeks = weeks_to_future(sessions, now)
    moved: list[Session] = []
    taken: set[dt.date] = set()
    for session in sorted(sessions, key=lambda s: s.starts_at):
        extra = 0
        while True:
            candidate = shifted(session, weeks + extra)
            day = candidate.starts_at.astimezone(SERIES_TIMEZONE).date()
            days_off = holidays.country_holidays("SE", years=day.year, categories=("public", "de_facto"))
            if day not in days_off and day not in taken:
                break
            extra += 1
        taken.add(day)
        moved.append(_deadline_on_a_working_day(candidate, days_off))
    order = {s.number: i for i, s in enumerate(sessions)}
    return sorted(moved, key=lambda s: order[s.number])


def _deadline_on_a_working_day(session: Session, days_off: Any) -> Session:
    """The last day to register brought forward to a weekday that is no holiday ("senast fredag 1 januari"
    reads as a mistake), the same clock time."""
    deadline = session.registration_deadline.astimezone(SERIES_TIMEZONE)
    day = deadline.date()
    while day.weekday() >= 5 or day in days_off:
        day -= timedelta(days=1)
    if day == deadline.date():
        return session
    local = datetime.combine(day, deadline.time().replace(tzinfo=None)).replace(tzinfo=SERIES_TIMEZONE)
    return replace(session, registration_deadline=local.astimezone(UTC))


def shifted(session: Session, weeks: int) -> Session:
    """The same session `weeks` later at the same local clock time, across summer-time changes."""

    def move(moment: datetime | None) -> datetime | None:
        if moment is None:
            return None
        local = moment.astimezone(SERIES_TIMEZONE).replace(tzinfo=None) + timedelta(weeks=weeks)
        return local.replace(tzinfo=SERIES_TIMEZONE).astimezone(UTC)

    return replace(
        session,
        starts_at=move(session.starts_at) or session.starts_at,
        ends_at=move(session.ends_at) or session.ends_at,
        after_talk_ends_at=move(session.after_talk_ends_at),
        registration_deadline=move(session.registration_deadline) or session.registration_deadline,
    )
