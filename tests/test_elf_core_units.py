"""ELF core reader on small built cores (tests/builders/elf_core.py, vmcore.py): every layout
variant and every malformed-input path, without the corpus."""
from __future__ import annotations

import struct
from pathlib import Path

import pytest

import dumpkit
from dumpkit.errors import DumpkitError, DumpParseError, NotCapturedError
from dumpkit.ids import elf_debug_id
from dumpkit.readers.linux_kernel import KernelTranslator, panic_message, parse_vmcoreinfo
from tests.builders.elf_core import (
    NT_AUXV,
    NT_FILE,
    NT_PRPSINFO,
    NT_PRSTATUS,
    NT_SIGINFO,
    ElfCoreBuilder,
    auxv,
    mapped_files,
    prpsinfo,
    prstatus,
    siginfo,
)
from tests.builders.vmcore import lockless_log_vmcore, text_log_vmcore

LINES = ["Linux version 6.1.0-test (gcc 12.2)", "Command line: root=/dev/vda console=ttyS0",
         "sysrq: Trigger a crash", "Kernel panic - not syncing: sysrq triggered crash"]


def _x86_64_regs(rip: int, rsp: int) -> list[int]:
    regs = list(range(100, 127))
    regs[16], regs[19] = rip, rsp
    return regs


def _image(build_id: bytes, *, soname_at: int | None = None) -> bytes:
    """A minimal in-memory ELF64 LE shared object: header, PT_LOAD + PT_NOTE, GNU build-id note."""
    note = struct.pack("<III", 4, len(build_id), 3) + b"GNU\0" + build_id
    header = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + struct.pack(
        "<HHIQQQIHHHHHH", 3, 62, 1, 0, 64, 0, 0, 64, 56, 2, 64, 0, 0)
    phdrs = struct.pack("<IIQQQQQQ", 1, 5, 0, 0, 0, 0x3000, 0x3000, 0x1000)
    phdrs += struct.pack("<IIQQQQQQ", 4, 4, 0xB0, 0xB0, 0xB0, len(note), len(note), 4)
    return (header + phdrs + note).ljust(0x1000, b"\0")


def _process_core(tmp_path: Path, **kw: object) -> Path:
    b = ElfCoreBuilder(machine=62, is_64=True)
    lib = 0x7F0000000000
    b.note("CORE", NT_PRSTATUS, prstatus(b, pid=4242, signal=11, regs=_x86_64_regs(lib + 0x1234, 0x7FFC0010)))
    b.note("CORE", NT_PRPSINFO, prpsinfo(b, pid=4242, ppid=1, fname=b"demo", args=b"./demo --crash "))
    b.note("CORE", NT_SIGINFO, siginfo(b, signo=11, code=2, addr=0xBADC0DE))
    b.note("CORE", NT_AUXV, auxv(b, [(6, 4096), (33, 0x7FFD0000), (15, 0x7FFC0F00)]))
    so = "/usr/lib/libdemo.so"
    b.note("CORE", NT_FILE, mapped_files(b, 4096, [(lib, lib + 0x1000, 0, so),
                                                   (lib + 0x1000, lib + 0x3000, 0x1000, so),
                                                   (0x600000, 0x601000, 0, "/usr/share/data.bin")]))
    b.note("CORE", NT_PRSTATUS, prstatus(b, pid=4243, regs=_x86_64_regs(0x401000, 0x7FFB0000)))
    b.load(lib, _image(bytes(range(20))), flags=5)
    b.load(lib + 0x1000, b"", memsz=0x2000, flags=5)  # not captured (p_filesz 0)
    b.load(0x600000, b"plain data, not ELF".ljust(4096, b"\0"), flags=4)
    stack = bytearray(0x1000)
    stack[0xF00:0xF07] = b"x86_64\0"
    b.load(0x7FFC0000, bytes(stack), memsz=0x2000, flags=6)  # upper half not captured
    b.load(0x7FFD0000, _image(b"\xAA" * 20), flags=5)  # the vDSO
    path = tmp_path / "demo.core"
    return b.write(path)


