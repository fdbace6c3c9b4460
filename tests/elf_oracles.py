"""Outside oracles for ELF cores: elfutils (``eu-readelf --notes``, ``eu-unstrip -n --core``)
and gdb. Each runs the tool and parses its text output into plain facts; tests compare
those facts with ours. Nothing here imports dumpkit.

Pinned behaviour (elfutils 0.188 on Debian 12): eu-readelf prints register values signed
decimal or hex, names some registers differently (``nip``, ``pswa``, ``rflags``,
``fs.base``) and prints nothing for MIPS / hppa / alpha register sets.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "EU_REGISTER_NAMES",
    "HAVE_ELFUTILS",
    "HAVE_GDB",
    "ReadelfNotes",
    "ReadelfThread",
    "UnstripModule",
    "gdb_core_facts",
    "readelf_notes",
    "unstrip_modules",
]

HAVE_ELFUTILS = shutil.which("eu-readelf") is not None and shutil.which("eu-unstrip") is not None
HAVE_GDB = shutil.which("gdb") is not None

#: eu-readelf register name -> dumpkit name (per arch where they differ).
EU_REGISTER_NAMES = {
    "rflags": "eflags", "fs.base": "fs_base", "gs.base": "gs_base", "nip": "srr0", "pswa": "psw_addr",
    "pswm": "psw_mask", "orig_r2": "orig_gpr2", "pstate": "cpsr", "spsr": "cpsr", "orig_gpr3": "orig_gpr3",
    "cr": "cr", "state": "tstate", "npc": "npc", "link": "lr", "orig_rax": "orig_rax",
    "x29": "fp", "x30": "lr", "spr0": "softe",
}
_PAIR = re.compile(r"([A-Za-z_][\w.]*):\s+(-?0x[0-9a-fA-F]+|-?\d+)(?=\s|,|$)")
_HEADER = re.compile(r"^\s{2}(\S*)\s+(\d+)\s+(\S.*)$")


@dataclass
class ReadelfThread:
    pid: int
    cursig: int
    registers: dict[str, int] = field(default_factory=dict)


@dataclass
class ReadelfNotes:
    threads: list[ReadelfThread] = field(default_factory=list)
    signo: int | None = None
    si_code: int | None = None
    fault_address: int | None = None
    prpsinfo_pid: int | None = None
    fname: str | None = None


@dataclass
class UnstripModule:
    base: int
    size: int
    build_id: str | None
    name: str


def _run(cmd: list[str], timeout: float = 60) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=timeout,
                          check=False)
    return proc.stdout


def _int(text: str) -> int:
    return int(text, 16) if text.lower().lstrip("-").startswith("0x") else int(text)


def readelf_notes(path: Path) -> ReadelfNotes:
    """Facts from ``eu-readelf --notes``: per-PRSTATUS pid/cursig/registers, SIGINFO, PRPSINFO."""
    out = ReadelfNotes()
    block: str | None = None
    current: ReadelfThread | None = None
    in_regs = False
    for line in _run(["eu-readelf", "--notes", str(path)]).splitlines():
        head = _HEADER.match(line)
        if head and not line.startswith("    "):
            block = head.group(3).strip() if head.group(1) == "CORE" else None
            current, in_regs = None, False
            continue
        if block == "PRSTATUS":
            pairs = dict(_PAIR.findall(line))
            if "pid" in pairs and "ppid" in pairs and current is not None:
                current.pid = _int(pairs["pid"])
            elif "info.si_signo" in pairs:
                current = ReadelfThread(pid=-1, cursig=_int(pairs.get("cursig", "0")))
                out.threads.append(current)
            elif "utime" in line:
                in_regs = True
            elif in_regs and current is not None:
                for name, value in _PAIR.findall(line):
                    current.registers[name] = _int(value)
        elif block == "SIGINFO":
            pairs = dict(_PAIR.findall(line))
            if "si_signo" in pairs and out.signo is None:
                out.signo = _int(pairs["si_signo"])
                out.si_code = _int(pairs.get("si_code", "0"))
            m = re.search(r"fault address: (0x[0-9a-f]+)", line)
            if m and out.fault_address is None:
                out.fault_address = int(m.group(1), 16)
        elif block == "PRPSINFO":
            pairs = dict(_PAIR.findall(line))
            if "pid" in pairs and out.prpsinfo_pid is None:
                out.prpsinfo_pid = _int(pairs["pid"])
            m = re.search(r"fname: (.*?), psargs:", line)
            if m:
                out.fname = m.group(1)
    return out


def unstrip_modules(path: Path) -> list[UnstripModule]:
    """Modules from ``eu-unstrip -n --core``: base, size, build-id (None when "-")."""
    mods = []
    for line in _run(["eu-unstrip", "-n", "--core", str(path)]).splitlines():
        parts = line.split()
        if len(parts) < 5 or "+" not in parts[0]:
            continue
        start, size = parts[0].split("+", 1)
        build = parts[1].split("@", 1)[0]
        mods.append(UnstripModule(int(start, 16), int(size, 16),
                                  None if build in ("-", "") else build.lower(), parts[-1]))
    return mods


@dataclass
class GdbFacts:
    thread_count: int
    pc: int | None
    sp: int | None


def gdb_core_facts(exe: Path, core: Path, pc: str = "rip", sp: str = "rsp") -> GdbFacts:
    """Thread count and the current (crashing) thread's PC / SP as gdb sees them."""
    text = _run(["gdb", "-nx", "-batch", "-ex", "info threads", "-ex", f"info registers {pc} {sp}",
                 str(exe), str(core)])
    threads = len(re.findall(r"^\*?\s+\d+\s+(?:Thread|LWP|process)", text, re.M))
    values = dict(re.findall(r"^(\w+)\s+(0x[0-9a-f]+)", text, re.M))
    return GdbFacts(threads, int(values[pc], 16) if pc in values else None,
                    int(values[sp], 16) if sp in values else None)
