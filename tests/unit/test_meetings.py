"""The meeting rules without I/O: what the reconciler does next, invitees, declines, attendance, backoff;
and the Graph client's pure helpers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.domain.meetings import (
    MAX_INVITEES,
    AttendanceState,
    AttendanceSummary,
    Meeting,
    MeetingMode,
    Step,
    backoff,
    declined,
    desired_invitees,
    match_attendance,
)
from bot.domain.model import Person, PersonKey, Registration, RegistrationStatus, Session, SessionStatus
from bot.graph.client import join_block
from bot.graph.credentials import GraphNotConfigured, create_credential
from tests.fakegraph import JOIN_BLOCK

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
POLL = timedelta(minutes=15)
SESSION = Session(1, 1, 1, "Första", NOW + timedelta(days=7), NOW + timedelta(days=7, hours=2), NOW + timedelta(days=6),
                  status=SessionStatus.PUBLISHED)  # fmt: skip


def _meeting(**changes: object) -> Meeting:
    return replace(Meeting(1, MeetingMode.GRAPH, "tx", NOW), **changes)  # type: ignore[arg-type]


def _person(n: int, email: str | None = None) -> Person:
    return Person(n, PersonKey("t", f"aad-{n}"), f"Person {n}", email if email is not None else f"p{n}@example.org")


def _registration(n: int, status: RegistrationStatus, at: datetime = NOW) -> Registration:
    return Registration(n, 1, n, status, False, at, at)


@pytest.mark.parametrize(
    ("meeting", "session", "now", "step"),
    [
        (_meeting(), SESSION, NOW, Step.CREATE),
        (_meeting(), replace(SESSION, status=SessionStatus.DRAFT), NOW, None),
        (_meeting(mode=MeetingMode.MANUAL), SESSION, NOW, None),
        (_meeting(), SESSION, SESSION.ends_at, None),  # too late to create one
        (_meeting(event_id="e", details_version=2, details_synced=1, attendees_version=1), SESSION, NOW, Step.UPDATE),
        (_meeting(event_id="e", attendees_version=3, attendees_synced=2), SESSION, NOW, Step.ATTENDEES),
        (_meeting(event_id="e"), SESSION, NOW, Step.RESPONSES),
        (_meeting(event_id="e", responses_checked_at=NOW - timedelta(minutes=5)), SESSION, NOW, None),
        (_meeting(event_id="e", responses_checked_at=NOW - timedelta(minutes=15)), SESSION, NOW, Step.RESPONSES),
        (_meeting(event_id="e"), replace(SESSION, status=SessionStatus.CANCELLED), NOW, Step.CANCEL),
        (_meeting(event_id="e", cancelled=True), replace(SESSION, status=SessionStatus.CANCELLED), NOW, None),
        (_meeting(), replace(SESSION, status=SessionStatus.CANCELLED), NOW, None),  # nothing to cancel
        (_meeting(event_id="e"), SESSION, SESSION.ends_at + timedelta(minutes=5), None),  # no report yet
        (_meeting(event_id="e"), SESSION, SESSION.ends_at + timedelta(minutes=20), Step.ATTENDANCE),
        (_meeting(event_id="e", attendance=AttendanceState.DONE), SESSION, SESSION.ends_at + timedelta(hours=1), None),
    ],
)
def test_the_next_step(meeting: Meeting, session: Session, now: datetime, step: Step | None) -> None:
    assert meeting.next_step(session, now, POLL) == step


def test_when_to_look_again() -> None:
    polled = _meeting(event_id="e", responses_checked_at=NOW)
    assert polled.next_due(SESSION, NOW, POLL) == NOW + POLL
    near_end = SESSION.ends_at - timedelta(minutes=1)
    assert polled.next_due(SESSION, near_end, POLL) == near_end, "responses are due again"
    ended = replace(polled, responses_checked_at=SESSION.ends_at - timedelta(minutes=1))
    assert ended.next_due(SESSION, SESSION.ends_at, POLL) == SESSION.ends_at + timedelta(minutes=20)
    done = replace(ended, attendance=AttendanceState.DONE)
    assert done.next_due(SESSION, SESSION.ends_at + timedelta(hours=1), POLL) is None
    assert _meeting(mode=MeetingMode.MANUAL).next_due(SESSION, NOW, POLL) is None


def test_backoff_doubles_to_ten_minutes_and_honours_retry_after() -> None:
    assert [backoff(n, None, 1.0).total_seconds() for n in range(9)] == [5, 10, 20, 40, 80, 160, 320, 600, 600]
    assert backoff(0, None, 0.0).total_seconds() == 2.5, "jitter spreads retries down to half"
    assert backoff(0, 120.0, 0.5).total_seconds() == 120, "Retry-After is a floor"


def test_invitees_are_exactly_the_registered_with_an_address() -> None:
    entries = [
        (_person(1), _registration(1, RegistrationStatus.REGISTERED, NOW + timedelta(seconds=2))),
        (_person(2), _registration(2, RegistrationStatus.WAITLISTED)),
        (_person(3), _registration(3, RegistrationStatus.ABSENT)),
        (_person(4), _registration(4, RegistrationStatus.WITHDRAWN)),
        (_person(5, email=""), _registration(5, RegistrationStatus.REGISTERED)),
        (_person(6, email="P1@example.org"), _registration(6, RegistrationStatus.REGISTERED, NOW + timedelta(1))),
        (_person(7), _registration(7, RegistrationStatus.REGISTERED)),
    ]
    wanted = desired_invitees(entries)
    assert [p.id for p in wanted.invitees] == [7, 1], "first come first served, one per address"
    assert (wanted.left_out, wanted.without_email) == (0, 1)


def test_more_than_500_registered_leaves_the_last_out_of_the_invitation() -> None:
    entries = [(_person(n), _registration(n, RegistrationStatus.REGISTERED, NOW + timedelta(seconds=n)))
               for n in range(MAX_INVITEES + 7)]  # fmt: skip
    wanted = desired_invitees(entries)
    assert len(wanted.invitees) == MAX_INVITEES
    assert wanted.left_out == 7
    assert wanted.invitees[-1].id == MAX_INVITEES - 1


def test_a_decline_counts_only_if_newer_than_the_registration() -> None:
    registered_at = NOW
    entries = [
        (_person(1), _registration(1, RegistrationStatus.REGISTERED, registered_at)),
        (_person(2), _registration(2, RegistrationStatus.REGISTERED, registered_at)),
        (_person(3), _registration(3, RegistrationStatus.WAITLISTED, registered_at)),
        (_person(4), _registration(4, RegistrationStatus.REGISTERED, registered_at)),
    ]
    responses = [
        ("P1@EXAMPLE.ORG", "declined", NOW + timedelta(hours=1)),
        ("p2@example.org", "declined", NOW - timedelta(hours=1)),  # declined, then registered again
        ("p3@example.org", "declined", NOW + timedelta(hours=1)),  # not invited any more
        ("p4@example.org", "accepted", NOW + timedelta(hours=1)),
        ("stranger@example.org", "declined", None),
    ]
    assert [p.id for p, _ in declined(responses, entries)] == [1]
    assert [p.id for p, _ in declined([("p4@example.org", "declined", None)], entries)] == [4]


def test_attendance_is_matched_by_object_id_then_email() -> None:
    people = [_person(1), _person(2), _person(3)]
    records = match_attendance(
        [("AAD-1", "", "Person 1", 3000), ("", "P2@example.org", "Person 2", 60), ("x", "guest@example.net", "G", 9)],
        people,
    )
    assert [r.person_id for r in records] == [1, 2, None]
    summary = AttendanceSummary.of([1, 3], records)
    assert summary == AttendanceSummary(attended=1, no_show=1, unregistered=2)


def test_the_teams_join_block_is_found_in_an_event_body() -> None:
    join = JOIN_BLOCK.format(join="https://teams.microsoft.com/l/meetup-join/x")
    assert join_block("<p>Vår text</p>" + join) == join
    assert join_block("<p>Vår text</p>") == ""
    assert join_block("<p>____</p>") == "", "a short rule is ours, not Teams'"


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


async def test_the_credential_follows_the_settings(tmp_path: Path) -> None:
    from azure.identity.aio import CertificateCredential, ClientSecretCredential, ManagedIdentityCredential

    bot_identity = {"app_id": "11111111-1111-1111-1111-111111111111", "app_tenant_id": "tenant", "app_password": "s"}
    credential = create_credential(_settings(**bot_identity))
    assert isinstance(credential, ClientSecretCredential), "the bot's own app registration by default"
    await credential.close()
    credential = create_credential(_settings(graph_auth="managed_identity"))
    assert isinstance(credential, ManagedIdentityCredential)
    await credential.close()
    with pytest.raises(GraphNotConfigured, match="GRAPH_CERTIFICATE_PATH"):
        create_credential(_settings(**bot_identity, graph_auth="certificate"))
    with pytest.raises(GraphNotConfigured, match="GRAPH_CLIENT_SECRET"):
        create_credential(_settings(graph_client_id="c", graph_tenant_id="t"))
    pem = tmp_path / "graph.pem"
    pem.write_bytes(_self_signed_pem())
    credential = create_credential(_settings(**bot_identity, graph_auth="certificate", graph_certificate_path=str(pem)))
    assert isinstance(credential, CertificateCredential)
    await credential.close()


def _self_signed_pem() -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lartraff-test")])
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(NOW).not_valid_after(NOW + timedelta(days=1)).sign(key, hashes.SHA256())
    )  # fmt: skip
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())  # fmt: skip
    return private + cert.public_bytes(serialization.Encoding.PEM)


def test_attendees_from_other_tenants_are_matched_by_teams_id_then_by_a_name_only_one_registered_bears() -> None:
    people = [_person(1), _person(2)]
    namesakes = [replace(_person(5), name="Kim Berg"), replace(_person(6), name="Kim Berg")]
    registered = [*people, replace(_person(3), name="Åsa  Öberg"), replace(_person(4), name="Lars Ek"), *namesakes]
    records = match_attendance(
        [
            ("8:orgid:AAD-1", "", "Person 1", 3000),  # a Teams id: the object id inside
            ("", "", "åsa öberg", 1200),  # a federated attendee: name only, one registered bears it
            ("", "", "Kim Berg", 600),  # two registered bear it: nobody is guessed
            ("", "", "Lars Ek (Gäst)", 60),  # not the same name
        ],
        people,
        registered,
    )
    assert [(r.person_id, r.uncertain) for r in records] == [(1, False), (3, True), (None, False), (None, False)]
    assert records[0].aad_object_id == "aad-1"
