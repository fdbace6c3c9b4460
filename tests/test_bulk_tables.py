"""The bulk tables (dumpkit/formats/bulk_tables.py) agree with the generated parsers.

Every module list of every corpus minidump, and of a minidump the builder writes, is read
twice: by the generated ``WindowsMinidump`` parser and by the bulk tables
(``dumpkit.readers.minidump_bulk``); every field of the table and the ``module_name`` and
``cv_info`` instances (values, or the errors raised) must be equal.
"""
from __future__ import annotations

import contextlib
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dumpkit.formats.bulk_tables import WINDOWS_MINIDUMP_MODULE
from dumpkit.formats.windows_minidump import WindowsMinidump
from dumpkit.memory import FileView
from dumpkit.readers.fast_stream import FastStream
from dumpkit.readers.minidump_bulk import (
    auxv_rows,
    auxv_rows_of,
    codeview_record,
    codeview_values,
    directory_entries,
    field,
    module_rows,
    module_string,
    row_of,
)
from dumpkit.readers.minidump_crash import context_of, exception_row, exception_row_of
from dumpkit.readers.minidump_system import system_record, system_record_of
from tests.builders.minidump import MinidumpBuilder
from tests.builders.minidump_records import elf_build_id, nb10, rsds

MD = WindowsMinidump


def _corpus_minidumps(corpus_dir: Path) -> list[Path]:
    """The corpus files that start as a minidump does."""
    return [p for pattern in ("mdmp/*", "mdmp_from_yaml/*.dmp") for p in sorted(corpus_dir.glob(pattern))
            if p.is_file() and p.read_bytes()[:4] == b"MDMP"]


def _get(obj: Any, path: str) -> Any:
    for name in path.split("."):
        obj = getattr(obj, name)
    return obj


def _error(exc: Exception) -> tuple[str, ...]:
    """An exception as comparable values (an absent attribute: its name, not the class's)."""
    if isinstance(exc, AttributeError):
        return ("error", "AttributeError", str(exc.name))
    return ("error", type(exc).__name__, str(exc))


def _compare(path: Path) -> int:
    """Compare both readings of ``path``'s module list; returns the number of modules compared."""
    view = FileView(path)
    try:
        try:
            root = MD(FastStream(view.buffer))
            entries = [e for e in root.directory if e.stream_type == MD.StreamTypes.module_list]
        except Exception:  # no readable directory: the reader rejects the file before any module list
            return 0
        if not entries:
            return 0
        entry = entries[-1]
        try:
            generated = entry.body.modules
        except Exception:  # a malformed list: the bulk reader must refuse it too (or agree on a prefix)
            return 0
        rows = module_rows(view.read(entry.ofs_data, entry.len_data))
        assert rows is not None, f"{path}: bulk decoding refused a list the parser reads"
        assert len(rows) == len(generated)
        for row, theirs in zip(rows, generated, strict=True):
            assert row == row_of(theirs), path
            for f in WINDOWS_MINIDUMP_MODULE[1]:
                assert row[field(f)] == _get(theirs, f), (path, f)
            reads = {
                "module_name": (lambda r=row: module_string(root, r[field("ofs_module_name")]),
                                lambda t=theirs: t.module_name.buffer),
                "cv_info": (lambda r=row: codeview_record(root, r[field("cv_record.ofs_data")],
                                                          r[field("cv_record.len_data")]),
                            lambda t=theirs: None if t.cv_info is None else codeview_values(t.cv_info)),
            }
            for instance, (read_ours, read_theirs) in reads.items():
                want: tuple[object, ...]
                got: tuple[object, ...]
                try:
                    want = ("value", read_theirs())
                except Exception as exc:
                    want = _error(exc)
                try:
                    got = ("value", read_ours())
                except Exception as exc:
                    got = _error(exc)
                assert got == want, (path, instance)
        return len(rows)
    finally:
        view.close()


def test_module_table_has_the_spec_size() -> None:
    fmt, paths, _ = WINDOWS_MINIDUMP_MODULE
    assert struct.calcsize(fmt) == 108  # MINIDUMP_MODULE
    assert len(paths) == len(struct.unpack(fmt, bytes(108)))


