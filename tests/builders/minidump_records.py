"""Fixed-layout minidump records for :mod:`builders.minidump`: CPU contexts, CodeView, strings.

Every offset below is from docs/formats.md §1 (1.2 strings, 1.5 VS_FIXEDFILEINFO, 1.5b CodeView,
1.16 CPU contexts). Written with :mod:`struct` only; nothing here imports dumpkit.
"""
from __future__ import annotations

import struct
import uuid

__all__ = [
    "ARCHES",
    "CONTEXT_SIZE",
    "DEFAULT_CONTEXT_FLAGS",
    "PC",
    "SP",
    "context",
    "elf_build_id",
    "elf_debug_id",
    "fixed_file_info",
    "minidump_string",
    "nb10",
    "pdb70_debug_id",
    "rsds",
]

#: builder arch name -> MINIDUMP_SYSTEM_INFO.ProcessorArchitecture (§1.8)
ARCHES = {"x86": 0, "arm": 5, "amd64": 9, "arm64": 12, "arm64_old": 0x8003}

#: nominal context sizes (§1.16)
CONTEXT_SIZE = {"x86": 0x2CC, "amd64": 0x4D0, "arm64": 0x390}

#: CPU id | CONTROL | INTEGER | SEGMENTS/FP groups, as dbghelp writes them (§1.16)
DEFAULT_CONTEXT_FLAGS = {
    "x86": 0x00010000 | 0x3F,  # CONTEXT_ALL: control, integer, segments, fp, debug, extended
    "amd64": 0x00100000 | 0x1F,  # CONTEXT_ALL: control, integer, segments, fp, debug
    "arm64": 0x00400000 | 0x7,  # control, integer, floating point
}

#: instruction / stack pointer register names used by the builder's ``regs=`` dicts
PC = {"x86": "eip", "amd64": "rip", "arm64": "pc"}
SP = {"x86": "esp", "amd64": "rsp", "arm64": "sp"}

# name -> (offset, struct code) inside each CONTEXT
_X86_REGS: dict[str, tuple[int, str]] = {
    "dr0": (0x04, "I"), "dr1": (0x08, "I"), "dr2": (0x0C, "I"), "dr3": (0x10, "I"),
    "dr6": (0x14, "I"), "dr7": (0x18, "I"),
    "gs": (0x8C, "I"), "fs": (0x90, "I"), "es": (0x94, "I"), "ds": (0x98, "I"),
    "edi": (0x9C, "I"), "esi": (0xA0, "I"), "ebx": (0xA4, "I"), "edx": (0xA8, "I"),
    "ecx": (0xAC, "I"), "eax": (0xB0, "I"), "ebp": (0xB4, "I"), "eip": (0xB8, "I"),
    "cs": (0xBC, "I"), "eflags": (0xC0, "I"), "esp": (0xC4, "I"), "ss": (0xC8, "I"),
}
_AMD64_REGS: dict[str, tuple[int, str]] = {
    "mxcsr": (0x34, "I"),
    "cs": (0x38, "H"), "ds": (0x3A, "H"), "es": (0x3C, "H"), "fs": (0x3E, "H"),
    "gs": (0x40, "H"), "ss": (0x42, "H"), "eflags": (0x44, "I"),
    "dr0": (0x48, "Q"), "dr1": (0x50, "Q"), "dr2": (0x58, "Q"), "dr3": (0x60, "Q"),
    "dr6": (0x68, "Q"), "dr7": (0x70, "Q"),
    "rax": (0x78, "Q"), "rcx": (0x80, "Q"), "rdx": (0x88, "Q"), "rbx": (0x90, "Q"),
    "rsp": (0x98, "Q"), "rbp": (0xA0, "Q"), "rsi": (0xA8, "Q"), "rdi": (0xB0, "Q"),
    **{f"r{n}": (0xB8 + 8 * (n - 8), "Q") for n in range(8, 16)},
    "rip": (0xF8, "Q"),
}
_ARM64_REGS: dict[str, tuple[int, str]] = {
    "cpsr": (0x004, "I"),
    **{f"x{n}": (0x008 + 8 * n, "Q") for n in range(29)},
    "fp": (0x0F0, "Q"), "lr": (0x0F8, "Q"), "sp": (0x100, "Q"), "pc": (0x108, "Q"),
    "fpcr": (0x310, "I"), "fpsr": (0x314, "I"),
}
_REGS = {"x86": _X86_REGS, "amd64": _AMD64_REGS, "arm64": _ARM64_REGS}
_FLAGS_AT = {"x86": 0x00, "amd64": 0x30, "arm64": 0x00}
# AMD64 keeps MxCsr twice: CONTEXT.MxCsr and FltSave.MxCsr (0x100 + 0x18); keep them equal.
_AMD64_FLTSAVE_MXCSR = 0x118


