"""Minidump ModuleList / UnloadedModuleList entries -> :class:`dumpkit.model.Module`.

Identifiers follow the symbol-server conventions:

* ``code_id``: PE modules ``%08X%x`` of (TimeDateStamp, SizeOfImage); ELF modules the GNU
  build-id in lower-case hex (Breakpad's ``BpEL`` CodeView record); Mach-O modules the UUID.
* ``debug_id``: RSDS (PDB 7.0) GUID as ``%08X%04X%04X`` + Data4 hex + Age ``%X``; NB10 (PDB 2.0)
  ``%08X`` signature + Age ``%X``; ELF: the first 16 bytes of the build-id (zero-padded) read
  as an on-disk GUID (Data1..3 little-endian) and age 0, as Breakpad/Crashpad do.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dumpkit.ids import elf_debug_id, pe_code_id
from dumpkit.model import Dump, Module
from dumpkit.readers.minidump_bulk import (
    CV_ELF,
    CV_PDB20,
    CV_PDB70,
    PDB20_FIELDS,
    PDB70_FIELDS,
    codeview_record,
    field,
    module_string,
)
from dumpkit.readers.minidump_common import attempt, utf16

__all__ = ["MAX_CV_RECORD", "module_from_row", "unloaded_from_entry"]

#: CodeView records larger than this are not read (an RSDS record is 24 bytes + a path).
MAX_CV_RECORD = 0x10000
_VS_FFI_SIGNATURE = 0xFEEF04BD


_BASE, _SIZE, _CHECKSUM, _TIMESTAMP, _NAME = (
    field("base_of_image"), field("len_image"), field("checksum"), field("time_date_stamp"),
    field("ofs_module_name"))
_VS_SIGNATURE, _VS_MS, _VS_LS = (
    field("version_info.signature"), field("version_info.file_version_ms"),
    field("version_info.file_version_ls"))
_CV_SIZE, _CV_RVA = field("cv_record.len_data"), field("cv_record.ofs_data")


def module_from_row(row: tuple[Any, ...], index: int, os: str, root: Any, dump: Dump) -> Module:
    """One MINIDUMP_MODULE (a row of :func:`dumpkit.readers.minidump_bulk.module_rows`, or
    :func:`~dumpkit.readers.minidump_bulk.row_of` an entry the parser read); a bad name or
    CodeView record becomes a diagnostic, the rest stays."""
    file_size = root._io.size()
    timestamp, image_size = row[_TIMESTAMP], row[_SIZE]
    version = code_id = None
    if row[_VS_SIGNATURE] == _VS_FFI_SIGNATURE:
        ms, ls = row[_VS_MS], row[_VS_LS]
        version = f"{ms >> 16}.{ms & 0xFFFF}.{ls >> 16}.{ls & 0xFFFF}"
    if os == "windows" and timestamp and image_size:
        code_id = pe_code_id(timestamp, image_size)
    name_rva = row[_NAME]
    path = _name(name_rva, "ModuleListStream", index, file_size, dump, module_string, root)
    module = Module(row[_BASE], image_size, path, version, timestamp or None, row[_CHECKSUM] or None, code_id)
    cv_size, cv_rva = row[_CV_SIZE], row[_CV_RVA]
    if cv_size == 0:
        return module
    if cv_size < 4 or cv_size > MAX_CV_RECORD or cv_rva + cv_size > file_size:
        dump.diag("bad_codeview", f"CodeView record of {cv_size:#x} bytes at {cv_rva:#x} is unusable",
                  structure=f"ModuleListStream[{index}].CvRecord", offset=cv_rva)
        return module
    record = attempt(dump, lambda: f"ModuleListStream[{index}].CvRecord", cv_rva,
                     codeview_record, root, cv_rva, cv_size)
    if record is not None:
        _apply_codeview(module, record, os)
    return module


def unloaded_from_entry(entry: Any, index: int, os: str, file_size: int, dump: Dump) -> Module:
    """One MINIDUMP_UNLOADED_MODULE."""
    module = Module(base=entry.base_of_image, size=entry.len_image,
                    path=_name(entry.ofs_module_name, "UnloadedModuleListStream", index, file_size, dump,
                               _buffer, entry),
                    timestamp=entry.time_date_stamp or None, checksum=entry.checksum or None)
    if os == "windows" and entry.time_date_stamp and entry.len_image:
        module.code_id = pe_code_id(entry.time_date_stamp, entry.len_image)
    return module


def _buffer(entry: Any, rva: int) -> bytes:
    """The name buffer of an unloaded module entry (the spec's ``module_name`` instance)."""
    return bytes(entry.module_name.buffer)


def _name(rva: int, stream: str, index: int, file_size: int, dump: Dump,
          read: Callable[[Any, int], bytes], source: Any) -> str:
    """A module's name: the MINIDUMP_STRING buffer ``read(source, rva)`` gives, as text, or ""
    with a diagnostic (on ``stream[index]``) when the RVA is outside the file or the string
    is malformed."""
    if rva == 0 or rva + 4 > file_size:
        dump.diag("bad_module_name", f"module name RVA {rva:#x} is outside the file",
                  structure=f"{stream}[{index}].ModuleNameRva", offset=rva)
        return ""
    raw = attempt(dump, lambda: f"{stream}[{index}].ModuleNameRva", rva, read, source, rva)
    return utf16(raw) if raw is not None else ""


_P70_DATA1, _P70_DATA2, _P70_DATA3, _P70_DATA4, _P70_AGE = (
    1 + PDB70_FIELDS.index(name) for name in ("guid.data1", "guid.data2", "guid.data3", "guid.data4", "age"))
_P20_SIGNATURE, _P20_AGE = (1 + PDB20_FIELDS.index(name) for name in ("signature", "age"))


def _apply_codeview(module: Module, record: tuple[Any, ...], os: str) -> None:
    """Ids from a CodeView record's values (:func:`~dumpkit.readers.minidump_bulk.codeview_record`)."""
    sig = record[0]
    if sig is CV_PDB70:
        guid = (f"{record[_P70_DATA1]:08X}{record[_P70_DATA2]:04X}{record[_P70_DATA3]:04X}"
                f"{record[_P70_DATA4].hex().upper()}")
        module.debug_id = f"{guid}{record[_P70_AGE]:X}"
        module.debug_file = record[-1].decode("utf-8", "replace") or None
        if os in ("macos", "ios"):  # Mach-O: the LC_UUID is stored as the RSDS GUID
            module.code_id = guid
    elif sig is CV_PDB20:
        module.debug_id = f"{record[_P20_SIGNATURE]:08X}{record[_P20_AGE]:X}"
        module.debug_file = record[-1].decode("utf-8", "replace") or None
    elif sig is CV_ELF:
        build_id = record[1]
        if build_id:
            module.build_id = build_id.hex()
            module.code_id = module.build_id
            module.debug_id = elf_debug_id(build_id)  # Breakpad writes the id of a little-endian ELF
        module.debug_file = module.name or None
