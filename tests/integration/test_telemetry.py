"""OpenTelemetry, read with in-memory exporters: a turn's span with its database and Teams children, the
metrics an admin watches, and no attribute that names a person or holds what they typed."""

from __future__ import annotations

from typing import Any

from bot.jobs.delivery import DeliveryWorker
from bot.storage.engine import Database
from cards import verbs
from tests.integration.conftest import Traced
from tests.integration.harness import MEGAN, TENANT, BotClient, all_text, numbered_user, session_ids

ROLE = "Utvecklingsstrateg på Kiruna"  # typed by the person: must appear in no span


def _attribute_values(traced: Traced) -> list[str]:
    return [str(v) for s in traced.spans.get_finished_spans() for v in (s.attributes or {}).values()]


async def test_a_registration_is_one_turn_span_with_database_and_teams_children(
    bot: BotClient, engine: Database, traced: Traced
) -> None:
    session_id = (await session_ids(engine))[1]
    profile = {verbs.ORGANISATION: "Kiruna kommun", verbs.ROLE: ROLE}
    card = await bot.click(verbs.REGISTER, {"session": session_id, **profile}, MEGAN)
    assert "Du är anmäld" in all_text(card)
    spans = traced.spans.get_finished_spans()
    (turn,) = [s for s in spans if s.name == "turn"]
    assert dict(turn.attributes or {}) == {
        "activity.type": "invoke", "tenant.id": TENANT, "route": verbs.REGISTER, "outcome": "200"
    }  # fmt: skip
    children = {s.name for s in spans if s.parent is not None and s.parent.span_id == turn.context.span_id}
    assert {"database", "teams"} <= children, "the transaction, and the look-up of the e-mail address at Teams"
    lookup = next(s for s in spans if s.name == "teams")
    assert (lookup.attributes or {})["teams.operation"] == "members"

    turns = traced.points("lartraff.turns")
    assert ({"route": verbs.REGISTER, "outcome": "200"}, 1) in turns
    values = " ".join(_attribute_values(traced))
    for private in (MEGAN.name, ROLE, MEGAN.aad_object_id, "@example"):
        assert private not in values


async def test_a_fan_out_shows_its_sends_and_the_messages_given_up_on(
    bot: BotClient, engine: Database, worker: DeliveryWorker, traced: Traced
) -> None:
    session_id = (await session_ids(engine))[2]
    for user in (MEGAN, numbered_user(1)):
        profile = {verbs.ORGANISATION: "Kiruna kommun", verbs.ROLE: ROLE}
        await bot.click(verbs.REGISTER, {"session": session_id, **profile}, user)
    bot.connector.scripted[f"personal-{MEGAN.id}"] = [403]  # the app removed: the confirmation is given up
    while await worker.run_once():
        pass
    await bot.say_in_channel("meddela 2 Välkomna, ta med en kollega!")
    while await worker.run_once():
        pass
    sends = [s for s in traced.spans.get_finished_spans() if s.name == "teams"]
    assert any((s.attributes or {}).get("teams.operation") == "activities" for s in sends)
    failed: list[tuple[dict[str, Any], Any]] = traced.points("lartraff.messages.failed")
    assert ({"kind": "confirmation"}, 1) in failed
    lag = traced.points("lartraff.messages.lag")
    assert ({"kind": "organiser_message"}, 1) in lag, "sent to the one who can be reached, its lag recorded"
    assert "Välkomna" not in " ".join(_attribute_values(traced)), "an organiser's text is no attribute"


async def test_the_backlog_gauges_follow_readiness(bot: BotClient, traced: Traced) -> None:
    async with bot.http.get(bot.server.make_url("/readyz")) as response:
        assert response.status == 200
    assert traced.points("lartraff.outbox.due") == [({}, 0)]
    assert traced.points("lartraff.meetings.out_of_step") == [({}, 0)]