def test_module_table_matches_the_parser_on_a_built_minidump(tmp_path: Path) -> None:
    builder = MinidumpBuilder()
    cvs = [None, rsds("12345678-1234-5678-9abc-def012345678", 3, "a.pdb"), nb10(0x1234, 2, "b.pdb"),
           elf_build_id(bytes(range(20))), b"XY"]
    for i, cv in enumerate(cvs):
        builder.module(0x400000 + i * 0x10000, 0x1000 + i, f"C:\\mod{i}.dll", cv=cv,
                       version=(1, 2, 3, i), timestamp=0x5000 + i, checksum=i)
    path = builder.write(tmp_path / "built.dmp")
    assert _compare(path) == len(cvs)


@pytest.mark.corpus
def test_module_table_matches_the_parser_on_the_corpus(corpus_dir: Path) -> None:
    files = _corpus_minidumps(corpus_dir)
    assert files
    compared = sum(_compare(p) for p in files)
    assert compared > 1000  # the corpus holds thousands of module entries


def _broken_records(tmp_path: Path) -> tuple[Path, int]:
    """A minidump whose module names and CodeView records break each limit the bulk reader
    checks; (its path, its number of modules)."""
    builder = MinidumpBuilder()
    cvs = [rsds("12345678-1234-5678-9abc-def012345678", 1, "a.pdb")] * 4 + [
        b"RSDS" + bytes(10), b"NB10" + bytes(6), b"LEpB", b"RSDS" + bytes(20) + b"no-terminator",
        b"NB10" + bytes(12), b"\x01\x02\x03\x04" + bytes(30)]
    for i, cv in enumerate(cvs):
        builder.module(0x400000 + i * 0x10000, 0x1000, f"m{i}.dll", cv=cv)
    data = bytearray(builder.build())
    root = MD(FastStream(bytes(data)))
    stream = next(e for e in root.directory if e.stream_type == MD.StreamTypes.module_list)
    first = stream.ofs_data + (8 if stream.len_data - 4 - len(cvs) * 108 == 4 else 4)

    def entry(i: int, field_offset: int) -> int:
        return first + i * 108 + field_offset

    def patch(at: int, value: int) -> None:
        data[at:at + 4] = struct.pack("<I", value)

    name_rva = [struct.unpack_from("<I", data, entry(i, 20))[0] for i in range(len(cvs))]
    patch(entry(0, 20), len(data) - 2)            # the string's head runs past the end
    patch(name_rva[1], 0x20000)                   # len_buffer above the spec's max
    patch(name_rva[2], len(data))                 # the buffer runs past the end
    patch(entry(3, 80), len(data) - 8)            # the CodeView record runs past the end
    path = tmp_path / "broken.dmp"
    path.write_bytes(bytes(data))
    return path, len(cvs)


def test_heads_fall_back_to_the_parser_on_broken_records(tmp_path: Path) -> None:
    """Every limit the bulk reader checks (the spec's bound on a string's length, the end of the
    file, a CodeView record too short for its head): both readings agree, value or error."""
    path, count = _broken_records(tmp_path)
    assert _compare(path) == count


def test_broken_records_become_diagnostics_on_their_module(tmp_path: Path) -> None:
    """The reader keeps every module and names each broken part: its code, the module's entry
    and field, and the file offset."""
    import dumpkit

    path, count = _broken_records(tmp_path)
    with dumpkit.open(path) as dump:
        assert len(dump.modules) == count
        found = [(d.code, d.structure) for d in dump.diagnostics]
    assert found == [("bad_module_name", "ModuleListStream[0].ModuleNameRva"),
                     ("bad_stream", "ModuleListStream[1].ModuleNameRva"),
                     ("truncated_stream", "ModuleListStream[2].ModuleNameRva"),
                     ("bad_codeview", "ModuleListStream[3].CvRecord"),
                     ("bad_stream", "ModuleListStream[4].CvRecord"),
                     ("bad_stream", "ModuleListStream[5].CvRecord")]


def _compare_program_headers(path: Path) -> int:
    """Every program header of the ELF core at ``path``: the spec's table for its class and byte
    order against the generated parser, field by field; returns how many were compared."""
    from dumpkit.formats import bulk_tables
    from dumpkit.formats.elf_core import ElfCore
    from dumpkit.readers.minidump_bulk import read_paths

    view = FileView(path)
    try:
        try:
            root = ElfCore(FastStream(view.buffer))
            body = root.body
            count = min(int(body.num_program_headers), 4096)
            headers = body.program_headers[:count] if count else []
        except Exception:  # a header the reader refuses: nothing to compare
            return 0
        name = f"ELF_CORE_BODY_PROGRAM_HEADER_{64 if root.is_64 else 32}_"
        fmt, paths, _ = getattr(bulk_tables, name + ("BE" if root.ei_data == ElfCore.ByteOrder.be else "LE"))
        layout = struct.Struct(fmt)
        for index, header in enumerate(headers):
            at = body.ofs_program_headers + index * layout.size
            assert layout.unpack_from(view.buffer, at) == read_paths(header, paths), (path, index)
        return len(headers)
    finally:
        view.close()


