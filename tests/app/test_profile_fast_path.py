"""The profile schema's short way for plainly valid profiles gives exactly what marshmallow's full load gives:
the same dict (keys, order, types, -0.0), or the same ValidationError; and valid profiles really take it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields, validate

from service.registry import ModelRegistry
from service.schemas.profile import ProfileSchema, profile_schema
from service.scoring import load_model
from tests.support.models import MODEL_FILE, REFERENCE_PROFILES, model_document, random_profiles

MODEL = load_model(MODEL_FILE)
PROFILE = profile_schema(MODEL)
SCHEMA = PROFILE()


class PlainSchema(Schema):
    """Marshmallow's own Schema, reporting its schema-level errors by the same keys as the profile schema."""

    error_messages = ProfileSchema.error_messages


# the same declared fields in a plain marshmallow schema: what the short way must agree with
PLAIN = PlainSchema.from_dict(dict(PROFILE._declared_fields), name="Profile")()
FIELD_NAMES = sorted(SCHEMA.load_fields)
OPTION_VALUES = sorted({o.value for c in MODEL.criteria for o in c.options})
ECHOED_LENGTHS = {"external_id": 128, "industry": 100}

# every kind of value a field might get: right and wrong types, bools, ints and floats, edges of ranges and lengths
ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-2, max_value=2),
    st.floats(),
    st.floats(min_value=-0.5, max_value=1.5),
    st.sampled_from([0, 1, 0.0, -0.0, 1.0, 0.5, 1e308, -1e308, 5e-324, 10**400, float("inf"), float("-inf"),
                     float("nan")]),
    st.text(max_size=20),
    st.integers(min_value=95, max_value=135).map(lambda n: "x" * n),
    st.sampled_from(OPTION_VALUES),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def criterion_value(criterion: Any) -> st.SearchStrategy[Any]:
    if criterion.number is not None:
        scale = criterion.number
        return st.one_of(st.floats(scale.minimum, scale.maximum), st.sampled_from([0, 1, -0.0, 0.5]))
    return st.sampled_from([option.value for option in criterion.options])


@st.composite
def valid_profiles(draw: st.DrawFn) -> dict[str, Any]:
    """Every required criterion answered; optional ones answered, null or absent; keys in any order."""
    profile: dict[str, Any] = {}
    for criterion in MODEL.criteria:
        choice = "answer" if criterion.required else draw(st.sampled_from(["answer", "null", "absent"]))
        if choice != "absent":
            profile[criterion.name] = draw(criterion_value(criterion)) if choice == "answer" else None
    for name, longest in ECHOED_LENGTHS.items():
        if draw(st.booleans()):
            profile[name] = draw(st.one_of(st.none(), st.text(max_size=longest)))
    return dict(draw(st.permutations(list(profile.items()))))


@st.composite
def documents(draw: st.DrawFn) -> Any:
    """A valid profile, spoilt a few times over: wrong values, unknown keys, required ones missing; or no object."""
    if draw(st.integers(0, 19)) == 0:
        return draw(st.one_of(st.none(), st.lists(st.integers(), max_size=2), st.text(max_size=3), st.integers()))
    document = draw(valid_profiles())
    for _ in range(draw(st.integers(0, 3))):
        action = draw(st.sampled_from(["set", "unknown", "delete"]))
        if action == "set":
            document[draw(st.sampled_from(FIELD_NAMES))] = draw(ANY_VALUE)
        elif action == "unknown":
            document[draw(st.text(max_size=12))] = draw(ANY_VALUE)
        elif document:
            del document[draw(st.sampled_from(sorted(document)))]
    return document


def exactly(profile: dict[str, Any]) -> list[tuple[str, type, str]]:
    """A loaded profile as everything that must match: keys in order, types, and reprs (which tell -0.0 apart)."""
    return [(key, type(value), repr(value)) for key, value in profile.items()]


