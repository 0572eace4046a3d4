"""The log-bucket sketch keeps its relative-accuracy promise whatever the distribution."""

from __future__ import annotations

import math
import random

import pytest

from prodguardian.traces.sketch import LogBucketSketch

QUANTILES = (0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0)


def _exact(values: list[float], q: float) -> float:
    """The value of rank ``q * (n - 1)`` (the sketch's rank rule), from sorted data."""
    ordered = sorted(values)
    return ordered[math.floor(q * (len(ordered) - 1))]


def _distributions() -> dict[str, list[float]]:
    rng = random.Random(7)
    return {
        "lognormal": [rng.lognormvariate(3, 1.2) for _ in range(20_000)],
        "uniform": [rng.uniform(1, 5000) for _ in range(20_000)],
        "bimodal": [
            rng.gauss(20, 2) if rng.random() < 0.9 else rng.gauss(2500, 300) for _ in range(20_000)
        ],
        "pareto": [rng.paretovariate(1.1) for _ in range(20_000)],
        "constant": [42.0] * 1000,
        "tiny and huge": [0.01, 0.02, 1e6, 3e6, 5.0] * 100,
    }


@pytest.mark.parametrize("name", list(_distributions()))
@pytest.mark.parametrize("accuracy", [0.01, 0.02])
def test_every_quantile_is_within_the_relative_accuracy(name: str, accuracy: float) -> None:
    values = [abs(v) + 0.001 for v in _distributions()[name]]
    sketch = LogBucketSketch(accuracy)
    sketch.add_all(values)
    for q in QUANTILES:
        got = sketch.quantile(q)
        exact = _exact(values, q)
        assert got is not None
        assert abs(got - exact) <= accuracy * exact + 1e-12, (name, q, got, exact)


def test_counts_sum_min_max_are_exact() -> None:
    sketch = LogBucketSketch()
    sketch.add_all([3.0, 1.5, 900.0, 0.0])
    assert (sketch.count, sketch.zero_count) == (4, 1)
    assert sketch.sum == pytest.approx(904.5)
    assert (sketch.min, sketch.max) == (0.0, 900.0)
    assert sketch.quantile(0.0) == 0.0
    assert sketch.quantile(1.0) == 900.0


def test_an_empty_sketch_has_no_quantile() -> None:
    assert LogBucketSketch().quantile(0.5) is None


def test_merging_equals_adding_everything_to_one() -> None:
    rng = random.Random(3)
    a_values = [rng.lognormvariate(2, 1) for _ in range(5000)]
    b_values = [rng.lognormvariate(6, 0.5) for _ in range(5000)]
    a, b, both = LogBucketSketch(), LogBucketSketch(), LogBucketSketch()
    a.add_all(a_values)
    b.add_all(b_values)
    both.add_all(a_values + b_values)
    a.merge(b)
    for q in QUANTILES:
        assert a.quantile(q) == both.quantile(q)
    assert a.count == both.count


def test_merging_into_an_empty_sketch_copies() -> None:
    source = LogBucketSketch()
    source.add_all([1.0, 10.0, 100.0])
    copy = source.copy()
    source.add(1e6)
    assert copy.count == 3
    assert copy.quantile(1.0) == 100.0


def test_sketches_of_different_accuracy_do_not_merge() -> None:
    with pytest.raises(ValueError, match="different relative accuracy"):
        LogBucketSketch(0.01).merge(LogBucketSketch(0.02))


def test_memory_is_bounded_by_max_bins_and_upper_quantiles_stay_accurate() -> None:
    sketch = LogBucketSketch(0.01, max_bins=64)
    values = [10 ** (i / 1000) for i in range(9000)]  # 1 .. 1e9: far more than 64 bins
    sketch.add_all(values)
    assert sketch.bin_count <= 64
    for q in (0.95, 0.99, 1.0):
        exact = _exact(values, q)
        got = sketch.quantile(q)
        assert got is not None
        assert abs(got - exact) <= 0.01 * exact


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"relative_accuracy": 0.0}, "relative_accuracy"), ({"max_bins": 1}, "max_bins")],
)
def test_bad_settings_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LogBucketSketch(**kwargs)  # type: ignore[arg-type]


def test_a_quantile_outside_0_1_is_refused() -> None:
    with pytest.raises(ValueError, match="quantile"):
        LogBucketSketch().quantile(1.5)