@pytest.mark.corpus
def test_program_header_tables_match_the_parser_on_the_corpus(corpus_dir: Path) -> None:
    compared = {order: 0 for order in (1, 2)}
    for path in sorted((corpus_dir / "elfcore").glob("*")) + sorted((corpus_dir / "vmcore").glob("*")):
        with open(path, "rb") as fh:
            ident = fh.read(6)
        if ident[:4] == b"\x7fELF" and ident[5] in compared:
            compared[ident[5]] += _compare_program_headers(path)
    assert compared[1] > 1000 and compared[2] > 20, compared  # both byte orders were exercised


def _list_readers() -> dict[Any, tuple[Any, Any, Any]]:
    """Stream type -> (bulk decoding of its bytes, the same rows from the generated parser's
    body, how many entries those rows hold), for the lists read as rows."""
    from dumpkit.readers import minidump_bulk as bulk

    return {
        MD.StreamTypes.memory_list: (bulk.memory_rows, bulk.memory_rows_of, len),
        MD.StreamTypes.memory64_list: (bulk.memory64_rows, bulk.memory64_rows_of, lambda rows: len(rows[1])),
        MD.StreamTypes.thread_list: (lambda data: bulk.thread_rows(data, False), bulk.thread_rows_of, len),
        MD.StreamTypes.thread_ex_list: (lambda data: bulk.thread_rows(data, True), bulk.thread_rows_of, len),
    }


def _compare_lists(path: Path, *kinds: Any) -> int:
    """Both readings of each of ``path``'s streams of ``kinds``: rows (or refusal) against the
    generated parser (or its error); returns the number of entries compared."""
    readers = _list_readers()
    view = FileView(path)
    compared = 0
    try:
        try:
            root = MD(FastStream(view.buffer))
            entries = [e for e in root.directory if e.stream_type in kinds]
        except Exception:
            return 0
        for entry in entries:
            if entry.ofs_data + entry.len_data > view.size:
                continue  # the reader skips a stream that runs past the end
            decode, parsed, size = readers[entry.stream_type]
            ours = decode(view.read(entry.ofs_data, entry.len_data))
            try:
                theirs = parsed(entry.body)
            except Exception:
                theirs = None  # a list the parser refuses: the bulk reader must refuse it too
            assert ours == theirs, (path, entry.stream_type)
            compared += size(theirs) if theirs is not None else 0
        return compared
    finally:
        view.close()


def _compare_memory_lists(path: Path) -> int:
    return _compare_lists(path, MD.StreamTypes.memory_list, MD.StreamTypes.memory64_list)


def _compare_thread_lists(path: Path) -> int:
    return _compare_lists(path, MD.StreamTypes.thread_list, MD.StreamTypes.thread_ex_list)


def test_memory_tables_match_the_parser_on_built_and_broken_lists(tmp_path: Path) -> None:
    builder = MinidumpBuilder()
    for i in range(5):
        builder.memory(0x10000 * (i + 1), bytes([i]) * (16 + i))
    path = builder.write(tmp_path / "memory.dmp")
    assert _compare_memory_lists(path) == 5
    full = MinidumpBuilder()
    for i in range(4):
        full.memory64(0x20000 * (i + 1), bytes([i]) * (32 + i))
    path64 = full.write(tmp_path / "memory64.dmp")
    assert _compare_memory_lists(path64) == 4
    for source in (path, path64):  # counts one too many: both readers refuse the list
        data = bytearray(source.read_bytes())
        root = MD(FastStream(bytes(data)))
        entry = next(e for e in root.directory
                     if e.stream_type in (MD.StreamTypes.memory_list, MD.StreamTypes.memory64_list))
        data[entry.ofs_data] += 1
        broken = tmp_path / f"broken-{source.name}"
        broken.write_bytes(bytes(data))
        assert _compare_memory_lists(broken) == 0


