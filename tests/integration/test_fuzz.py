"""Property-based fuzzing of the HTTP edge: thousands of the real Teams activities in tests/fixtures, mutated
by Hypothesis (fields replaced by other types, removed, made huge or nested; card data and verbs drawn from
what the bot knows), all posted, authenticated as Teams would. None may get a 5xx, and whatever they did,
the database keeps its rules: no registration for a draft or cancelled session or after its deadline,
never more registered than seats, one row per session and person."""

from __future__ import annotations

import asyncio
import copy
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.domain.model import SessionStatus
from bot.router import COMMANDS, ROUTES
from bot.storage import tables
from bot.storage.engine import Database
from bot.storage.uow import SqlUnitOfWork
from cards import verbs
from tests.conftest import FakeClock
from tests.integration.harness import BotClient, fixture, session_ids

ACTIVITIES = 2000
FIXTURES = [
    "personal-message",
    "personal-message-submit",
    "personal-invoke-adaptiveCard-action",
    "personal-invoke-adaptiveCard-action",
    "personal-installationUpdate",
    "channel-message",
    "channel-invoke-adaptiveCard-action",
    "channel-installationUpdate",
]
# Enough people that Teams' limit of messages per conversation (which the bot keeps, replies included)
# does not make the run wait; few enough that they meet in the same sessions and seats.
USERS = [f"fuzz-{n}" for n in range(400)]
FRESH = "fresh-activity-id"

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.text(min_size=250, max_size=400),
    st.sampled_from(["", " ", "0", "-1", "999999999999", "null", "<at>Test Bot</at>", "'; DROP TABLE people;--"]),
)
json_value = st.recursive(
    json_leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip


def _paths(node: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            found.append((*prefix, key))
            found.extend(_paths(value, (*prefix, key)))
    return found


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = [value]
    return value


@st.composite
def activities(draw: st.DrawFn, service_url: str, ids: list[int]) -> dict[str, Any]:
    """A quarter are a participant's clean click (register, can't come, withdraw) in their 1:1 chat, so that
    seats, waiting lists and deadlines are put to the test; the rest are mutated every which way."""
    if draw(st.integers(min_value=0, max_value=3)) == 0:
        return _clean(draw, service_url, ids)
    activity = copy.deepcopy(fixture(draw(st.sampled_from(FIXTURES))))
    user = draw(st.sampled_from(USERS))
    activity["id"] = FRESH  # a delivery of its own, not a retry of the fixture's (unless a mutation says so)
    activity["serviceUrl"] = service_url
    activity["from"] = {"id": user, "name": user, "aadObjectId": user}
    activity["conversation"]["id"] = f"{activity['conversation'].get('conversationType', 'personal')}-{user}"
    # Registrations and absences drawn often, with fields that make sense as often as not: the rules
    # below are only put to the test where something gets through.
    verb = draw(st.sampled_from([*ROUTES, "no.such.verb", *[verbs.REGISTER] * 12, verbs.ABSENCE, verbs.WITHDRAW]))
    sensible = {"session": st.sampled_from(ids), verbs.ORGANISATION: st.sampled_from(["Luleå kommun", "Piteå kommun"]),
                verbs.ROLE: st.just("Lärare"), verbs.NUMBER: st.sampled_from(range(1, 10))}  # fmt: skip
    data: dict[str, Any] = {"verb": verb}
    for key in ("session", verbs.NUMBER, verbs.ORGANISATION, verbs.ROLE, verbs.REASON, verbs.TEXT, "page"):
        if draw(st.integers(min_value=0, max_value=9)) < 8:
            sane = sensible.get(key, json_leaf)
            data[key] = draw(st.one_of(sane, sane, sane, json_value))
    if activity.get("type") == "invoke":
        activity["value"] = {"action": {"type": "Action.Execute", "verb": verb, "data": data}}
    elif "value" in activity:
        activity["value"] = data
    elif activity.get("type") == "message":
        command = draw(st.sampled_from(sorted(COMMANDS)))
        activity["text"] = f"{command} {draw(st.sampled_from([*ids, 0, -3]))} {draw(st.text(max_size=30))}"
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        path = draw(st.sampled_from(_paths(activity)))
        parent: Any = activity
        for key in path[:-1]:
            parent = parent[key]
        mutation = draw(st.sampled_from(["replace", "remove", "huge", "deep"]))
        if mutation == "remove":
            parent.pop(path[-1], None)
        elif mutation == "huge":
            parent[path[-1]] = "x" * draw(st.sampled_from([65, 201, 501, 5000]))
        elif mutation == "deep":
            parent[path[-1]] = _nested(draw(st.sampled_from([31, 40, 300])))
        else:
            parent[path[-1]] = draw(json_value)
    return activity


def _clean(draw: st.DrawFn, service_url: str, ids: list[int]) -> dict[str, Any]:
    user = draw(st.sampled_from(USERS))
    verb = draw(st.sampled_from([verbs.REGISTER, verbs.REGISTER, verbs.REGISTER, verbs.ABSENCE, verbs.WITHDRAW]))
    data = {"verb": verb, "session": draw(st.sampled_from(ids)), verbs.ORGANISATION: "Luleå kommun",
            verbs.ROLE: "Lärare", verbs.REASON: draw(st.text(max_size=20))}  # fmt: skip
    activity = copy.deepcopy(fixture("personal-invoke-adaptiveCard-action"))
    activity.update(id=FRESH, serviceUrl=service_url, value={"action": {"type": "Action.Execute", "verb": verb,
                                                                          "data": data}})  # fmt: skip
    activity["from"] = {"id": user, "name": user, "aadObjectId": user}
    activity["conversation"]["id"] = f"personal-{user}"
    return activity


async def _prepare_sessions(engine: Database, clock: FakeClock) -> list[int]:
    """Session 1 with three seats, 2 cancelled, 3 a draft (as in the demo), 4 past its deadline."""
    numbers = await session_ids(engine)
    async with SqlUnitOfWork(engine) as uow:
        for number, change in ((1, {"capacity": 3}),
                               (2, {"status": SessionStatus.CANCELLED, "cancel_reason": "Fuzz"}),
                               (4, {"status": SessionStatus.PUBLISHED,
                                    "registration_deadline": clock.now() - timedelta(days=1)})):  # fmt: skip
            session = await uow.sessions.get(numbers[number])
            assert session is not None
            await uow.sessions.update(replace(session, **change), clock.now())
        await uow.commit()
    return list(numbers.values())


async def test_mutated_activities_never_get_a_5xx_and_keep_the_rules(
    bot: BotClient, engine: Database, clock: FakeClock
) -> None:
    ids = await _prepare_sessions(engine, clock)
    drawn: list[dict[str, Any]] = []

    @settings(max_examples=ACTIVITIES, database=None, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(activities(bot.connector.url, ids))
    def collect(activity: dict[str, Any]) -> None:
        if activity.get("id") == FRESH:
            activity["id"] = str(uuid.uuid4())
        drawn.append(activity)

    collect()
    assert len(drawn) >= ACTIVITIES
    gate = asyncio.Semaphore(8)
    failures: list[tuple[int, dict[str, Any]]] = []

    async def post(activity: dict[str, Any]) -> int:
        async with gate, bot.http.post(bot.url, json=activity) as response:
            await response.read()
            if response.status >= 500:
                failures.append((response.status, activity))
            return response.status

    statuses = await asyncio.gather(*(post(a) for a in drawn))
    assert failures[:1] == []
    assert {200, 400} & set(statuses), "the activities reached the bot"
    await _the_rules_hold(engine, clock)


async def _the_rules_hold(engine: Database, clock: FakeClock) -> None:
    r, s = tables.registrations, tables.sessions
    active = r.c.status.in_(["registered", "waitlisted"])
    async with engine.connect() as conn:
        wrong = await conn.execute(
            select(func.count()).select_from(r.join(s, s.c.id == r.c.session_id))
            .where(active, s.c.status.in_(["draft", "cancelled"]))
        )  # fmt: skip
        assert wrong.scalar_one() == 0, "registrations for a draft or cancelled session"
        late = await conn.execute(
            select(func.count()).select_from(r.join(s, s.c.id == r.c.session_id))
            .where(active, r.c.created_at > s.c.registration_deadline,
                   r.c.status_changed_at > s.c.registration_deadline)
        )  # fmt: skip
        assert late.scalar_one() == 0, "registrations after the deadline"
        seats = await conn.execute(
            select(s.c.id, s.c.capacity, func.count(r.c.id)).join(r, r.c.session_id == s.c.id)
            .where(r.c.status == "registered", s.c.capacity.is_not(None)).group_by(s.c.id, s.c.capacity)
        )  # fmt: skip
        for session_id, capacity, registered in map(tuple, seats):
            assert registered <= capacity, f"session {session_id}: {registered} registered for {capacity} seats"
        twice = await conn.execute(
            select(func.count()).select_from(
                select(r.c.session_id, r.c.person_id).group_by(r.c.session_id, r.c.person_id)
                .having(func.count() > 1).subquery()
            )
        )  # fmt: skip
        assert twice.scalar_one() == 0, "two registrations for one person and session"
        touched = await conn.execute(select(func.count()).select_from(r))
        assert touched.scalar_one() > 0, "the fuzzing got registrations through at all"
