"""Facts about kdump files from libkdumpfile (Debian ``python3-libkdumpfile``), as JSON.

Run by tests/test_kdump.py under the SYSTEM Python (``/usr/bin/python3``, where Debian puts
the ``kdumpfile`` module), not the project venv: it imports nothing from dumpkit.

    /usr/bin/python3 tests/kdump_libkdumpfile_probe.py MAX_PFNS FILE...

prints one JSON object per file: ``{"path", "error"}`` or ``{"path", "uts", "max_pfn",
"ptr_size", "page_size", "cpus": [{"pid", "regs"}], "vmcoreinfo": {...}, "pages": {pfn:
sha256 or null (excluded)}}`` for PFNs below min(max_pfn, MAX_PFNS).
"""
import hashlib
import json
import sys

import kdumpfile


def _get(attr, key, default=None):
    try:
        return attr[key]
    except Exception:  # libkdumpfile raises several kinds for a missing key
        return default


def _facts(path, max_pfns):
    k = kdumpfile.kdumpfile(path)
    a = k.attr
    out = {"path": path, "format": _get(a, "file.format"), "arch": _get(a, "arch.name"),
           "max_pfn": _get(a, "max_pfn"), "ptr_size": _get(a, "arch.ptr_size"),
           "page_size": _get(a, "arch.page_size")}
    out["uts"] = {f: _get(a, "linux.uts." + f) for f in ("sysname", "nodename", "release", "version",
                                                         "machine", "domainname")}
    lines = _get(a, "linux.vmcoreinfo.lines")
    out["vmcoreinfo"] = {key: lines[key] for key in lines} if lines is not None else None
    cpus = []
    for i in range(_get(a, "cpu.number", 0) or 0):
        regs = _get(a, f"cpu.{i}.reg")
        cpus.append({"pid": _get(a, f"cpu.{i}.pid"),
                     "regs": {r: int(regs[r]) for r in regs} if regs is not None else {}})
    out["cpus"] = cpus
    page_size = out["page_size"] or 4096
    pages: dict[int, str | None] = {}
    for pfn in range(min(out["max_pfn"] or 0, max_pfns)):
        try:
            data = k.read(kdumpfile.KDUMP_MACHPHYSADDR, pfn * page_size, page_size)
        except Exception:  # NoDataException for excluded pages, others for bad ones
            pages[pfn] = None
            continue
        pages[pfn] = hashlib.sha256(bytes(data)).hexdigest()
    out["pages"] = pages
    return out


def main():
    max_pfns = int(sys.argv[1])
    for path in sys.argv[2:]:
        try:
            print(json.dumps(_facts(path, max_pfns)))
        except Exception as exc:  # reported to the test, which decides
            print(json.dumps({"path": path, "error": f"{type(exc).__name__}: {exc}"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
