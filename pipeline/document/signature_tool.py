"""siggen's signature generator, with one shortcut: frame names its C/C++ rules leave alone.

siggen normalises every frame's function name character by character (dropping return types,
collapsing ``<...>`` and ``(...)``), about 15 us per frame; most of our labels (``ntdll.dll@0x1f2e3``,
``RtlUserThreadStart``, ``std::rt::lang_start``) hold none of the characters those rules act on,
so they come out as they went in. :class:`PlainNameTool` returns such names at once and hands
every other name to siggen; ``tests/test_signature_tool.py`` checks the two agree on corpus labels
and on random names. Imported on first use (siggen costs ~50 ms to import).
"""
from __future__ import annotations

import re

from siggen.generator import DEFAULT_RULESET, SignatureGenerator
from siggen.rules import CSignatureTool, SignatureGenerationRule

__all__ = ["PLAIN_NAME", "PlainNameTool", "generator"]

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


def generator() -> SignatureGenerator:
    """siggen's default rule set, its frame-list rule using :class:`PlainNameTool`."""
    rule = SignatureGenerationRule()
    rule.c_signature_tool.__class__ = PlainNameTool  # same lists and state, the shortcut added
    return SignatureGenerator(ruleset=[rule if cls is SignatureGenerationRule else cls
                                       for cls in DEFAULT_RULESET])
