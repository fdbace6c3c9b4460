"""Symbols from native files (PDB, PE, ELF + split DWARF) and Breakpad ``.sym``, against outside oracles.

Windows: ``tests/fixtures/inline_chain.c`` compiled here for x86-64 and i686 with clang + lld
(PDB), run to its crash in an emulator, written as a minidump (``tests/pe_programs.py``).
Linux: the same source with ``gcc -g -O2``, cored by gdb, split into a stripped executable
and a ``.debug`` file found by build-id.

Oracles, frame by frame:

* **rust-minidump** ``minidump-stackwalk`` over a Breakpad dir that ``dump_syms --inlines``
  made from the same PDB / executable: module offset, trust, function, line, inline chain;
* **llvm-symbolizer** (PDBs) and **addr2line -i -f** (ELF debug files): the function, line
  and inline chain at each frame's lookup address;
* **gdb** ``bt``: the function names of the core's frames, inline frames included.

Agreement counts are printed in the pytest summary.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import dumpkit
from dumpkit.model import Frame
from dumpkit.unwind import SymbolStore, unwind_dump
from tests.conftest import SUMMARIES
from tests.elf_fixtures import make_core
from tests.elf_fixtures import tools_missing as elf_tools_missing
from tests.pe_programs import MODULE_PATH, SOURCE, PeProgram, build_pe_program
from tests.pe_programs import tools_missing as pe_tools_missing
from tests.symbol_servers import elf_build_id, local_store, symstore_dir
from tests.unwind_oracles import dump_syms, stackwalk_json

CHAIN = ["crash_here", "inner_inline", "outer_inline", "middle", "outer"]


def _bare(name: str | None) -> str | None:
    """A function name without its parameter list (PDB names carry one, DWARF ones do not)."""
    return None if name is None else name.split("(", 1)[0]


def _logical(frame: Frame) -> list[tuple[str | None, int | None]]:
    """The frame's functions innermost first (inline frames, then the physical one) with lines."""
    return [(_bare(i.function), i.source_line) for i in frame.inlined] + [(_bare(frame.function),
                                                                          frame.source_line)]


def _walk(dump_path: Path, store: SymbolStore | None) -> list[Frame]:
    with dumpkit.open(dump_path) as dump:
        unwind_dump(dump, symbols=store)
        thread = dump.crashing_thread
        assert thread is not None
        assert not [d for d in dump.diagnostics if d.code in ("bad_symbols", "build_id_mismatch")]
        return thread.frames


def _breakpad_dir(root: Path, files: list[Path]) -> Path:
    """``root/NAME/ID/NAME.sym`` made by ``dump_syms --inlines`` for each file."""
    tool = dump_syms()
    for path in files:
        text = subprocess.run([str(tool), "--inlines", str(path)], capture_output=True, text=True,
                              check=True, timeout=300).stdout
        _, _, _, debug_id, name = text.split("\n", 1)[0].split(" ", 4)
        folder = root / name / debug_id
        folder.mkdir(parents=True, exist_ok=True)
        leaf = name[:-4] + ".sym" if name.lower().endswith(".pdb") else name + ".sym"
        (folder / leaf).write_text(text)
    return root


@dataclass
class Tally:
    """Per-field agreement with an oracle over the frames both have."""

    frames: int = 0
    same: dict[str, int] | None = None
    mismatches: list[str] | None = None

    def check(self, index: int, field: str, ours: object, theirs: object) -> None:
        self.same = self.same if self.same is not None else {}
        self.mismatches = self.mismatches if self.mismatches is not None else []
        self.same.setdefault(field, 0)
        if ours == theirs:
            self.same[field] += 1
        else:
            self.mismatches.append(f"frame {index} {field}: ours {ours!r}, theirs {theirs!r}")

    def line(self) -> str:
        return ", ".join(f"{k} {v}/{self.frames}" for k, v in (self.same or {}).items())


