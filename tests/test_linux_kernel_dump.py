"""The one Linux-kernel filler (dumpkit/readers/linux_kernel_dump.py) and its ``created`` rule."""
from __future__ import annotations

from dumpkit.memory import AddressSpace
from dumpkit.model import Dump, SourceInfo, SystemInfo
from dumpkit.readers.elf_notes import CoreNotes, ThreadNote
from dumpkit.readers.linux_kernel import parse_vmcoreinfo
from dumpkit.readers.linux_kernel_dump import KernelTarget, fill_linux_kernel

VMCOREINFO = "OSRELEASE=6.1.0-test\nPAGESIZE=4096\nCRASHTIME=1700000000\nBUILD-ID=AbCd\n"
TARGET = KernelTarget("amd64", "little", 8)


class _NoMemory(AddressSpace):
    def read(self, address: int, size: int) -> bytes:  # pragma: no cover - no log symbols asked for
        raise AssertionError("no memory is read without log symbols")


def _dump(created: int | None) -> Dump:
    return Dump(source=SourceInfo(path="x", size=0, format="kdump_compressed", created=created),
                system=SystemInfo(os="linux", cpu_arch="amd64"))


def _notes() -> CoreNotes:
    return CoreNotes(threads=[ThreadNote(tid=0, registers={"rip": 1}),
                              ThreadNote(tid=0, registers={"rsp": 2})])


def test_crashtime_fills_an_empty_created_and_is_kept_as_a_detail() -> None:
    dump = _dump(None)
    fill_linux_kernel(dump, _NoMemory(), _notes(), parse_vmcoreinfo(VMCOREINFO), TARGET,
                      vmcoreinfo_at="PT_NOTE")
    assert dump.source.created == 1700000000
    assert dump.source.details["crash_time"] == 1700000000
    assert dump.source.details["kernel_build_id"] == "abcd"
    system = dump.system
    assert (system.kernel_release, system.page_size, system.cpu_count) == ("6.1.0-test", 4096, 2)
    assert [t.name for t in dump.threads] == ["cpu0", "cpu1"]
    assert dump.crash is not None and dump.crash.kind == "panic"
    assert [d.code for d in dump.diagnostics] == ["no_pc_register"]  # cpu1 has no rip


def test_the_containers_own_time_wins_over_crashtime() -> None:
    dump = _dump(1600000000)
    fill_linux_kernel(dump, _NoMemory(), _notes(), parse_vmcoreinfo(VMCOREINFO), TARGET,
                      vmcoreinfo_at="PT_NOTE")
    assert dump.source.created == 1600000000
    assert dump.source.details["crash_time"] == 1700000000


def test_without_vmcoreinfo_a_diagnostic_names_where_it_was_looked_for() -> None:
    dump = _dump(None)
    fill_linux_kernel(dump, _NoMemory(), CoreNotes(), None, TARGET, vmcoreinfo_at="kdump_sub_header")
    assert [(d.code, d.structure) for d in dump.diagnostics] == [("no_vmcoreinfo", "kdump_sub_header")]
    assert dump.source.created is None and dump.threads == [] and dump.system.cpu_count is None


def test_kernel_module_from_vmcoreinfo() -> None:
    """The kernel is module ``vmlinux`` when VMCOREINFO gives its build-id and _stext (amd64)."""
    from dumpkit.readers.linux_kernel import parse_vmcoreinfo
    from dumpkit.readers.linux_kernel_module import DEFAULT_SIZE, kernel_module

    info = parse_vmcoreinfo("BUILD-ID=" + "Ab" * 20 + "\nSYMBOL(_stext)=ffffffff83c00000\n")
    module = kernel_module(info, "amd64", [(0xFFFFFFFF83C00000, 0x1000000, 0x2000000)])
    assert module is not None
    assert (module.name, module.base, module.size, module.build_id) == (
        "vmlinux", 0xFFFFFFFF83C00000, 0x2000000, "ab" * 20)
    assert module.debug_id == "ABABABABABABABABABABABABABABABAB0"  # Breakpad's id of that build-id
    nohint = kernel_module(info, "amd64")
    assert nohint is not None and nohint.size == DEFAULT_SIZE
    assert kernel_module(info, "arm64") is None  # _stext is not the image start there
    assert kernel_module(parse_vmcoreinfo("BUILD-ID=abcd\n"), "amd64") is None  # no _stext
    assert kernel_module(parse_vmcoreinfo("BUILD-ID=xyz\nSYMBOL(_stext)=ffffffff81000000\n"), "amd64") is None
