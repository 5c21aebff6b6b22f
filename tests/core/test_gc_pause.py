"""Collections held off for a batch's work resume after it, even when it fails, and stay off if they were off."""

from __future__ import annotations

import gc

import pytest

from service.gc_pause import collections_paused


def test_collections_are_off_inside_and_back_on_after_even_on_an_error() -> None:
    assert gc.isenabled()
    with pytest.raises(ValueError), collections_paused():
        assert not gc.isenabled()
        raise ValueError
    assert gc.isenabled()


def test_collections_off_before_stay_off_after() -> None:
    gc.disable()
    try:
        with collections_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