def _against_rust(frames: list[Frame], theirs: list[dict[str, Any]]) -> Tally:
    tally = Tally()
    for index, their in enumerate(theirs):
        if their.get("module") is None:
            continue  # rust-minidump lists the pc-0 frame past the outermost one; dumpkit stops
        tally.frames += 1
        missing = index >= len(frames)  # a frame rust-minidump has and dumpkit does not: it disagrees
        ours = Frame(pc=0, trust="context") if missing else frames[index]
        tally.check(index, "module_offset", ours.module_offset, int(their["module_offset"], 16))
        tally.check(index, "trust", "none" if missing else ours.trust, their["trust"])
        tally.check(index, "function", ours.function, their["function"])
        tally.check(index, "line", ours.source_line, their["line"])
        their_inlines = [(i["function"], i["line"]) for i in their.get("inlines") or []]
        tally.check(index, "inlines", [(i.function, i.source_line) for i in ours.inlined], their_inlines)
    return tally


# -- Windows: PDBs ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pe_programs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, PeProgram]:
    reason = pe_tools_missing()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("pe_programs")
    return {arch: build_pe_program(root, arch) for arch in ("amd64", "x86")}


def _pdb_store(program: PeProgram) -> Any:
    """A store over the program's PE and PDB in a symstore-layout dir."""
    exe_name = MODULE_PATH.rsplit("\\", 1)[-1]  # the dump's name for the module
    return local_store(symstore_dir(program.pdb.parent / f"symstore-{program.arch}", program.exe, program.pdb,
                                    names={program.exe: exe_name}))


def _llvm_symbolizer(exe: Path, rvas: list[int]) -> list[list[tuple[str, int]]]:
    """llvm-symbolizer's inline chains (innermost first) for module-relative addresses."""
    if shutil.which("llvm-symbolizer") is None:
        pytest.skip("llvm-symbolizer not installed (make test installs llvm)")
    proc = subprocess.run(["llvm-symbolizer", "--output-style=JSON", "--inlines", "--functions=short",
                           "--relative-address", f"--obj={exe}", *(hex(r) for r in rvas)],
                          capture_output=True, text=True, check=True, timeout=120)
    entries = json.loads(proc.stdout)  # one JSON list when addresses are given as arguments
    return [[(s["FunctionName"], s["Line"]) for s in entry["Symbol"] if s["FunctionName"]]
            for entry in entries]


@pytest.mark.parametrize("arch", ["amd64", "x86"])
def test_pdb_frames_agree_with_llvm_symbolizer(pe_programs: dict[str, PeProgram], arch: str) -> None:
    program = pe_programs[arch]
    frames = _walk(program.dump, _pdb_store(program))
    named = [f for f in frames if f.module_offset is not None]
    theirs = _llvm_symbolizer(program.exe, [f.module_offset or 0 for f in named])
    agree = sum(_logical(f) == [(name, line) for name, line in t] for f, t in zip(named, theirs, strict=True))
    SUMMARIES.append(f"symbols {arch} PDB vs llvm-symbolizer: {agree}/{len(named)} frames with the same "
                     f"function, line and inline chain")
    assert agree == len(named), [(_logical(f), t) for f, t in zip(named, theirs, strict=True)]
    logical = [name for f in named for name, _ in _logical(f)]
    assert logical[:len(CHAIN)] == CHAIN
    # x86 has no unwind tables in the image: the caller frames come from the PDB's FPO/FrameData
    assert [f.trust for f in frames[2:4]] == ["cfi", "cfi"]


@pytest.mark.parametrize("arch", ["amd64", "x86"])
def test_pdb_frames_agree_with_rust_minidump(pe_programs: dict[str, PeProgram], arch: str,
                                             tmp_path: Path) -> None:
    program = pe_programs[arch]
    syms = _breakpad_dir(tmp_path / "syms", [program.pdb])
    theirs = stackwalk_json(program.dump, syms)
    assert theirs is not None
    their_frames = theirs["crashing_thread"]["frames"]
    results = {}
    for label, store in (("pdb", _pdb_store(program)),
                         ("sym", local_store(syms))):
        tally = _against_rust(_walk(program.dump, store), their_frames)
        results[label] = tally
        SUMMARIES.append(f"symbols {arch} dumpkit with {label} vs rust-minidump with dump_syms .sym: "
                         f"{tally.line()}")
    for tally in results.values():
        assert not tally.mismatches, "\n".join(tally.mismatches or [])


