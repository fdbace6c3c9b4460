"""siggen's signature generator as dumpkit builds it: siggen's default rules, with shortcuts
that give the same results faster.

* **Plain frame names.** siggen normalises every frame's function name character by character
  (dropping return types, collapsing ``<...>`` and ``(...)``), ~15 us per frame; most of our
  labels (``ntdll.dll@0x1f2e3``, ``RtlUserThreadStart``, ``std::rt::lang_start``) hold none of
  the characters those rules act on, so they come out as they went in. :class:`PlainNameTool`
  returns such names at once and hands every other name to siggen.
* **Path lookups.** The rules find the crashing thread with ``glom``, which parses its path
  text at every call (~25 us); :func:`path_lookup` answers plain dict/list paths itself.
* **A short process.** The shutdown-hang rule (``SignatureRunWatchDog``) shares the pipeline's
  ``SignatureGenerationRule`` instead of building a second one (the rule keeps no state between
  crashes; each costs ~35 ms of regular expressions); the lists are read by
  :func:`read_siglist`, without siggen's check that each of ~600 lines compiles alone (~20 ms a
  process: the packaged lists do not change, and a test reads them through the checking
  loader); rules are handed over as instances (given classes, siggen inspects each one's
  signature, ~8 ms).
* **Sentinels looked up once.** siggen looks each of its ~40 sentinel names up in the frame list
  with ``list.index``, and catches a ``ValueError`` for each one that is not there (~30 us a
  signature); :meth:`PlainNameTool.generate` hands it only the sentinels the frames hold.
* **Lists as prefixes.** siggen compiles each list as one alternation of its lines, ~25 ms for
  the irrelevant and prefix lists, and only ever asks whether it matches at a name's start.
  Most lines (476 of 547) hold no regular-expression syntax: a :class:`ListPattern` tests
  those with one ``str.startswith`` and compiles only the other lines (~4 ms).

These lean on siggen internals (``rules.get_signature_list_content``, ``rules.CSignatureTool``
and ``rules.glom`` as module globals, ``CSignatureTool.build_re``, ``siglists_utils``, the
watchdog's ``signature_generation_rule``), so pyproject pins siggen's minor version;
``tests/test_signature_tool.py`` and ``tests/test_signature_generator.py`` check names,
lookups, lists, rules and whole results (signature, notes, debug log) against a plain
``SignatureGenerator()`` with glom as shipped.
Imported on first use: siggen costs ~60 ms to import as shipped, about a third of that with
``glom`` deferred and its version read from its ``METADATA`` (:mod:`dumpkit.pipeline.probes`).
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from dumpkit.pipeline.probes import deferred, versions_read

# glom: the two names siggen imports, loaded if called; importlib_resources (the backport,
# else the standard library's): siggen finds its list files with it, read_siglist does not;
# importlib.metadata: siggen's __version__
with (deferred("glom", ("glom", "assign")),
      deferred("importlib_resources", ("files",), "importlib.resources"), versions_read()):
    import siggen.rules as siggen_rules
    from glom import glom
    from siggen import siglists_utils
    from siggen.generator import DEFAULT_RULESET, SignatureGenerator
    from siggen.rules import CSignatureTool, SignatureGenerationRule, SignatureRunWatchDog

__all__ = ["PLAIN_NAME", "ListPattern", "PlainNameTool", "generator", "kernel_tool", "path_lookup",
           "read_siglist"]

#: A name none of siggen's C/C++ rules change: no space, bracket, quote, comma, ``&``, ``*`` or
#: ``$`` (what return-type dropping, collapsing and the fix-ups look for). Names ending in
#: ``const`` are left to siggen (it strips the qualifier).
PLAIN_NAME = re.compile(r"[\w@.:~?+\-]+")


#: a character with a meaning in a regular expression: a list line without any is a literal
REGEX_SYNTAX = re.compile(r"[.^$*+?{}\[\]\\|()]")


class ListPattern:
    """siggen's ``re.compile("|".join(lines))`` for a signature list, as siggen uses it: whether
    ``match(name)`` finds one line matching at the name's start. Literal lines are tested as
    prefixes; the others (each a whole regular expression: siggen's loader compiles each one
    alone) form one alternation. ``source`` is the text siggen would compile."""

    __slots__ = ("prefixes", "rest", "source")

    def __init__(self, lines: Iterable[str]) -> None:
        lines = list(lines)
        self.source = "|".join(lines)
        prefixes: list[str] = []
        patterns: list[str] = []
        for line in lines:
            (patterns if REGEX_SYNTAX.search(line) else prefixes).append(line)
        self.prefixes = tuple(prefixes)
        self.rest = re.compile("|".join(patterns)) if patterns else None

    def match(self, name: str) -> bool:
        """True where siggen's compiled list would give a match object."""
        return name.startswith(self.prefixes) or (self.rest is not None and self.rest.match(name) is not None)


