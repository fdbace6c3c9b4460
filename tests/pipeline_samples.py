"""Sample crash archives for the batch pipeline: its tests, ``tools/make-demo.py`` and
``benchmarks/bench_pipeline.py``.

* :func:`minidump_variant` - small minidumps from ``tests/builders/minidump.py``, each one
  different (arch, OS, exception, modules, threads), so content hashes differ;
* :func:`linux_core` - a real Linux core of a small C program that dies of SIGSEGV, made with
  gcc and gdb (``None`` with a reason when either is missing or ptrace is not allowed);
* :func:`kernel_dumps` - Windows kernel dumps from ``tests/builders/kernel_dump.py``;
* :func:`build_demo_tree` - a small mixed archive folder (plain, gz, zip, tar.xz, one corrupt
  file, a README).

Nothing here copies a corpus file; everything is generated.
"""
from __future__ import annotations

import gzip
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import uuid
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # the builders import themselves as tests.builders.*
    sys.path.insert(0, str(REPO))

from tests.builders.minidump import MinidumpBuilder, elf_build_id, rsds  # noqa: E402

__all__ = ["build_demo_tree", "kernel_dumps", "linux_core", "minidump_variant", "write_minidumps"]

_ARCH_REGS = {
    "amd64": ("rip", "rsp", 0x7FF6A0010000),
    "x86": ("eip", "esp", 0x00400000),
    "arm64": ("pc", "sp", 0x7FF700000000),
}
_WIN_CODES = [0xC0000005, 0xC0000005, 0xC0000409, 0x80000003, 0xC00000FD, 0xC0000374]
_LINUX_SIGNALS = [11, 11, 6, 7, 8]
_APPS = ["editor", "browser", "indexer", "renderer", "updater", "agent"]


def minidump_variant(i: int) -> bytes:
    """A small, valid minidump; ``i`` picks arch, OS, crash and names (all bytes differ)."""
    arch = ("amd64", "x86", "arm64")[i % 3]
    linux = arch == "amd64" and i % 4 == 0
    pc_reg, sp_reg, base = _ARCH_REGS[arch]
    app = _APPS[i % len(_APPS)]
    offset = 0x1000 + (i % 97) * 0x10
    b = MinidumpBuilder(arch=arch, os="linux" if linux else "windows", timestamp=0x60000000 + i)
    if linux:
        b.system_info(major=0, minor=0, build=0, csd="Linux 6.1.0 #1 SMP x86_64", cpu_count=4,
                      product_type=0, suite_mask=0)
        b.module(base, 0x20000, f"/usr/bin/{app}", cv=elf_build_id(bytes([i % 251]) * 20))
        b.module(base + 0x100000, 0x1E0000, "/lib/x86_64-linux-gnu/libc.so.6",
                 cv=elf_build_id(b"\x5a" * 20))
    else:
        b.system_info(major=10, minor=0, build=19041 + i % 5, csd="", cpu_count=8)
        guid = uuid.UUID(bytes=(i * 2654435761 & 0xFFFFFFFF).to_bytes(4, "little") * 4)
        b.module(base, 0x20000, rf"C:\Program Files\{app}\{app}.exe", cv=rsds(guid, 1, f"{app}.pdb"),
                 version=(1, 2, i % 10, 0), timestamp=0x5F000000 + i)
        b.module(base + 0x100000, 0x1F0000, r"C:\Windows\System32\ntdll.dll",
                 cv=rsds(uuid.UUID(bytes=b"\x11" * 16), 2, "ntdll.pdb"), version=(10, 0, 19041, 1))
    stack_top = 0x10000000 + (i % 16) * 0x100000
    for t in range(1 + i % 3):
        b.thread(0x100 + t, regs={pc_reg: base + offset + t, sp_reg: stack_top + 0x800},
                 stack=(stack_top, (i + t).to_bytes(4, "little") * 0x100))
    code = _LINUX_SIGNALS[i % len(_LINUX_SIGNALS)] if linux else _WIN_CODES[i % len(_WIN_CODES)]
    b.exception(0x100, code, base + offset, [1, 0x10] if code == 0xC0000005 else [])
    return b.build()