def test_pdb_signature_uses_function_names(pe_programs: dict[str, PeProgram]) -> None:
    from dumpkit.pipeline.document.normalize import document_for

    program = pe_programs["amd64"]
    bare = document_for(str(program.dump))
    assert bare["crash"]["signature"].startswith("inline_chain.exe@0x")
    assert bare["crash"]["symbolicated_frames"]["with_function"] == 0
    doc = document_for(str(program.dump), symbols=_pdb_store(program))
    names = _llvm_symbolizer(program.exe, [0x1000])[0]
    # siggen stops at the first frame not on its prefix lists: the crashing function's name
    assert doc["crash"]["signature"] == names[0][0] == "crash_here"
    counts = doc["crash"]["symbolicated_frames"]
    assert counts["with_function"] == counts["frames"] and counts["inlined"] == 2
    assert doc["threads"][0]["frames"][1]["inlined"][0]["function"] == "inner_inline(int*, int)"


def test_scan_rule_rejects_words_outside_known_functions(pe_programs: dict[str, PeProgram]) -> None:
    """A stack word that points into the module's padding between functions: without symbols it
    passes for a return address; with the PDB (debug info that does not cover it) it does not."""
    from dumpkit.symbols.store import DumpSymbols
    from dumpkit.unwind.arch import spec_for
    from dumpkit.unwind.memory import StackMemory
    from dumpkit.unwind.modules import ModuleIndex
    from dumpkit.unwind.scan import seems_return_address
    from dumpkit.unwind.state import Walk

    program = pe_programs["amd64"]
    names = _llvm_symbolizer(program.exe, [0x100F])  # after crash_here's ret: padding
    assert names == [[]]
    with dumpkit.open(program.dump) as dump:
        spec = spec_for("amd64")
        assert spec is not None
        modules = ModuleIndex(dump)
        stack = StackMemory(dump.memory, 0, 0, 8) if dump.memory is not None else None
        assert stack is not None
        bare = Walk(spec, "windows", stack, modules, None, None)
        store = _pdb_store(program)
        with_symbols = Walk(spec, "windows", stack, modules, None, DumpSymbols(store, dump))
        candidate = program.base + 0x100F + 1  # a "return address" whose call site is 0x100f
        assert seems_return_address(bare, candidate)
        assert not seems_return_address(with_symbols, candidate)
        assert seems_return_address(with_symbols, program.base + 0x10AE + 1)  # inside middle


# -- Linux: gcc -O2, split debug file, core ---------------------------------------------------------


@dataclass(frozen=True)
class ElfProgram:
    exe: Path  # unstripped, where it ran
    core: Path
    sysroot: Path  # stripped copy at the exe's path + .build-id/xx/rest.debug
    debug: Path


@pytest.fixture(scope="module")
def elf_program(tmp_path_factory: pytest.TempPathFactory) -> ElfProgram:
    reason = elf_tools_missing()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("elf_inline")
    exe = root / "inline_chain"
    subprocess.run(["gcc", "-g", "-O2", "-Wl,--build-id", str(SOURCE), "-o", str(exe)], check=True,
                   capture_output=True, timeout=120)
    core = make_core(exe, root / "inline_chain.core")
    build_id = elf_build_id(exe)
    sysroot = root / "sysroot"
    debug = sysroot / ".build-id" / build_id[:2] / f"{build_id[2:]}.debug"
    debug.parent.mkdir(parents=True)
    subprocess.run(["objcopy", "--only-keep-debug", str(exe), str(debug)], check=True, timeout=60)
    stripped = sysroot / str(exe).lstrip("/")
    stripped.parent.mkdir(parents=True)
    subprocess.run(["objcopy", "--strip-all", str(exe), str(stripped)], check=True, timeout=60)
    return ElfProgram(exe, core, sysroot, debug)



def _addr2line(debug: Path, addresses: list[int]) -> list[list[tuple[str, int | None]]]:
    proc = subprocess.run(["addr2line", "-i", "-f", "-a", "-e", str(debug), *(hex(a) for a in addresses)],
                          capture_output=True, text=True, check=True, timeout=60)
    chains: list[list[tuple[str, int | None]]] = []
    lines = proc.stdout.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("0x"):
            chains.append([])
            i += 1
            continue
        name, where = lines[i], lines[i + 1]
        line = where.rsplit(":", 1)[-1].split(" ", 1)[0]
        chains[-1].append((name, int(line) if line.isdigit() and line != "0" else None))
        i += 2
    return chains


