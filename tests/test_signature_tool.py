"""The signature generator's shortcut for plain frame names (pipeline/document/signature_tool.py)
gives exactly what siggen's own tool gives: name by name, and signature by signature on the corpus."""
from __future__ import annotations

import logging
import random
import re

import pytest
from siggen.generator import SignatureGenerator
from siggen.rules import CSignatureTool

import dumpkit
from dumpkit.errors import DumpkitError
from dumpkit.pipeline.document.signature import KERNEL_FORMATS, siggen_input
from dumpkit.pipeline.document.signature_tool import (
    PLAIN_NAME,
    ListPattern,
    PlainNameTool,
    generator,
    path_lookup,
    read_siglist,
)
from dumpkit.unwind import unwind_dump
from tests.conftest import corpus_files, corpus_id

#: Names each of siggen's C/C++ rules acts on, and plain look-alikes.
TRICKY = [
    "ntdll.dll@0x1f2e3", "@0x7ffe0000", "RtlUserThreadStart", "std::rt::lang_start", "js_Interpret",
    "js_Interpreter", "Foo::Bar const", "Foo::Barconst", "Foo::Bar const&", "Foo::Bar&&", "f&",
    "static void * Allocator<MozJemallocBase>::malloc(unsigned __int64)", "a::operator()",
    "a::operator<", "`anonymous namespace'::f", "(anonymous namespace)::g", "T::$_12::operator()",
    "x::$_3::y", "f(int, char)", "f(int,char)", "g [clone .cold.222]", "h<int>", "IPC::ParamTraits<X>::Write",
    "<unknown in foo.dll>", "a , b", "a *b", "?foo@@YAXXZ", "_ZN3foo3barEv", "foo+0x12", "~Dtor",
    "core::ptr::drop_in_place<alloc::string::String>", "x const", "const", "a-b.c", "é::ü", " lead",
    "trail ", "tab\there", "new\nline",
]
ALPHABET = "aZ_09@.:~?+-&*$,<>()[]{}`' \tconst"


def _random_names(count: int) -> list[str]:
    rng = random.Random(13)
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 24))) for _ in range(count)]


def _outcome(tool: CSignatureTool, name: str, line: int | None) -> tuple[str, str]:
    """The normalised name, or the exception siggen raises (it fails on e.g. a lone space)."""
    try:
        return "name", tool.normalize_cpp_function(name, line)
    except Exception as exc:  # whatever siggen raises, ours must raise the same
        return "raises", type(exc).__name__


def test_plain_names_agree_with_siggen() -> None:
    ours, theirs = PlainNameTool(), CSignatureTool()
    names = TRICKY + _random_names(20_000)
    plain = 0
    for name in names:
        for line in (None, 42):
            assert _outcome(ours, name, line) == _outcome(theirs, name, line), repr(name)
        plain += bool(PLAIN_NAME.fullmatch(name))
    assert plain >= 20  # the shortcut was taken, not only the fallback


@pytest.mark.parametrize("name", ["irrelevant_signature_re", "prefix_signature_re",
                                  "signatures_with_line_numbers_re", "trim_dll_signature_re"])
def test_list_patterns_match_as_siggens_alternations(name: str) -> None:
    lines = read_siglist(name)
    ours, theirs = ListPattern(lines), re.compile("|".join(lines))
    assert ours.source == theirs.pattern
    # each line, read as text (regular-expression syntax dropped), whole, cut short, extended
    # and behind a prefix; the corpus-like names and random ones
    texts = [re.sub(r"[\\^$]", "", line).replace(".*", "xx").replace("\\.", ".") for line in lines]
    names = TRICKY + _random_names(5_000) + [""]
    for text in texts:
        names += [text, text[:-1], text + "(int)", "x" + text, text.upper()]
    hits = {"prefix": 0, "pattern": 0, "none": 0}
    for candidate in names:
        expected = theirs.match(candidate) is not None
        assert ours.match(candidate) is expected, (name, candidate)
        if candidate.startswith(ours.prefixes):
            hits["prefix"] += 1
        else:
            hits["pattern" if expected else "none"] += 1
    assert hits["none"] > 100  # misses compared too
    assert hits["prefix"] > 0 or not ours.prefixes
    assert hits["pattern"] > 0 or ours.rest is None


