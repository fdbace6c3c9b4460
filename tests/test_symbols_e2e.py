"""``dumpkit inspect`` (a subprocess) with symbols from servers the tests start, end to end.

- a stdlib HTTP server in Breakpad layout (``.sym`` from ``dump_syms``) and one in Microsoft
  symstore layout (the PDB as a CAB ``.pd_`` made by ``gcab``, the PE as is), around the
  minidumps of ``tests.pe_programs``; rust-minidump's ``minidump-stackwalk --symbols-url`` over
  the Breakpad server is the oracle, frame by frame (module offset, function, line, trust);
- elfutils' ``debuginfod`` serving the debug file (and the stripped executable) of a stripped
  binary cored with gdb; gdb's ``bt`` over the unstripped binary and the core is the oracle;
- the same runs again with ``--offline`` once the servers are stopped: the cache alone gives
  the same frames;
- hostile servers (never answers, 500, a file of another build, a huge file): the document
  gets one diagnostic naming each server and the reason, and ``inspect`` still finishes.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import dumpkit
from dumpkit.symbols.config import SymbolConfig
from dumpkit.symbols.store import SymbolStore
from dumpkit.unwind import unwind_dump
from tests.conftest import SUMMARIES
from tests.elf_fixtures import make_core
from tests.elf_fixtures import tools_missing as elf_tools_missing
from tests.pe_programs import MODULE_PATH, SOURCE, PeProgram
from tests.symbol_servers import (
    ErrorHandler,
    HangHandler,
    HugeDeclaredHandler,
    StaticHandler,
    elf_build_id,
    make_cab,
    need,
    run_debuginfod,
    serve,
    symstore_dir,
)
from tests.test_symbols_native import CHAIN, _bare, _breakpad_dir, pe_programs
from tests.unwind_oracles import stackwalk

__all__ = ["pe_programs"]  # the session fixture, re-exported so pytest sees it here

DUMPKIT = [str(Path(sys.executable).with_name("dumpkit"))]
#: A hanging server costs the client's timeout (10 s) for each of its 3 attempts, with backoff,
#: once per run (then it is not asked again): well under this.
BUDGET = 120


def inspect(dump: Path, *options: str) -> tuple[dict[str, Any], float]:
    """The document ``dumpkit inspect`` prints, and how long it took (seconds)."""
    start = time.monotonic()
    proc = subprocess.run([*DUMPKIT, "inspect", *options, str(dump)], capture_output=True, text=True,
                          timeout=BUDGET, check=False,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(dump.parent)})  # no DEBUGINFOD_URLS
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout), time.monotonic() - start


def crashing_frames(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return next(t for t in doc["threads"] if t.get("crashed"))["frames"]


def symbol_diagnostics(doc: dict[str, Any]) -> list[str]:
    return [d["message"] for d in doc["diagnostics"] if d["code"] in ("bad_symbols", "build_id_mismatch")]


def logical(frame: dict[str, Any]) -> list[tuple[str | None, int | None]]:
    """A frame's functions innermost first (inline frames, then the physical one), with lines."""
    return [(_bare(i["function"]), i["source_line"]) for i in frame["inlined"]] + [
        (_bare(frame["function"]), frame["source_line"])]