def outcome(schema: Schema, document: Any, **options: Any) -> tuple[str, Any]:
    try:
        loaded = schema.load(document, **options)
        return "loaded", [exactly(p) for p in loaded] if isinstance(loaded, list) else exactly(loaded)
    except ValidationError as error:
        return "refused", (error.messages, error.valid_data)


@settings(max_examples=2000, deadline=None)
@given(documents())
def test_load_is_marshmallow_load(document: Any) -> None:
    assert outcome(SCHEMA, document) == outcome(PLAIN, document)


@settings(max_examples=2000, deadline=None)
@given(valid_profiles(), st.sampled_from(FIELD_NAMES), ANY_VALUE)
def test_load_is_marshmallow_load_for_any_value_of_one_field(profile: dict[str, Any], name: str, value: Any) -> None:
    document = {**profile, name: value}
    assert outcome(SCHEMA, document) == outcome(PLAIN, document)


@settings(max_examples=500, deadline=None)
@given(valid_profiles())
def test_every_valid_profile_takes_the_short_way(profile: dict[str, Any]) -> None:
    short = SCHEMA.plain_load(profile)
    assert short is not None
    assert exactly(short) == exactly(PLAIN.load(profile))


def test_the_service_s_schema_takes_the_short_way(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = ModelRegistry({MODEL.key: MODEL}, "").get(None).profile_schema
    assert isinstance(schema, ProfileSchema)
    fallbacks = []
    full_load = Schema.load

    def counting_load(self: Schema, *args: Any, **kwargs: Any) -> Any:
        fallbacks.append(args[0])
        return full_load(self, *args, **kwargs)

    monkeypatch.setattr(Schema, "load", counting_load)
    profiles = [case["profile"] for case in REFERENCE_PROFILES.values()]
    profiles += random_profiles(model_document(), 500, seed=3)
    for profile in profiles:
        assert exactly(schema.load(profile)) == exactly(PLAIN.load(profile))
    assert len(fallbacks) == len(profiles)  # PLAIN's loads only: none of the service's schema
    with pytest.raises(ValidationError):
        schema.load({**profiles[0], "colour": "red"})
    assert len(fallbacks) == len(profiles) + 1  # an unknown field goes the full way


@pytest.mark.parametrize("options", [{"many": True}, {"partial": True}, {"unknown": "exclude"}])
def test_other_options_go_the_full_way(options: dict[str, Any]) -> None:
    profile = REFERENCE_PROFILES["b2b_it_consultancy"]["profile"]
    document = [profile] if options.get("many") else {**profile, "segment": None, "colour": 1}
    assert outcome(SCHEMA, document, **options) == outcome(PLAIN, document, **options)


def test_a_schema_made_with_other_options_goes_the_full_way() -> None:
    assert PROFILE(partial=True).plain_load({}) is None
    assert PROFILE(partial=True).load({}) == {}


@pytest.mark.parametrize("declaration", [
    {"load_default": "medium"}, {"load_default": None, "allow_none": True}, {"data_key": "price"},
    {"attribute": "price"}])
def test_a_field_the_short_way_does_not_know_gets_marshmallows_result(declaration: dict[str, Any]) -> None:
    """Today's fields are plain; a field declared with anything else (load_default, data_key, ...) is marshmallow's."""
    price_level = fields.String(validate=validate.OneOf(["low", "medium", "high", "premium"]), **declaration)
    declared = {**PROFILE._declared_fields, "price_level": price_level}
    schema = ProfileSchema.from_dict(declared, name="Profile")()
    plain = PlainSchema.from_dict(declared, name="Profile")()
    profile = REFERENCE_PROFILES["minimal_required_only_b2b"]["profile"]
    answered = {**profile, declaration.get("data_key", "price_level"): "high"}
    assert schema.plain_load(answered) is None  # it does not guess what the declaration does
    for document in (profile, answered):
        assert outcome(schema, document) == outcome(plain, document)
    if "load_default" in declaration:  # absent, it is marshmallow's to fill in
        assert schema.plain_load(profile) is None
        assert schema.load(profile)["price_level"] == declaration["load_default"]