@pytest.mark.corpus
def test_memory_tables_match_the_parser_on_the_corpus(corpus_dir: Path) -> None:
    files = _corpus_minidumps(corpus_dir)
    assert sum(_compare_memory_lists(p) for p in files) > 200


def test_thread_table_matches_the_parser_on_built_and_broken_lists(tmp_path: Path) -> None:
    builder = MinidumpBuilder()
    for tid in range(1, 6):
        builder.thread(tid, regs={"rip": 0x1000 + tid}, stack=(0x7000 * tid, bytes(64)))
    path = builder.write(tmp_path / "threads.dmp")
    assert _compare_thread_lists(path) == 5
    data = bytearray(path.read_bytes())
    entry = next(e for e in MD(FastStream(bytes(data))).directory
                 if e.stream_type == MD.StreamTypes.thread_list)
    data[entry.ofs_data] += 1  # one thread more than the stream holds: both readers refuse it
    broken = tmp_path / "broken-threads.dmp"
    broken.write_bytes(bytes(data))
    assert _compare_thread_lists(broken) == 0
    # the same bytes as a THREAD_EX list (64-byte entries; the count fitted to the stream)
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, entry.ofs_data, (entry.len_data - 4) // 64)
    header = MD(FastStream(bytes(data))).header
    kinds = [e.stream_type for e in MD(FastStream(bytes(data))).directory]
    at = header.ofs_streams + kinds.index(MD.StreamTypes.thread_list) * 12
    struct.pack_into("<I", data, at, int(MD.StreamTypes.thread_ex_list))
    ex_path = tmp_path / "threads-ex.dmp"
    ex_path.write_bytes(bytes(data))
    assert _compare_thread_lists(ex_path) == (entry.len_data - 4) // 64 > 0


@pytest.mark.corpus
def test_thread_table_matches_the_parser_on_the_corpus(corpus_dir: Path) -> None:
    files = _corpus_minidumps(corpus_dir)
    assert sum(_compare_thread_lists(p) for p in files) > 100


def _compare_auxv(path: Path) -> int:
    """Both readings of ``path``'s LinuxAuxv stream, at both word sizes: the bulk rows, or
    ``None`` exactly where the parser fails; returns the entries compared."""
    view = FileView(path)
    try:
        try:
            root = MD(FastStream(view.buffer))
            entries = [e for e in root.directory if e.stream_type == MD.StreamTypes.linux_auxv]
        except Exception:
            return 0
        compared = 0
        for entry in entries:
            data = view.read(entry.ofs_data, entry.len_data)
            for wide in (False, True):
                rows = auxv_rows(data, wide)
                try:
                    theirs = auxv_rows_of(entry.body, wide)
                except Exception:
                    assert rows is None, (path, wide)
                    continue
                assert rows == theirs, (path, wide)
                compared += len(rows)
        return compared
    finally:
        view.close()


def test_auxv_tables_match_the_parser_on_built_and_broken_streams(tmp_path: Path) -> None:
    pairs = [(6, 4096), (3, 0x400040), (25, 0x7FFC0000), (0, 0)]
    whole = struct.pack(f"<{2 * len(pairs)}Q", *(v for pair in pairs for v in pair))
    # whole: 4 pairs of u8 or 8 of u4; short: neither (both refuse); plus8: only 9 pairs of u4
    for name, data, want in (("whole", whole, 12), ("short", whole[:-3], 0), ("plus8", whole + bytes(8), 9)):
        path = MinidumpBuilder(os="linux").linux_stream("auxv", data).write(tmp_path / f"{name}.dmp")
        assert _compare_auxv(path) == want, name
    assert auxv_rows(whole, True) == pairs
    assert auxv_rows(whole[:-3], True) is None and auxv_rows(whole[:-3], False) is None


@pytest.mark.corpus
def test_auxv_tables_match_the_parser_on_the_corpus(corpus_dir: Path) -> None:
    files = _corpus_minidumps(corpus_dir)
    assert sum(_compare_auxv(p) for p in files) > 500


_TEXT_STREAMS = tuple(getattr(MD.StreamTypes, name) for name in (
    "linux_cpu_info", "linux_proc_status", "linux_lsb_release", "linux_cmd_line", "linux_environ",
    "linux_maps", "comment_a", "comment_w"))