def test_process_core_facts(tmp_path: Path) -> None:
    with dumpkit.open(_process_core(tmp_path)) as dump:
        source = dump.source
        assert (source.format, source.variant, source.byte_order) == ("elf_core", "process", "little")
        assert dump.system.cpu_arch == "amd64" and dump.system.os == "linux" and dump.system.page_size == 4096
        assert dump.system.cpu_description == "x86_64"  # AT_PLATFORM read from the stack
        assert dump.process is not None
        process = dump.process
        assert (process.pid, process.name, process.command_line) == (4242, "demo", "./demo --crash")
        assert (dump.process.uid, dump.process.gid, dump.process.user_time) == (1000, 100, 3.25)
        crash = dump.crash
        assert crash is not None
        assert (crash.kind, crash.code, crash.subcode, crash.address, crash.thread_id) == \
            ("signal", 11, 2, 0xBADC0DE, 4242)
        assert [t.id for t in dump.threads] == [4242, 4243]
        main = dump.threads[0]
        assert main.crashed and not dump.threads[1].crashed
        assert main.registers["rip"] == 0x7F0000001234 and main.registers["rsp"] == 0x7FFC0010
        assert main.registers["r15"] == 100 and main.registers["gs"] == 126
        assert (main.stack_start, main.stack_size) == (0x7FFC0000, 0x1000)
        vdso, lib = dump.modules  # sorted by base
        assert (lib.base, lib.size, lib.path) == (0x7F0000000000, 0x3000, "/usr/lib/libdemo.so")
        assert lib.build_id == bytes(range(20)).hex() == lib.code_id
        assert lib.debug_id == "03020100050407060809" + "0A0B0C0D0E0F" + "0"
        assert (vdso.path, vdso.build_id) == ("linux-vdso.so.1", "aa" * 20)
        region = next(r for r in dump.regions if r.start == 0x7F0000000000)
        assert (region.permissions, region.path) == ("r-x", "/usr/lib/libdemo.so")
        assert dump.memory is not None
        assert dump.memory.read(0x7FFC0F00, 6) == b"x86_64"
        with pytest.raises(NotCapturedError):
            dump.memory.read(0x7FFC1000, 1)  # p_filesz < p_memsz: not captured, not zeros
        with pytest.raises(NotCapturedError):
            dump.memory.read(0x7F0000001000, 1)
        assert not [d for d in dump.diagnostics if d.severity != "info"]


def test_debug_id_is_breakpad_guid_of_the_build_id() -> None:
    build_id = "99a6524c4df01fbff9b43a6ead3d8e8e6201568b"
    assert elf_debug_id(build_id) == "4C52A699F04DBF1FF9B43A6EAD3D8E8E0"
    assert elf_debug_id("0102") == "00000201" + "0000" * 2 + "0" * 16 + "0"
    # big-endian ELF files already hold the GUID fields in network order
    assert elf_debug_id("0102", big_endian=True) == "01020000" + "0000" * 2 + "0" * 16 + "0"


@pytest.mark.parametrize(("machine", "is_64", "big", "arch", "pc", "sp"), [
    (20, False, True, "ppc", "srr0", "r1"),
    (21, True, True, "ppc64", "srr0", "r1"),
    (40, False, False, "arm", "pc", "sp"),
    (3, False, False, "x86", "eip", "esp"),
    (183, True, False, "arm64", "pc", "sp"),
    (243, True, False, "riscv64", "pc", "sp"),
    (22, True, True, "s390x", "psw_addr", "r15"),
])
def test_register_layouts_per_architecture(tmp_path: Path, machine: int, is_64: bool, big: bool,
                                           arch: str, pc: str, sp: str) -> None:
    b = ElfCoreBuilder(machine=machine, is_64=is_64, big_endian=big)
    count = {20: 48, 21: 48, 40: 18, 3: 17, 183: 34, 243: 32, 22: 27}[machine]
    regs = [0x1000 + i for i in range(count)]
    index = {"srr0": 32, "r1": 1, "pc": {40: 15, 183: 32, 243: 0}.get(machine, 0), "eip": 12, "esp": 15,
             "sp": {40: 13, 183: 31, 243: 2}.get(machine, 0), "psw_addr": 1, "r15": 17}
    blob = prstatus(b, pid=77, signal=6, regs=regs)
    if machine == 22:  # s390x: psw (2 words), 16 gprs, 16 x u32 access registers, orig_gpr2
        words = struct.pack(b.e + "18Q", *regs[:18]) + struct.pack(b.e + "16I", *range(16)) \
            + struct.pack(b.e + "Q", 9)
        blob = blob[:0x70] + words + b"\0" * 8
    b.note("CORE", NT_PRSTATUS, blob)
    b.note("CORE", NT_PRPSINFO, prpsinfo(b, pid=77, fname=b"t", args=b"t", uid16=machine in (40, 3)))
    with dumpkit.open(b.write(tmp_path / "c.core")) as dump:
        assert dump.system.cpu_arch == arch
        assert dump.source.byte_order == ("big" if big else "little")
        thread = dump.threads[0]
        assert thread.registers[pc] == regs[index[pc]]
        assert thread.registers[sp] == regs[index[sp]]
        assert dump.process is not None and (dump.process.pid, dump.process.uid) == (77, 1000)
        assert dump.crash is not None and dump.crash.code == 6


