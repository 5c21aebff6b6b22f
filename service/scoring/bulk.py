"""Many profiles at once: what the batch endpoint, the stream and the command share.

`assess_many` gives, item by item, exactly the Assessment `assess` gives for each profile.
"""

from __future__ import annotations

from collections.abc import Sequence

from service.scoring.arithmetic import Profile
from service.scoring.assessment import Assessment, assess
from service.scoring.model import Model


def assess_many(model: Model, profiles: Sequence[Profile]) -> list[Assessment]:
    """Assess valid profiles together; the same result as assess() on each, in order."""
    return [assess(model, profile) for profile in profiles]
