"""The scoring model: a versioned data file, loaded and validated once."""

from __future__ import annotations

import json
import math
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

LANGUAGES = ("en", "pl")
STRATEGIES = ("relational", "hybrid", "transactional")
DIRECTIONS = ("relational", "neutral", "transactional")

MESSAGE_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "factor": frozenset({"criterion", "value"}),
    "list_separator": frozenset(),
    "list_last_separator": frozenset(),
    "summary_relational": frozenset({"factors"}),
    "summary_transactional": frozenset({"factors"}),
    "summary_hybrid": frozenset({"relational_factors", "transactional_factors"}),
    "summary_hybrid_neutral": frozenset(),
    "summary_hybrid_relational_only": frozenset({"factors"}),
    "summary_hybrid_transactional_only": frozenset({"factors"}),
    "change": frozenset({"criterion", "before", "after"}),
    "change_unanswered": frozenset({"criterion", "after"}),
    "plan_reachable": frozenset({"strategy", "changes"}),
    "plan_unreachable": frozenset({"strategy", "criteria"}),
    "margin_close": frozenset({"recommendation", "runner_up", "points"}),
    "margin_clear": frozenset({"recommendation", "runner_up", "points"}),
    "decimal_separator": frozenset(),
}
# messages a model may leave out; what stands in for each when it does
OPTIONAL_MESSAGES = {
    "summary_hybrid_relational_only": "summary_hybrid_neutral",
    "summary_hybrid_transactional_only": "summary_hybrid_neutral",
}
# a placeholder naming a strategy may take a grammatical form: {runner_up_genitive} (Polish needs them)
STRATEGY_PLACEHOLDERS = frozenset({"strategy", "recommendation", "runner_up"})
FORMS = ("name", "genitive", "accusative", "instrumental")
# how a business can move an actionable criterion: toward options of higher lean, lower lean, or both
MOVES = ("up", "down", "either")

Text = Mapping[str, str]
Choices = tuple[tuple[str | float, float], ...]  # (value, lean) pairs


class ModelError(ValueError):
    """A model file that breaks a rule of FORMAT.md; the message names the file and the path."""


@dataclass(frozen=True)
class SeedReference:
    section: str
    quote: str

    @property
    def display(self) -> str:
        """The quote as a reader sees it: a table row's cells joined by dashes, the article's words unchanged."""
        if "|" not in self.quote:
            return self.quote
        return " – ".join(cell.strip() for cell in self.quote.strip().strip("|").split("|") if cell.strip())


@dataclass(frozen=True)
class Citation:
    text: Text
    seed: SeedReference


@dataclass(frozen=True)
class Option:
    value: str
    lean: float
    label: Text
    reason: Text
    seed: SeedReference
    maps_to: str | None = None  # an alias, kept so older profiles stay valid: scored as that option


@dataclass(frozen=True)
class NumberScale:
    minimum: float
    maximum: float
    centre: float
    span: float
    format: str
    neutral_band: float = 0.0  # leans within ±this are worded as neutral, so the text does not flip at the centre

    def lean(self, number: float) -> float:
        return max(-1.0, min(1.0, (number - self.centre) / self.span))