def test_pn_xnum_and_bulk_program_headers(tmp_path: Path) -> None:
    b = ElfCoreBuilder(pn_xnum=True, extra_phdrs=3000)
    b.note("CORE", NT_PRSTATUS, prstatus(b, pid=1, signal=11, regs=_x86_64_regs(0x1000, 0x2000)))
    b.load(0x1000, b"\x90" * 16)
    with dumpkit.open(b.write(tmp_path / "x.core")) as dump:
        assert dump.source.details["pn_xnum"] is True
        assert dump.source.details["num_program_headers"] == 3002
        assert len(dump.regions) == 1 and len(dump.threads) == 1
        assert dump.memory is not None and dump.memory.read(0x1000, 2) == b"\x90\x90"


def test_no_signal_is_crash_kind_none(tmp_path: Path) -> None:
    b = ElfCoreBuilder()
    b.note("CORE", NT_PRSTATUS, prstatus(b, pid=9, signal=0, regs=_x86_64_regs(1, 2)))
    with dumpkit.open(b.write(tmp_path / "g.core")) as dump:
        assert dump.crash is not None and dump.crash.kind == "none"
        assert not any(t.crashed for t in dump.threads)


def test_kill_from_another_process_names_the_sender(tmp_path: Path) -> None:
    b = ElfCoreBuilder()
    b.note("CORE", NT_PRSTATUS, prstatus(b, pid=9, signal=11, regs=_x86_64_regs(1, 2)))
    b.note("CORE", NT_SIGINFO, siginfo(b, signo=11, code=0, sender=555))
    with dumpkit.open(b.write(tmp_path / "k.core")) as dump:
        assert dump.crash is not None
        assert (dump.crash.sender_pid, dump.crash.address, dump.crash.subcode) == (555, None, 0)


def test_unknown_architecture_degrades(tmp_path: Path) -> None:
    b = ElfCoreBuilder(machine=0x9026, is_64=True)  # alpha: no register layout here
    b.note("CORE", NT_PRSTATUS, prstatus(b, pid=5, signal=4, regs=[7] * 33))
    with dumpkit.open(b.write(tmp_path / "a.core")) as dump:
        assert dump.system.cpu_arch == "alpha"
        assert [t.id for t in dump.threads] == [5] and dump.threads[0].registers == {}
        assert "unsupported_architecture" in {d.code for d in dump.diagnostics}


def test_bad_notes_keep_the_good_ones(tmp_path: Path) -> None:
    b = ElfCoreBuilder()
    b.note("CORE", NT_PRSTATUS, prstatus(b, pid=3, signal=11, regs=_x86_64_regs(1, 2)))
    b.note("CORE", NT_FILE, mapped_files(b, 4096, [(0x1000, 0x2000, 0, "/x")], count=10**12))
    b.note("CORE", NT_PRPSINFO, b"\0" * 20)  # too short for elf_prpsinfo
    raw = bytearray(b.build())
    # make the last note's n_descsz run past the segment
    at = raw.rfind(struct.pack("<III", 5, 20, NT_PRPSINFO))
    struct.pack_into("<I", raw, at + 4, 0x7FFFFFFF)
    path = tmp_path / "bad.core"
    path.write_bytes(bytes(raw))
    with dumpkit.open(path) as dump:
        codes = {d.code for d in dump.diagnostics}
        assert {"bad_nt_file", "bad_note"} <= codes
        assert [t.id for t in dump.threads] == [3] and dump.crash is not None and dump.crash.code == 11


