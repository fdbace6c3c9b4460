"""Discovery of dumps in containers: naming, nesting, deduplication, limits, hostile members.

In-process and fast; the end-to-end runs of ``dumpkit normalize`` on hostile archives are in
``test_pipeline_hostile.py``.
"""
from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import stat
import tarfile
import zipfile
from pathlib import Path
from typing import Literal

import zstandard

from dumpkit.pipeline.inputs.archives import Limits, Spool, sniff_container, unsafe_name
from dumpkit.pipeline.inputs.discover import Manifest, discover
from tests.pipeline_samples import minidump_variant

DUMP_A, DUMP_B, DUMP_C = minidump_variant(0), minidump_variant(1), minidump_variant(2)


def _tar(members: dict[str, bytes], mode: Literal["w", "w:gz"] = "w") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _run(tmp_path: Path, inputs: list[Path], limits: Limits | None = None) -> Manifest:
    limits = limits or Limits(min_free=0)
    spool = Spool(str(tmp_path / "work" / "spool"), str(tmp_path / "work" / "tmp"), limits)
    return discover([str(p) for p in inputs], limits, spool)


def _by_display(manifest: Manifest) -> dict[str, dict]:
    return {item["display"]: item for item in manifest.items}


def test_sniff_and_names() -> None:
    assert sniff_container(gzip.compress(b"x")) == "gzip"
    assert sniff_container(bz2.compress(b"x")) == "bzip2"
    assert sniff_container(lzma.compress(b"x")) == "xz"
    assert sniff_container(zstandard.ZstdCompressor().compress(b"x")) == "zstd"
    assert sniff_container(_zip({"a": b"x"})) == "zip"
    assert sniff_container(_tar({"a": b"x"})) == "tar"
    assert sniff_container(DUMP_A) is None
    assert unsafe_name("../x.dmp") and unsafe_name("/etc/x") and unsafe_name("a/../../x")
    assert unsafe_name("C:\\x.dmp") and unsafe_name("") and unsafe_name("a\x00b")
    assert unsafe_name("dumps/a..b/x.dmp") is None and unsafe_name("x.dmp") is None


def test_nested_containers_name_their_chain(tmp_path: Path) -> None:
    inner_zip = _zip({"deep/c.dmp.gz": gzip.compress(DUMP_C), "notes.txt": b"hello"})
    tgz = _tar({"x/a.dmp": DUMP_A, "x/b.dmp.zst": zstandard.ZstdCompressor().compress(DUMP_B),
                "x/inner.zip": inner_zip}, "w:gz")
    (tmp_path / "batch.tgz").write_bytes(tgz)
    (tmp_path / "single.dmp.xz").write_bytes(lzma.compress(DUMP_A))  # same bytes as x/a.dmp
    m = _run(tmp_path, [tmp_path / "batch.tgz", tmp_path / "single.dmp.xz"])
    items = _by_display(m)
    archive = str(tmp_path / "batch.tgz")
    assert items["x/a.dmp"]["container"] == [archive]
    assert items["b.dmp"]["container"] == [archive, "x/b.dmp.zst"]
    assert items["c.dmp"]["container"] == [archive, "x/inner.zip", "deep/c.dmp.gz"]
    assert items["notes.txt"]["error"]["code"] == "unknown_format"
    assert items["notes.txt"]["container"] == [archive, "x/inner.zip"]
    assert [d["path"] for d in m.duplicates] == ["single.dmp"]
    assert m.duplicates[0]["duplicate_of"] == {"path": "x/a.dmp", "container": [archive]}
    assert m.files == 5 and len(m.items) == 4 and m.containers == 5
    for item in m.items:  # spooled copies are whole and named by their hash
        if item["spooled"]:
            assert Path(item["path"]).name == item["sha256"]
    assert os.listdir(tmp_path / "work" / "tmp") == []


