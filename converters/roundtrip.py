"""The shrink round trip: does the reduced minidump tell the same story as its source?

``compare_documents(DOC_IN, DOC_OUT)`` compares the documents of a dump and of its reduced
minidump on what crash triage needs:

* the crash: kind, code, address, thread (a Linux core taken without a signal, kind
  ``none``, compares by kind only; a Windows bugcheck becomes an exception record with the
  bugcheck code, which a minidump reader calls an ``exception``);
* the thread ids;
* the crashing thread's registers: pc, sp and every general register the minidump context
  of that CPU carries (values cut to the width the context keeps);
* the modules: name, base, size, code_id, debug_id;
* the system: os, cpu_arch, cpu_count.

It returns the differences as sentences; an empty list means the round trip holds. The tests
and ``dumpkit shrink --verify`` share it (``dumpkit.pipeline.cli.roundtrip_differences`` makes
the two documents: converters never reach into the pipeline).
"""
from __future__ import annotations

from typing import Any

from dumpkit.converters.minidump_contexts import canonical_registers, carried_registers, register_width
from dumpkit.model import PC_REGISTER, SP_REGISTER

__all__ = ["compare_documents"]

Doc = dict[str, Any]
#: crash kinds of the source that a minidump records under another kind
_KIND_IN_MINIDUMP = {"bugcheck": "exception"}


def _int(value: str | int | None) -> int | None:
    if value is None or isinstance(value, int):
        return value
    return int(value, 16)


def _crash_view(doc: Doc) -> Doc:
    crash = doc.get("crash") or {"kind": "none"}
    # a minidump's exception record always has an address: "none recorded" is written as 0
    return {"kind": crash["kind"], "code": crash.get("code"), "address": _int(crash.get("address")) or 0,
            "thread_id": crash.get("thread_id")}


def _compare_crash(a: Doc, b: Doc) -> list[str]:
    ca, cb = _crash_view(a), _crash_view(b)
    out: list[str] = []
    kind_in = _KIND_IN_MINIDUMP.get(ca["kind"], ca["kind"])
    if kind_in != cb["kind"]:
        out.append(f"crash kind: {ca['kind']} -> {cb['kind']}")
    if ca["kind"] == "none":
        return out
    for key in ("code", "address", "thread_id"):
        if ca[key] != cb[key]:
            out.append(f"crash {key}: {_show(ca[key])} -> {_show(cb[key])}")
    return out


def _show(value: object) -> str:
    return f"{value:#x}" if isinstance(value, int) and not isinstance(value, bool) else repr(value)


def _crashing_thread(doc: Doc) -> Doc | None:
    threads = doc.get("threads") or []
    crash = doc.get("crash")
    if crash and crash.get("kind") != "none" and crash.get("thread_id") is not None:
        for thread in threads:
            if thread["id"] == crash["thread_id"]:
                return thread
    for thread in threads:
        if thread.get("crashed"):
            return thread
    return threads[0] if threads else None


def _compare_registers(a: Doc, b: Doc) -> list[str]:
    arch = a["system"]["cpu_arch"]
    ta, tb = _crashing_thread(a), _crashing_thread(b)
    if ta is None:
        return []
    if tb is None:
        return [f"crashing thread {ta['id']}: missing from the output"]
    ra = canonical_registers(arch, {k: _int(v) or 0 for k, v in ta["registers"].items()})
    rb = canonical_registers(arch, {k: _int(v) or 0 for k, v in tb["registers"].items()})
    names = [n for n in (PC_REGISTER.get(arch), SP_REGISTER.get(arch)) if n]
    names += [n for n in carried_registers(arch) if n not in names]
    out = []
    for name in names:
        if name not in ra:
            continue
        width = register_width(arch, name) or 8
        want = ra[name] & ((1 << (8 * width)) - 1)
        if name not in rb:
            out.append(f"thread {ta['id']} register {name}: {want:#x} -> missing")
        elif rb[name] != want:
            out.append(f"thread {ta['id']} register {name}: {want:#x} -> {rb[name]:#x}")
    return out


def _module_key(module: Doc) -> tuple[Any, ...]:
    return (module["name"], _int(module["base"]), module["size"], module.get("code_id"),
            module.get("debug_id"))


def _compare_modules(a: Doc, b: Doc) -> list[str]:
    ma = {_int(m["base"]): _module_key(m) for m in a.get("modules") or []}
    mb = {_int(m["base"]): _module_key(m) for m in b.get("modules") or []}
    out = []
    for base in sorted(set(ma) | set(mb), key=lambda x: x or 0):
        if ma.get(base) != mb.get(base):
            out.append(f"module at {_show(base)}: {ma.get(base)} -> {mb.get(base)}")
    return out


def compare_documents(doc_in: Doc, doc_out: Doc) -> list[str]:
    """Differences between the normalized documents of a source and of its reduced minidump."""
    if doc_in.get("kind") != "dump":
        return [f"input unreadable: {doc_in.get('error', {}).get('message')}"]
    if doc_out.get("kind") != "dump":
        return [f"output unreadable: {doc_out.get('error', {}).get('message')}"]
    out = _compare_crash(doc_in, doc_out)
    ids_in = sorted(t["id"] for t in doc_in["threads"])
    ids_out = sorted(t["id"] for t in doc_out["threads"])
    if ids_in != ids_out:
        out.append(f"thread ids: {ids_in} -> {ids_out}")
    out += _compare_registers(doc_in, doc_out)
    out += _compare_modules(doc_in, doc_out)
    for key in ("os", "cpu_arch", "cpu_count"):
        if doc_in["system"][key] != doc_out["system"][key]:
            out.append(f"system {key}: {doc_in['system'][key]!r} -> {doc_out['system'][key]!r}")
    return out
