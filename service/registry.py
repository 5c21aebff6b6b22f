"""The models the service answers with, each with what the HTTP layer builds from it once, at start."""

from __future__ import annotations

from dataclasses import dataclass

from service.errors import Problem
from service.schemas.profile import ProfileSchema, profile_schema
from service.scoring import Model, ModelError, load_models


@dataclass(frozen=True)
class LoadedModel:
    """A model, with the profile schema built from its criteria (and that schema's field names)."""

    model: Model
    profile_schema: ProfileSchema  # made once per model: its plain checks are derived when it is made
    fields: frozenset[str]


class ModelRegistry:
    """The models the service answers with, by `id@version`, and the one a request that names none gets.

    The default is the configured one (STRATEGY_DEFAULT_MODEL), else the highest version loaded.
    """

    def __init__(self, models: dict[str, Model], default: str) -> None:
        self.models = {key: _loaded(model) for key, model in models.items()}
        if not default:
            default = max(models.values(), key=lambda m: tuple(int(part) for part in m.version.split("."))).key
        if default not in self.models:
            raise ModelError(f"STRATEGY_DEFAULT_MODEL: {default!r} is not among the models loaded "
                             f"({', '.join(sorted(self.models))})")
        self.default = default

    @classmethod
    def from_folder(cls, folder: str, default: str) -> ModelRegistry:
        """Every model file of `folder`, loaded and validated (a broken one raises ModelError naming it)."""
        return cls(load_models(folder), default)

    def get(self, key: str | None) -> LoadedModel:
        """The model a request names (`id@version`), or the default; a 404 problem for an unknown one."""
        if key is None:
            return self.models[self.default]
        try:
            return self.models[key]
        except KeyError:
            raise Problem(404, f"There is no model {key[:100]!r}; the models are: "
                               f"{', '.join(sorted(self.models))}.") from None


def _loaded(model: Model) -> LoadedModel:
    schema = profile_schema(model)()
    return LoadedModel(model, schema, frozenset(schema.fields))
