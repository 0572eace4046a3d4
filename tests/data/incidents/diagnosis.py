"""Datasets for the five diagnosis situations of issue 12, with knobs for their variants.

``python -m tests.data.incidents.diagnosis`` (from the repository root) rewrites the
``diagnosis-*.jsonl`` files, seeded, so the output is the same every time. The tests build
variants (other figures, revision names, timings) from the same functions.

1. ``hotfix_minutes``: the old revision's errors fill the hour; the fixed one is clean so far.
2. ``seconds_after``: a deploy seconds old: the new revision has served little, some errors.
3. ``refused``: HTTP 429s and Cloud Run's 503 "no available instance".
4. ``cannot_start``: a revision that never starts, then 503s on every route.
5. ``cold_starts``: 500s within seconds of ``Starting new instance`` on that instance.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from tests.data.incidents.generate import (
    DEPLOY,
    NOW,
    SITE,
    Entry,
    Writer,
    db_traceback,
    spread,
    write_dataset,
)

STARTUP_PROBE = (
    'Default STARTUP TCP probe failed 1 time consecutively for container "{container}" on port '
    "8080. The instance was not started."
)
EXIT = "Container called exit({code})."
NOT_READY = (
    "Revision '{revision}' is not ready and cannot serve traffic. The user-provided container "
    "failed to start and listen on the port defined provided by the PORT=8080 environment "
    "variable. Logs for this revision might contain more information."
)
NO_INSTANCE = (
    "The request was aborted because there was no available instance. Additional "
    "troubleshooting documentation can be found at: "
    "https://cloud.google.com/run/docs/troubleshooting#abort-request"
)
AUTOSCALING = (
    "Starting new instance. Reason: AUTOSCALING - Instance started due to configured scaling "
    "factors (e.g. CPU utilization, request throughput, etc.) or no existing capacity for "
    "current traffic."
)


def ordered(entries: list[Entry]) -> list[Entry]:
    return sorted(entries, key=lambda e: str(e["timestamp"]))


def hotfix_minutes(
    w: Writer,
    *,
    old: str = "emergence-app-00041-rok",
    new: str = "emergence-app-00042-fix",
    deploy: datetime = DEPLOY,
    old_entries: int = 70,
    old_errors: int = 8,
    new_entries: int = 15,
    new_errors: int = 0,
    new_error: str = "KeyError: 'user_{n}'",
    old_until: datetime | None = None,
) -> list[Entry]:
    """The database incident's hour on ``old`` up to ``deploy`` (or ``old_until``: a rollout
    that leaves it part of the traffic); ``new`` serves from ``deploy`` on, with ``new_errors``
    errors of its own (``new_error``, not the database) among its entries."""
    until = old_until if old_until is not None else deploy - timedelta(seconds=20)
    stamps = spread(NOW - timedelta(minutes=59, seconds=30), until, old_entries, w.rng)
    bad = set(w.rng.sample(range(old_entries), old_errors))
    out = [
        w.text(ts, old, db_traceback(w.rng), "ERROR") if i in bad else w.background(ts, old)
        for i, ts in enumerate(stamps)
    ]
    if new_entries:
        after = spread(
            deploy + timedelta(seconds=3), NOW - timedelta(seconds=2), new_entries, w.rng
        )
        failing = set(w.rng.sample(range(new_entries), new_errors))
        for i, ts in enumerate(after):
            if i in failing:
                text = (
                    "Traceback (most recent call last):\n"
                    '  File "/app/backend/features/threads/router.py", line 88, in list_threads\n'
                    "    owner = users[user_id]\n" + new_error.format(n=w.rng.randint(10, 99))
                )
                out.append(w.text(ts, new, text, "ERROR"))
            else:
                out.append(w.background(ts, new))
    return ordered(out)


def seconds_after(w: Writer, **knobs: object) -> list[Entry]:
    """A deploy 40 s old: the new revision answered 3 requests, 1 of them with an error."""
    defaults: dict[str, object] = {
        "deploy": NOW - timedelta(seconds=40),
        "new_entries": 3,
        "new_errors": 1,
    }
    return hotfix_minutes(w, **{**defaults, **knobs})  # type: ignore[arg-type]


def refused(
    w: Writer,
    *,
    revision: str = "emergence-app-00053-rfs",
    minutes: float = 30,
    entries: int = 200,
    throttled: int = 12,
    no_instance: int = 6,
    no_instance_status: int = 503,
) -> list[Entry]:
    """``throttled`` 429s (health route and static files) and ``no_instance`` Cloud Run
    refusals among ``entries`` entries."""
    stamps = spread(NOW - timedelta(minutes=minutes), NOW - timedelta(seconds=3), entries, w.rng)
    picks = w.rng.sample(range(entries), throttled + no_instance)
    kinds = {i: "429" for i in picks[:throttled]} | {i: "none" for i in picks[throttled:]}
    out: list[Entry] = []
    for i, ts in enumerate(stamps):
        kind = kinds.get(i)
        if kind == "429":
            path = w.rng.choice(["/api/health", f"/assets/vendor-{w.rng.randrange(16**8):08x}.js"])
            out.append(w.request(ts, revision, "GET", path, 429))
        elif kind == "none":
            path = w.rng.choice(["/api/threads", "/api/chat/message", "/"])
            method = "POST" if "chat" in path else "GET"
            out.append(w.request(ts, revision, method, path, no_instance_status, NO_INSTANCE))
        else:
            out.append(w.background(ts, revision))
    return out


def startup_failure(
    w: Writer, ts: datetime, revision: str, module: str, *, not_ready: bool
) -> list[Entry]:
    """One failed start of ``revision``: the import error, exit(1), the failed startup probe,
    and (``not_ready``) Cloud Run giving up on the revision."""
    instance = f"00bad{w.rng.randrange(16**10):010x}"
    traceback = (
        "Traceback (most recent call last):\n"
        f'  File "{SITE}/uvicorn/importer.py", line 19, in import_from_string\n'
        "    module = importlib.import_module(module_str)\n"
        '  File "/usr/local/lib/python3.11/importlib/__init__.py", line 126, in import_module\n'
        "    return _bootstrap._gcd_import(name[level:], package, level)\n"
        f'  File "/app/main.py", line {w.rng.choice([3, 4, 7])}, in <module>\n'
        f"    from {module}.core.app import create_app\n"
        f"ModuleNotFoundError: No module named '{module}'"
    )
    out = [
        w.text(ts, revision, traceback, "ERROR", instance=instance),
        w.text(
            ts + timedelta(milliseconds=400),
            revision,
            EXIT.format(code=1),
            "WARNING",
            log="varlog%2Fsystem",
            instance=instance,
        ),
        w.text(
            ts + timedelta(seconds=2),
            revision,
            STARTUP_PROBE.format(container=revision.rsplit("-", 2)[0] + "-1"),
            "ERROR",
            log="varlog%2Fsystem",
            instance=instance,
        ),
    ]
    if not_ready:
        out.append(
            w.text(
                ts + timedelta(seconds=9),
                revision,
                NOT_READY.format(revision=revision),
                "ERROR",
                log="varlog%2Fsystem",
            )
        )
    return out


def cannot_start(
    w: Writer,
    *,
    good: str = "emergence-app-00048-ok1",
    bad: str = "emergence-app-00049-pyp",
    module: str = "backend",
    broke_at: datetime = NOW - timedelta(minutes=11),
    attempts: int = 3,
    unavailable: int = 40,
    not_ready: bool = True,
) -> list[Entry]:
    """``good`` serves until ``broke_at``; ``bad`` fails to start ``attempts`` times, then
    every route answers 503 (static files included) until now."""
    out = [
        w.background(ts, good)
        for ts in spread(NOW - timedelta(minutes=59), broke_at - timedelta(seconds=30), 60, w.rng)
    ]
    tries = spread(broke_at, broke_at + timedelta(seconds=50), attempts, w.rng)
    for ts in tries:
        out += startup_failure(w, ts, bad, module, not_ready=not_ready)
    routes = [
        ("GET", "/api/health"),
        ("GET", "/healthz"),
        ("GET", "/api/threads"),
        ("POST", "/api/chat/message"),
        ("GET", "/static/js/main.{hex}.js"),
        ("GET", "/static/css/app.{hex}.css"),
        ("GET", "/assets/index-{hex}.js"),
    ]
    for ts in spread(
        tries[-1] + timedelta(seconds=15), NOW - timedelta(seconds=3), unavailable, w.rng
    ):
        method, path = w.rng.choice(routes)
        path = path.format(hex=f"{w.rng.randrange(16**8):08x}")
        out.append(w.request(ts, bad, method, path, 503))
    return ordered(out)


def cold_starts(
    w: Writer,
    *,
    revision: str = "emergence-app-00054-asc",
    background: int = 240,
    starts: Sequence[float] = (50, 31, 12),
    errors_per_start: int = 3,
    delay: tuple[float, float] = (0.5, 4.5),
    other_instance: bool = False,
    stray: int = 0,
) -> list[Entry]:
    """``background`` entries over the hour; an AUTOSCALING start ``starts`` minutes ago each,
    followed by ``errors_per_start`` 500s ``delay`` seconds later on that instance (on another
    instance with ``other_instance``), and ``stray`` 500s far from any start."""
    out = [
        w.background(ts, revision)
        for ts in spread(NOW - timedelta(minutes=59), NOW - timedelta(seconds=5), background, w.rng)
    ]
    for minutes_ago in starts:
        boot = NOW - timedelta(minutes=minutes_ago)
        instance = f"00c01d{w.rng.randrange(16**10):010x}"
        served_by = f"00beef{w.rng.randrange(16**10):010x}" if other_instance else instance
        out.append(
            w.text(boot, revision, AUTOSCALING, "INFO", log="varlog%2Fsystem", instance=instance)
        )
        out.append(
            w.text(
                boot + timedelta(milliseconds=900),
                revision,
                "INFO:     Waiting for application startup.",
                "INFO",
                log="stdout",
                instance=instance,
            )
        )
        lo, hi = delay
        for ts in spread(
            boot + timedelta(seconds=lo), boot + timedelta(seconds=hi), errors_per_start, w.rng
        ):
            path = w.rng.choice(
                [
                    "/api/threads",
                    "/api/chat/message",
                    f"/ws/{uuid.UUID(int=w.rng.getrandbits(128))}",
                ]
            )
            method = "POST" if "chat" in path else "GET"
            out.append(w.request(ts, revision, method, path, 500, instance=served_by))
    for ts in spread(NOW - timedelta(minutes=58), NOW - timedelta(minutes=55), stray, w.rng):
        out.append(w.request(ts, revision, "GET", "/api/threads", 500))
    return ordered(out)


DATASETS: dict[str, tuple[int, Callable[[Writer], list[Entry]]]] = {
    "diagnosis-1-hotfix-minutes.jsonl": (21, hotfix_minutes),
    "diagnosis-2-seconds-after.jsonl": (22, seconds_after),
    "diagnosis-3-refused.jsonl": (23, refused),
    "diagnosis-4-cannot-start.jsonl": (24, cannot_start),
    "diagnosis-5-cold-starts.jsonl": (25, cold_starts),
}


def main() -> None:
    for name, (seed, build) in DATASETS.items():
        write_dataset(name, build(Writer(seed)))


if __name__ == "__main__":
    main()
