"""Breakpad's Linux streams (copies of /proc files, lsb-release, auxv) -> facts for the model.

Pure functions over the stream bytes; the reader decides which stream feeds which field.
The environment (``LinuxEnviron``) is never decoded: it may hold secrets.
"""
from __future__ import annotations

from dumpkit.model import MemoryRegion, ProcessInfo

__all__ = [
    "AT_PAGESZ",
    "MAX_MAP_LINES",
    "apply_proc_status",
    "auxv_value",
    "cmdline",
    "cpuinfo_first",
    "distribution",
    "maps_regions",
    "proc_status",
]

MAX_MAP_LINES = 1 << 16
AT_PAGESZ = 6


def proc_status(raw: str) -> dict[str, str]:
    """``/proc/PID/status`` as ``{key: value}`` (first occurrence of a key wins)."""
    out: dict[str, str] = {}
    for line in raw.splitlines():
        key, sep, value = line.partition(":")
        if sep and key and key not in out:
            out[key.strip()] = value.strip()
    return out


def apply_proc_status(process: ProcessInfo, status: dict[str, str]) -> None:
    """Fill pid, ppid, name, uid, gid (real ids) from a parsed status file, keeping set values."""
    if process.pid is None:
        process.pid = _first_int(status.get("Pid"))
    if process.ppid is None:
        process.ppid = _first_int(status.get("PPid"))
    if process.uid is None:
        process.uid = _first_int(status.get("Uid"))
    if process.gid is None:
        process.gid = _first_int(status.get("Gid"))
    if process.name is None and status.get("Name"):
        process.name = status["Name"]


def distribution(raw: str) -> str | None:
    """The distribution's description from lsb-release (DISTRIB_DESCRIPTION) or os-release (PRETTY_NAME)."""
    values: dict[str, str] = {}
    for line in raw.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip('"').strip("'")
    for key in ("DISTRIB_DESCRIPTION", "PRETTY_NAME"):
        if values.get(key):
            return values[key]
    if values.get("DISTRIB_ID"):
        return " ".join(v for v in (values["DISTRIB_ID"], values.get("DISTRIB_RELEASE")) if v)
    return None


def cmdline(raw: bytes) -> str:
    """``/proc/PID/cmdline``: NUL-separated arguments joined with spaces."""
    return raw.rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", errors="replace")


def cpuinfo_first(raw: str, key: str) -> str | None:
    """The first ``key : value`` of ``/proc/cpuinfo`` (e.g. "model name", "vendor_id", "Hardware")."""
    for line in raw.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip() == key:
            return value.strip() or None
    return None


def auxv_value(pairs: list[tuple[int, int]], a_type: int) -> int | None:
    """The value of the first auxv entry of ``a_type`` (the list ends at AT_NULL)."""
    for key, value in pairs:
        if key == 0:
            break
        if key == a_type:
            return value
    return None


def maps_regions(raw: str) -> tuple[list[MemoryRegion], int]:
    """``/proc/PID/maps`` lines as regions, and the number of lines that could not be read."""
    regions: list[MemoryRegion] = []
    bad = 0
    for line in raw.splitlines()[:MAX_MAP_LINES]:
        if not line.strip():
            continue
        fields = line.split(None, 5)
        try:
            start, _, end = fields[0].partition("-")
            low, high = int(start, 16), int(end, 16)
            perms = fields[1]
        except (ValueError, IndexError):
            bad += 1
            continue
        if high < low or len(perms) < 3:
            bad += 1
            continue
        path = fields[5].strip() if len(fields) > 5 else ""
        # positional: start, size, permissions, state, type, path (a region per line adds up)
        regions.append(MemoryRegion(low, high - low, perms[:3], None, None, path or None))
    return regions, bad


def _first_int(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(value.split()[0])
    except ValueError:
        return None