def stackwalk_url(dump: Path, url: str, cache: Path) -> list[dict[str, Any]]:
    """rust-minidump's crashing-thread frames with symbols from ``url`` (its own cache)."""
    proc = subprocess.run([str(stackwalk()), "--json", "--symbols-url", url, "--symbols-cache", str(cache),
                           "--symbols-tmp", str(cache), str(dump)],
                          capture_output=True, text=True, timeout=BUDGET, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return list(json.loads(proc.stdout)["crashing_thread"]["frames"])


def agreement(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> tuple[dict[str, int], list[str]]:
    """Per field, how many of rust-minidump's frames (those in a module) ours match, and the misses."""
    fields = ("module_offset", "function", "line", "trust")
    same = dict.fromkeys(fields, 0)
    misses: list[str] = []
    for index, their in enumerate(f for f in theirs if f.get("module")):
        mine = ours[index] if index < len(ours) else {}
        pairs = {"module_offset": (mine.get("module_offset"), their["module_offset"]),
                 "function": (mine.get("function"), their["function"]),
                 "line": (mine.get("source_line"), their["line"]),
                 "trust": (mine.get("trust"), their["trust"])}
        for name, (a, b) in pairs.items():
            if name == "module_offset" and a is not None and b is not None:
                a, b = int(a, 16), int(b, 16)
            if a == b:
                same[name] += 1
            else:
                misses.append(f"frame {index} {name}: dumpkit {a!r}, rust-minidump {b!r}")
    return same, misses


def ms_store(root: Path, program: PeProgram) -> Path:
    """``root`` in Microsoft symstore layout: the PDB only as ``NAME.pd_`` (a cabinet), the PE as is."""
    exe_name = MODULE_PATH.rsplit("\\", 1)[-1]
    symstore_dir(root, program.exe, program.pdb, names={program.exe: exe_name})
    pdb = next(root.glob(f"{program.pdb.name}/*/{program.pdb.name}"))
    make_cab(pdb.with_suffix(".pd_"), pdb)
    pdb.unlink()
    return root


# -- minidumps + PDBs: Breakpad and Microsoft symbol servers, rust-minidump as the oracle ------------


@pytest.mark.parametrize("arch", ["amd64", "x86"])
def test_symbol_servers_and_rust_minidump(pe_programs: dict[str, PeProgram], arch: str,
                                          tmp_path: Path) -> None:
    need("cabextract", "gcab")
    program = pe_programs[arch]
    breakpad = _breakpad_dir(tmp_path / "breakpad", [program.pdb])
    microsoft = ms_store(tmp_path / "microsoft", program)
    cache = tmp_path / "cache"
    runs: dict[str, list[dict[str, Any]]] = {}
    with serve(StaticHandler, breakpad) as (bp_url, bp_server), \
            serve(StaticHandler, microsoft) as (ms_url, ms_server):
        for label, url in (("breakpad", bp_url), ("microsoft", ms_url)):
            doc, _ = inspect(program.dump, "--symbol-server", url, "--symbol-cache", str(cache / label))
            assert not symbol_diagnostics(doc), symbol_diagnostics(doc)
            runs[label] = crashing_frames(doc)
        theirs = stackwalk_url(program.dump, bp_url, tmp_path / "rust-cache")
        assert any(p.endswith(".pd_") for p in ms_server.log), ms_server.log  # the CAB was fetched
        assert any(p.endswith(".sym") for p in bp_server.log), bp_server.log
    for label, frames in runs.items():
        names = [name for f in frames for name, _ in logical(f)]
        assert names[:len(CHAIN)] == CHAIN, (label, names)
        same, misses = agreement(frames, theirs)
        total = sum(1 for f in theirs if f.get("module"))
        SUMMARIES.append(f"symbols e2e {arch} dumpkit inspect --symbol-server ({label} layout) vs "
                         f"minidump-stackwalk --symbols-url (Breakpad layout): "
                         + ", ".join(f"{k} {v}/{total}" for k, v in same.items()))
        assert not misses, (label, misses)
    # the servers are gone: the cache alone gives the same frames
    for label in runs:
        doc, _ = inspect(program.dump, "--offline", "--symbol-server", "http://127.0.0.1:9/",
                         "--symbol-cache", str(cache / label))
        assert crashing_frames(doc) == runs[label], label
        assert not symbol_diagnostics(doc), symbol_diagnostics(doc)


# -- Linux: a stripped binary cored with gdb, its debug file from a real debuginfod ------------------



def test_debuginfod_names_frames_of_a_stripped_core(tmp_path: Path) -> None:
    reason = elf_tools_missing()
    if reason:
        pytest.skip(reason)
    need("debuginfod", "objcopy", "strip")
    exe = tmp_path / "inline_chain"
    subprocess.run(["gcc", "-g", "-O2", "-Wl,--build-id", str(SOURCE), "-o", str(exe)], check=True,
                   capture_output=True, timeout=120)
    served = tmp_path / "served"
    served.mkdir()
    subprocess.run(["objcopy", "--only-keep-debug", str(exe), str(served / "inline_chain.debug")], check=True,
                   timeout=60)
    stripped = tmp_path / "run" / "inline_chain"
    stripped.parent.mkdir()
    subprocess.run(["strip", "-o", str(stripped), str(exe)], check=True, timeout=60)
    shutil.copy(stripped, served / "inline_chain")
    core = make_core(stripped, tmp_path / "inline_chain.core")
    # the oracle: gdb over the unstripped binary and the core
    bt = subprocess.run(["gdb", "-nx", "-batch", "-ex", "bt", str(exe), str(core)], capture_output=True,
                        text=True, timeout=120, check=False).stdout
    by_index = {m.group(1): m.group(2)  # (gdb prints frame #0 once more when it loads the core)
                for m in re.finditer(r"^#(\d+)\s+(?:0x[0-9a-f]+ in )?(\S+) \(", bt, re.M)}
    gdb_names = list(by_index.values())
    assert gdb_names[:len(CHAIN) + 1] == [*CHAIN, "main"], bt
    cache = tmp_path / "cache"
    bare, _ = inspect(core, "--symbol-cache", str(cache))
    assert not any(f["function"] for f in crashing_frames(bare)[:len(CHAIN)])
    with run_debuginfod(served, tmp_path / "db.sqlite", expect_files=2) as url:
        doc, _ = inspect(core, "--debuginfod", url, "--symbol-cache", str(cache))
    assert not symbol_diagnostics(doc), symbol_diagnostics(doc)
    frames = crashing_frames(doc)
    names = [name for f in frames for name, _ in logical(f)]
    start = names.index("crash_here")
    agree = sum(a == b for a, b in zip(names[start:], gdb_names, strict=False))
    SUMMARIES.append(f"symbols e2e ELF stripped core, dumpkit inspect --debuginfod vs gdb bt (unstripped): "
                     f"{agree}/{len(gdb_names)} logical frames with the same function")
    assert names[start:start + len(CHAIN) + 1] == [*CHAIN, "main"]
    assert (cache / elf_build_id(exe) / "debuginfo").is_file()
    # debuginfod is stopped: the cache alone
    offline, _ = inspect(core, "--offline", "--debuginfod", url, "--symbol-cache", str(cache))
    assert crashing_frames(offline) == frames
    assert not symbol_diagnostics(offline)


# -- hostile servers never fail inspect ----------------------------------------------------------------


def test_hostile_servers_become_diagnostics(pe_programs: dict[str, PeProgram], tmp_path: Path) -> None:
    program = pe_programs["amd64"]
    other = pe_programs["x86"]
    # "wrong id": the x86 build's files under the amd64 build's paths
    wrong = tmp_path / "wrong"
    exe_name = MODULE_PATH.rsplit("\\", 1)[-1]
    good = symstore_dir(tmp_path / "good", program.exe, program.pdb, names={program.exe: exe_name})
    for path in good.rglob("*"):
        if path.is_file():
            target = wrong / path.relative_to(good)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(other.pdb if path.suffix == ".pdb" else other.exe, target)
    with serve(HangHandler) as (hang, _), serve(ErrorHandler) as (error, _), \
            serve(StaticHandler, wrong) as (wrong_url, _), serve(HugeDeclaredHandler) as (huge, _):
        options = [o for url in (hang, error, wrong_url, huge) for o in ("--symbol-server", url)]
        doc, took = inspect(program.dump, *options, "--symbol-cache", str(tmp_path / "cache"))
    messages = symbol_diagnostics(doc)
    SUMMARIES.append(f"symbols e2e hostile servers: inspect finished in {took:.0f} s with "
                     f"{len(messages)} symbol diagnostics")
    expected = ((hang, "timed out"), (error, "HTTP 500"), (wrong_url, "has debug id"), (huge, "byte cap"))
    for url, reason in expected:
        assert any(m.startswith(url) and reason in m for m in messages), (url, reason, messages)
    assert crashing_frames(doc)[0]["trust"] == "context"
    assert not any(f["function"] for f in crashing_frames(doc))


# -- a Windows kernel dump: a driver named through the same symbol server ------------------------------


def test_kernel_dump_driver_and_bugcheck_signature(pe_programs: dict[str, PeProgram], tmp_path: Path) -> None:
    """A built complete kernel dump whose crashing CPU stopped in a driver whose PDB is the one
    clang + lld-link made (its GUID and age, per llvm-pdbutil, written into the driver's RSDS
    record): ``inspect --symbol-server`` (Microsoft layout, CAB) names the frame, and the bugcheck
    signature reads ``module!function``; without symbols it is the driver and offset."""
    import uuid

    from tests.builders.kernel_dump import BugCheck, write_complete
    from tests.builders.kernel_image import BDriver, KernelImage
    from tests.symbol_servers import _pdb_id

    need("cabextract", "gcab")
    program = pe_programs["amd64"]
    pdb_id = _pdb_id(program.pdb)
    crash_rva = 0x1000  # crash_here (llvm-symbolizer, test_symbols_native)

    class Image(KernelImage):
        def cpu_registers(self, cpu: int) -> dict[str, int]:
            regs = super().cpu_registers(cpu)
            return {**regs, "rip": driver.base + crash_rva}

    img = Image(arch="amd64")
    img.add_standard_drivers(2)  # ntoskrnl.exe, hal.dll
    driver = BDriver(name="myfault.sys", base=img.kbase + 0x800000, size=0x5000, timestamp=0x5F001234,
                     pdb=program.pdb.name, guid=uuid.UUID(hex=pdb_id[:32]), age=int(pdb_id[32:], 16))
    img.drivers.append(driver)
    img.build_kernel()
    dump = tmp_path / "kernel.dmp"
    write_complete(dump, img, BugCheck(code=0xD1, params=[0, 2, 0, driver.base + crash_rva],
                                       exception_code=None, exception_address=driver.base + crash_rva))
    bare, _ = inspect(dump)
    assert bare["crash"]["signature"] == f"myfault.sys@{crash_rva:#x}", bare["crash"]
    store = ms_store(tmp_path / "microsoft", program)
    with serve(StaticHandler, store) as (url, server):
        doc, _ = inspect(dump, "--symbol-server", url, "--symbol-cache", str(tmp_path / "cache"))
    assert any(p.endswith(".pd_") for p in server.log), server.log
    module = next(m for m in doc["modules"] if m["name"] == "myfault.sys")
    assert module["debug_id"] == pdb_id
    frame = crashing_frames(doc)[0]
    assert (frame["module"], _bare(frame["function"])) == ("myfault.sys", "crash_here"), frame
    SUMMARIES.append(f"symbols e2e Windows kernel dump: driver frame {frame['module']}!{frame['function']}, "
                     f"bugcheck signature {bare['crash']['signature']!r} -> {doc['crash']['signature']!r}")
    assert doc["crash"]["signature"] == "myfault!crash_here"


# -- a Linux vmcore: the kernel by VMCOREINFO BUILD-ID, its debug info from debuginfod -----------------

_TOY_KERNEL = """
__attribute__((noinline)) void panic_here(volatile int *p) { *p = 1; for (;;) { } }
void _start(void) { panic_here(0); }
"""
_TEXT = 0xFFFFFFFF81000000  # x86-64 vmlinux: _text = _stext = the first PT_LOAD


def test_vmcore_kernel_frame_named_through_debuginfod(tmp_path: Path) -> None:
    """Not a real vmlinux (none is buildable here): a toy kernel ELF linked at x86-64's kernel text
    address with a GNU build-id and DWARF, served by a real debuginfod; a vmcore whose VMCOREINFO
    gives that BUILD-ID, SYMBOL(_stext) and a KASLR KERNELOFFSET, and whose CPU stopped in
    ``panic_here``. The kernel becomes module ``vmlinux`` and its panic frame is named as
    ``addr2line`` names the address in the toy kernel."""
    from tests.builders.elf_core import NT_PRSTATUS, ElfCoreBuilder, prstatus

    need("gcc", "nm", "addr2line", "debuginfod")
    served = tmp_path / "served"
    served.mkdir()
    source = tmp_path / "kernel.c"
    source.write_text(_TOY_KERNEL)
    vmlinux = served / "vmlinux"
    subprocess.run(["gcc", "-g", "-O2", "-nostdlib", "-static", "-no-pie", "-fno-pic", "-mcmodel=kernel",
                    "-Wl,--build-id", f"-Wl,-Ttext-segment={_TEXT:#x}", "-o", str(vmlinux), str(source)],
                   check=True, capture_output=True, timeout=120)
    build_id = elf_build_id(vmlinux)
    symbols = subprocess.run(["nm", str(vmlinux)], capture_output=True, text=True, check=True,
                             timeout=60).stdout
    panic = int(next(line.split()[0] for line in symbols.splitlines() if line.endswith(" panic_here")), 16)
    offset = 0x2C00000  # KASLR
    rip = panic + 4 + offset
    want = subprocess.run(["addr2line", "-f", "-e", str(vmlinux), hex(rip - offset)], capture_output=True,
                          text=True, check=True, timeout=60).stdout.split("\n")[0]
    assert want == "panic_here"
    regs = [0] * 27
    regs[16], regs[19] = rip, 0xFFFFC90000004000
    core = ElfCoreBuilder(machine=62, is_64=True)
    core.note("CORE", NT_PRSTATUS, prstatus(core, pid=100, signal=0, regs=regs))
    info = "\n".join(["OSRELEASE=6.1.0-toy", "PAGESIZE=4096", f"BUILD-ID={build_id}",
                      f"SYMBOL(_stext)={_TEXT + offset:x}", f"KERNELOFFSET={offset:x}", ""])
    core.note("VMCOREINFO", 0, info.encode())
    core.load(_TEXT + offset, bytes(0x10000), paddr=0x1000000, flags=5)  # the kernel-text segment
    vmcore = tmp_path / "vmcore"
    vmcore.write_bytes(core.build())
    bare, _ = inspect(vmcore)
    kernel = next(m for m in bare["modules"] if m["name"] == "vmlinux")
    assert (kernel["build_id"], int(kernel["base"], 16)) == (build_id, _TEXT + offset)
    assert kernel["size"] == 0x10000
    # vmcore documents mark no CPU as the panicking one (the readers do not know it yet), so
    # inspect walks no stack: the CPUs' stacks are walked here through the library instead
    with run_debuginfod(served, tmp_path / "db.sqlite", expect_files=1) as url:
        config = SymbolConfig(debuginfod=(url,), cache_dir=str(tmp_path / "cache"))
        with dumpkit.open(vmcore) as dump:
            unwind_dump(dump, symbols=SymbolStore.from_config(config), threads="all")
            frame = dump.threads[0].frames[0]
            problems = [d.message for d in dump.diagnostics if d.code in ("bad_symbols", "build_id_mismatch")]
    assert not problems, problems
    assert (frame.trust, frame.module, frame.module_offset) == ("context", "vmlinux", rip - _TEXT - offset)
    SUMMARIES.append(f"symbols e2e Linux vmcore (toy kernel, KASLR): CPU 0 frame 0 "
                     f"{frame.module}!{frame.function} via debuginfod (addr2line: {want})")
    assert frame.function == want