def _compare_text_streams(path: Path) -> int:
    """The bytes the reader takes for each text stream of ``path`` (the stream's bytes) against
    the generated parser's body (``linux_text.text``, or the bytes of a stream without a type
    of its own); returns the streams compared."""
    view = FileView(path)
    try:
        try:
            entries = [e for e in MD(FastStream(view.buffer)).directory if e.stream_type in _TEXT_STREAMS]
        except Exception:
            return 0
        compared = 0
        for entry in entries:
            if entry.ofs_data + entry.len_data > view.size:
                continue  # the reader drops a stream past the end of the file (truncated_stream)
            body = entry.body
            theirs = body if isinstance(body, bytes) else body.text
            assert view.read(entry.ofs_data, entry.len_data) == theirs, (path, entry.stream_type)
            compared += 1
        return compared
    finally:
        view.close()


def test_text_streams_are_the_parsers_bytes_on_a_built_minidump(tmp_path: Path) -> None:
    builder = MinidumpBuilder(os="linux")
    for kind in ("cpu_info", "proc_status", "lsb_release", "cmd_line", "environ", "maps"):
        builder.linux_stream(kind, f"{kind} text\nsecond line\n")
    builder.stream(int(MD.StreamTypes.comment_a), b"a comment\0")
    assert _compare_text_streams(builder.write(tmp_path / "text.dmp")) == 7


@pytest.mark.corpus
def test_text_streams_are_the_parsers_bytes_on_the_corpus(corpus_dir: Path) -> None:
    files = _corpus_minidumps(corpus_dir)
    assert sum(_compare_text_streams(p) for p in files) > 100


def _compare_directory(path: Path) -> int:
    """The directory's entries from its table (``StreamEntry``) against the parser's: fields,
    and each body (its type; bytes, or the error raised, equal); returns the entries compared."""
    view = FileView(path)
    try:
        try:
            root = MD(FastStream(view.buffer))
            theirs = root.directory
        except Exception:  # the reader refuses such a directory before reading it (size checks)
            return 0
        header = root.header
        ours = directory_entries(MD(FastStream(view.buffer)), header.ofs_streams, header.num_streams)
        assert len(ours) == len(theirs)
        for mine, their in zip(ours, theirs, strict=True):
            assert (mine.stream_type, mine.len_data, mine.ofs_data) == \
                (their.stream_type, their.len_data, their.ofs_data), path
            assert type(mine.stream_type) is type(their.stream_type)
            got: tuple[object, ...]
            want: tuple[object, ...]
            try:
                body = mine.body
                got = ("value", type(body).__name__, body if isinstance(body, bytes) else None)
            except Exception as exc:
                got = _error(exc)
            try:
                body = their.body
                want = ("value", type(body).__name__, body if isinstance(body, bytes) else None)
            except Exception as exc:
                want = _error(exc)
            assert got == want, (path, their.stream_type)
        return len(ours)
    finally:
        view.close()


def test_directory_table_matches_the_parser_on_a_built_minidump(tmp_path: Path) -> None:
    builder = MinidumpBuilder(os="linux").linux_stream("maps", "00400000-00401000 r-xp 0 0:0 0 /bin/x\n")
    builder.thread(1, regs={"rip": 0x401000}, stack=(0x7000, bytes(64)))
    builder.stream(0x4E000000, b"vendor stream")  # a type the spec does not name: its bytes
    path = builder.write(tmp_path / "dir.dmp")
    assert _compare_directory(path) >= 5


@pytest.mark.corpus
def test_directory_table_matches_the_parser_on_the_corpus(corpus_dir: Path) -> None:
    files = _corpus_minidumps(corpus_dir)
    assert sum(_compare_directory(p) for p in files) > 500


def _last_stream(view: FileView, kind: Any) -> tuple[Any, Any]:
    """(the parser's root, the last directory entry of stream ``kind`` that lies inside the
    file, as the reader keeps it, or ``None``)."""
    try:
        root = MD(FastStream(view.buffer))
        entries = [e for e in root.directory if e.stream_type == kind]
    except Exception:
        return None, None
    if not entries or entries[-1].ofs_data + entries[-1].len_data > view.size:
        return root, None
    return root, entries[-1]


