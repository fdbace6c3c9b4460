"""Programs the suite compiles itself (``tests/fixtures/unwind_chain.c``), cored by gdb.

Built at -O1 with and without ``-fno-omit-frame-pointer``; each dies of SIGSEGV (in our
code) and SIGABRT (inside libc). Checked against three outside unwinders:

* **eu-stack** (elfutils) on the ELF core: the frames in our executable, from the crashing
  function to ``main`` — same return addresses, and with ``--sysroot /`` (the binaries
  where they were built) the same function names;
* **gdb** ``bt`` on the same core: same function names from the crashing function to main;
* **rust-minidump** on the core shrunk to a minidump, both given the ``.sym`` files that
  ``dump_syms`` writes for the executable: every frame it finds by context, CFI or frame
  pointer agrees with ours on module, offset and function name.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

import dumpkit
from dumpkit.model import Frame
from dumpkit.unwind import unwind_dump
from tests.conftest import SUMMARIES
from tests.elf_fixtures import CrasherCore, crasher_cores, make_core, tools_missing
from tests.symbol_servers import local_store
from tests.unwind_oracles import compare_frames, dump_syms, stackwalk_json

__all__ = ["crasher_cores"]  # the session fixture, re-exported so pytest sees it here

SOURCE = Path(__file__).resolve().parent / "fixtures" / "unwind_chain.c"
CHAIN = ["crash_now", "chain_c", "chain_b", "chain_a", "main"]
CASES = [(how, fp) for fp in (True, False) for how in ("segv", "abrt")]


@dataclass(frozen=True)
class Program:
    exe: Path
    core: Path
    how: str
    frame_pointer: bool


@pytest.fixture(scope="module")
def programs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, bool], Program]:
    reason = tools_missing()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("unwind_programs")
    out = {}
    for fp in (True, False):
        exe = root / f"chain-{'fp' if fp else 'nofp'}"
        flags = ["-O1", "-g", "-fno-omit-frame-pointer" if fp else "-fomit-frame-pointer"]
        subprocess.run(["gcc", *flags, str(SOURCE), "-o", str(exe)], check=True, capture_output=True,
                       timeout=120)
        for how in ("segv", "abrt"):
            out[(how, fp)] = Program(exe, make_core(exe, root / f"{exe.name}.{how}.core", how), how, fp)
    return out


def _walk(core: Path, **kwargs: object) -> list[Frame]:
    with dumpkit.open(core) as dump:
        unwind_dump(dump, **kwargs)  # type: ignore[arg-type]
        thread = dump.crashing_thread
        assert thread is not None
        return thread.frames


def _exe_frames(frames: list[Frame], exe: Path) -> list[Frame]:
    return [f for f in frames if f.module == exe.name]


def _eu_stack(program: Program) -> list[tuple[int, str]]:
    if shutil.which("eu-stack") is None:
        pytest.skip("eu-stack (elfutils) not installed (make test installs it)")
    proc = subprocess.run(["eu-stack", "--core", str(program.core), "-e", str(program.exe)],
                          capture_output=True, text=True, timeout=120, check=False)
    frames = []
    for line in proc.stdout.splitlines():
        m = re.match(r"#\d+\s+0x([0-9a-f]+)\s+(\S+)", line.strip())
        if m:
            frames.append((int(m.group(1), 16), m.group(2)))
        elif line.startswith("TID") and frames:
            break  # first thread only: the one that got the signal
    return frames


def _chain_part(names: list[str]) -> list[str]:
    start = names.index("crash_now") if "crash_now" in names else 0
    end = names.index("main") + 1 if "main" in names else len(names)
    return names[start:end]


@pytest.mark.parametrize(("how", "fp"), CASES, ids=[f"{h}-{'fp' if f else 'nofp'}" for h, f in CASES])
def test_frames_match_eu_stack(programs: dict[tuple[str, bool], Program], how: str, fp: bool) -> None:
    program = programs[(how, fp)]
    theirs = _eu_stack(program)
    their_chain = [(pc, name) for pc, name in theirs if name in CHAIN]
    assert [name for _, name in their_chain] == CHAIN, theirs
    named = _exe_frames(_walk(program.core, sysroot="/"), program.exe)
    assert [(f.pc, f.function) for f in named if f.function in CHAIN] == their_chain
    assert all(f.trust in ("context", "cfi") for f in named[:5])
    # Without symbols: the same return addresses are found (by frame pointer or scan).
    bare = [f.pc for f in _exe_frames(_walk(program.core), program.exe)]
    found = iter(bare)
    assert all(pc in found for pc, _ in their_chain), (bare, their_chain)


@pytest.mark.parametrize(("how", "fp"), CASES, ids=[f"{h}-{'fp' if f else 'nofp'}" for h, f in CASES])
def test_function_names_match_gdb(programs: dict[tuple[str, bool], Program], how: str, fp: bool) -> None:
    program = programs[(how, fp)]
    proc = subprocess.run(["gdb", "-nx", "-batch", "-ex", "bt", str(program.exe), str(program.core)],
                          capture_output=True, text=True, timeout=120, check=False)
    backtrace = proc.stdout[proc.stdout.rfind("\n#0 ") + 1:]  # gdb also prints frame 0 on load
    gdb_names = [m.group(1) for m in re.finditer(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(\S+) \(", backtrace, re.M)]
    ours = [f.function or "" for f in _walk(program.core, sysroot="/")]
    assert _chain_part(ours) == _chain_part(gdb_names) == CHAIN


@pytest.fixture(scope="module")
def symbols(programs: dict[tuple[str, bool], Program], tmp_path_factory: pytest.TempPathFactory) -> Path:
    tool = dump_syms()
    root = tmp_path_factory.mktemp("syms")
    for exe in {p.exe for p in programs.values()}:
        text = subprocess.run([str(tool), str(exe)], capture_output=True, text=True, timeout=120,
                              check=True).stdout
        debug_id = text.split("\n", 1)[0].split(" ")[3]
        folder = root / exe.name / debug_id
        folder.mkdir(parents=True)
        (folder / f"{exe.name}.sym").write_text(text)
    return root


@pytest.mark.parametrize(("how", "fp"), CASES, ids=[f"{h}-{'fp' if f else 'nofp'}" for h, f in CASES])
def test_sym_files_name_core_frames(programs: dict[tuple[str, bool], Program], symbols: Path,
                                    how: str, fp: bool) -> None:
    program = programs[(how, fp)]
    frames = _walk(program.core, symbols=local_store(symbols))
    assert _chain_part([f.function or "" for f in frames]) == CHAIN
    crash = next(f for f in frames if f.function == "crash_now")
    assert crash.source_file is not None and crash.source_file.endswith("unwind_chain.c")
    assert crash.source_line is not None


@pytest.mark.parametrize(("how", "fp"), CASES, ids=[f"{h}-{'fp' if f else 'nofp'}" for h, f in CASES])
def test_shrunk_minidump_agrees_with_rust_minidump(programs: dict[tuple[str, bool], Program], symbols: Path,
                                                   tmp_path: Path, how: str, fp: bool) -> None:
    shrink = pytest.importorskip("dumpkit.converters.shrink")
    program = programs[(how, fp)]
    mdmp = tmp_path / f"{program.core.name}.dmp"
    shrink.shrink_file(program.core, mdmp)
    theirs = stackwalk_json(mdmp, symbols)
    assert theirs is not None and theirs.get("crashing_thread")
    with dumpkit.open(mdmp) as dump:
        unwind_dump(dump, symbols=local_store(symbols))
        thread = dump.crashing_thread
        assert thread is not None
        result = compare_frames(dump, thread.frames, theirs["crashing_thread"]["frames"],
                                check_functions=True)
        assert _chain_part([f.function or "" for f in thread.frames]) == CHAIN
    assert result.trusted_same == result.trusted, "\n".join(result.mismatches)
    SUMMARIES.append(f"unwind {program.core.name} shrunk, with .sym, vs rust-minidump: trusted frames "
                     f"{result.trusted_same}/{result.trusted}, scanned-and-after {result.guessed_same}/"
                     f"{result.guessed} ({result.rust_false_positive} rust scan hits without a call before)")


# The shared crasher fixture (tests/fixtures/crasher.c, -O0 with and without frame
# pointers, four threads): the crashing thread's names from crash_here to main, as gdb says.


@pytest.mark.parametrize("how", ["segv", "abrt", "fpe"])
@pytest.mark.parametrize("fp", [True, False], ids=["fp", "nofp"])
def test_crasher_core_matches_gdb(crasher_cores: dict[tuple[str, bool], CrasherCore], how: str,
                                  fp: bool) -> None:
    core = crasher_cores[(how, fp)]
    proc = subprocess.run(["gdb", "-nx", "-batch", "-ex", "bt", str(core.exe), str(core.core)],
                          capture_output=True, text=True, timeout=120, check=False)
    backtrace = proc.stdout[proc.stdout.rfind("\n#0 ") + 1:]
    gdb = [m.group(1) for m in re.finditer(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(\S+) \(", backtrace, re.M)]
    frames = _walk(core.core, sysroot="/")
    ours = [f.function or "" for f in frames]
    assert "crash_here" in ours and "crash_here" in gdb, (ours, gdb)
    want = gdb[gdb.index("crash_here"):gdb.index("main") + 1]
    assert ours[ours.index("crash_here"):ours.index("main") + 1] == want == ["crash_here", "main"]
    # without symbols the same return address of crash_here's caller is found
    named = {f.pc for f in frames if f.function == "main"}
    assert named & {f.pc for f in _walk(core.core)}


def test_eh_frame_from_a_kernel_core(programs: dict[tuple[str, bool], Program], tmp_path: Path) -> None:
    """A core the kernel writes with coredump_filter 0x7f holds the executable's text and
    .eh_frame: the walk uses that CFI with no sysroot and no symbols at all."""
    try:
        pattern = Path("/proc/sys/kernel/core_pattern").read_text().strip()
    except OSError:
        pattern = "|"
    if pattern.startswith("|") or "/" in pattern:
        pytest.skip(f"kernel core_pattern {pattern!r} does not write cores into the working directory")
    exe = programs[("segv", False)].exe
    script = f"ulimit -c unlimited; echo 0x7f > /proc/self/coredump_filter; cd {tmp_path}; exec {exe} segv"
    subprocess.run(["sh", "-c", script], capture_output=True, timeout=60, check=False)
    cores = sorted(p for p in tmp_path.iterdir() if p.name.startswith("core"))
    if not cores:
        pytest.skip("the kernel wrote no core here (core dumps disabled for this container)")
    bare = _exe_frames(_walk(cores[0]), exe)
    named = _exe_frames(_walk(cores[0], sysroot="/"), exe)
    assert [f.function for f in named[:5]] == CHAIN
    expected = [("context", named[0].pc)] + [("cfi", f.pc) for f in named[1:5]]
    assert [(f.trust, f.pc) for f in bare[:5]] == expected
