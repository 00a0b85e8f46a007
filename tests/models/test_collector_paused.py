"""The cycle collector paused around a bulk build and left as it was found."""

from __future__ import annotations

import gc

import pytest

from models.bulk import collector_paused


def test_paused_inside_and_running_again_after() -> None:
    """Running before: paused in the block, running after it, an error inside included."""
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError, match="inside"), collector_paused():
        raise ValueError("inside")
    assert gc.isenabled()


def test_a_paused_collector_stays_paused() -> None:
    """Paused before (by a caller's own block): still paused after, nested blocks too."""
    gc.disable()
    try:
        with collector_paused():
            with collector_paused():
                assert not gc.isenabled()
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