def test_plain_files_are_read_in_place_and_deduplicated(tmp_path: Path) -> None:
    d = tmp_path / "in"
    (d / "sub").mkdir(parents=True)
    (d / "a.dmp").write_bytes(DUMP_A)
    (d / "sub" / "again.dmp").write_bytes(DUMP_A)
    (d / "b.dmp.bz2").write_bytes(bz2.compress(DUMP_B))
    (d / "empty").write_bytes(b"")
    m = _run(tmp_path, [d])
    items = _by_display(m)
    assert items[str(d / "a.dmp")]["spooled"] is False
    assert items[str(d / "a.dmp")]["path"] == str(d / "a.dmp")
    assert items["b.dmp"]["spooled"] is True
    assert items[str(d / "empty")]["error"]["message"].endswith("(an empty file)")
    assert [x["path"] for x in m.duplicates] == [str(d / "sub" / "again.dmp")]
    keys = [i["key"] for i in m.items]
    assert keys == sorted(keys)


def test_hostile_tar_members_are_refused(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name in ("../escape.dmp", "/abs/escape.dmp", "ok/../../x.dmp"):
            info = tarfile.TarInfo(name)
            info.size = len(DUMP_A)
            tf.addfile(info, io.BytesIO(DUMP_A))
        for kind, name in ((tarfile.SYMTYPE, "link.dmp"), (tarfile.LNKTYPE, "hard.dmp")):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, "/etc/passwd"
            tf.addfile(info)
        for kind in (tarfile.CHRTYPE, tarfile.FIFOTYPE):
            info = tarfile.TarInfo(f"dev{kind.decode()}")
            info.type = kind
            tf.addfile(info)
        info = tarfile.TarInfo("fine.dmp")
        info.size = len(DUMP_B)
        tf.addfile(info, io.BytesIO(DUMP_B))
    (tmp_path / "evil.tar").write_bytes(buf.getvalue())
    m = _run(tmp_path, [tmp_path / "evil.tar"])
    codes = {i["display"]: i["error"]["code"] if i["error"] else "ok" for i in m.items}
    assert codes == {"../escape.dmp": "unsafe_member", "/abs/escape.dmp": "unsafe_member",
                     "ok/../../x.dmp": "unsafe_member", "link.dmp": "unsafe_member",
                     "hard.dmp": "unsafe_member", "dev3": "unsafe_member", "dev6": "unsafe_member",
                     "fine.dmp": "ok"}
    assert not (tmp_path / "escape.dmp").exists() and not Path("/abs").exists()


def test_hostile_zip_members_are_refused(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../../escape.dmp", DUMP_A)
        link = zipfile.ZipInfo("link.dmp")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr("fine.dmp", DUMP_B)
    (tmp_path / "evil.zip").write_bytes(buf.getvalue())
    m = _run(tmp_path, [tmp_path / "evil.zip"])
    codes = {i["display"]: i["error"]["code"] if i["error"] else "ok" for i in m.items}
    assert codes == {"../../escape.dmp": "unsafe_member", "link.dmp": "unsafe_member", "fine.dmp": "ok"}


def _zero_bomb_gzip(path: Path, total: int, head: bytes = b"", member: int = 64 << 20) -> None:
    """A gzip of ``head`` + zeros, ``total`` bytes decompressed, without ever holding or
    writing them: one compressed member of zeros, repeated (gzip allows many members)."""
    zeros = gzip.compress(bytes(member), compresslevel=9, mtime=0)
    with open(path, "wb") as fh:
        done = 0
        if head:
            fh.write(gzip.compress(head, mtime=0))
            done += len(head)
        while done < total:
            fh.write(zeros)
            done += member


def test_member_size_limit_ends_in_an_error(tmp_path: Path) -> None:
    _zero_bomb_gzip(tmp_path / "bomb.dmp.gz", 256 << 20, head=DUMP_A[:64])
    m = _run(tmp_path, [tmp_path / "bomb.dmp.gz"], Limits(max_member_size=32 << 20, min_free=0))
    (item,) = m.items
    assert item["error"]["code"] == "decompression_limit"
    assert item["container"] == [str(tmp_path / "bomb.dmp.gz")] and item["display"] == "bomb.dmp"
    assert os.listdir(tmp_path / "work" / "tmp") == []


def test_ratio_limit_stops_a_nested_bomb(tmp_path: Path) -> None:
    layer = bz2.compress(DUMP_A[:64] + bytes(48 << 20))  # bzip2 of zeros: ~100000:1
    nested = _tar({f"part{i}.dmp.bz2": layer for i in range(4)}, "w:gz")
    (tmp_path / "nested.tgz").write_bytes(nested)
    limits = Limits(max_ratio=1000, ratio_floor=16 << 20, min_free=0)
    m = _run(tmp_path, [tmp_path / "nested.tgz"], limits)
    codes = [i["error"]["code"] for i in m.items if i["error"]]
    assert "decompression_limit" in codes
    assert not any(i["error"] is None for i in m.items)


def test_zeros_are_not_read_past_their_first_bytes(tmp_path: Path) -> None:
    _zero_bomb_gzip(tmp_path / "zeros.gz", 10 << 30)  # 10 GiB of zeros, ~10 MB on disk
    assert (tmp_path / "zeros.gz").stat().st_size < 20 << 20
    m = _run(tmp_path, [tmp_path / "zeros.gz"])
    (item,) = m.items
    assert item["error"]["code"] == "unknown_format" and item["size"] is None


def test_damaged_and_too_deep_containers(tmp_path: Path) -> None:
    good = gzip.compress(DUMP_A)
    (tmp_path / "cut.dmp.gz").write_bytes(good[: len(good) // 2])
    deep = DUMP_B
    for _ in range(5):
        deep = gzip.compress(deep)
    (tmp_path / "deep.gz").write_bytes(deep)
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04" + b"\xff" * 100)
    m = _run(tmp_path, [tmp_path], Limits(max_depth=3, min_free=0))
    codes = {i["display"]: i["error"]["code"] for i in m.items if i["error"]}
    assert codes["cut.dmp"] == "decompression_error"
    assert "nesting_limit" in codes.values()
    assert codes[str(tmp_path / "bad.zip")] == "corrupt_archive"


def test_directory_loops_fifos_and_broken_links(tmp_path: Path) -> None:
    d = tmp_path / "in"
    (d / "a").mkdir(parents=True)
    (d / "a" / "x.dmp").write_bytes(DUMP_A)
    os.symlink("..", d / "a" / "loop")
    os.symlink(str(d / "a"), d / "alias")  # the same directory again: walked once
    os.symlink("missing", d / "broken")
    os.mkfifo(d / "pipe")
    m = _run(tmp_path, [d])
    codes = {i["display"]: i["error"]["code"] if i["error"] else "ok" for i in m.items}
    assert codes == {str(d / "a" / "x.dmp"): "ok", str(d / "a" / "loop"): "directory_loop",
                     str(d / "broken"): "io_error", str(d / "pipe"): "not_regular_file"}


def test_spool_refuses_to_fill_the_disk(tmp_path: Path) -> None:
    (tmp_path / "a.dmp.gz").write_bytes(gzip.compress(DUMP_A))
    m = _run(tmp_path, [tmp_path / "a.dmp.gz"], Limits(min_free=1 << 62))
    (item,) = m.items
    assert item["error"]["code"] == "spool_full"


def test_names_that_are_not_utf8_and_overlapping_inputs(tmp_path: Path) -> None:
    d = tmp_path / "in"
    (d / "sub").mkdir(parents=True)
    odd = os.fsencode(d) + b"/caf\xe9.dmp"  # Latin-1 name: not UTF-8
    with open(odd, "wb") as fh:
        fh.write(DUMP_A)
    (d / "sub" / "b.dmp").write_bytes(DUMP_B)
    m = _run(tmp_path, [d, d / "sub", d / "sub" / "b.dmp"])  # overlapping: each file once
    assert m.files == 2 and not m.duplicates
    (item,) = [i for i in m.items if "caf" in i["display"]]
    assert item["display"].endswith("caf\ufffd.dmp")
    assert os.fsencode(item["path"]) == odd  # still opened by its real name
    json_text = json.dumps(m.items)  # the manifest is written as ASCII JSON: round-trips exactly
    assert json.loads(json_text) == m.items


def test_the_output_folder_inside_an_input_is_not_walked(tmp_path: Path) -> None:
    (tmp_path / "a.dmp").write_bytes(DUMP_A)
    out = tmp_path / "out"
    (out / "docs").mkdir(parents=True)
    (out / "docs" / "x.json").write_text("{}")
    limits = Limits(min_free=0)
    spool = Spool(str(out / "work" / "spool"), str(out / "work" / "tmp"), limits)
    m = discover([str(tmp_path)], limits, spool, exclude=[str(out)])
    assert [i["display"] for i in m.items] == [str(tmp_path / "a.dmp")]
