"""The model's closed sets (Literals) are exactly the enums of schemas/dump.schema.json, and
the generated Windows ProductType enums name the model's product types."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import pytest

from dumpkit import model
from dumpkit.formats.windows_crashdump import WindowsCrashdump
from dumpkit.formats.windows_minidump import WindowsMinidump
from dumpkit.readers.windows_common import product_type

SCHEMA = Path(__file__).resolve().parent.parent / "schemas" / "dump.schema.json"


def _enum(pointer: str) -> list[Any]:
    """The enum at a JSON pointer of the dump schema (the first enum of an ``anyOf``)."""
    node: Any = json.loads(SCHEMA.read_text())
    for part in pointer.strip("/").split("/"):
        node = node[part]
    if "anyOf" in node:
        node = next(alt for alt in node["anyOf"] if "enum" in alt)
    return list(node["enum"])


@pytest.mark.parametrize(("literal", "pointer"), [
    (model.SourceFormat, "$defs/source/properties/format"),
    (model.ByteOrder, "$defs/source/properties/byte_order"),
    (model.CrashKind, "$defs/crash/properties/kind"),
    (model.Severity, "$defs/diagnostic/properties/severity"),
    (model.FrameTrust, "$defs/frame/properties/trust"),
    (model.ProductType, "$defs/system/properties/product_type"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_model_literal_matches_schema_enum(literal: Any, pointer: str) -> None:
    assert sorted(get_args(literal)) == sorted(_enum(pointer))


@pytest.mark.parametrize("enum", [WindowsCrashdump.ProductType, WindowsMinidump.ProductTypes])
def test_generated_product_types_are_the_models(enum: Any) -> None:
    assert sorted(member.name for member in enum) == sorted(get_args(model.ProductType))
    assert [product_type(member) for member in enum] == [member.name for member in enum]
    assert product_type(7) is None  # a number outside the enum stays unknown
