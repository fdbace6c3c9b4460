"""MINIDUMP_MODULE lists decoded in bulk: one ``struct`` unpack per entry instead of ~25 reads.

The layout comes from ``dumpkit.formats.bulk_tables`` (made by tools/compile-ksy from
``ksy/windows_minidump.ksy``; tests/test_bulk_tables.py checks it against the generated
parser). A :class:`ModuleRecord` answers the same attributes as the generated
``WindowsMinidump.Module`` the readers use, and its ``module_name`` / ``cv_info`` instances are
parsed by the generated classes, exactly where the spec's instances parse them.

Only a well-formed list is decoded here; anything else goes through the generated parser,
so errors read the same either way.
"""
from __future__ import annotations

import struct
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from dumpkit.formats.bulk_tables import WINDOWS_MINIDUMP_MODULE
from dumpkit.formats.windows_minidump import WindowsMinidump as MD

__all__ = ["ModuleRecord", "module_records"]

_FORMAT, _PATHS = WINDOWS_MINIDUMP_MODULE
_ENTRY = struct.Struct(_FORMAT)
ENTRY_SIZE = _ENTRY.size


class _Group:
    """A nested fixed-size structure of a record (``version_info``, ``cv_record``, ...)."""


def _getter(indices: list[int]) -> Callable[[tuple[int, ...]], tuple[int, ...]]:
    """A function picking ``indices`` out of a decoded row, always as a tuple."""
    if len(indices) == 1:
        only = indices[0]
        return lambda row: (row[only],)
    return itemgetter(*indices)


def _layout() -> tuple[tuple[str, ...], Callable[[tuple[int, ...]], tuple[int, ...]],
                       list[tuple[str, tuple[str, ...], Callable[[tuple[int, ...]], tuple[int, ...]]]]]:
    """Names and getter of the record's own fields, and (name, field names, getter) of each nested group."""
    own: list[tuple[int, str]] = []
    groups: dict[str, list[tuple[int, str]]] = {}
    for index, path in enumerate(_PATHS):
        head, _, rest = path.partition(".")
        if rest:
            if "." in rest:
                raise ImportError(f"bulk table path {path!r} nests more than once")
            groups.setdefault(head, []).append((index, rest))
        else:
            own.append((index, head))
    return (tuple(name for _, name in own), _getter([i for i, _ in own]),
            [(group, tuple(name for _, name in fields), _getter([i for i, _ in fields]))
             for group, fields in groups.items()])


_OWN_NAMES, _OWN_VALUES, _GROUPS = _layout()


class ModuleRecord:
    """One MINIDUMP_MODULE decoded from the bulk table; attributes as the generated ``Module``."""

    _root: Any
    cv_record: Any

    def __init__(self, row: tuple[int, ...], root: Any) -> None:
        attrs = self.__dict__
        attrs.update(zip(_OWN_NAMES, _OWN_VALUES(row), strict=True))
        for group_name, names, values in _GROUPS:
            group = _Group()
            group.__dict__.update(zip(names, values(row), strict=True))
            attrs[group_name] = group
        attrs["_root"] = root

    @property
    def module_name(self) -> Any:
        """The spec's ``module_name`` instance: a MINIDUMP_STRING at ``ofs_module_name`` of the file."""
        try:
            return self.__dict__["_m_module_name"]
        except KeyError:
            pass
        io = self._root._io
        pos = io.pos()
        io.seek(self.__dict__["ofs_module_name"])
        value = MD.MinidumpString(io, self, self._root)
        io.seek(pos)
        self.__dict__["_m_module_name"] = value
        return value

    @property
    def cv_info(self) -> Any:
        """The spec's ``cv_info`` instance: the CodeView record (``None`` when shorter than 4 bytes)."""
        try:
            return self.__dict__["_m_cv_info"]
        except KeyError:
            pass
        value = None
        length = self.cv_record.len_data
        if length >= 4:
            io = self._root._io
            pos = io.pos()
            io.seek(self.cv_record.ofs_data)
            value = MD.CodeviewRecord(length, io, self, self._root)
            io.seek(pos)
        self.__dict__["_m_cv_info"] = value
        return value


def module_records(root: Any, data: bytes) -> list[ModuleRecord] | None:
    """The entries of a MINIDUMP_MODULE_LIST whose bytes are ``data``, or ``None`` when the
    list is not well formed (count too big for the stream): the generated parser then reads it.

    Mirrors the spec: ``num_modules`` at 0, then 4 bytes of padding when exactly 4 bytes remain.
    """
    if len(data) < 4:
        return None
    count = int.from_bytes(data[:4], "little")
    if count > (len(data) - 4) // ENTRY_SIZE:
        return None
    start = 8 if len(data) - 4 - count * ENTRY_SIZE == 4 else 4
    table = data[start:start + count * ENTRY_SIZE]
    return [ModuleRecord(values, root) for values in _ENTRY.iter_unpack(table)]
