"""ProdGuardian's own spans and metrics, in one place, no-ops until telemetry is set up.

The runner, the receiver, the notifier and the outbox ask :func:`current` for the instruments
and use them unconditionally: before :func:`~prodguardian.telemetry.sdk.setup_telemetry` (or in a
plain ``prodguardian check`` run) they are the OpenTelemetry API's no-op implementations, so
instrumented code costs next to nothing and needs no ``if``.

The state gauges (store up, leader, incidents open, outbox backlog) are observable: whoever knows
a value reports it with :func:`set_store_up`, :func:`set_leader`, :func:`set_incidents_open` or
:func:`set_outbox_backlog` (module-level, so it survives a change of instruments), and each
collection (a scrape of ``/metrics``, an OTLP export) reads the latest. A gauge nobody has set yet
is not exported at all, rather than as a made-up 0.

Names (attribute keys use the same ``prodguardian.`` prefix):

=================================  =========  ==============================================
``prodguardian.check.duration``    histogram  seconds per check run (name, kind, status)
``prodguardian.check.status``      gauge      last status of a check: 0 OK, 1 DEGRADED,
                                              2 CRITICAL, 3 UNKNOWN (the exit-code scale)
``prodguardian.runs``              counter    runs, by overall status
``prodguardian.store.up``          gauge      1 while the state store answers, 0 while not
``prodguardian.leader``            gauge      1 while this process is the leader, 0 if not
``prodguardian.incidents.open``    gauge      incidents currently open
``prodguardian.followups.pending`` gauge      follow-ups scheduled and not done
``prodguardian.outbox.backlog``    gauge      messages waiting in the outbox (not yet sent)
``prodguardian.store.reconnects``  counter    times the state store reconnected
``prodguardian.leader``            gauge      1 while this replica leads (schedules, sends)
``prodguardian.leader.term``       gauge      its leadership term (the current one if not)
``prodguardian.leader.since``      gauge      when it started or stopped leading (Unix s)
``prodguardian.receiver.spans``    counter    spans received on /v1/traces, by outcome
``prodguardian.receiver.refused``  counter    requests to /v1/traces refused, by status
=================================  =========  ==============================================
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from opentelemetry import metrics, trace
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.trace import Span, StatusCode

from prodguardian.result import CheckRun
from prodguardian.status import Status, overall_status

SCOPE = "prodguardian"
CHECK_NAME = "prodguardian.check.name"
CHECK_KIND = "prodguardian.check.kind"
CHECK_STATUS = "prodguardian.check.status"
RUN_STATUS = "prodguardian.run.status"
RUN_CHECKS = "prodguardian.run.checks"

#: Check durations are mostly sub-second probes, up to timeouts of a minute or so.
_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


@dataclass
class _Levels:
    """The latest reported values of the state gauges (None: not reported yet)."""

    store_up: bool | None = None
    leader: bool | None = None
    incidents_open: int | None = None
    outbox_backlog: int | None = None


_levels = _Levels()

#: The observable gauges: name, unit, description, and where the latest value is read.
_STATE_GAUGES: tuple[tuple[str, str, str, Callable[[], bool | int | None]], ...] = (
    (
        "prodguardian.store.up",
        "",
        "1 while the state store answers, 0 while it does not",
        lambda: _levels.store_up,
    ),
    (
        "prodguardian.leader",
        "",
        "1 while this process is the leader, 0 while it is not",
        lambda: _levels.leader,
    ),
    ("prodguardian.incidents.open", "{incident}", "Incidents open", lambda: _levels.incidents_open),
    (
        "prodguardian.outbox.backlog",
        "{message}",
        "Messages waiting in the outbox, not yet sent",
        lambda: _levels.outbox_backlog,
    ),
)


def _count(what: str, count: int) -> int:
    if isinstance(count, bool) or count < 0:
        raise ValueError(f"{what} must be a whole number >= 0, got {count!r}")
    return count


def _observe(
    read: Callable[[], bool | int | None],
) -> Callable[[CallbackOptions], Iterable[Observation]]:
    def callback(_options: CallbackOptions) -> Iterable[Observation]:
        value = read()
        return [] if value is None else [Observation(int(value))]

    return callback


class Instruments:
    """The tracer and metric instruments of one set of providers."""

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        tracer_provider = tracer_provider or trace.NoOpTracerProvider()
        meter_provider = meter_provider or metrics.NoOpMeterProvider()
        self.tracer = tracer_provider.get_tracer(SCOPE)
        meter = meter_provider.get_meter(SCOPE)
        self.check_duration = meter.create_histogram(
            "prodguardian.check.duration",
            unit="s",
            description="How long each check took",
            explicit_bucket_boundaries_advisory=list(_DURATION_BUCKETS),
        )
        self.check_status = meter.create_gauge(
            "prodguardian.check.status",
            description="Last status of each check: 0 OK, 1 DEGRADED, 2 CRITICAL, 3 UNKNOWN",
        )
        self.runs = meter.create_counter(
            "prodguardian.runs", unit="{run}", description="Runs of checks, by overall status"
        )
        for name, unit, description, read in _STATE_GAUGES:
            meter.create_observable_gauge(
                name, callbacks=[_observe(read)], unit=unit, description=description
            )
        self.followups_pending = meter.create_gauge(
            "prodguardian.followups.pending",
            unit="{follow_up}",
            description="Follow-ups scheduled and not yet done",
        )
        self.store_reconnects = meter.create_counter(
            "prodguardian.store.reconnects",
            unit="{reconnect}",
            description="Times the state store reconnected after losing its connection",
        )
        self.leader = meter.create_gauge(
            "prodguardian.leader",
            description="1 while this replica leads (runs the schedule and the sender), else 0",
        )
        self.leader_term = meter.create_gauge(
            "prodguardian.leader.term",
            description="The leadership term this replica holds (or the current one if it follows)",
        )
        self.leader_since = meter.create_gauge(
            "prodguardian.leader.since",
            unit="s",
            description="Unix time at which this replica started or stopped leading",
        )
        self.spans_received = meter.create_counter(
            "prodguardian.receiver.spans",
            unit="{span}",
            description="Spans received on /v1/traces: accepted, or rejected by the store",
        )
        self.requests_refused = meter.create_counter(
            "prodguardian.receiver.refused",
            unit="{request}",
            description="Requests to /v1/traces refused whole (4xx), by HTTP status",
        )

    @contextmanager
    def run_span(self, *, checks: int) -> Iterator[Span]:
        """The span of one run of checks; the check spans are its children."""
        with self.tracer.start_as_current_span(
            "prodguardian.run", attributes={RUN_CHECKS: checks}
        ) as span:
            yield span

    def record_run(self, span: Span, runs: Sequence[CheckRun]) -> None:
        """Close a run: its overall status on the span and in the runs counter."""
        status = overall_status(r.status for r in runs)
        span.set_attribute(RUN_STATUS, status.value)
        self.runs.add(1, {RUN_STATUS: status.value})

    @contextmanager
    def check_span(self, name: str, kind: str) -> Iterator[Span]:
        """The span of one check; what the check does (HTTP calls...) nests under it."""
        with self.tracer.start_as_current_span(
            f"check {name}", attributes={CHECK_NAME: name, CHECK_KIND: kind}
        ) as span:
            yield span

    def record_check(self, span: Span, run: CheckRun) -> None:
        """A finished check: status on its span, duration and status in the metrics."""
        status = run.status
        span.set_attribute(CHECK_STATUS, status.value)
        if status is Status.UNKNOWN:
            span.set_status(StatusCode.ERROR, run.result.summary[:200])
        self.check_duration.record(
            run.duration_s, {CHECK_NAME: run.name, CHECK_KIND: run.kind, CHECK_STATUS: status.value}
        )
        self.check_status.set(status.exit_code, {CHECK_NAME: run.name, CHECK_KIND: run.kind})

    @contextmanager
    def notification_span(self, *, channel: str, kind: str) -> Iterator[Span]:
        """The span of rendering and queueing one notification (Slack message, update...)."""
        with self.tracer.start_as_current_span(
            "prodguardian.notify",
            attributes={"prodguardian.notify.channel": channel, "prodguardian.notify.kind": kind},
        ) as span:
            yield span

    @contextmanager
    def outbox_delivery_span(self, *, destination: str, attempt: int) -> Iterator[Span]:
        """The span of one delivery attempt of an outbox message."""
        with self.tracer.start_as_current_span(
            "prodguardian.outbox.deliver",
            attributes={
                "prodguardian.outbox.destination": destination,
                "prodguardian.outbox.attempt": attempt,
            },
        ) as span:
            yield span


_current = Instruments()


def current() -> Instruments:
    """The instruments in use: no-ops until telemetry is set up."""
    return _current


def install(instruments: Instruments) -> Instruments:
    """Make ``instruments`` current; returns the previous ones (tests put them back)."""
    global _current
    previous, _current = _current, instruments
    return previous


def set_store_up(up: bool) -> None:
    """Report whether the state store answers (``prodguardian_store_up`` 1 or 0)."""
    _levels.store_up = up


def set_leader(leader: bool) -> None:
    """Report whether this process is the leader (``prodguardian_leader`` 1 or 0)."""
    _levels.leader = leader


def set_incidents_open(count: int) -> None:
    """Report how many incidents are open (``prodguardian_incidents_open``)."""
    _levels.incidents_open = _count("incidents open", count)


def set_outbox_backlog(count: int) -> None:
    """Report how many outbox messages are not sent yet (``prodguardian_outbox_backlog``)."""
    _levels.outbox_backlog = _count("outbox backlog", count)


def clear_levels() -> None:
    """Forget every reported value: the state gauges are not exported until set again."""
    _levels.store_up = _levels.leader = None
    _levels.incidents_open = _levels.outbox_backlog = None