@dataclass(frozen=True)
class Criterion:
    """One question of the scorecard: its weight, and the lean of each answer (options, or a number scale)."""

    name: str
    weight: float
    required: bool
    actionable: bool
    label: Text
    question: Text
    seed: SeedReference
    options: tuple[Option, ...] = ()
    number: NumberScale | None = None
    reasons: Mapping[str, Citation] = field(default_factory=dict)
    moves: str = "either"  # for an actionable criterion: which way a plan may move it (MOVES)
    # every scored option with its lean (aliases left out); for a number, its minimum, centre and maximum
    choices: Choices = field(init=False, repr=False, compare=False)
    _by_value: Mapping[str, Option] = field(init=False, repr=False, compare=False)
    _canonical: Mapping[str, str] = field(init=False, repr=False, compare=False)
    _others: Mapping[str | float | None, Choices] = field(init=False, repr=False, compare=False)
    _moves: Mapping[str | float | None, Choices] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "_by_value", {option.value: option for option in self.options})
        set_(self, "_canonical", {o.value: o.maps_to or o.value for o in self.options})
        if self.number is None:
            choices = tuple((option.value, option.lean) for option in self.options if option.maps_to is None)
        else:
            ends = (self.number.minimum, self.number.centre, self.number.maximum)
            choices = tuple((value, self.number.lean(value)) for value in ends)
        set_(self, "choices", choices)
        others = {value: tuple(choice for choice in choices if choice[0] != value) for value, _ in choices}
        set_(self, "_others", others | {None: choices})
        set_(self, "_moves", self._allowed_moves(choices) if self.number is None else {})

    def _allowed_moves(self, choices: Choices) -> dict[str | float | None, Choices]:
        """The options a plan may move each answer to (from an unanswered question: any; explanations.plans narrows)."""
        allowed: dict[str | float | None, Choices] = {None: choices}
        for value, lean in choices:
            allowed[value] = tuple(
                c for c in choices if c[0] != value and (self.moves == "either" or (
                    c[1] > lean if self.moves == "up" else c[1] < lean)))
        return allowed

    def lean(self, value: str | float) -> float:
        if self.number is not None:
            return self.number.lean(float(value))
        option = self._by_value.get(value) if isinstance(value, str) else None
        if option is None:
            raise ValueError(f"{self.name}: {value!r} is not one of its options")
        return option.lean

    def canonical(self, value: str | float) -> str | float:
        """The value as scored: an alias becomes the option it maps to; anything else is itself."""
        if self.number is not None or not isinstance(value, str):
            return value
        return self._canonical.get(value, value)

    def other_choices(self, value: str | float | None) -> Choices:
        """Every choice but `value` (all of them when it is None: unanswered)."""
        found = self._others.get(value)
        return found if found is not None else tuple(choice for choice in self.choices if choice[0] != value)

    def plan_choices(self, value: str | float | None) -> Choices:
        """The choices a plan may move this (actionable, by option) criterion to from `value` (None: unanswered)."""
        return self._moves.get(value, ())

    def option(self, value: str) -> Option:
        return self._by_value[value]

    def reason(self, value: str | float) -> tuple[Text, SeedReference]:
        if self.number is None:
            option = self.option(str(value))
            return option.reason, option.seed
        lean, band = self.lean(value), self.number.neutral_band
        direction = "relational" if lean > band else "transactional" if lean < -band else "neutral"
        citation = self.reasons[direction]
        return citation.text, citation.seed

    def value_label(self, value: str | float, language: str) -> str:
        if self.number is not None:
            return format(float(value), self.number.format)
        return self.option(str(value)).label[language]


@dataclass(frozen=True)
class Risk:
    risk: Text
    mitigation: Text
    seed: SeedReference


@dataclass(frozen=True)
class Playbook:
    kpis: tuple[Citation, ...]
    tools: tuple[Citation, ...]
    steps: tuple[Citation, ...]
    risks: tuple[Risk, ...]


@dataclass(frozen=True)
class Strategy:
    label: Text
    seed: SeedReference
    # the name inside a sentence, in each form of FORMS (Polish declines it); the label when the file gives none
    forms: Mapping[str, Text] = field(default_factory=dict)

    def form(self, name: str, language: str) -> str:
        text = self.forms.get(name)
        return self.label[language] if text is None else text[language]


@dataclass(frozen=True)
class CalibrationCase:
    """A business the article describes, with the sentence it rests on and the answers the article allows."""

    name: str
    about: str
    seed: SeedReference
    profile: Mapping[str, str | float]
    expected: tuple[str, ...]


