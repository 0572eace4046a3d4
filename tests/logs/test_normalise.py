"""Normalisation's cache key (lone numbers written "0") never changes a result."""

from __future__ import annotations

import random

import pytest

from prodguardian.logs.normalise import _VARIABLE, MAX_NORMALISED, _placeholder, normalise_message

PIECES = [
    "HTTP", "HTTP ", "code ", "Error code ", "status ", "Status code: ", "0x", "x", " KiB",
    " bytes", "GB", " MiB", "T", "Z", "2025-10-11", " 12:00:01", ".", ".5", ",", "-", "+", "é",
    "ü9", "_", "deadbeef", "abc12345xyz", "'", '"', "\\", "  ", " ", " ", " ", "\t", "\n", ":",
    "7f3a9c2e-1b2c-4d5e-8f90-123456789abc", "-4d5e", "item", "step", "v", "Memory limit of ",
]  # fmt: skip
NUMBERS = ["0", "5", "12", "99", "503", "699", "1234", "0000", "99999999", "١٢", "3", "42"]


def uncached(message: str) -> str:
    return _VARIABLE.sub(_placeholder, message).strip()[:MAX_NORMALISED]


@pytest.mark.parametrize("seed", range(4))
def test_normalise_equals_the_uncached_regex(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(5000):
        message = "".join(
            rng.choice(NUMBERS) if rng.random() < 0.4 else rng.choice(PIECES)
            for _ in range(rng.randint(0, 14))
        )
        assert normalise_message(message) == uncached(message), repr(message)


def test_lone_numbers_share_one_cache_entry() -> None:
    assert normalise_message("step 29 rejected item 122784") == "step <n> rejected item <n>"
    assert normalise_message("HTTP 503 then 7") == "HTTP 503 then <n>"
    assert normalise_message("v12 is 12") == "v12 is <n>"
