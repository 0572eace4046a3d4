"""The tally groups by fingerprint alone and builds each group's signature once, lazily:
the result equals building every entry's signature."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from prodguardian.logs import tally as tally_module
from prodguardian.logs.classify import Classifier, Level
from prodguardian.logs.entry import HttpRequest, LogEntry, Severity
from prodguardian.logs.signature import fingerprint_of, signature_of, truncate_sample
from prodguardian.logs.tally import OVERFLOW, SignatureTally

T0 = datetime(2025, 10, 11, 12, 0, tzinfo=UTC)


def random_entry(rng: random.Random, index: int) -> LogEntry:
    k = rng.randrange(6)
    pick = rng.random()
    if pick < 0.4:
        text = (
            f"Handler {k} failed for req_{rng.getrandbits(32):08x}\n"
            "Traceback (most recent call last):\n"
            f'  File "/app/mod_{k}.py", line {rng.randint(1, 99)}, in f_{k}\n'
            "    raise ValueError(x)\n"
            f"ValueError: item {rng.randint(1, 10**6)} rejected"
        )
        http = None
    elif pick < 0.7:
        text = rng.choice(["", "upstream failed", "  indented"])
        http = HttpRequest(
            method=rng.choice(["GET", "post", None]),
            url=f"https://h.example/api/r{k}/{rng.randint(1, 999)}?q=1",
            status=rng.choice([429, 500, 502, 503, 404]),
        )
    elif pick < 0.85:
        text = f"db.OperationalError: timeout after {rng.randint(1, 60)} s on 10.0.0.{k}"
        http = None
    else:
        text = rng.choice(["Memory limit of 512 MiB exceeded", "x" * rng.randint(1, 9000)])
        http = None
    return LogEntry(
        timestamp=T0 + timedelta(seconds=index // 2),
        severity=rng.choice([Severity.WARNING, Severity.ERROR, Severity.CRITICAL]),
        text=text,
        resource_labels={"revision_name": rng.choice(["r1", "r2"])},
        http=http,
    )


@pytest.mark.parametrize("seed", range(20))
def test_fingerprint_of_is_the_signatures(seed: int) -> None:
    rng = random.Random(seed)
    for index in range(200):
        entry = random_entry(rng, index)
        signature = signature_of(entry)
        assert fingerprint_of(entry) == (signature.fingerprint, signature.http_status)


@pytest.mark.parametrize("seed", range(10))
def test_groups_report_their_latest_entry(seed: int) -> None:
    rng = random.Random(seed)
    entries = [random_entry(rng, i) for i in range(300)]
    tally = SignatureTally(Classifier(), split_at=T0 + timedelta(seconds=40))
    for entry in entries:
        tally.add(entry)
    for level in (Level.ERROR, Level.WARNING):
        for sig in tally.signatures(level, None):
            mine = [
                e
                for e in entries
                if tally.classifier.level(e) is level
                and signature_of(e).fingerprint == sig.fingerprint
            ]
            latest = max(mine, key=lambda e: e.timestamp)  # ties: the later one wins
            latest = [e for e in mine if e.timestamp == latest.timestamp][-1]
            expected = signature_of(latest)
            assert sig.count == len(mine)
            assert sig.message == expected.message
            assert sig.frames == expected.frames
            assert sig.sample == truncate_sample(latest.text or expected.message)
            statuses = {s for e in mine if (s := signature_of(e).http_status) is not None}
            assert sig.http_statuses == tuple(sorted(statuses))


def test_the_overflow_group_has_no_statuses_and_its_own_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tally_module, "MAX_GROUPS", 1)
    tally = SignatureTally(Classifier(), split_at=None)
    for index, path in enumerate(["/a", "/b", "/c"]):
        tally.add(
            LogEntry(
                timestamp=T0 + timedelta(seconds=index),
                severity=Severity.ERROR,
                text="",
                http=HttpRequest(method="GET", url=path, status=500 + index),
            )
        )
    sigs = tally.signatures(Level.ERROR, None)
    overflow = next(s for s in sigs if s.fingerprint == "overflow")
    assert overflow.count == 2
    assert overflow.message == OVERFLOW
    assert overflow.sample == OVERFLOW
    assert overflow.http_statuses == ()
