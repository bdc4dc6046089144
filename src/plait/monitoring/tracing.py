"""OpenTelemetry spans: one per run and one per step attempt, carrying run and step ids.

Optional: `tracing_listener()` returns None unless the `opentelemetry` API is
installed and a tracer provider has been configured, so runs pay nothing otherwise.
"""

from __future__ import annotations

from typing import Any

from plait import events


def tracing_listener(tracer_provider: Any = None) -> TracingListener | None:
    """A listener that traces runs, or None when OpenTelemetry is absent or unconfigured."""
    try:
        from opentelemetry import trace
    except ImportError:
        return None
    provider = tracer_provider or trace.get_tracer_provider()
    if type(provider).__name__ in ("ProxyTracerProvider", "NoOpTracerProvider"):
        return None  # nobody set up an exporter: spans would go nowhere
    return TracingListener(provider)


class TracingListener:
    """Maps plait's events onto spans: a run span with a child span per attempt."""

    def __init__(self, provider: Any) -> None:
        from opentelemetry import trace

        self._trace = trace
        self._tracer = provider.get_tracer("plait")
        self._runs: dict[str, Any] = {}
        self._attempts: dict[tuple[str, str], Any] = {}

    def on_event(self, event: events.Event) -> None:
        trace = self._trace
        if isinstance(event, events.RunStarted):
            span = self._tracer.start_span(
                f"run {event.workflow_id}",
                start_time=_ns(event.at),
                attributes={"plait.run_id": event.run_id, "plait.workflow_id": event.workflow_id},
            )
            self._runs[event.run_id] = span
        elif isinstance(event, events.StepStarted):
            parent = self._runs.get(event.run_id)
            context = trace.set_span_in_context(parent) if parent is not None else None
            span = self._tracer.start_span(
                f"step {event.step_id}",
                context=context,
                start_time=_ns(event.at),
                attributes={
                    "plait.run_id": event.run_id,
                    "plait.step_id": event.step_id,
                    "plait.attempt": event.attempt,
                },
            )
            self._attempts[(event.run_id, event.step_id)] = span
        elif isinstance(event, events.StepRetrying):
            self._end_attempt(event.run_id, event.step_id, event.at, "retrying", event.error)
        elif isinstance(event, events.StepFinished):
            self._end_attempt(
                event.run_id, event.step_id, event.at, event.status.value, event.error
            )
        elif isinstance(event, events.RunFinished):
            span = self._runs.pop(event.run_id, None)
            if span is not None:
                span.set_attribute("plait.status", event.status.value)
                if event.error is not None:
                    span.set_status(trace.Status(trace.StatusCode.ERROR, str(event.error)))
                span.end(end_time=_ns(event.at))

    def _end_attempt(
        self, run_id: str, step_id: str, at: float, outcome: str, error: BaseException | None
    ) -> None:
        span = self._attempts.pop((run_id, step_id), None)
        if span is None:
            return
        span.set_attribute("plait.outcome", outcome)
        if error is not None:
            cause = error.__cause__ or error
            span.record_exception(cause)
            span.set_status(
                self._trace.Status(self._trace.StatusCode.ERROR, f"{type(cause).__name__}: {cause}")
            )
        span.end(end_time=_ns(at))


def _ns(seconds: float) -> int:
    return int(seconds * 1_000_000_000)
