"""Benchmark: the ``log_errors`` check over a large JSON-lines file through the ``file`` source.

Generates 1,000,000 Cloud Run-shaped entries (5 % errors over 50 distinct signatures, the rest
request logs and application lines of realistic sizes) in a temporary directory, runs the whole
``log_errors`` check (default parameters) on them in a fresh process (one core), times ``grep -c
'"severity":"ERROR"'`` on the same file, and repeats with 250,000 entries to show that peak
memory does not grow with the file. The files are deleted afterwards.

Last line of stdout: one JSON object (``entries_per_s``, ``grep_ratio``, ``peak_rss_mb``...).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

SIGNATURES = 50
ERROR_SHARE = 0.05
END = datetime(2025, 10, 11, 13, 0, tzinfo=UTC)
SPAN = timedelta(hours=1)
HOST = "https://emergence-app-47nct44nma-ew.a.run.app"


def _resource(revision: str) -> str:
    return (
        '"resource":{"type":"cloud_run_revision","labels":{"project_id":"emergence-469005",'
        f'"service_name":"emergence-app","revision_name":"{revision}",'
        '"location":"europe-west1","configuration_name":"emergence-app"}}'
    )


def _traceback(k: int, rng: random.Random) -> str:
    line = rng.randint(10, 900)
    return (
        f"Handler {k} failed for request req_{rng.getrandbits(64):016x}\\n"
        "Traceback (most recent call last):\\n"
        '  File \\"/usr/local/lib/python3.11/site-packages/starlette/routing.py\\", '
        "line 74, in app\\n"
        "    response = await func(request)\\n"
        f'  File \\"/app/backend/features/module_{k}.py\\", line {line}, in handle_{k}\\n'
        f"    result = await self.step_{k}(payload)\\n"
        f'  File \\"/app/backend/features/module_{k}.py\\", line {line + 40}, in step_{k}\\n'
        f"    raise ValueError(f'step {k} rejected item {{item_id}}')\\n"
        f"ValueError: step {k} rejected item {rng.randint(1, 10**6)}"
    )


def generate(path: Path, n: int, seed: int = 7) -> int:
    """Write ``n`` entries; return how many are errors."""
    rng = random.Random(seed)
    step = SPAN.total_seconds() / n
    start = END - SPAN
    errors = 0
    with path.open("w", encoding="utf-8", buffering=1 << 20) as out:
        for i in range(n):
            ts = (start + timedelta(seconds=i * step + 0.0005)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            revision = "emergence-app-00041-rok" if i < n * 0.8 else "emergence-app-00042-fix"
            head = (
                f'{{"insertId":"{rng.getrandbits(48):012x}",{_resource(revision)},'
                f'"timestamp":"{ts}",'
            )
            tail = (
                f'"labels":{{"instanceId":"0069c7a988{rng.getrandbits(32):08x}"}},'
                f'"logName":"projects/emergence-469005/logs/run.googleapis.com%2F'
            )
            pick = rng.random()
            if pick < ERROR_SHARE:
                errors += 1
                k = rng.randrange(SIGNATURES)
                if k < 40:
                    out.write(
                        f'{head}"severity":"ERROR",{tail}stderr",'
                        f'"textPayload":"{_traceback(k, rng)}"}}\n'
                    )
                else:
                    out.write(
                        f'{head}"severity":"ERROR",{tail}requests",'
                        f'"httpRequest":{{"requestMethod":"GET","requestUrl":"{HOST}/api/r{k}/'
                        f'{rng.randint(1, 9999)}","status":{500 + k % 4},"latency":"0.2s",'
                        '"userAgent":"Mozilla/5.0 (X11; Linux x86_64) Chrome/141.0"}}\n'
                    )
            elif pick < 0.55:
                out.write(
                    f'{head}"severity":"INFO",{tail}requests",'
                    f'"httpRequest":{{"requestMethod":"GET","requestUrl":"{HOST}/api/threads/'
                    f'{rng.randint(1, 99999)}/messages","requestSize":"{rng.randint(300, 900)}",'
                    f'"status":200,"responseSize":"{rng.randint(100, 20000)}",'
                    '"userAgent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/141.0",'
                    f'"remoteIp":"81.2.{rng.randint(1, 254)}.7","serverIp":"34.143.77.2",'
                    f'"latency":"0.{rng.randint(1000, 999999):06d}s","protocol":"HTTP/1.1"}}}}\n'
                )
            else:
                out.write(
                    f'{head}"severity":"INFO",{tail}stdout",'
                    f'"textPayload":"[ChatService] Reply streamed in {rng.randint(40, 9000)} ms '
                    f'for thread {rng.getrandbits(64):016x} (tokens={rng.randint(10, 4000)})"}}\n'
                )
    return errors


def child(path: Path) -> None:
    """Run the whole check once on ``path``; print one JSON line (time, RSS, result)."""
    from prodguardian.checks.log_errors import LogErrorsCheck, LogErrorsParams
    from prodguardian.context import CheckContext, HttpClient
    from prodguardian.logs.sources.file import FileSource, FileSourceConfig

    source = FileSource.from_config(FileSourceConfig(path=str(path)), base_dir=path.parent)
    check = LogErrorsCheck(
        name="errors",
        kind="log_errors",
        params=LogErrorsParams(source="bench"),
        timeout_s=600,
    )
    ctx = CheckContext(timeout_s=600, http=HttpClient(), now=END, log_sources={"bench": source})
    started, cpu = time.perf_counter(), time.process_time()
    result = asyncio.run(check.run(ctx))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "cpu_seconds": cpu,
                "rss_mb": rss_mb,
                "entries": result.metrics["entries"],
                "errors": result.metrics["errors"],
                "signatures": result.metrics["signatures"],
                "status": result.status.value,
            }
        )
    )


def measure(path: Path) -> dict[str, float | str]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    data: dict[str, float | str] = json.loads(out.stdout.strip().splitlines()[-1])
    return data


def grep_seconds(path: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        ["grep", "-c", '"severity":"ERROR"', str(path)], capture_output=True, check=False
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--entries", type=int, default=1_000_000)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    tmp = Path(tempfile.mkdtemp(prefix="pg-log-scan-"))
    try:
        sizes = {"small": args.entries // 4, "large": args.entries}
        runs: dict[str, dict[str, float | str]] = {}
        for label, n in sizes.items():
            path = tmp / f"{label}.jsonl"
            expected = generate(path, n)
            mb = path.stat().st_size / 1e6
            measure(path)  # warm the page cache and imports
            run = measure(path)
            if run["entries"] != n or run["errors"] != expected:
                raise SystemExit(f"wrong result on {label}: {run} (expected {n}/{expected})")
            grep_s = min(grep_seconds(path) for _ in range(3))
            run.update(file_mb=round(mb, 1), grep_seconds=round(grep_s, 4))
            runs[label] = run
            print(
                f"{n:>9,} entries, {mb:7.1f} MB: check {float(run['seconds']):.2f} s "
                f"({n / float(run['seconds']):,.0f}/s), grep {grep_s:.3f} s, "
                f"peak RSS {float(run['rss_mb']):.1f} MB, {run['signatures']:.0f} signatures"
            )
            path.unlink()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    large, small = runs["large"], runs["small"]
    figures = {
        "entries": args.entries,
        "entries_per_s": round(args.entries / float(large["seconds"])),
        "seconds": round(float(large["seconds"]), 3),
        "entries_per_cpu_s": round(args.entries / float(large["cpu_seconds"])),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "grep_seconds": large["grep_seconds"],
        "grep_ratio": round(float(large["seconds"]) / float(large["grep_seconds"]), 1),
        "file_mb": large["file_mb"],
        "peak_rss_mb": round(float(large["rss_mb"]), 1),
        "peak_rss_mb_at_quarter_size": round(float(small["rss_mb"]), 1),
        "signatures": large["signatures"],
        "goal_entries_per_s": 400_000,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
