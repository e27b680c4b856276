"""A person's rights and the retention period: see my data, download it, erase it (on their own request or an
organiser's), and purge what has been kept long enough."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain import errors
from bot.domain.model import Person, RegistrationStatus, clean_text
from bot.domain.privacy import Candidate, Erasure, PersonalData, Purge, retention_cutoff
from bot.services.links import new_token, token_hash
from bot.services.organisers import Organiser, record_audit
from bot.services.participants import fill_freed_seats
from bot.services.ports import UnitOfWork

LINK_LIFETIME = timedelta(hours=1)


async def my_data(person: Person, uow: UnitOfWork) -> PersonalData:
    data = await uow.privacy.collect(person.id)
    assert data is not None, "the person of the turn was written by its arrival"
    return data


async def create_link(person: Person, uow: UnitOfWork, now: datetime) -> str:
    """A random token for the person's own download link; only its hash is stored, and it expires."""
    token = new_token()
    await uow.privacy.add_link(token_hash(token), person.id, now, now + LINK_LIFETIME)
    return token


async def download(token: str, uow: UnitOfWork, now: datetime) -> PersonalData:
    link = await uow.privacy.link(token_hash(token)) if token else None
    if link is None or link[1] <= now:
        raise errors.ExportExpired()
    data = await uow.privacy.collect(link[0])
    if data is None:
        raise errors.ExportExpired()
    return data


async def erase(person_id: int, uow: UnitOfWork, now: datetime) -> Erasure:
    """In one transaction: places in sessions that have not started are given up (the seat to the first in
    the queue, the calendar invitation withdrawn by the meeting's reconciler), then everything naming the
    person is anonymised. What is left of past sessions counts for their organisation and names nobody.
    Asked twice, the second finds nothing left to erase."""
    withdrawn = kept = 0
    # Sessions locked in id order, as every other turn that locks more than one.
    for registration in sorted(await uow.registrations.for_person(person_id), key=lambda r: r.session_id):
        session = await uow.sessions.get(registration.session_id, lock=True)
        if session is None:
            continue
        if now < session.starts_at and registration.is_active:
            await uow.registrations.save(registration.withdrawn(now))
            if registration.holds_seat:
                await fill_freed_seats(session, uow, now)
            withdrawn += 1
        elif registration.status is not RegistrationStatus.WITHDRAWN and now >= session.starts_at:
            kept += 1
    await uow.privacy.anonymise(person_id, now)
    return Erasure(withdrawn, kept)


async def find_participants(who: Organiser, text: str, uow: UnitOfWork) -> list[Candidate]:
    """People known by the Entra object id (an @mention) or e-mail address an organiser gave."""
    given = clean_text(text, 320)
    if not given:
        raise errors.InvalidInput()
    ids, emails = ([], [given]) if "@" in given else ([given], [])
    found = [p for p in await uow.people.matching(ids, emails) if p.key.aad_object_id != who.person.key.aad_object_id]
    if not found:
        raise errors.ParticipantNotFound(given)
    return [Candidate(p, len(await uow.registrations.for_person(p.id))) for p in found]


async def erase_for_organiser(who: Organiser, person_id: int, uow: UnitOfWork, now: datetime) -> Erasure:
    """An erasure someone asked for by e-mail or in person, carried out by an organiser. The audit log says
    that it was done and by whom, not whom it concerned: that would keep what was erased."""
    person = await uow.people.get(person_id)
    if person is None:
        raise errors.InvalidInput()
    erasure = await erase(person_id, uow, now)
    counts = {"withdrawn": erasure.withdrawn, "kept_anonymised": erasure.kept}
    await record_audit(uow, who, "erase_participant", "", now, after=counts)
    return erasure


async def purge(uow: UnitOfWork, now: datetime, months: int) -> Purge:
    return await uow.privacy.purge(retention_cutoff(now, months), now)
