"""Alternating measurements: every side measured once per round, the order rotating, so drift hits all alike."""

from __future__ import annotations

import statistics
from collections.abc import Callable


def alternate(rounds: int, measures: dict[str, Callable[[], float]]) -> dict[str, list[float]]:
    """Run each measure once per round (order rotated each round); the values by side, in round order."""
    names = list(measures)
    values: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            values[name].append(measures[name]())
    return values


def median(values: list[float]) -> float:
    return statistics.median(values)


def ratio(numerators: list[float], denominators: list[float]) -> float:
    """The median of the round-by-round ratios (each pair measured close in time)."""
    return statistics.median(n / d for n, d in zip(numerators, denominators, strict=True))