def test_list_pattern_reads_syntax_as_syntax() -> None:
    lines = ["a.c", "b*", "x\\.y", "k(m|n)", "lit", "^q", "r$"]
    ours, theirs = ListPattern(lines), re.compile("|".join(lines))
    assert ours.prefixes == ("lit",)
    for name in ["abc", "a.c", "", "bbb", "x.y", "xzy", "kn", "km!", "litter", "li", "q", "rr", "r"]:
        assert ours.match(name) is (theirs.match(name) is not None), name


def test_line_number_rule_still_applies() -> None:
    assert PlainNameTool().normalize_cpp_function("js_Interpret", 7) == "js_Interpret:7"


CORPUS = corpus_files("mdmp/*", "mdmp_from_yaml/*.dmp", "elfcore/*")


LOOKUPS = [
    ({"threads": [{"frames": []}]}, "threads.0"), ({"threads": [{"frames": []}]}, "threads.1"),
    ({"threads": []}, "threads.0"), ({}, "threads.0"), ({"threads": None}, "threads.0"),
    ({"threads": {"0": 5}}, "threads.0"), ({"threads": ({"a": 1},)}, "threads.0"),
    ({"exception": {"values": [{"stacktrace": {"frames": [1]}}]}}, "exception.values.0.stacktrace"),
    ({"exception": {"values": [{}]}}, "exception.values.0.stacktrace"), ({"a": [1, 2]}, "a.-1"),
    ({"a": {"b": 0}}, "a.b"), ({"a": "text"}, "a.0"), ({"a": [[1]]}, "a.0.0"), ({"a": 1}, "a"),
    ({"threads": {0: 5}}, "threads.0"), ({"a": {}}, "a.items"), ({"a": [1]}, "a.x"), ({"a": [[]]}, "a.0.3"),
    ({"a": {"b": None}}, "a.b.c"), ({"a": [{"b": 1}]}, "a.0.c"), ({"a": ()}, "a.0"),
]


@pytest.mark.parametrize(("target", "spec"), LOOKUPS)
def test_path_lookup_is_glom(target: dict[str, object], spec: str) -> None:
    from glom import glom

    options: list[dict[str, object]] = [{"default": {}}, {"default": None}, {}]
    for kwargs in options:
        try:
            want: tuple[str, object] = ("value", glom(target, spec, **kwargs))
        except Exception as exc:
            want = ("raises", type(exc).__name__)
        try:
            got: tuple[str, object] = ("value", path_lookup(target, spec, **kwargs))
        except Exception as exc:
            got = ("raises", type(exc).__name__)
        assert got == want


@pytest.mark.skipif(not CORPUS, reason="corpus absent (set DUMPKIT_CORPUS or provide ../shared/corpus)")
def test_corpus_signatures_agree_with_siggen(monkeypatch: pytest.MonkeyPatch) -> None:
    import siggen.rules
    from glom import glom

    ours = generator()  # installs path_lookup as siggen's glom
    theirs = SignatureGenerator()
    compared = 0
    logging.disable(logging.CRITICAL)
    try:
        for path in CORPUS:
            try:
                with dumpkit.open(str(path)) as dump:
                    if dump.source.format in KERNEL_FORMATS:
                        continue
                    unwind_dump(dump)
                    data = siggen_input(dump)
            except DumpkitError:
                continue
            if not data["threads"][0]["frames"]:
                continue
            mine = ours.generate(data).signature
            with monkeypatch.context() as patch:
                patch.setattr(siggen.rules, "glom", glom)  # siggen as it ships
                assert mine == theirs.generate(data).signature, corpus_id(path)
            compared += 1
    finally:
        logging.disable(logging.NOTSET)
    assert compared >= 50, compared
