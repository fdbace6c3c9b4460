"""dumpkit.gc_pause: the cycle collector is off while a dump is read, and back on after,
whatever happens inside."""
from __future__ import annotations

import gc

import pytest

from dumpkit import gc_pause


def test_paused_and_restored() -> None:
    assert gc.isenabled()
    with gc_pause.paused():
        assert not gc.isenabled()
        with gc_pause.paused():  # nested: left off, and not switched on by the inner block
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_restored_after_an_error() -> None:
    with pytest.raises(ValueError), gc_pause.paused():
        raise ValueError("a reader failed")
    assert gc.isenabled()


def test_left_off_when_it_was_off() -> None:
    gc.disable()
    try:
        with gc_pause.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
