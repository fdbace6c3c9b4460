"""Facts shared by the Windows readers (user minidumps and kernel crash dumps)."""
from __future__ import annotations

from enum import IntEnum
from typing import cast, get_args

from dumpkit.model import ProductType

__all__ = ["product_type"]

_PRODUCT_TYPES = frozenset(get_args(ProductType))


def product_type(value: object) -> ProductType | None:
    """The model's product type of a generated ``ProductType`` enum member (the .ksy ids are
    the model's names); ``None`` for a number outside the enum."""
    if isinstance(value, IntEnum) and value.name in _PRODUCT_TYPES:
        return cast(ProductType, value.name)
    return None
