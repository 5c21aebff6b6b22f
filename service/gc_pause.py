"""Garbage collection held off while one bounded piece of work runs (a batch, a chunk of rows).

Such work makes some 300 objects a profile that all live until its answer is written, then go by their
reference counts: a collection in the middle walks them all and frees nothing (3 % of a batch's instructions,
callgrind). The work is bounded (MAX_BATCH profiles, a chunk of STREAM_CHUNK_ROWS rows), so so is what waits for
the next collection.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collections_paused() -> Iterator[None]:
    """No automatic collection inside; collections resume after, unless they were off before (then stay off)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
