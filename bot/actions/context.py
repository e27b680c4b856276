"""What every action gets: the turn, the Unit of Work, the person, their language, the clock's now."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from bot.domain.model import Person
from bot.i18n import Catalogs, Translator
from bot.services.organisers import Organiser, OrganiserPolicy
from bot.services.ports import Clock, UnitOfWork
from bot.turn import Turn
from cards.elements import Card


class Refused(Exception):
    """The action answers with `card` and nothing it did is kept: the router rolls the turn back."""

    def __init__(self, card: Card) -> None:
        super().__init__("refused")
        self.card = card


class Payload(BaseModel):
    """Card data or command arguments, parsed at the edge; unknown keys (other inputs) are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class NoPayload(Payload):
    pass


@dataclass
class Context:
    turn: Turn
    uow: UnitOfWork
    person: Person
    t: Translator
    now: datetime
    catalogs: Catalogs
    member_email: str | None = None
    policy: OrganiserPolicy = field(default_factory=OrganiserPolicy)
    public_base_url: str = ""
    organiser: Organiser | None = None
    clock: Clock | None = None

    @property
    def verified_organisation(self) -> str:
        """Where the person works, as their Microsoft 365 tenant says; "" outside the member tenants."""
        return self.policy.organisation_of(self.person.key.tenant_id)

    @property
    def who(self) -> Organiser:
        if self.organiser is None:  # not an assert: the container runs with asserts stripped (python -OO)
            raise RuntimeError("an organiser route ran without authorisation")
        return self.organiser