@contextlib.contextmanager
def _both_readings(path: Path, kind: Any, from_bytes: Any, from_body: Any) -> Iterator[Any]:
    """(the parser's root, ours, the parser's, its body) of the last stream ``kind`` of ``path``
    read from its bytes (``from_bytes``) and from the parser's body (``from_body``), which must
    agree; ``None`` without such a stream, or when both refuse it (shorter than its record)."""
    view = FileView(path)
    try:
        root, entry = _last_stream(view, kind)
        if entry is None:
            yield None
            return
        ours = from_bytes(view.read(entry.ofs_data, entry.len_data))
        try:
            body = entry.body
            theirs = from_body(body)
        except Exception:
            assert ours is None, path
            yield None
            return
        assert ours == theirs, path
        yield root, ours, theirs, body
    finally:
        view.close()


def _compare_system_info(path: Path) -> int:
    """The SystemInfo record from the stream's bytes (``system_record``) against the parser's
    body (``system_record_of``), and the CSD string read both ways; 1 when compared."""
    with _both_readings(path, MD.StreamTypes.system_info, system_record, system_record_of) as both:
        if both is None:
            return 0
        root, ours, theirs, body = both
        assert [type(a) for a in ours] == [type(b) for b in theirs], path  # enum members alike
        if ours.ofs_csd_version:
            got: tuple[object, ...]
            want: tuple[object, ...]
            try:
                got = ("value", module_string(root, ours.ofs_csd_version))
            except Exception as exc:
                got = _error(exc)
            try:
                want = ("value", bytes(body.csd_version.buffer))
            except Exception as exc:
                want = _error(exc)
            assert got == want, path
        return 1


def test_system_info_table_matches_the_parser_on_built_dumps(tmp_path: Path) -> None:
    compared = 0
    for arch in ("x86", "amd64", "arm", "arm64"):
        for os_name in ("windows", "linux"):
            builder = MinidumpBuilder(arch=arch, os=os_name).system_info(csd=f"{arch} {os_name}", cpu_count=3)
            compared += _compare_system_info(builder.write(tmp_path / f"{arch}-{os_name}.dmp"))
    assert compared == 8
    short = MinidumpBuilder().without_system_info().stream(int(MD.StreamTypes.system_info), bytes(40))
    assert _compare_system_info(short.write(tmp_path / "short.dmp")) == 0
    unknown = bytearray(MinidumpBuilder(arch="x86").write(tmp_path / "x86.dmp").read_bytes())
    entry = next(e for e in MD(FastStream(bytes(unknown))).directory
                 if e.stream_type == MD.StreamTypes.system_info)
    struct.pack_into("<H", unknown, entry.ofs_data, 0x7777)  # an architecture the spec does not name
    struct.pack_into("<I", unknown, entry.ofs_data + 24, 0xFFFFFF00)  # a CSD string past the end
    (tmp_path / "unknown.dmp").write_bytes(bytes(unknown))
    assert _compare_system_info(tmp_path / "unknown.dmp") == 1


@pytest.mark.corpus
def test_system_info_table_matches_the_parser_on_the_corpus(corpus_dir: Path) -> None:
    assert sum(_compare_system_info(p) for p in _corpus_minidumps(corpus_dir)) > 60


def _compare_exception(path: Path) -> int:
    """The Exception stream's row from its bytes against the parser's body (every field, the
    context's location too); 1 when compared."""
    with _both_readings(path, MD.StreamTypes.exception, exception_row, exception_row_of) as both:
        if both is None:
            return 0
        _, ours, _, body = both
        assert context_of(ours) == (body.thread_context.len_data, body.thread_context.ofs_data)
        record = body.exception_record
        assert (ours[2], ours[5], list(ours[8:23])) == \
            (record.exception_code, record.exception_address, list(record.exception_information))
        return 1


def test_exception_table_matches_the_parser_on_built_dumps(tmp_path: Path) -> None:
    builder = MinidumpBuilder().thread(7, regs={"rip": 0x401000}, stack=(0x7000, bytes(64)))
    builder.exception(7, 0xC0000005, 0x401000, params=list(range(1, 16)))
    assert _compare_exception(builder.write(tmp_path / "exception.dmp")) == 1
    short = MinidumpBuilder().stream(int(MD.StreamTypes.exception), bytes(100))
    assert _compare_exception(short.write(tmp_path / "short.dmp")) == 0


@pytest.mark.corpus
def test_exception_table_matches_the_parser_on_the_corpus(corpus_dir: Path) -> None:
    assert sum(_compare_exception(p) for p in _corpus_minidumps(corpus_dir)) > 50
