"""Caps on what reading one input may cost (documented in ``archives``); a light module, so
the command line can show the defaults without loading the archive readers."""
from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["Limits"]

_GIB = 1 << 30


@dataclass(frozen=True)
class Limits:
    """Caps on what reading one archive may cost (see the module docstring)."""

    max_member_size: int = 64 * _GIB
    max_ratio: int = 10_000
    ratio_floor: int = 1 * _GIB
    max_depth: int = 8
    max_members: int = 1_000_000
    min_free: int = 1 * _GIB

    def as_dict(self) -> dict[str, int]:
        return asdict(self)
