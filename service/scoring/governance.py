"""What a model's owners check before it serves: its calibration cases, and how two models differ over profiles."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from service.scoring.assessment import Assessment, assess
from service.scoring.model import STRATEGIES, CalibrationCase, Model

INVALID = "invalid"  # the row and column of the profiles a model refuses


class CaseResult(NamedTuple):
    """One calibration case, the assessment the model gives it, and whether that is an answer the case allows."""

    index: int
    case: CalibrationCase
    assessment: Assessment

    @property
    def passed(self) -> bool:
        return self.assessment.recommendation in self.case.expected


def calibrate(model: Model) -> tuple[CaseResult, ...]:
    """Every calibration case of the model, assessed."""
    return tuple(CaseResult(i, case, assess(model, case.profile)) for i, case in enumerate(model.calibration, 1))


def calibration_report(model: Model, results: Iterable[CaseResult]) -> list[str]:
    """One line per case: number, verdict, name, recommendation (allowed), index, margin in points, close call."""
    lines = [f"{model.key}: calibration against the article"]
    for result in results:
        assessment, case = result.assessment, result.case
        margin = assessment.margin
        lines.append(
            f"{result.index:3} {'ok  ' if result.passed else 'MISS'} {case.name:<34} "
            f"{assessment.recommendation:<13} (allowed: {', '.join(case.expected)}) "
            f"index {assessment.index:+.3f}  margin {50 * margin.distance:4.1f} pts to {margin.runner_up}"
            f"{'  close call' if margin.close_call else ''}")
    return lines


@dataclass
class Comparison:
    """How two models answer the same profiles: counts by (answer of the first, answer of the second)."""

    first: Model
    second: Model
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    examples: dict[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def flips(self) -> int:
        return sum(n for (a, b), n in self.counts.items() if a != b)

    def add(self, profile: Mapping[str, Any]) -> None:
        pair = (_answer(self.first, profile), _answer(self.second, profile))
        self.counts[pair] += 1
        self.examples.setdefault(pair, profile)

    def table(self) -> list[str]:
        """The matrix, rows the first model's answers and columns the second's, then each flip with an example."""
        answers = [*STRATEGIES, INVALID]
        rows = [a for a in answers if any(self.counts[a, b] for b in answers)]
        columns = [b for b in answers if any(self.counts[a, b] for a in answers)]
        lines = [f"{self.total} profiles: rows {self.first.key}, columns {self.second.key}",
                 f"{'':<15}" + "".join(f"{b:>15}" for b in columns)]
        lines += [f"{a:<15}" + "".join(f"{self.counts[a, b]:>15}" for b in columns) for a in rows]
        share = self.flips / self.total if self.total else 0.0
        lines.append(f"same answer: {self.total - self.flips}; changed: {self.flips} ({share:.1%})")
        for (a, b), count in sorted(self.counts.items(), key=lambda item: -item[1]):
            if a != b:
                lines.append(f"{a} -> {b}: {count}, e.g. {_json(self.examples[a, b])}")
        return lines


def compare(first: Model, second: Model, profiles: Iterable[Mapping[str, Any]]) -> Comparison:
    comparison = Comparison(first, second)
    for profile in profiles:
        comparison.add(profile)
    return comparison


def sample_profiles(model: Model, count: int, seed: int) -> list[dict[str, Any]]:
    """`count` valid profiles drawn at random: required criteria always, the others each half the time."""
    draw = random.Random(seed)
    profiles = []
    for _ in range(count):
        profile: dict[str, Any] = {}
        for criterion in model.criteria:
            if criterion.required or draw.random() < 0.5:
                if criterion.number is not None:
                    scale = criterion.number
                    profile[criterion.name] = round(draw.uniform(scale.minimum, scale.maximum), 2)
                else:
                    profile[criterion.name] = draw.choice([value for value, _ in criterion.choices])
        profiles.append(profile)
    return profiles


def _answer(model: Model, profile: Mapping[str, Any]) -> str:
    if model.problems(profile):
        return INVALID
    return assess(model, profile).recommendation


def _json(profile: Mapping[str, Any]) -> str:
    return json.dumps(dict(profile), ensure_ascii=False)
