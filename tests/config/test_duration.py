from __future__ import annotations

import pytest

from prodguardian.config.duration import parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("250ms", 0.25), ("5s", 5), ("2m", 120), ("1h30m", 5400), ("7d", 604800), (3, 3), (0.5, 0.5)],
)
def test_durations_parse(text: object, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["", "5", "five seconds", "5 parsecs", "-5s", 0, True, [1]])
def test_bad_durations_say_what_is_accepted(bad: object) -> None:
    with pytest.raises(ValueError, match=r"duration"):
        parse_duration(bad)