def test_split_debug_file_names_lines_inlines_match_addr2line(elf_program: ElfProgram) -> None:
    store = local_store(sysroot=elf_program.sysroot)
    frames = _walk(elf_program.core, store)
    ours = [f for f in frames if f.module == elf_program.exe.name]
    assert ours, [(f.module, f.function) for f in frames]
    # link-time addresses: the PIE links at 0, so the module offset is the address
    theirs = _addr2line(elf_program.debug, [f.module_offset or 0 for f in ours])
    agree = sum(_logical(f) == t for f, t in zip(ours, theirs, strict=True))
    SUMMARIES.append(f"symbols ELF -O2 split debug vs addr2line -i: {agree}/{len(ours)} frames with the same "
                     f"function, line and inline chain")
    assert agree == len(ours), [(_logical(f), t) for f, t in zip(ours, theirs, strict=True)]
    logical = [name for f in ours for name, _ in _logical(f)]
    assert logical[:len(CHAIN) + 1] == [*CHAIN, "main"]
    # the stripped executable's .eh_frame, not the debug file, gave the CFI (up to main; libc's
    # caller of main and _start after it have no symbols in this sysroot)
    up_to_main = ours[:[f.function for f in ours].index("main") + 1]
    assert all(f.trust in ("context", "cfi") for f in up_to_main)


