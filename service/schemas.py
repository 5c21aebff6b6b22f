"""Marshmallow schemas: the single source of truth for validating requests and for `openapi.yaml`.

The profile schema is built from the model file, so its options are the model's options. The
response schemas describe what the views return; the tests validate every response against the
OpenAPI document generated from them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from marshmallow import RAISE, Schema, fields, types, validate

from service.scoring import STRATEGIES, Model

FAVOURS = ("relational", "transactional", "neither")
ECHOED_FIELDS = {
    "external_id": "The caller's record id (e.g. the CRM's), echoed back; never scored.",
    "industry": "Free text, echoed back; never scored.",
}


class StrictNumber(fields.Float):
    """A JSON number only: no strings, no booleans, nothing too large for a float."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except OverflowError:
            raise self.make_error("too_large") from None


_UNSURE = object()  # what a field's plain check gives for a value it leaves to marshmallow


class ProfileSchema(Schema):
    """A schema whose load() takes a short way for a plainly valid profile, and marshmallow's full load otherwise."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # derived from the fields as declared, so the schema stays the one source of truth
        self._plain_checks = {name: _plain_check(field) for name, field in self.load_fields.items()}
        self._required = frozenset(name for name, field in self.load_fields.items() if field.required)
        # the short way knows only a plain load: one object, every field required as declared, unknown ones refused
        self._short_way = (not self.many and self.partial is None and self.unknown == RAISE
                           and not any(self._hooks.values()))

    def load(self, data: Mapping[str, Any] | Sequence[Mapping[str, Any]], *, many: bool | None = None,
             partial: bool | types.StrSequenceOrSet | None = None,
             unknown: types.UnknownOption | None = None) -> Any:
        """Schema.load, the same result and the same errors: a plainly valid profile just skips the machinery."""
        if many is None and partial is None and unknown is None:
            profile = self.plain_load(data)
            if profile is not None:
                return profile
        return super().load(data, many=many, partial=partial, unknown=unknown)

    def plain_load(self, document: Any) -> dict[str, Any] | None:
        """What load() returns for a plainly valid profile; None for anything else, which load() does in full."""
        if not self._short_way or type(document) is not dict or not self._required <= document.keys():
            return None
        profile = {}
        for name, check in self._plain_checks.items():  # the declared order, as marshmallow's result has it
            if name in document:
                value = check(document[name])
                if value is _UNSURE:
                    return None
                profile[name] = value
        return profile if len(profile) == len(document) else None  # else it holds an unknown field


def _plain_check(field: fields.Field) -> Callable[[Any], Any]:
    """A function giving what the field loads a plainly valid value to, and _UNSURE for any other value."""
    # only String and StrictNumber fields with OneOf, Length or inclusive Range validators: others go the full way
    if field.data_key is not None or field.attribute is not None or field.pre_load or field.post_load:
        return _leave_to_marshmallow
    allow_none = field.allow_none
    if type(field) is fields.String:
        choices: frozenset[str] | None = None
        shortest, longest = 0, sys.maxsize
        for validator in field.validators:
            if type(validator) is validate.OneOf and all(type(choice) is str for choice in validator.choices):
                choices = frozenset(validator.choices) if choices is None else choices & set(validator.choices)
            elif type(validator) is validate.Length and validator.equal is None:
                shortest = max(shortest, validator.min or 0)
                longest = min(longest, sys.maxsize if validator.max is None else validator.max)
            else:
                return _leave_to_marshmallow

        def string(value: Any) -> Any:
            if type(value) is str and shortest <= len(value) <= longest and (choices is None or value in choices):
                return value
            return None if value is None and allow_none else _UNSURE
        return string
    if type(field) is StrictNumber and not field.allow_nan:
        # finite bounds also turn away nan and ±inf, which a Float without allow_nan refuses
        low, high = -sys.float_info.max, sys.float_info.max
        for validator in field.validators:
            if type(validator) is validate.Range and validator.min_inclusive and validator.max_inclusive:
                low = low if validator.min is None else max(low, validator.min)
                high = high if validator.max is None else min(high, validator.max)
            else:
                return _leave_to_marshmallow

        def number(value: Any) -> Any:
            if type(value) is float or type(value) is int:  # not bool, whose type is bool
                try:
                    value = float(value)  # as Float loads it: ints become floats
                except OverflowError:
                    return _UNSURE
                return value if low <= value <= high else _UNSURE
            return None if value is None and allow_none else _UNSURE
        return number
    return _leave_to_marshmallow


def _leave_to_marshmallow(value: Any) -> Any:
    return _UNSURE


def profile_schema(model: Model) -> type[ProfileSchema]:
    """The profile a model scores: its criteria, plus the echoed `external_id` and `industry`; nothing else."""
    declared: dict[str, fields.Field] = {}
    for criterion in model.criteria:
        options = {"required": criterion.required, "allow_none": not criterion.required}
        description = criterion.question["en"]
        if criterion.number is not None:
            scale = criterion.number
            declared[criterion.name] = StrictNumber(
                validate=validate.Range(scale.minimum, scale.maximum), **options,
                metadata={"description": f"{description} Lean = clamp((x - {scale.centre}) / {scale.span}, -1, 1)."})
        else:
            leans = ", ".join(f"{o.value} ({o.lean:+g})" for o in criterion.options)
            declared[criterion.name] = fields.String(
                validate=validate.OneOf([o.value for o in criterion.options]), **options,
                metadata={"description": f"{description} Options and leans: {leans}."})
    declared["external_id"] = fields.String(allow_none=True, validate=validate.Length(max=128),
                                            metadata={"description": ECHOED_FIELDS["external_id"]})
    declared["industry"] = fields.String(allow_none=True, validate=validate.Length(max=100),
                                         metadata={"description": ECHOED_FIELDS["industry"]})
    return ProfileSchema.from_dict(declared, name="Profile")  # type: ignore[return-value]


def batch_schema(profile: type[Schema], max_batch: int) -> type[Schema]:
    """The body of POST /assess/batch (for the OpenAPI document: the view checks each item on its own)."""
    return Schema.from_dict({"profiles": fields.List(
        fields.Nested(profile), required=True, validate=validate.Length(max=max_batch),
        metadata={"description": "Each is assessed on its own; a bad one gets its own problem."})},
        name="BatchRequest")


def _required(field: fields.Field) -> fields.Field:
    field.required = True
    return field


class OutputSchema(Schema):
    """Responses: every field always present (unless marked optional), nothing undeclared."""

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        field_obj.required = not field_obj.metadata.get("optional", False)


class ScoresSchema(OutputSchema):
    relational = fields.Float(metadata={"description": "50 × (1 + index)"})
    transactional = fields.Float(metadata={"description": "100 − scores.relational"})


class SourceSchema(OutputSchema):
    section = fields.String(metadata={"description": "A heading of the seed article."})
    quote = fields.String(metadata={"description": "The words of that section this rests on."})


class FactorSchema(OutputSchema):
    criterion = fields.String()
    label = fields.String()
    value = fields.Raw(metadata={"description": "The profile's value: an option, or a number."})
    value_label = fields.String()
    weight = fields.Float()
    lean = fields.Float()
    contribution = fields.Float(metadata={"description": "weight × lean / (sum of present weights)"})
    favours = fields.String(validate=validate.OneOf(FAVOURS))
    reason = fields.String()
    source = fields.Nested(SourceSchema)


class RationaleSchema(OutputSchema):
    summary = fields.String()
    factors = fields.List(fields.Nested(FactorSchema),
                          metadata={"description": "Every present criterion, largest |contribution| first."})


class CounterfactualSchema(OutputSchema):
    criterion = fields.String()
    from_ = fields.Raw(data_key="from", allow_none=True, metadata={"description": "null: the criterion was absent."})
    to = fields.Raw()
    recommendation = fields.String(validate=validate.OneOf(STRATEGIES))
    actionable = fields.Boolean()
    index = fields.Float(metadata={"description": "The index the changed profile gets."})


class ChangeSchema(OutputSchema):
    criterion = fields.String()
    from_ = fields.Raw(data_key="from", allow_none=True, metadata={"description": "null: the criterion was absent."})
    to = fields.Raw()


class PlanSchema(OutputSchema):
    target = fields.String(validate=validate.OneOf(STRATEGIES))
    reachable = fields.Boolean()
    changes = fields.List(fields.Nested(ChangeSchema), metadata={
        "description": "The fewest changes to actionable criteria that reach the target; empty when none can."})
    index = fields.Float(allow_none=True, metadata={"description": "The index after the changes; null if unreachable."})
    summary = fields.String()


class MarginSchema(OutputSchema):
    runner_up = fields.String(validate=validate.OneOf(STRATEGIES),
                              metadata={"description": "The strategy beyond the nearest decision boundary."})
    distance = fields.Float(metadata={"description": "From the index to that boundary, in index units."})
    points = fields.Float(metadata={"description": "The same distance on the 0–100 relational score."})
    close_call = fields.Boolean(metadata={"description": "distance < the model's close_call_margin"})
    summary = fields.String()


class WeightRangeSchema(OutputSchema):
    criterion = fields.String()
    weight = fields.Float()
    lower = fields.Float(allow_none=True,
                         metadata={"description": "Below this weight the answer changes (null: never)."})
    upper = fields.Float(allow_none=True,
                         metadata={"description": "Above this weight the answer changes (null: never)."})
    below = fields.String(allow_none=True, validate=validate.OneOf(STRATEGIES),
                          metadata={"description": "The answer just below `lower`."})
    above = fields.String(allow_none=True, validate=validate.OneOf(STRATEGIES),
                          metadata={"description": "The answer just above `upper`."})


class MissingAnswerSchema(OutputSchema):
    criterion = fields.String()
    label = fields.String()
    question = fields.String()
    outcomes = fields.List(fields.String(validate=validate.OneOf(STRATEGIES)),
                           metadata={"description": "The recommendations its possible answers lead to."})
    can_change = fields.Boolean()
    largest_shift = fields.Float(metadata={"description": "The most any answer would move the index."})


class RiskSchema(OutputSchema):
    risk = fields.String()
    mitigation = fields.String()


class PlaybookSchema(OutputSchema):
    kpis = fields.List(fields.String())
    tools = fields.List(fields.String())
    steps = fields.List(fields.String())
    risks = fields.List(fields.Nested(RiskSchema))


class ModelRefSchema(OutputSchema):
    id = fields.String()
    version = fields.String()


class AssessmentSchema(OutputSchema):
    assessment_id = fields.UUID()
    external_id = fields.String(allow_none=True)
    industry = fields.String(allow_none=True)
    recommendation = fields.String(validate=validate.OneOf(STRATEGIES))
    scores = fields.Nested(ScoresSchema)
    index = fields.Float(validate=validate.Range(-1, 1))
    confidence = fields.Float(validate=validate.Range(0, 1))
    coverage = fields.Float(validate=validate.Range(0, 1))
    rationale = fields.Nested(RationaleSchema)
    counterfactuals = fields.List(fields.Nested(CounterfactualSchema),
                                  metadata={"description": "Single changes that change the recommendation, "
                                                           "smallest movement of the index first."})
    plans = fields.List(fields.Nested(PlanSchema), metadata={"description": "One per other strategy."})
    margin = fields.Nested(MarginSchema)
    sensitivity = fields.List(fields.Nested(WeightRangeSchema), metadata={
        "description": "Per answered criterion, the weights between which the answer holds; most sensitive first."})
    missing_information = fields.List(fields.Nested(MissingAnswerSchema), metadata={
        "description": "Unanswered criteria, those that could change the answer first, then by largest shift."})
    playbook = fields.Nested(PlaybookSchema)
    model = fields.Nested(ModelRefSchema)
    comparison = fields.Nested(lambda: ComparisonSchema(), metadata={
        "optional": True, "description": "With ?compare=id@version: the same profile under that model."})


class ComparisonSchema(OutputSchema):
    model = fields.Nested(ModelRefSchema)
    agrees = fields.Boolean(metadata={
        "optional": True, "description": "Whether both models recommend the same (absent when it rejects it)."})
    index_difference = fields.Float(metadata={"optional": True, "description": "Its index minus this one's."})
    assessment = fields.Nested(AssessmentSchema, metadata={"optional": True})
    problem = fields.Nested(lambda: ProblemSchema(), metadata={
        "optional": True, "description": "When that model rejects the profile."})


class OptionSchema(OutputSchema):
    value = fields.String()
    lean = fields.Float()
    label = fields.String()
    reason = fields.String()
    source = fields.Nested(SourceSchema)


class NumberScaleSchema(OutputSchema):
    minimum = fields.Float()
    maximum = fields.Float()
    centre = fields.Float()
    span = fields.Float()


class CriterionSchema(OutputSchema):
    name = fields.String()
    label = fields.String()
    question = fields.String()
    weight = fields.Float()
    required = fields.Boolean()
    actionable = fields.Boolean()
    source = fields.Nested(SourceSchema)
    options = fields.List(fields.Nested(OptionSchema), allow_none=True)
    number = fields.Nested(NumberScaleSchema, allow_none=True)


class StrategySchema(OutputSchema):
    name = fields.String(validate=validate.OneOf(STRATEGIES))
    label = fields.String()


class CriteriaSchema(OutputSchema):
    id = fields.String()
    version = fields.String()
    threshold = fields.Float()
    confidence = fields.String(metadata={"description": "How confidence is computed."})
    total_weight = fields.Float()
    strategies = fields.List(fields.Nested(StrategySchema))
    criteria = fields.List(fields.Nested(CriterionSchema))
    source = fields.Nested(lambda: SeedSchema())


class SeedSchema(OutputSchema):
    title = fields.String()
    sections = fields.List(fields.String())


class ProblemFieldSchema(OutputSchema):
    pointer = fields.String(metadata={"description": "RFC 6901 JSON pointer to the bad member."})
    detail = fields.String()


class ProblemSchema(Schema):
    type = _required(fields.String())
    title = _required(fields.String())
    status = _required(fields.Integer())
    detail = _required(fields.String())
    instance = _required(fields.String())
    request_id = _required(fields.String())
    errors = fields.List(fields.Nested(ProblemFieldSchema))


class HealthSchema(OutputSchema):
    status = fields.String()


class ReadinessSchema(OutputSchema):
    status = fields.String(validate=validate.OneOf(("ready", "not ready")))
    models = fields.List(fields.String(), metadata={"description": "The models loaded, as id@version."})
    default_model = fields.String(allow_none=True)


class BatchCountsSchema(OutputSchema):
    relational = fields.Integer()
    hybrid = fields.Integer()
    transactional = fields.Integer()
    invalid = fields.Integer()


class BatchItemSchema(Schema):
    index = _required(fields.Integer(metadata={"description": "The item's position in the request."}))
    status = _required(fields.Integer(metadata={"description": "200, or the problem's status (422)."}))
    assessment = fields.Nested(AssessmentSchema, metadata={"description": "When status is 200."})
    problem = fields.Nested(ProblemSchema, metadata={"description": "When status is not 200."})


class BatchSchema(OutputSchema):
    results = fields.List(fields.Nested(BatchItemSchema), metadata={"description": "One per profile, in order."})
    counts = fields.Nested(BatchCountsSchema)
    model = fields.Nested(ModelRefSchema)
