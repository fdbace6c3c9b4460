"""siggen's signature generator, with two shortcuts: frame names its C/C++ rules leave alone,
and the rules' lookups of plain paths (``glom``).

siggen normalises every frame's function name character by character (dropping return types,
collapsing ``<...>`` and ``(...)``), about 15 us per frame; most of our labels (``ntdll.dll@0x1f2e3``,
``RtlUserThreadStart``, ``std::rt::lang_start``) hold none of the characters those rules act on,
so they come out as they went in. :class:`PlainNameTool` returns such names at once and hands
every other name to siggen. The rules find the crashing thread with ``glom``, which parses its
path text at every call; :func:`path_lookup` answers plain paths itself and leaves the rest to
glom. ``tests/test_signature_tool.py`` checks both against siggen and glom (names, lookups, corpus
signatures). Imported on first use (siggen costs ~50 ms to import).
"""
from __future__ import annotations

import re
from typing import Any

import siggen.rules as siggen_rules
from glom import glom
from siggen.generator import DEFAULT_RULESET, SignatureGenerator
from siggen.rules import CSignatureTool, SignatureGenerationRule

__all__ = ["PLAIN_NAME", "PlainNameTool", "generator", "path_lookup"]

#: A name none of siggen's C/C++ rules change: no space, bracket, quote, comma, ``&``, ``*`` or
#: ``$`` (what return-type dropping, collapsing and the fix-ups look for). Names ending in
#: ``const`` are left to siggen (it strips the qualifier).
PLAIN_NAME = re.compile(r"[\w@.:~?+\-]+")


class PlainNameTool(CSignatureTool):
    """siggen's C/C++ signature tool; plain names skip its character-by-character rules."""

    def normalize_cpp_function(self, function: str, line: object) -> str:
        if PLAIN_NAME.fullmatch(function) and not function.endswith("const"):
            if self.signatures_with_line_numbers_re.match(function):
                return f"{function}:{line}"
            return function
        result: str = super().normalize_cpp_function(function, line)
        return result


def path_lookup(target: Any, spec: Any, **kwargs: Any) -> Any:
    """``glom(target, spec, **kwargs)``, answered at once for a dotted path through dicts that
    hold each key and lists that hold each index (siggen's ``"threads.0"``); every other case
    is glom's. glom parses the path text at every call, about 25 us (two calls per signature)."""
    if isinstance(spec, str):
        value = target
        for part in spec.split("."):
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                return glom(target, spec, **kwargs)
        return value
    return glom(target, spec, **kwargs)


def generator() -> SignatureGenerator:
    """siggen's default rule set, its frame-list rule using :class:`PlainNameTool`."""
    siggen_rules.glom = path_lookup  # the rules look paths up through this name
    rule = SignatureGenerationRule()
    rule.c_signature_tool.__class__ = PlainNameTool  # same lists and state, the shortcut added
    return SignatureGenerator(ruleset=[rule if cls is SignatureGenerationRule else cls
                                       for cls in DEFAULT_RULESET])