def test_program_headers_past_the_end_are_a_parse_error(tmp_path: Path) -> None:
    b = ElfCoreBuilder()
    b.note("CORE", NT_PRSTATUS, prstatus(b, pid=3, signal=11, regs=_x86_64_regs(1, 2)))
    raw = bytearray(b.build())
    struct.pack_into("<H", raw, 0x38, 5000)  # e_phnum
    (tmp_path / "p.core").write_bytes(bytes(raw))
    with pytest.raises(DumpParseError) as info:
        dumpkit.open(tmp_path / "p.core")
    assert info.value.structure == "program headers"
    (tmp_path / "t.core").write_bytes(bytes(raw[:40]))
    with pytest.raises(DumpkitError):
        dumpkit.open(tmp_path / "t.core")


@pytest.mark.parametrize("with_vaddr", [True, False], ids=["pt_load-vaddr", "translation-rules"])
def test_vmcore_kernel_log_from_the_printk_ring(tmp_path: Path, with_vaddr: bool) -> None:
    path = tmp_path / "vmcore"
    path.write_bytes(lockless_log_vmcore(LINES, with_vaddr=with_vaddr))
    with dumpkit.open(path) as dump:
        assert (dump.source.format, dump.source.variant) == ("elf_core", "vmcore")
        assert dump.system.kernel_release == "6.1.0-test" and dump.system.page_size == 4096
        assert dump.system.cpu_count == 2 and [t.name for t in dump.threads] == ["cpu0", "cpu1"]
        assert dump.threads[0].registers["rip"] == 0xFFFFFFFF81234560
        assert dump.memory is not None and dump.memory.name == "physical"
        assert dump.crash is not None and dump.crash.kind == "panic"
        assert dump.crash.message == "Kernel panic - not syncing: sysrq triggered crash"
        tail = dump.annotations["kernel_log_tail"].split("\n")
        assert tail[0] == "[    1.500250] Linux version 6.1.0-test (gcc 12.2)"
        assert [line.split("] ", 1)[1] for line in tail] == LINES
        assert dump.source.created == 1700000000


def test_vmcore_kernel_log_from_an_old_text_ring(tmp_path: Path) -> None:
    path = tmp_path / "vmcore"
    text = "<6>Linux version 2.6.35\n<0>Kernel panic - not syncing: Fatal exception\n"
    path.write_bytes(text_log_vmcore(text))
    with dumpkit.open(path) as dump:
        assert dump.crash is not None and dump.crash.message == "Kernel panic - not syncing: Fatal exception"
        assert dump.annotations["kernel_log_tail"].startswith("<6>Linux version 2.6.35")


def test_vmcoreinfo_parsing() -> None:
    info = parse_vmcoreinfo("OSRELEASE=5.14.0\nPAGESIZE=4096\nSYMBOL(prb)=ffffffff8a2b3c40\n"
                            "OFFSET(printk_info.text_len)=16\nNUMBER(phys_base)=-2130706432\n"
                            "NUMBER(VMALLOC_START)=0xffffc90000000000\nKERNELOFFSET=9000000\n"
                            "CONFIG_X86_PAE=y\nBUILD-ID=ABCDEF\ngarbage line\nSIZE(page)=notanumber\n"
                            "CRASHTIME=1700000000\n")
    assert info.osrelease == "5.14.0" and info.page_size == 4096 and info.build_id == "abcdef"
    assert info.symbols["prb"] == 0xFFFFFFFF8A2B3C40 and info.offsets["printk_info.text_len"] == 16
    assert info.numbers == {"phys_base": -2130706432, "VMALLOC_START": 0xFFFFC90000000000}
    assert info.kernel_offset == 0x9000000 and info.configs == {"CONFIG_X86_PAE": "y"}
    assert "SIZE(page)" in info.other and info.crash_time == 1700000000
    tr = KernelTranslator(parse_vmcoreinfo("NUMBER(phys_base)=16777216\n"), "amd64")
    assert tr.candidates(0xFFFFFFFF81000000)[0] == 0x2000000
    assert 0x1000 in tr.candidates(0xFFFF888000001000)
    lines = ["[ 1.0] a", "[ 2.0] Kernel panic - not syncing: Oops"]
    assert panic_message(lines) == "Kernel panic - not syncing: Oops"
    assert panic_message(["nothing here"]) is None