@dataclass(frozen=True)
class Model:
    """A versioned scorecard: criteria with weights and leans, the threshold, and every text it answers with."""

    id: str
    version: str
    threshold: float
    close_call_margin: float
    source_title: str
    source_file: Path
    sections: tuple[str, ...]
    strategies: Mapping[str, Strategy]
    criteria: tuple[Criterion, ...]
    playbooks: Mapping[str, Playbook]
    messages: Mapping[str, Text]
    calibration: tuple[CalibrationCase, ...] = ()
    weights: Mapping[str, float] = field(init=False, repr=False, compare=False)
    total_weight: float = field(init=False, repr=False, compare=False)
    _by_name: Mapping[str, Criterion] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {criterion.name: criterion for criterion in self.criteria})
        object.__setattr__(self, "weights", {criterion.name: criterion.weight for criterion in self.criteria})
        object.__setattr__(self, "total_weight", math.fsum(self.weights.values()))

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    def criterion(self, name: str) -> Criterion:
        return self._by_name[name]

    def problems(self, profile: Mapping[str, Any]) -> list[str]:
        """What makes a profile invalid for this model (empty when it is valid); fields it does not score are kept."""
        found = [f"{c.name}: required" for c in self.criteria if c.required and profile.get(c.name) is None]
        for name, value in profile.items():
            criterion = self._by_name.get(name)
            if criterion is None or value is None:
                continue
            if criterion.number is not None:
                scale = criterion.number
                if isinstance(value, bool) or not isinstance(value, int | float) or not (
                        scale.minimum <= value <= scale.maximum):
                    found.append(f"{name}: must be a number from {scale.minimum:g} to {scale.maximum:g}")
            elif not isinstance(value, str) or value not in criterion._by_value:
                found.append(f"{name}: must be one of {', '.join(o.value for o in criterion.options)}")
        return found


