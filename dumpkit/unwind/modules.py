"""Address -> module lookups for the unwinder (sorted once per dump, then ``bisect``).

Executable ranges: a stack-scan candidate must point into a module's code. When the dump
describes its mappings with permissions (Linux ``/proc/PID/maps``, Windows memory info),
the ``x`` mappings inside a module are its code; otherwise the whole module counts, as
in rust-minidump.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right

from dumpkit.model import Dump, Module

__all__ = ["ModuleIndex"]


class ModuleIndex:
    def __init__(self, dump: Dump) -> None:
        mods = sorted((m for m in dump.modules if m.size > 0), key=lambda m: m.base)
        self.modules = mods
        self._bases = [m.base for m in mods]
        self._ends = [m.base + m.size for m in mods]
        #: no module holds an address below ``lowest`` or at/above ``highest_end``
        self.lowest = self._bases[0] if mods else 0
        self.highest_end = max(self._ends, default=0)
        self._exec: dict[int, list[tuple[int, int]]] = {}
        self._has_perms = False
        regions = [r for r in dump.regions if r.permissions]
        if regions and mods:
            self._has_perms = True
            code = sorted((r.start, r.start + r.size) for r in regions if "x" in (r.permissions or ""))
            starts = [lo for lo, _ in code]
            longest = max((hi - lo for lo, hi in code), default=0)
            for index, module in enumerate(mods):
                base, end = module.base, module.base + module.size
                # the executable regions overlapping the module start within `longest` below it
                first, last = bisect_left(starts, base - longest), bisect_left(starts, end)
                # sorted as ``code`` is: clipping to the module keeps the order
                spans = [(max(lo, base), min(hi, end)) for lo, hi in code[first:last] if base < hi]
                if spans:
                    self._exec[index] = spans
        #: (starts, ends, modules) of every module's code range, sorted and disjoint, or None
        #: when the module list overlaps (:meth:`code_module` then takes the long way)
        self.code_ranges = self._code_ranges()

    def _code_ranges(self) -> tuple[list[int], list[int], list[Module]] | None:
        """Every module's code ranges (its executable spans, else the whole module) sorted, as
        (starts, ends, modules) for one ``bisect`` per lookup; None when modules overlap (a
        bad module list): :meth:`code_module` then takes the long way."""
        bases, ends = self._bases, self._ends
        if any(ends[k] > bases[k + 1] for k in range(len(bases) - 1)):
            return None
        starts: list[int] = []
        stops: list[int] = []
        modules: list[Module] = []
        for i, m in enumerate(self.modules):  # in base order; a module's spans (sorted) merged
            for lo, hi in self._exec.get(i) or ((m.base, m.base + m.size),):
                if modules and modules[-1] is m and lo <= stops[-1]:
                    stops[-1] = max(stops[-1], hi)
                else:
                    starts.append(lo)
                    stops.append(hi)
                    modules.append(m)
        return starts, stops, modules

    def _index(self, address: int) -> int | None:
        i = bisect_right(self._bases, address) - 1
        if i >= 0 and address < self._ends[i]:
            return i
        # Overlapping modules (rare, bad lists): a short backwards search.
        for j in range(i - 1, max(-1, i - 4), -1):
            if self._bases[j] <= address < self._ends[j]:
                return j
        return None

    def at(self, address: int) -> Module | None:
        i = self._index(address)
        return None if i is None else self.modules[i]

    def code_module(self, address: int) -> Module | None:
        """The module whose executable range holds ``address`` (see module doc), or ``None``."""
        code = self.code_ranges
        if code is not None:
            starts, ends, modules = code
            k = bisect_right(starts, address) - 1
            return modules[k] if k >= 0 and address < ends[k] else None
        i = self._index(address)
        if i is None:
            return None
        if self._has_perms and i in self._exec and not any(lo <= address < hi for lo, hi in self._exec[i]):
            return None
        return self.modules[i]

    def in_code(self, address: int) -> bool:
        return self.code_module(address) is not None
