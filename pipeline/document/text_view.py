"""``dumpkit inspect --text``: a short summary of a document for a person at a terminal.

Reads only the validated document (never the dump), so it shows exactly what the JSON says:
crash, signature, the crashing thread's frames, and the modules.
"""
from __future__ import annotations

from typing import Any

__all__ = ["render"]

MAX_FRAMES_SHOWN = 64
MAX_MODULES_SHOWN = 40


def _known(*parts: object, sep: str = " ") -> str:
    """The parts that are known (not None, not empty), joined: an absent value is left out, never "None"."""
    return sep.join(str(part) for part in parts if part is not None and part != "")


def _labelled(label: str, value: object) -> str | None:
    """``"label value"``, or None when the value is absent."""
    return None if value is None or value == "" else f"{label} {value}"


def _frame_line(index: int, frame: dict[str, Any]) -> str:
    # inline frames first (innermost first), the frame's index on the first line, as debuggers show them
    inlined = [f"  {index if n == 0 else '':>3}  (inlined) {i.get('function') or '?'}"
               + (f"  [{i['source_file']}:{i.get('source_line') or '?'}]" if i.get("source_file") else "")
               for n, i in enumerate(frame.get("inlined") or [])]
    where = frame.get("module") or "???"
    if frame.get("function"):
        where = f"{where}!{frame['function']}"
        if frame.get("function_offset"):
            where += f" + {frame['function_offset']}"
        if frame.get("source_file"):
            where += f"  [{frame['source_file']}:{frame.get('source_line') or '?'}]"
    elif frame.get("module_offset"):
        where += f" + {frame['module_offset']}"
    else:
        where = frame.get("pc") or "?"
    how = _known(frame.get("trust"), _labelled("pc", frame.get("pc")), _labelled("sp", frame.get("sp")),
                 sep=", ")
    line = f"  {'' if inlined else index:>3}  {where}    ({how})"
    return "\n".join([*inlined, line])


def render(doc: dict[str, Any]) -> str:
    """The text summary of a dump or error document."""
    src = doc.get("source", {})
    kind = _known(src.get("format"), src.get("variant"), sep=", ")
    lines = [_known(src.get("path"), f"[{kind}]" if kind else None, sep="  ")]
    if doc.get("kind") == "error":
        err = doc.get("error", {})
        lines.append(f"unreadable: {err.get('message')} [{err.get('code')}]")
        return "\n".join(lines)
    system = doc.get("system", {})
    what_system = _known(system.get("os"), system.get("os_version"), system.get("cpu_arch"))
    lines.append(f"system: {what_system or '?'}")
    crash = doc.get("crash")
    if crash:
        what = crash.get("code_name") or crash.get("code")
        thread_id = crash.get("thread_id")
        lines.append("crash: " + _known(crash.get("kind"), what, _labelled("/", crash.get("subcode_name")),
                                        _labelled("at", crash.get("address")),
                                        None if thread_id is None else f"(thread {thread_id})"))
        if crash.get("message"):
            lines.append(f"message: {crash['message']}")
        if crash.get("signature"):
            lines.append(f"signature: {crash['signature']}")
    else:
        lines.append("crash: none recorded")
    thread = next((t for t in doc.get("threads", []) if t.get("crashed")), None)
    if thread is not None:
        frames = thread.get("frames") or []
        name = f" ({thread['name']})" if thread.get("name") else ""
        lines.append(f"crashing thread {thread.get('id')}{name}: {len(frames)} frame(s)")
        lines += [_frame_line(i, f) for i, f in enumerate(frames[:MAX_FRAMES_SHOWN])]
        if len(frames) > MAX_FRAMES_SHOWN:
            lines.append(f"  ... {len(frames) - MAX_FRAMES_SHOWN} more")
    modules = doc.get("modules", [])
    lines.append(f"modules: {len(modules)}")
    for module in modules[:MAX_MODULES_SHOWN]:
        ident = module.get("debug_id") or module.get("code_id") or ""
        base, name = module.get("base") or "?", module.get("name") or "?"
        lines.append(f"  {base}  {module.get('size') or 0:>10}  {name}  {ident}")
    if len(modules) > MAX_MODULES_SHOWN:
        lines.append(f"  ... {len(modules) - MAX_MODULES_SHOWN} more")
    problems = [d for d in doc.get("diagnostics", []) if d.get("severity") != "info"]
    if problems:
        lines.append(f"diagnostics: {len(problems)} (see the JSON document)")
    return "\n".join(lines)