def write_minidumps(folder: Path, count: int, start: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(start, start + count):
        path = folder / f"crash-{i:05d}.dmp"
        path.write_bytes(minidump_variant(i))
        paths.append(path)
    return paths


_CRASH_C = r"""
#include <stdio.h>
static void store(volatile int *where, int value) { *where = value; }
int main(int argc, char **argv) {
    (void)argv;
    puts("about to crash");
    store((volatile int *)(long)(argc - 1 + 0x10), 42);   /* SIGSEGV at address 0x10 */
    return 0;
}
"""


def linux_core(out: Path) -> tuple[Path | None, str]:
    """``(core path, "")``, or ``(None, why not)``: gcc builds a crasher, gdb runs it and saves
    the core (no dependence on the system's core_pattern)."""
    out = out.resolve()  # gdb runs in a scratch directory
    gcc, gdb = shutil.which("gcc"), shutil.which("gdb")
    if gcc is None or gdb is None:
        return None, "gcc and gdb are needed for a Linux core (apt-get install gcc gdb)"
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = Path(tmp, "crasher.c"), Path(tmp, "crasher")
        src.write_text(_CRASH_C)
        built = subprocess.run([gcc, "-g", "-O0", "-o", str(exe), str(src)], capture_output=True, text=True)
        if built.returncode != 0:
            return None, f"gcc failed: {built.stderr.strip()[:200]}"
        out.parent.mkdir(parents=True, exist_ok=True)
        ran = subprocess.run([gdb, "-q", "-batch", "-nx", "-ex", "run", "-ex", f"generate-core-file {out}",
                              str(exe)], capture_output=True, text=True, timeout=60, cwd=tmp)
        if not out.is_file():
            return None, f"gdb made no core: {(ran.stderr or ran.stdout).strip()[-200:]}"
    return out, ""


def kernel_dumps(folder: Path) -> tuple[list[Path], str]:
    """A complete and a small Windows kernel dump, or ``([], why not)``."""
    try:
        from tests.builders.kernel_dump import write_complete, write_small
        from tests.builders.kernel_image import KernelImage
    except ImportError as exc:
        return [], f"kernel-dump builder not available ({exc})"
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for name, writer in (("MEMORY.DMP", write_complete), ("Mini042124-01.dmp", write_small)):
        img = KernelImage(arch="amd64")
        img.build_kernel()
        path = folder / name
        writer(path, img)
        made.append(path)
    return made, ""


def build_demo_tree(root: Path, minidumps: int = 12) -> list[str]:
    """A small mixed crash archive under ``root``; returns notes on what was skipped."""
    notes: list[str] = []
    plain = root / "incoming"
    dumps = [minidump_variant(i) for i in range(minidumps)]
    write = {f"crash-{i:03d}.dmp": data for i, data in enumerate(dumps)}
    plain.mkdir(parents=True, exist_ok=True)
    for name, data in list(write.items())[:4]:
        (plain / name).write_bytes(data)
    with gzip.open(plain / "crash-004.dmp.gz", "wb") as gz:  # one compressed alone
        gz.write(dumps[4])
    with zipfile.ZipFile(root / "upload-2024-04.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in list(write.items())[5:8]:
            zf.writestr(f"reports/{name}", data)
        zf.writestr("reports/notes.txt", "crash reports uploaded from the field\n")
    with tarfile.open(root / "nightly.tar.xz", "w:xz") as tf:
        for name, data in list(write.items())[8:]:
            info = tarfile.TarInfo(f"nightly/{name}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        dup = tarfile.TarInfo("nightly/copy-of-crash-000.dmp")  # same bytes as incoming/crash-000.dmp
        dup.size = len(dumps[0])
        tf.addfile(dup, io.BytesIO(dumps[0]))
    # a minidump cut inside its stream directory: unreadable, so an error document
    (plain / "truncated.dmp").write_bytes(dumps[1][:64])
    core, why = linux_core(root / "linux" / "crasher.core")
    if core is None:
        notes.append(f"no Linux core: {why}")
    else:
        with gzip.open(str(core) + ".gz", "wb") as gz, open(core, "rb") as fh:
            shutil.copyfileobj(fh, gz)
        os.unlink(core)
    kernels, why = kernel_dumps(root / "windows-kernel")
    if not kernels:
        notes.append(f"no kernel dumps: {why}")
    return notes