def test_split_debug_frames_match_gdb(elf_program: ElfProgram) -> None:
    proc = subprocess.run(["gdb", "-nx", "-batch", "-ex", "bt", str(elf_program.exe), str(elf_program.core)],
                          capture_output=True, text=True, timeout=120, check=False)
    backtrace = proc.stdout[proc.stdout.rfind("\n#0 ") + 1:]
    gdb_names = [m.group(1) for m in re.finditer(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(\S+) \(", backtrace, re.M)]
    frames = _walk(elf_program.core, local_store(sysroot=elf_program.sysroot))
    ours = [name for f in frames for name, _ in _logical(f)]
    start = ours.index("crash_here")
    agree = sum(a == b for a, b in zip(ours[start:], gdb_names, strict=False))
    SUMMARIES.append(f"symbols ELF -O2 split debug vs gdb bt: {agree}/{len(gdb_names)} logical frames "
                     f"(inline frames included) with the same function")
    assert ours[start:start + len(CHAIN) + 1] == gdb_names[:len(CHAIN) + 1] == [*CHAIN, "main"]


def test_elf_sym_file_frames_agree_with_rust_minidump(elf_program: ElfProgram, tmp_path: Path) -> None:
    shrink = pytest.importorskip("dumpkit.converters.shrink")
    mdmp = tmp_path / "inline_chain.dmp"
    shrink.shrink_file(elf_program.core, mdmp)
    syms = _breakpad_dir(tmp_path / "syms", [elf_program.exe])
    theirs = stackwalk_json(mdmp, syms)
    assert theirs is not None
    their_frames = list(theirs["crashing_thread"]["frames"])
    frames = _walk(mdmp, local_store(syms))
    # compare the frames in our executable, up to rust-minidump's first scanned frame
    first_scan = next((i for i, f in enumerate(their_frames) if f["trust"] == "scan"), len(their_frames))
    tally = _against_rust(frames[:first_scan], [f if f.get("module") == elf_program.exe.name else
                                                {**f, "module": None} for f in their_frames[:first_scan]])
    SUMMARIES.append(f"symbols ELF -O2 .sym, dumpkit vs rust-minidump (frames in the executable, before "
                     f"its first scan): {tally.line()}")
    assert tally.frames >= len(CHAIN) - 2
    assert not tally.mismatches, "\n".join(tally.mismatches or [])


# -- the Finder contract, and bad files -------------------------------------------------------------


class _FixedFinder:
    """A Finder (dumpkit.symbols.locate) that answers every ``kind`` question with one file."""

    def __init__(self, answers: dict[str, str], problems: tuple[str, ...] = ()) -> None:
        self.answers, self.problems = answers, problems

    def find(self, module: Any, kind: str) -> Any:
        from dumpkit.symbols.locate import Located, Lookup

        path = self.answers.get(kind)
        return Lookup(Located(path, kind, "test") if path else None, self.problems)  # type: ignore[arg-type]


def _walk_with(dump_path: Path, finder: _FixedFinder) -> tuple[list[Frame], list[tuple[str, str]]]:
    with dumpkit.open(dump_path) as dump:
        unwind_dump(dump, symbols=SymbolStore(finder))
        thread = dump.crashing_thread
        assert thread is not None
        return thread.frames, [(d.code, d.message) for d in dump.diagnostics]


def test_a_finder_supplies_the_files(pe_programs: dict[str, PeProgram]) -> None:
    program = pe_programs["x86"]
    frames, diags = _walk_with(program.dump, _FixedFinder({"pdb": str(program.pdb), "pe": str(program.exe)}))
    assert [_bare(f.function) for f in frames[:2]] == ["crash_here", "middle"]
    assert not diags
    frames, diags = _walk_with(program.dump, _FixedFinder({}, ("https://symbols.example: timed out",)))
    assert frames[0].function is None
    assert ("bad_symbols", "https://symbols.example: timed out") in diags


def test_a_pdb_of_another_build_is_not_used(pe_programs: dict[str, PeProgram]) -> None:
    amd64, x86 = pe_programs["amd64"], pe_programs["x86"]
    frames, diags = _walk_with(amd64.dump, _FixedFinder({"pdb": str(x86.pdb)}))
    assert all(f.function is None for f in frames)
    assert any(code == "bad_symbols" and "is not the module's" in message for code, message in diags), diags


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "zeros"])
def test_damaged_native_files_give_diagnostics(pe_programs: dict[str, PeProgram], tmp_path: Path,
                                               damage: str) -> None:
    program = pe_programs["x86"]
    data = program.pdb.read_bytes()
    bad = tmp_path / "bad.pdb"
    bad.write_bytes({"garbage": bytes(range(256)) * 64, "truncated": data[:len(data) // 3], "empty": b"",
                     "zeros": data[:4096] + bytes(len(data) - 4096)}[damage])
    bad_exe = tmp_path / "bad.exe"
    bad_exe.write_bytes(program.exe.read_bytes()[:700])
    frames, diags = _walk_with(program.dump, _FixedFinder({"pdb": str(bad), "pe": str(bad_exe)}))
    assert frames and frames[0].trust == "context"
    # the PDB is named in a one-line diagnostic; the frames are those of a walk without it
    assert all(code == "bad_symbols" and "\n" not in message for code, message in diags), diags
    assert any(message.startswith(f"{bad}: not a usable pdb file") for _, message in diags), diags
    assert all(f.function is None for f in frames)


def test_symbol_paths_stay_under_their_roots(tmp_path: Path) -> None:
    from dumpkit.model import Module
    from dumpkit.symbols.keys import key_for
    from dumpkit.symbols.sources import Sysroot

    root = str(tmp_path)
    hostile = [Module(base=0, size=1, path="C:\\x\\..\\..\\app.pdb", debug_file="..\\..\\evil.pdb",
                      debug_id="0123456789ABCDEF0123456789ABCDEF1"),
               Module(base=0, size=1, path="/a/../../../etc/passwd", debug_file="..", debug_id="../../x"),
               Module(base=0, size=1, path="/lib/a\0b.so", debug_file="a\0b", debug_id="AB",
                      build_id="../../x"),
               Module(base=0, size=1, path="/" + "n" * 4096, debug_file="n" * 4096, debug_id="AB")]
    for module in hostile:
        key, _ = key_for(module, "breakpad")
        if key is not None:
            path = Path(root, *key.layouts()[0])
            assert path.resolve().is_relative_to(tmp_path.resolve())
            assert len(path.relative_to(root).parts) == 3
        for kind in ("elf", "elf_debug"):
            for candidate in Sysroot(root).candidates(module, kind):
                assert ".." not in Path(candidate).parts and "\0" not in candidate, candidate
                assert Path(candidate).resolve().is_relative_to(tmp_path.resolve())