def load_model(path: str | Path) -> Model:
    """Read and validate one model file; raise ModelError naming the file and the problem."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ModelError(f"{path}: cannot be read as JSON: {error}") from None
    try:
        return _Reader(path).model(document)
    except ModelError as error:
        raise ModelError(f"{path}: {error}") from None


def load_models(folder: str | Path) -> dict[str, Model]:
    """Every `*.json` model in a folder, by `id@version`."""
    folder = Path(folder)
    paths = sorted(folder.glob("*.json"))
    if not paths:
        raise ModelError(f"{folder}: holds no model file (*.json)")
    models: dict[str, Model] = {}
    for path in paths:
        model = load_model(path)
        if model.key in models:
            raise ModelError(f"{path}: {model.key} is defined twice in {folder}")
        models[model.key] = model
    return models


def _normalise_space(text: str) -> str:
    return " ".join(text.split())


class _Reader:
    """Turns the parsed JSON into a Model, checking every rule on the way."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sections: dict[str, str] = {}

    def model(self, document: Any) -> Model:
        self._expect(isinstance(document, dict), "", "must be an object")
        identifier = self._string(document, "id", "")
        self._expect(re.fullmatch(r"[a-z0-9-]+", identifier) is not None, "/id", "must match [a-z0-9-]+")
        version = self._string(document, "version", "")
        self._expect(re.fullmatch(r"\d+\.\d+\.\d+", version) is not None, "/version", "must be MAJOR.MINOR.PATCH")
        source = self._object(document, "source", "")
        source_file, title = self._source(source)
        threshold = self._number(document, "threshold", "")
        self._expect(0 < threshold < 1, "/threshold", "must lie strictly between 0 and 1")
        close_call_margin = self._number(document, "close_call_margin", "")
        self._expect(0 <= close_call_margin <= threshold, "/close_call_margin", "must lie between 0 and the threshold")

        strategies_node = self._object(document, "strategies", "")
        strategies = {}
        for name in STRATEGIES:
            node = self._object(strategies_node, name, "/strategies")
            where = f"/strategies/{name}"
            forms = {}
            if "forms" in node:
                forms_node = self._object(node, "forms", where)
                unknown = sorted(set(forms_node) - set(FORMS))
                self._expect(not unknown, f"{where}/forms", f"has unknown forms: {', '.join(unknown)}")
                forms = {form: self._text(forms_node, form, f"{where}/forms") for form in FORMS}
            strategies[name] = Strategy(self._text(node, "label", where), self._seed(node, where), forms)

        criteria_node = document.get("criteria")
        self._expect(isinstance(criteria_node, list) and criteria_node, "/criteria", "must be a non-empty list")
        criteria = tuple(self._criterion(node, f"/criteria/{i}") for i, node in enumerate(criteria_node))
        names = [criterion.name for criterion in criteria]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        self._expect(not duplicates, "/criteria", f"names criteria twice: {', '.join(duplicates)}")
        self._expect(any(c.required for c in criteria), "/criteria", "needs at least one required criterion")

        playbook_node = self._object(document, "playbook", "")
        playbooks = {name: self._playbook(self._object(playbook_node, name, "/playbook"), f"/playbook/{name}")
                     for name in STRATEGIES}
        messages = self._messages(self._object(document, "messages", ""))
        model = Model(identifier, version, threshold, close_call_margin, title, source_file, tuple(self.sections),
                      strategies, criteria, playbooks, messages)
        cases = document.get("calibration", [])
        self._expect(isinstance(cases, list), "/calibration", "must be a list")
        calibration = tuple(self._case(model, node, f"/calibration/{i}") for i, node in enumerate(cases))
        names = [case.name for case in calibration]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        self._expect(not duplicates, "/calibration", f"names cases twice: {', '.join(duplicates)}")
        return replace(model, calibration=calibration)

    def _case(self, model: Model, node: Any, where: str) -> CalibrationCase:
        self._expect(isinstance(node, dict), where, "must be an object")
        name = self._string(node, "name", where)
        self._expect(re.fullmatch(r"[a-z0-9-]+", name) is not None, f"{where}/name", "must match [a-z0-9-]+")
        profile = self._object(node, "profile", where)
        problems = model.problems(profile)
        unknown = sorted(set(profile) - set(model.weights))
        self._expect(not unknown, f"{where}/profile", f"names no criterion: {', '.join(unknown)}")
        self._expect(not problems, f"{where}/profile", "; ".join(problems))
        expected = node.get("expected")
        self._expect(isinstance(expected, list) and expected and all(e in STRATEGIES for e in expected)
                     and len(set(expected)) == len(expected), f"{where}/expected",
                     f"must list one or more of {', '.join(STRATEGIES)}, each once")
        return CalibrationCase(name, self._string(node, "about", where), self._seed(node, where), dict(profile),
                               tuple(expected))

    def _source(self, source: dict[str, Any]) -> tuple[Path, str]:
        relative = self._string(source, "file", "/source")
        source_file = (self.path.parent / relative).resolve()
        try:
            article = source_file.read_text(encoding="utf-8")
        except OSError as error:
            raise ModelError(f"/source/file: the seed article cannot be read: {error}") from None
        title = self._string(source, "title", "/source")
        headings = source.get("sections")
        self._expect(isinstance(headings, list) and headings, "/source/sections", "must be a non-empty list")
        lines = article.splitlines()
        positions = []
        for i, heading in enumerate(headings):
            where = f"/source/sections/{i}"
            self._expect(isinstance(heading, str), where, "must be a string")
            self._expect(heading in lines, where, f"{heading!r} is not a line of the seed article")
            positions.append(lines.index(heading))
        self._expect(positions == sorted(positions), "/source/sections", "must follow the article's order")
        for i, (heading, start) in enumerate(zip(headings, positions, strict=True)):
            end = positions[i + 1] if i + 1 < len(positions) else len(lines)
            self.sections[heading] = _normalise_space("\n".join(lines[start:end]))
        return source_file, title

    def _criterion(self, node: Any, where: str) -> Criterion:
        self._expect(isinstance(node, dict), where, "must be an object")
        name = self._string(node, "name", where)
        self._expect(re.fullmatch(r"[a-z_]+", name) is not None, f"{where}/name", "must match [a-z_]+")
        weight = self._number(node, "weight", where)
        self._expect(weight > 0, f"{where}/weight", "must be greater than 0")
        common = {
            "name": name,
            "weight": weight,
            "required": self._boolean(node, "required", where),
            "actionable": self._boolean(node, "actionable", where),
            "label": self._text(node, "label", where),
            "question": self._text(node, "question", where),
            "seed": self._seed(node, where),
        }
        if common["actionable"] and "moves" in node:
            common["moves"] = node["moves"]
            self._expect(node["moves"] in MOVES, f"{where}/moves", f"must be one of {', '.join(MOVES)}")
        else:
            self._expect("moves" not in node, f"{where}/moves", "is only for an actionable criterion")
        has_options, has_number = "options" in node, "number" in node
        self._expect(has_options != has_number, where, "needs exactly one of 'options' and 'number'")
        if has_number:
            self._expect(not common["actionable"], f"{where}/actionable", "a number criterion cannot be actionable")
            return Criterion(**common, number=self._scale(node, where), reasons=self._reasons(node, where))
        options_node = node["options"]
        self._expect(isinstance(options_node, list) and len(options_node) >= 2,
                     f"{where}/options", "must list at least two options")
        options = tuple(self._option(option, f"{where}/options/{i}") for i, option in enumerate(options_node))
        values = [option.value for option in options]
        self._expect(len(set(values)) == len(values), f"{where}/options", "has a value twice")
        scored = {option.value: option for option in options if option.maps_to is None}
        self._expect(len(scored) >= 2, f"{where}/options", "must score at least two options (aliases aside)")
        for i, option in enumerate(options):
            if option.maps_to is not None:
                target = scored.get(option.maps_to)
                self._expect(target is not None, f"{where}/options/{i}/maps_to",
                             f"{option.maps_to!r} is not a scored option of {name}")
                self._expect(option.lean == target.lean, f"{where}/options/{i}/lean",
                             f"must equal the lean of {option.maps_to!r}, the option it maps to")
        leans = [option.lean for option in options]
        self._expect(leans == sorted(leans), f"{where}/options", "must run from most transactional (lean) up")
        return Criterion(**common, options=options)

    def _option(self, node: Any, where: str) -> Option:
        self._expect(isinstance(node, dict), where, "must be an object")
        lean = self._number(node, "lean", where)
        self._expect(-1 <= lean <= 1, f"{where}/lean", "must lie in [-1, 1]")
        value = self._string(node, "value", where)
        self._expect(re.fullmatch(r"[a-z0-9_]+", value) is not None, f"{where}/value", "must match [a-z0-9_]+")
        maps_to = self._string(node, "maps_to", where) if "maps_to" in node else None
        return Option(value, lean, self._text(node, "label", where), self._text(node, "reason", where),
                      self._seed(node, where), maps_to)

    def _scale(self, node: dict[str, Any], where: str) -> NumberScale:
        scale = self._object(node, "number", where)
        where = f"{where}/number"
        minimum, maximum = self._number(scale, "minimum", where), self._number(scale, "maximum", where)
        centre, span = self._number(scale, "centre", where), self._number(scale, "span", where)
        self._expect(minimum < maximum, where, "minimum must be below maximum")
        self._expect(minimum <= centre <= maximum, f"{where}/centre", "must lie between minimum and maximum")
        self._expect(span > 0, f"{where}/span", "must be greater than 0")
        number_format = self._string(scale, "format", where)
        try:
            format(centre, number_format)
        except ValueError:
            raise ModelError(f"{where}/format: {number_format!r} is not a number format") from None
        band = self._number(scale, "neutral_band", where) if "neutral_band" in scale else 0.0
        self._expect(0 <= band < 1, f"{where}/neutral_band", "must lie in [0, 1)")
        return NumberScale(minimum, maximum, centre, span, number_format, band)

    def _reasons(self, node: dict[str, Any], where: str) -> dict[str, Citation]:
        reasons = self._object(node, "reasons", where)
        return {direction: self._citation(self._object(reasons, direction, f"{where}/reasons"),
                                          f"{where}/reasons/{direction}")
                for direction in DIRECTIONS}

    def _playbook(self, node: dict[str, Any], where: str) -> Playbook:
        lists = {}
        for key in ("kpis", "tools", "steps", "risks"):
            items = node.get(key)
            self._expect(isinstance(items, list) and items, f"{where}/{key}", "must be a non-empty list")
            lists[key] = items
        risks = []
        for i, risk in enumerate(lists["risks"]):
            here = f"{where}/risks/{i}"
            self._expect(isinstance(risk, dict), here, "must be an object")
            risks.append(Risk(self._text(risk, "risk", here), self._text(risk, "mitigation", here),
                              self._seed(risk, here)))
        return Playbook(
            *(tuple(self._citation(item, f"{where}/{key}/{i}") for i, item in enumerate(lists[key]))
              for key in ("kpis", "tools", "steps")),
            tuple(risks),
        )

    def _messages(self, node: dict[str, Any]) -> dict[str, Text]:
        messages = {}
        for key, names in MESSAGE_PLACEHOLDERS.items():
            if key not in node and key in OPTIONAL_MESSAGES:
                continue
            allowed = names | {f"{name}_{form}" for name in names & STRATEGY_PLACEHOLDERS for form in FORMS}
            text = self._text(node, key, "/messages")
            for language, template in text.items():
                used = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
                unknown = used - allowed
                self._expect(not unknown, f"/messages/{key}/{language}",
                             f"uses unknown placeholders: {', '.join(sorted(unknown))}")
            messages[key] = text
        for key, stand_in in OPTIONAL_MESSAGES.items():
            messages.setdefault(key, messages[stand_in])
        return messages

    def _citation(self, node: Any, where: str) -> Citation:
        self._expect(isinstance(node, dict), where, "must be an object")
        return Citation(self._text(node, "text", where), self._seed(node, where))

    def _seed(self, node: dict[str, Any], where: str) -> SeedReference:
        seed = self._object(node, "seed", where)
        where = f"{where}/seed"
        section = self._string(seed, "section", where)
        self._expect(section in self.sections, f"{where}/section", f"{section!r} is not in /source/sections")
        quote = self._string(seed, "quote", where)
        self._expect(len(quote.strip()) >= 3, f"{where}/quote", "must be at least 3 characters")
        self._expect(_normalise_space(quote) in self.sections[section], f"{where}/quote",
                     f"{quote!r} is not found in the section {section!r}")
        return SeedReference(section, quote)

    def _text(self, node: dict[str, Any], key: str, where: str) -> dict[str, str]:
        text = self._object(node, key, where)
        where = f"{where}/{key}"
        for language in LANGUAGES:
            value = text.get(language)
            self._expect(isinstance(value, str) and value.strip() != "", f"{where}/{language}",
                         "must be a non-empty string")
            # a text is read by people: no control character (wording.SLOT, one of them, marks a sentence's gap)
            self._expect(not any(character < " " for character in value), f"{where}/{language}",
                         "must hold no control character (a tab, a line break, ...)")
        extra = sorted(set(text) - set(LANGUAGES))
        self._expect(not extra, where, f"has unsupported languages: {', '.join(extra)}")
        return {language: text[language] for language in LANGUAGES}

    def _object(self, node: dict[str, Any], key: str, where: str) -> dict[str, Any]:
        value = node.get(key)
        self._expect(isinstance(value, dict), f"{where}/{key}", "must be an object")
        return value

    def _string(self, node: dict[str, Any], key: str, where: str) -> str:
        value = node.get(key)
        self._expect(isinstance(value, str) and value != "", f"{where}/{key}", "must be a non-empty string")
        return value

    def _number(self, node: dict[str, Any], key: str, where: str) -> float:
        value = node.get(key)
        self._expect(isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value),
                     f"{where}/{key}", "must be a finite number")
        return float(value)

    def _boolean(self, node: dict[str, Any], key: str, where: str) -> bool:
        value = node.get(key)
        self._expect(isinstance(value, bool), f"{where}/{key}", "must be true or false")
        return value

    @staticmethod
    def _expect(condition: bool, where: str, problem: str) -> None:
        if not condition:
            raise ModelError(f"{where or '/'}: {problem}")
