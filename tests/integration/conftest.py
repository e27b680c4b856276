from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from bot import telemetry
from bot.config import Settings
from bot.domain.model import Language
from bot.i18n import Catalogs
from bot.jobs.delivery import DeliverySettings, DeliveryWorker
from bot.storage.engine import Database
from bot.storage.uow import SqlUnitOfWorkFactory
from bot.teams.connector import BotConnector
from bot.web import create_app
from tests.conftest import FakeClock, seed_demo
from tests.fakegraph import FakeGraph
from tests.integration.harness import ALEX, Activities, BotClient, FakeConnector

ORGANISER_CHANNEL = "team-id"


@pytest.fixture
async def http() -> AsyncIterator[ClientSession]:
    async with ClientSession() as session:
        yield session


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    fake = FakeGraph()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
def worker(engine: Database, clock: FakeClock, http: ClientSession, settings: Settings) -> DeliveryWorker:
    return DeliveryWorker(
        SqlUnitOfWorkFactory(engine),
        BotConnector(settings, http),
        clock,
        Catalogs.load(),
        Language.SV,
        DeliverySettings(),
        jitter=lambda: 1.0,
    )


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()
    await fake.start()
    yield fake
    await fake.close()


async def start_bot(settings: Settings, clock: FakeClock, connector: FakeConnector) -> AsyncIterator[BotClient]:
    server = TestServer(create_app(settings, clock), host="127.0.0.1")
    await server.start_server()
    async with ClientSession() as http:
        yield BotClient(server, http, Activities(connector.url), connector)
    await server.close()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        app_id="",
        organiser_ids=ALEX.aad_object_id,
        organiser_channel_id=ORGANISER_CHANNEL,
        # Tests that deliver messages run the worker themselves, step by step.
        background_jobs=False,
    )


@pytest.fixture
async def bot(
    settings: Settings, clock: FakeClock, connector: FakeConnector, engine: Database
) -> AsyncIterator[BotClient]:
    await seed_demo(engine, clock.now())
    async for client in start_bot(settings, clock, connector):
        yield client


@dataclass
class Traced:
    """What telemetry exported during a test: spans as they ended, metrics when read."""

    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader

    def points(self, name: str) -> list[tuple[dict[str, Any], Any]]:
        """(attributes, value) of every data point of the metric `name`."""
        data = self.metrics.get_metrics_data()
        found = []
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        found += [(dict(p.attributes or {}), getattr(p, "value", getattr(p, "count", None)))
                                  for p in metric.data.data_points]  # fmt: skip
        return found


@pytest.fixture
def traced() -> Iterator[Traced]:
    spans, metrics = InMemorySpanExporter(), InMemoryMetricReader()
    telemetry.start([spans], [metrics], batched=False)
    yield Traced(spans, metrics)
    telemetry.stop()