class PlainNameTool(CSignatureTool):
    """siggen's C/C++ signature tool; plain names skip its character-by-character rules, and its
    lists are :class:`ListPattern` objects."""

    def build_re(self, lines: Iterable[str]) -> ListPattern:
        return ListPattern(lines)

    def generate(self, source_list: list[str], crashed_thread: Any = None,
                 delimiter: str = " | ") -> tuple[str, list[str], list[str]]:
        """siggen's ``generate``, given only the sentinels it can find: it looks each of its ~40
        up with ``list.index`` and catches the ``ValueError`` of every one not in the frames."""
        sentinels: list[Any] = self.signature_sentinels  # type: ignore[has-type]  # siggen's, untyped
        names = set(source_list)
        self.signature_sentinels = [s for s in sentinels if type(s) is tuple or s in names]
        try:
            result: tuple[str, list[str], list[str]] = super().generate(source_list, crashed_thread,
                                                                         delimiter)
        finally:
            self.signature_sentinels = sentinels
        return result

    def normalize_cpp_function(self, function: str, line: object) -> str:
        if PLAIN_NAME.fullmatch(function) and not function.endswith("const"):
            if self.signatures_with_line_numbers_re.match(function):
                return f"{function}:{line}"
            return function
        result: str = super().normalize_cpp_function(function, line)
        return result


def path_lookup(target: Any, spec: Any, **kwargs: Any) -> Any:
    """``glom(target, spec, **kwargs)``, answered at once for a dotted path through dicts and
    lists (siggen's ``"threads.0"``): a key a dict lacks or an index past a list's end gives
    ``default`` when that is the one option, as glom does; every other case is glom's."""
    if isinstance(spec, str):
        value = target
        for part in spec.split("."):
            if isinstance(value, dict):
                if part in value:
                    value = value[part]
                    continue
            elif isinstance(value, list) and part.isdigit():
                if int(part) < len(value):
                    value = value[int(part)]
                    continue
            else:
                return glom(target, spec, **kwargs)
            if kwargs.keys() == {"default"}:
                return kwargs["default"]
            return glom(target, spec, **kwargs)
        return value
    return glom(target, spec, **kwargs)


def generator() -> SignatureGenerator:
    """siggen's default rule set, built once for the process with the shortcuts above."""
    siggen_rules.glom = path_lookup  # the rules look paths up through this name
    with _lean_construction():
        stack_rule = SignatureGenerationRule()
    watchdog = object.__new__(SignatureRunWatchDog)  # its __init__ would build its own stack rule
    watchdog.signature_generation_rule = stack_rule
    shared = {SignatureGenerationRule: stack_rule, SignatureRunWatchDog: watchdog}
    return SignatureGenerator(ruleset=[shared.get(rule) or rule() for rule in DEFAULT_RULESET])


def kernel_tool() -> PlainNameTool:
    """A C/C++ tool with siggen's lists (the kernel signature replaces three of them)."""
    with _lean_construction():
        return PlainNameTool()


@contextmanager
def _lean_construction() -> Iterator[None]:
    """While open, siggen's rules read their signature lists with :func:`read_siglist` and build
    their C/C++ tool as a :class:`PlainNameTool`."""
    checking_reader, tool = siggen_rules.get_signature_list_content, siggen_rules.CSignatureTool
    siggen_rules.get_signature_list_content, siggen_rules.CSignatureTool = read_siglist, PlainNameTool
    try:
        yield
    finally:
        siggen_rules.get_signature_list_content, siggen_rules.CSignatureTool = checking_reader, tool


def read_siglist(name: str, source: Any = None) -> tuple[Any, ...]:
    """siggen's ``siglists_utils.get_signature_list_content`` (the non-empty, non-comment lines
    of the list file, stripped) without compiling each line as a check."""
    if source is None or source is siglists_utils.INCLUDED:  # the lists siggen ships
        source = siglists_utils.INCLUDED
        path: Any = os.path.join(os.path.dirname(siglists_utils.__file__), "siglists", f"{name}.txt")
    else:
        path = siglists_utils.get_filepath(name, source=source)
    lines: list[Any] = []
    with open(path, "rb") as fp:
        for raw in fp:
            line = raw.decode("utf-8", "strict").strip()
            if line and not line.startswith("#"):
                lines.append(line)
    if source in siglists_utils._SPECIAL_EXTENDED_VALUES:
        lines += siglists_utils._SPECIAL_EXTENDED_VALUES[source]
    return tuple(lines)
