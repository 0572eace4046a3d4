"""Placeholders: Cloud Run memory sizing, values from evidence, filling commands."""

from __future__ import annotations

import pytest

from prodguardian.logs.resource_usage import memory_usage
from prodguardian.runbooks.placeholders import (
    fill,
    format_memory,
    next_memory_size,
    unknown_placeholders,
    values_from_texts,
)


@pytest.mark.parametrize(
    ("limit", "peak", "expected"),
    [
        (1024, 1062, "2Gi"),  # 2 × limit wins
        (512, 573, "1Gi"),
        (512, 671, "1Gi"),
        (512, 900, "2Gi"),  # 1.25 × 900 = 1125 > 1024
        (2048, 2301, "4Gi"),
        (256, 300, "512Mi"),
        (128, 129, "256Mi"),
        (4096, 7000, "16Gi"),  # 1.25 × 7000 = 8750 > 8192
        (16384, 20000, "32Gi"),
    ],
)
def test_the_next_cloud_run_size(limit: int, peak: int, expected: str) -> None:
    size = next_memory_size(limit, peak)
    assert size is not None
    assert format_memory(size) == expected
    assert size >= max(2 * limit, 1.25 * peak)


def test_no_size_is_big_enough() -> None:
    assert next_memory_size(32768, 33000) is None


@pytest.mark.parametrize(
    ("text", "usage"),
    [
        ("Memory limit of 1024 MiB exceeded with 1062 MiB used.", (1024.0, 1062.0)),
        ("memory limit of 2 GiB exceeded with 2.5 GiB used", (2048.0, 2560.0)),
        ("Memory limit of 512Mi exceeded with 600Mi used", (512.0, 600.0)),
        ("nothing about memory", None),
    ],
)
def test_memory_usage_from_cloud_run_messages(text: str, usage: tuple[float, float] | None) -> None:
    assert memory_usage(text) == usage


def test_values_from_several_texts_take_the_largest_limit_and_peak() -> None:
    values = values_from_texts(
        [
            "Memory limit of 512 MiB exceeded with 671 MiB used.",
            "Memory limit of 1024 MiB exceeded with 1049 MiB used.",
            "Memory limit of 1024 MiB exceeded with 1062 MiB used.",
        ]
    )
    assert values == {"memory_limit": "1Gi", "memory_peak": "1062Mi", "memory_next": "2Gi"}


def test_revision_and_route_from_texts() -> None:
    values = values_from_texts(
        ["Revision 'emergence-app-00049-pyp' is not ready", "HTTP 429 GET /api/health"]
    )
    assert values == {"revision": "emergence-app-00049-pyp", "route": "/api/health"}


def test_fill_replaces_known_values_and_marks_missing_ones() -> None:
    text = "gcloud run services update {service} --memory={memory_next} --region={region}"
    filled = fill(text, {"service": "emergence-app", "memory_next": "2Gi"})
    assert filled == "gcloud run services update emergence-app --memory=2Gi --region=<region>"


def test_fill_keeps_escaped_braces_json_and_shell_variables() -> None:
    text = "echo {{service}} '{\"ok\": true}' ${HOME} {service}"
    assert fill(text, {"service": "svc"}) == "echo {service} '{\"ok\": true}' ${HOME} svc"


def test_unknown_placeholders_are_listed_once() -> None:
    assert unknown_placeholders("{servce} {region} {servce} {{escaped}} {Upper}") == ["servce"]
