"""Stack unwinding over the :class:`~dumpkit.model.Dump` model: fills ``Thread.frames``.

    from dumpkit.symbols.config import SymbolConfig
    from dumpkit.unwind import SymbolStore, unwind_dump
    store = SymbolStore.from_config(SymbolConfig(dirs=("symbols/",)))
    unwind_dump(dump, symbols=store, threads="crashing")

Methods, in order of trust (``Frame.trust``): the thread's context (frame 0); call frame
information (Breakpad STACK records of ``.sym`` files and of native files read through
symbolic — x86 PDB FPO/FrameData, PE x64 unwind info, ELF ``.eh_frame`` — then DWARF CFI of
sysroot files or captured images, Windows x64 ``.pdata`` in memory); frame pointers; stack
scanning. Frames get function, line and inline frames from ``dumpkit.symbols``. CPUs: amd64,
x86, arm64, arm (others get a diagnostic and no frames). See ``walker.py`` for the limits and the conventions
shared with rust-minidump.
"""
from __future__ import annotations

import os
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from dumpkit.model import PC_REGISTER, SP_REGISTER, Dump, Frame, Thread
from dumpkit.unwind.arch import spec_for
from dumpkit.unwind.cfi import CfiSources
from dumpkit.unwind.modules import ModuleIndex
from dumpkit.unwind.walker import MAX_FRAMES, walk_thread

if TYPE_CHECKING:  # the symbol machinery (HTTP, caches) loads only when a dump is walked with symbols
    from dumpkit.symbols.store import SymbolStore

__all__ = ["MAX_FRAMES", "SymbolStore", "unwind_dump"]

_MAX_DIAGNOSTICS = 16


def __getattr__(name: str) -> Any:
    """``SymbolStore`` stays importable from here, loaded on first use (it pulls ~60 ms of
    HTTP and cache modules that a walk without symbols never needs)."""
    if name == "SymbolStore":
        from dumpkit.symbols.store import SymbolStore

        return SymbolStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _targets(dump: Dump, threads: str) -> list[tuple[int, Thread]]:
    if threads == "all":
        return list(enumerate(dump.threads))
    crashing = dump.crashing_thread
    return [(i, t) for i, t in enumerate(dump.threads) if t is crashing][:1]


def _context_frame_only(dump: Dump, thread: Thread) -> None:
    """Frame 0 from the thread's registers, for CPUs that have no unwinder."""
    pc = thread.registers.get(PC_REGISTER.get(dump.system.cpu_arch, ""))
    if pc is None:
        return
    sp = thread.registers.get(SP_REGISTER.get(dump.system.cpu_arch, ""))
    module = dump.module_at(pc)
    thread.frames = [Frame(pc=pc, trust="context", sp=sp, module=module.name if module else None,
                           module_offset=pc - module.base if module else None)]


def unwind_dump(dump: Dump, *, symbols: SymbolStore | None = None, sysroot: str | None = None,
                threads: Literal["crashing", "all"] | str = "crashing") -> None:
    """Walk the stacks of the crashing thread (or all threads) of ``dump`` in place.

    ``symbols`` says what symbol files exist (``dumpkit.symbols.store``, made by
    ``SymbolStore.from_config``); ``sysroot`` sets the sysroot of ``symbols``' configuration
    (or makes a local-only store of its own). Never raises
    for bad dump content or bad symbol files: problems become diagnostics.
    """
    targets = _targets(dump, threads)
    if not targets:
        return
    spec = spec_for(dump.system.cpu_arch)
    if spec is None:
        dump.diag("unwind_unsupported", f"no stack unwinding for CPU {dump.system.cpu_arch!r}: "
                  "only the context frame is given", severity="info")
        for _, thread in targets:
            _context_frame_only(dump, thread)
        return
    own_store = None
    if sysroot is not None and (symbols is None or symbols.config is None
                                or symbols.config.sysroot != os.path.abspath(sysroot)):
        from dumpkit.symbols.config import SymbolConfig
        from dumpkit.symbols.store import SymbolStore

        base = symbols.config if symbols is not None and symbols.config is not None else None
        config = (replace(base, sysroot=sysroot) if base is not None
                  else SymbolConfig(sysroot=sysroot, debuginfod=()))
        own_store = SymbolStore.from_config(config)
        symbols = own_store
    try:
        view = None
        if symbols is not None:
            from dumpkit.symbols.store import DumpSymbols

            view = DumpSymbols(symbols, dump)
            view.check_sysroot()
        modules, cfi = ModuleIndex(dump), CfiSources()
        reported = 0
        for index, thread in targets:
            why = walk_thread(dump, thread, spec, modules, view, cfi)
            if why is not None and reported < _MAX_DIAGNOSTICS:
                reported += 1
                dump.diag("unwind_stopped", f"thread {thread.id}: {why}", severity="info",
                          structure=f"threads[{index}]")
    finally:
        if own_store is not None:
            own_store.close()