def context(arch: str, regs: dict[str, int], flags: int | None = None) -> bytes:
    """A CONTEXT record of ``arch`` with ``regs`` set (unknown register names are an error)."""
    table = _REGS[arch]
    buf = bytearray(CONTEXT_SIZE[arch])
    struct.pack_into("<I", buf, _FLAGS_AT[arch], DEFAULT_CONTEXT_FLAGS[arch] if flags is None else flags)
    for name, value in regs.items():
        if name not in table:
            raise KeyError(f"{arch} context has no register {name!r}")
        offset, code = table[name]
        struct.pack_into("<" + code, buf, offset, value)
        if arch == "amd64" and name == "mxcsr":
            struct.pack_into("<I", buf, _AMD64_FLTSAVE_MXCSR, value)
    return bytes(buf)


def minidump_string(text: str) -> bytes:
    """MINIDUMP_STRING: byte length (no terminator), UTF-16LE, then a 2-byte NUL (§1.2)."""
    data = text.encode("utf-16-le")
    return struct.pack("<I", len(data)) + data + b"\0\0"


def fixed_file_info(version: tuple[int, int, int, int] | None, file_type: int = 2) -> bytes:
    """VS_FIXEDFILEINFO (13 x u32); all zeros when there is no version info (§1.5)."""
    if version is None:
        return bytes(52)
    major, minor, build, revision = version
    ms, ls = (major << 16) | minor, (build << 16) | revision
    return struct.pack("<13I", 0xFEEF04BD, 0x00010000, ms, ls, ms, ls, 0x3F, 0, 0x00040004,
                       file_type, 0, 0, 0)


def rsds(guid: uuid.UUID | str, age: int, pdb: str) -> bytes:
    """CodeView PDB 7.0 record: ``RSDS``, GUID (Data1/2/3 little-endian), age, NUL-terminated name."""
    g = guid if isinstance(guid, uuid.UUID) else uuid.UUID(guid)
    return b"RSDS" + g.bytes_le + struct.pack("<I", age) + pdb.encode("utf-8") + b"\0"


def nb10(signature: int, age: int, pdb: str) -> bytes:
    """CodeView PDB 2.0 record: ``NB10``, offset 0, time_t signature, age, NUL-terminated name."""
    return b"NB10" + struct.pack("<III", 0, signature, age) + pdb.encode("utf-8") + b"\0"


def elf_build_id(build_id: bytes) -> bytes:
    """Breakpad ELF record: constant 'BpEL' (bytes ``LEpB``) then the raw build-id."""
    return struct.pack("<I", 0x4270454C) + build_id


def pdb70_debug_id(guid: uuid.UUID | str, age: int) -> str:
    """Symbol-server key of an RSDS record: GUID as %08X%04X%04X + Data4 hex, then age %X."""
    g = guid if isinstance(guid, uuid.UUID) else uuid.UUID(guid)
    return f"{g.hex.upper()}{age:X}"


def elf_debug_id(build_id: bytes) -> str:
    """Breakpad debug id of an ELF module: first 16 build-id bytes as a little-endian GUID, age 0."""
    first = build_id[:16].ljust(16, b"\0")
    return uuid.UUID(bytes_le=first).hex.upper() + "0"
