"""``dumpkit inspect --text``: a short summary of a document for a person at a terminal.

Reads only the validated document (never the dump), so it shows exactly what the JSON says:
crash, signature, the crashing thread's frames, and the modules.
"""
from __future__ import annotations

from typing import Any

__all__ = ["render"]

MAX_FRAMES_SHOWN = 64
MAX_MODULES_SHOWN = 40


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
    line = (f"  {'' if inlined else index:>3}  {where}    ({frame.get('trust')}, pc {frame.get('pc')}, "
            f"sp {frame.get('sp')})")
    return "\n".join([*inlined, line])


def render(doc: dict[str, Any]) -> str:
    """The text summary of a dump or error document."""
    src = doc.get("source", {})
    lines = [f"{src.get('path')}  [{src.get('format')}{', ' + src['variant'] if src.get('variant') else ''}]"]
    if doc.get("kind") == "error":
        err = doc.get("error", {})
        lines.append(f"unreadable: {err.get('message')} [{err.get('code')}]")
        return "\n".join(lines)
    system = doc.get("system", {})
    version = f" {system['os_version']}" if system.get("os_version") else ""
    lines.append(f"system: {system.get('os')}{version} {system.get('cpu_arch')}")
    crash = doc.get("crash")
    if crash:
        what = crash.get("code_name") or crash.get("code")
        sub = f" / {crash['subcode_name']}" if crash.get("subcode_name") else ""
        at = f" at {crash['address']}" if crash.get("address") else ""
        lines.append(f"crash: {crash.get('kind')} {what}{sub}{at} (thread {crash.get('thread_id')})")
        if crash.get("message"):
            lines.append(f"message: {crash['message']}")
        lines.append(f"signature: {crash.get('signature')}")
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
        lines.append(f"  {module.get('base')}  {module.get('size') or 0:>10}  {module.get('name')}  {ident}")
    if len(modules) > MAX_MODULES_SHOWN:
        lines.append(f"  ... {len(modules) - MAX_MODULES_SHOWN} more")
    problems = [d for d in doc.get("diagnostics", []) if d.get("severity") != "info"]
    if problems:
        lines.append(f"diagnostics: {len(problems)} (see the JSON document)")
    return "\n".join(lines)
