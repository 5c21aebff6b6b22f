"""Response schemas: what the views return, the source of the responses in `openapi.yaml`.

The tests validate every response against the OpenAPI document generated from them.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from marshmallow import Schema, fields, validate

from service.scoring import STRATEGIES, Assessment, Explained, encode, encode_explained, render

FAVOURS = ("relational", "transactional", "neither")


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


class ReloadSchema(OutputSchema):
    outcome = fields.String(validate=validate.OneOf(("applied", "refused")))
    at = fields.Float(metadata={"description": "When, in seconds since the epoch."})
    error = fields.String(allow_none=True, metadata={
        "description": "Why it was refused: the model file and the JSON path; null when applied."})


class ReadinessSchema(OutputSchema):
    status = fields.String(validate=validate.OneOf(("ready", "not ready")))
    models = fields.List(fields.String(), metadata={"description": "The models loaded, as id@version."})
    default_model = fields.String(allow_none=True)
    last_reload = fields.Nested(ReloadSchema, allow_none=True, metadata={
        "optional": True, "description": "The last model reload (SIGHUP); a refused one leaves the last good "
                                         "models serving. null: none since the start."})


class BatchCountsSchema(OutputSchema):
    relational = fields.Integer()
    hybrid = fields.Integer()
    transactional = fields.Integer()
    invalid = fields.Integer()


class BatchItemSchema(Schema):
    index = _required(fields.Integer(metadata={"description": "The item's position in the request."}))
    status = _required(fields.Integer(validate=validate.OneOf((200, 422)), metadata={
        "description": "200 with `assessment`, or 422 with `problem` when the item is not a valid profile."}))
    assessment = fields.Nested(AssessmentSchema, metadata={"description": "When status is 200."})
    problem = fields.Nested(ProblemSchema, metadata={"description": "When status is not 200."})


class BatchSchema(OutputSchema):
    results = fields.List(fields.Nested(BatchItemSchema), metadata={"description": "One per profile, in order."})
    counts = fields.Nested(BatchCountsSchema)
    model = fields.Nested(ModelRefSchema)


def assessment_body(assessment: Assessment, profile: Mapping[str, Any], language: str,
                    assessment_id: str | None = None, fields: Collection[str] | None = None,
                    plain: bool = False) -> dict[str, Any]:
    """The answer to one profile (docs/contract.md §5): its id, the fields it echoes, then the assessment in words.

    Encoded for orjson (its shared text pre-serialised) unless `plain` is asked for (dicts and lists to read, as
    the CSV answer and the OpenAPI example do); only the members named in `fields`, when given. With
    assessment_bodies, the one builder of that envelope: the views, the rows of the stream and the command, and
    the benchmark's null app use them.
    """
    words = render(assessment, language) if plain else encode(assessment, language, fields)
    return _envelope(words, profile, assessment_id or str(uuid.uuid4()), fields)


def assessment_bodies(explained: Explained, profiles: Sequence[Mapping[str, Any]], language: str,
                      assessment_ids: Sequence[str], fields: Collection[str] | None = None) -> list[dict[str, Any]]:
    """assessment_body of each profile explained, with its id, written from the arrays (a batch's, a chunk's)."""
    return [_envelope(words, profile, assessment_id, fields) for words, profile, assessment_id in zip(
        encode_explained(explained, language, fields), profiles, assessment_ids, strict=True)]


def _envelope(words: dict[str, Any], profile: Mapping[str, Any], assessment_id: str,
              fields: Collection[str] | None) -> dict[str, Any]:
    body = {"assessment_id": assessment_id, "external_id": profile.get("external_id"),
            "industry": profile.get("industry"), **words}
    return body if fields is None else {name: value for name, value in body.items() if name in fields}
