"""OpenTelemetry: a span per turn with child spans for the database, Teams and Graph; metrics an IT admin
can watch (turns by route and outcome, messages due and failed, throttling, meetings out of step).

Off unless OTEL_EXPORTER_OTLP_ENDPOINT or APPLICATIONINSIGHTS_CONNECTION_STRING is set; when off, nothing of
OpenTelemetry is imported and each call here is a check of one module variable. Attributes are what a turn
was (route, activity type, tenant, outcome), never a name, an e-mail address or typed text.
The SDK's providers are this module's own, not OpenTelemetry's global ones, so tests can set up their
own readers and a library's instrumentation can't mix its spans into ours by accident.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.storage.health import Backlog

AttributeValue = str | int | bool


@dataclass
class _Instruments:
    tracer: Any
    providers: tuple[Any, ...]
    turns: Any
    turn_seconds: Any
    messages_failed: Any
    message_lag: Any
    throttled: Any
    backlog: dict[str, int]


_on: _Instruments | None = None


@contextmanager
def span(name: str, attributes: Mapping[str, AttributeValue] | None = None) -> Iterator[None]:
    """A span, a child of the one open in this task; nothing when telemetry is off."""
    if _on is None:
        yield
        return
    with _on.tracer.start_as_current_span(name, attributes=dict(attributes or {})):
        yield


@contextmanager
def turn(activity_type: str, tenant: str) -> Iterator[dict[str, AttributeValue]]:
    """The span of one turn; the caller fills in `route` and `outcome` in the dict it gets."""
    result: dict[str, AttributeValue] = {}
    if _on is None:
        yield result
        return
    started = time.perf_counter()
    with _on.tracer.start_as_current_span(
        "turn", attributes={"activity.type": activity_type, "tenant.id": tenant}
    ) as current:
        try:
            yield result
        finally:
            current.set_attributes(result)
            labels = {"route": str(result.get("route", "")), "outcome": str(result.get("outcome", ""))}
            _on.turns.add(1, labels)
            _on.turn_seconds.record(time.perf_counter() - started, {"route": labels["route"]})


def begin(name: str) -> Any:
    """A span ended by `end`, for what opens and closes in two methods (a unit of work); None when off."""
    if _on is None:
        return None
    return _on.tracer.start_span(name)


def end(opened: Any, failed: bool = False) -> None:
    if opened is None:
        return
    if failed:
        from opentelemetry.trace import Status, StatusCode

        opened.set_status(Status(StatusCode.ERROR))
    opened.end()


def message_sent(kind: str, lag_seconds: float) -> None:
    """A message delivered, `lag_seconds` after it was due (a reminder's lag, a confirmation's delay)."""
    if _on is not None:
        _on.message_lag.record(max(lag_seconds, 0.0), {"kind": kind})


def message_failed(kind: str) -> None:
    if _on is not None:
        _on.messages_failed.add(1, {"kind": kind})


def throttled(service: str) -> None:
    """A 429 from Teams or Graph."""
    if _on is not None:
        _on.throttled.add(1, {"service": service})


def record_backlog(backlog: Backlog) -> None:
    """The figures /readyz gives, kept for the gauges (read when the metrics are collected)."""
    if _on is not None:
        _on.backlog.update(
            due=backlog.messages_due,
            oldest_due=backlog.oldest_message_seconds,
            out_of_step=backlog.meetings_out_of_step,
            oldest_change=backlog.oldest_change_seconds,
        )


def start(
    span_exporters: Sequence[Any], metric_readers: Sequence[Any], service_version: str = "", *, batched: bool = True
) -> None:
    """Sets telemetry up with these exporters and readers (the composition root's, or a test's). `batched`:
    spans go out in batches, off the event loop; a test's in-memory exporter wants each at once."""
    global _on
    from opentelemetry.metrics import CallbackOptions, Observation
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    resource = Resource.create({"service.name": "lartraff", "service.version": service_version or "0"})
    tracing = TracerProvider(resource=resource)
    for exporter in span_exporters:
        tracing.add_span_processor(BatchSpanProcessor(exporter) if batched else SimpleSpanProcessor(exporter))
    metering = MeterProvider(resource=resource, metric_readers=list(metric_readers))
    meter = metering.get_meter("lartraff")
    backlog: dict[str, int] = {"due": 0, "oldest_due": 0, "out_of_step": 0, "oldest_change": 0}

    def gauge(key: str) -> Any:
        def read(_: CallbackOptions) -> list[Observation]:
            return [Observation(backlog[key])]

        return read

    meter.create_observable_gauge("lartraff.outbox.due", [gauge("due")], description="messages due, not yet sent")
    meter.create_observable_gauge(
        "lartraff.outbox.oldest_due", [gauge("oldest_due")], unit="s", description="how long the oldest has waited"
    )
    meter.create_observable_gauge(
        "lartraff.meetings.out_of_step", [gauge("out_of_step")], description="meetings Graph has not caught up"
    )
    meter.create_observable_gauge(
        "lartraff.meetings.oldest_change", [gauge("oldest_change")], unit="s", description="the oldest untold change"
    )
    _on = _Instruments(
        tracer=tracing.get_tracer("lartraff"),
        providers=(tracing, metering),
        turns=meter.create_counter("lartraff.turns", description="turns by route and outcome"),
        turn_seconds=meter.create_histogram("lartraff.turn.duration", unit="s", description="a turn's time"),
        messages_failed=meter.create_counter("lartraff.messages.failed", description="messages given up on"),
        message_lag=meter.create_histogram(
            "lartraff.messages.lag", unit="s", description="from when a message was due to when it went"
        ),
        throttled=meter.create_counter("lartraff.throttled", description="429 answers by service"),
        backlog=backlog,
    )


def start_from_settings(otlp_endpoint: str, azure_monitor: str, service_version: str) -> bool:
    """OTLP when its endpoint is set, Azure Monitor when its connection string is; both may be."""
    if not otlp_endpoint and not azure_monitor:
        return False
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    spans: list[Any] = []
    readers: list[Any] = []
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        base = otlp_endpoint.rstrip("/")
        spans.append(OTLPSpanExporter(endpoint=f"{base}/v1/traces"))
        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=f"{base}/v1/metrics")))
    if azure_monitor:
        from azure.monitor.opentelemetry.exporter import AzureMonitorMetricExporter, AzureMonitorTraceExporter

        spans.append(AzureMonitorTraceExporter(connection_string=azure_monitor))
        readers.append(PeriodicExportingMetricReader(AzureMonitorMetricExporter(connection_string=azure_monitor)))
    start(spans, readers, service_version)
    return True


def stop() -> None:
    """Flushes what is buffered and turns telemetry off."""
    global _on
    if _on is None:
        return
    for provider in _on.providers:
        provider.shutdown()
    _on = None
