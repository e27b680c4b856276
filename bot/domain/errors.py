"""Expected failures: each is shown to the person as a friendly card, never as a crash."""

from __future__ import annotations

from datetime import datetime


class DomainError(Exception):
    """Base for every expected failure; nothing has been changed when one is raised."""


class SessionNotFound(DomainError):
    pass


class SessionCancelled(DomainError):
    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number


class SessionAlreadyStarted(DomainError):
    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number


class SessionAlreadyOver(DomainError):
    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number


class RegistrationClosed(DomainError):
    def __init__(self, number: int, deadline: datetime) -> None:
        super().__init__(number, deadline)
        self.number = number
        self.deadline = deadline


class NotRegistered(DomainError):
    pass


class ProfileIncomplete(DomainError):
    def __init__(self, missing: tuple[str, ...]) -> None:
        super().__init__(missing)
        self.missing = missing


class MemberNotFound(DomainError):
    """Someone @mentioned whose Entra object id Teams did not tell."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class SuggestionTooLong(DomainError):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


class ParticipantNotFound(DomainError):
    """An organiser asked to erase someone the bot knows nothing about (by e-mail or @mention)."""

    def __init__(self, who: str) -> None:
        super().__init__(who)
        self.who = who


class InvalidInput(DomainError):
    """A card or command carried data we cannot use (tampered, stale or malformed)."""


class SessionFormInvalid(DomainError):
    """(field, problem code) pairs, e.g. ("end", "end_before_start")."""

    def __init__(self, problems: tuple[tuple[str, str], ...]) -> None:
        super().__init__(problems)
        self.problems = problems


class SeriesFormInvalid(DomainError):
    """(field, problem code) pairs, e.g. ("series_title", "missing")."""

    def __init__(self, problems: tuple[tuple[str, str], ...]) -> None:
        super().__init__(problems)
        self.problems = problems


class SeriesNeedsChannel(DomainError):
    """A new series is made in the channel its organisers will run it from, which becomes its channel."""


class ChannelTaken(DomainError):
    """The channel is already a series' organisers' channel: a new series needs a channel of its own."""

    def __init__(self, title: str) -> None:
        super().__init__(title)
        self.title = title


class NotATeamsMeetingUrl(DomainError):
    pass


class NotAnOrganiser(DomainError):
    pass


class NotTheOrganiserChannel(DomainError):
    pass


class WhichSeries(DomainError):
    """An organiser of several series gave a command in a 1:1 chat: each series' commands go in its channel."""

    def __init__(self, titles: tuple[str, ...]) -> None:
        super().__init__(titles)
        self.titles = titles


class UnknownSessionNumber(DomainError):
    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number


class SessionNotPublished(DomainError):
    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number


class MeetingsNotConfigured(DomainError):
    """Microsoft Graph is not set up: organisers set meeting links by hand."""


class NothingToSend(DomainError):
    pass


class LastOrganiser(DomainError):
    """Removing the last organiser would leave nobody who can run the series."""


class ExportExpired(DomainError):
    pass
