"""Where symbols come from: local layouts, a sysroot, HTTP symbol servers, debuginfod, the cache.

Real files (compiled and linked here), real servers (stdlib HTTP servers in threads, elfutils'
``debuginfod``), started by the tests and stopped whatever the outcome. Ids are read by
independent tools (``readelf``, ``llvm-pdbutil``, ``llvm-readobj``): see tests/symbol_servers.py.
"""
from __future__ import annotations

import filecmp
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from dumpkit.model import Module
from dumpkit.symbols.cab import CabError, _run_capped, expand_cab
from dumpkit.symbols.cache import SymbolCache
from dumpkit.symbols.config import SymbolConfig, debuginfod_urls_from_env, default_cache_dir
from dumpkit.symbols.finder import SymbolFinder
from dumpkit.symbols.keys import key_for, safe_component
from dumpkit.symbols.locate import Finder
from tests.symbol_servers import (
    EndlessHandler,
    ErrorHandler,
    FlakyHandler,
    GarbageHandler,
    HangHandler,
    HugeDeclaredHandler,
    Natives,
    RedirectHandler,
    SlowMissHandler,
    StaticHandler,
    TrickleHandler,
    build_natives,
    make_cab,
    need,
    run_debuginfod,
    serve,
)


@pytest.fixture(scope="module")
def natives(tmp_path_factory: pytest.TempPathFactory) -> Natives:
    return build_natives(tmp_path_factory.mktemp("natives"))


def win_module(n: Natives, variant: str = "a", *, name: str = "w.exe", pdb: str = "w.pdb") -> Module:
    return Module(base=0x140000000, size=0x4000, path=f"C:\\build\\{name}", code_id=n.code_id[variant],
                  debug_id=n.pdb_id[variant], debug_file=f"C:\\build\\{pdb}")


def elf_module(n: Natives, variant: str = "a", path: str = "/usr/bin/app") -> Module:
    return Module(base=0x555555554000, size=0x5000, path=path, code_id=n.build_id[variant],
                  debug_id="0" * 33, debug_file=path, build_id=n.build_id[variant])


def sym_text(debug_id: str, name: str = "w.pdb") -> str:
    return f"MODULE windows x86_64 {debug_id} {name}\nPUBLIC 1000 0 settle_account\n"


def config(tmp_path: Path, **kw: object) -> SymbolConfig:
    kw.setdefault("debuginfod", ())
    kw.setdefault("cache_dir", str(tmp_path / "cache"))
    return SymbolConfig(**kw)  # type: ignore[arg-type]


def put(path: Path, src: Path | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(src, Path):
        shutil.copyfile(src, path)
    else:
        path.write_text(src)
    return path


def no_temp_files(root: Path) -> bool:
    return not [p for p in root.rglob(".tmp-*")]


def symstore(root: Path, n: Natives, variant: str = "a", *, packed: bool = False) -> Path:
    """A Microsoft symstore + Breakpad tree of build ``variant`` under ``root``, laid out for the
    ids of build "a" (so variant "b" is a store of files with the wrong ids)."""
    pid, cid = n.pdb_id["a"], n.code_id["a"]
    put(root / "w.pdb" / pid / "w.sym", sym_text(n.pdb_id[variant]))
    if packed:
        (root / "w.pdb" / pid).mkdir(parents=True, exist_ok=True)
        make_cab(root / "w.pdb" / pid / "w.pd_", n.pdb[variant])
        (root / "w.exe" / cid).mkdir(parents=True, exist_ok=True)
        make_cab(root / "w.exe" / cid / "w.ex_", n.exe[variant])
    else:
        put(root / "w.pdb" / pid / "w.pdb", n.pdb[variant])
        put(root / "w.exe" / cid / "w.exe", n.exe[variant])
    return root


# -- configuration ---------------------------------------------------------------------------

def test_config_defaults_follow_elfutils_and_xdg(tmp_path: Path) -> None:
    env = {"DEBUGINFOD_URLS": "https://a.example/  http://b.example:8002", "XDG_CACHE_HOME": "/x/cache"}
    assert debuginfod_urls_from_env(env) == ("https://a.example/", "http://b.example:8002")
    assert default_cache_dir(env) == "/x/cache/dumpkit/symbols"
    assert default_cache_dir({"HOME": str(tmp_path)}).endswith("/.cache/dumpkit/symbols")


def test_config_from_options_and_fingerprint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEBUGINFOD_URLS", "http://d.example")
    cfg = SymbolConfig.from_options(symbols=["syms"], symbol_servers=["https://s.example/x"],
                                    symbol_cache=str(tmp_path / "c1"))
    assert cfg.debuginfod == ("http://d.example/",)
    assert cfg.servers == ("https://s.example/x/",)
    assert cfg.dirs == (os.path.abspath("syms"),)
    moved = SymbolConfig.from_options(symbols=["syms"], symbol_servers=["https://s.example/x/"],
                                      symbol_cache=str(tmp_path / "c2"), timeout=3)
    assert cfg.fingerprint() == moved.fingerprint()  # cache place and timeouts change no document
    assert len(cfg.fingerprint()) == 16 and int(cfg.fingerprint(), 16) >= 0
    other = SymbolConfig.from_options(symbols=["syms"], symbol_servers=["https://t.example/x"],
                                      symbol_cache=str(tmp_path / "c1"))
    assert other.fingerprint() != cfg.fingerprint()
    assert SymbolConfig.from_options(symbols=["syms"], symbol_servers=["https://s.example/x"], offline=True,
                                     debuginfod=()).fingerprint() != cfg.fingerprint()
    for bad in ("ftp://x/", "file:///etc", "http://", "https://s.example/?q=1"):
        with pytest.raises(ValueError):
            SymbolConfig.from_options(symbol_servers=[bad])
    with pytest.raises(ValueError):
        SymbolConfig.from_options(max_download=0)


# -- hostile names and ids -------------------------------------------------------------------

@pytest.mark.parametrize("raw", ["..", ".", "", "a\0b.pdb", "x" * 4096 + ".pdb", "é" * 200 + ".pdb",
                                 "\u202egpj.pdb", "a\uff0fb.pdb", "\uff0e\uff0e", "a\nb.pdb", " w.pdb",
                                 "C:\\dir\\..", "/abs/..", "\ud800.pdb"])
def test_unsafe_names_get_no_key(raw: str) -> None:
    assert safe_component(raw) is None
    module = Module(base=0, size=1, path=raw, code_id="6B1510634000", debug_id="A" * 33, debug_file=raw)
    for kind in ("breakpad", "pdb", "pe"):
        key, problem = key_for(module, kind)
        assert key is None
        if raw.lower().endswith(".pdb") or kind != "pdb":
            assert problem is not None and "not usable as a file name" in problem


@pytest.mark.parametrize("raw,base", [("..\\..\\evil.pdb", "evil.pdb"), ("/etc/../w.pdb", "w.pdb"),
                                      ("C:\\b\\ünï cödé.pdb", "ünï cödé.pdb"), ("a b#?%.pdb", "a b#?%.pdb")])
def test_names_are_reduced_to_their_basename(raw: str, base: str) -> None:
    assert safe_component(raw) == base


@pytest.mark.parametrize("field,value", [("debug_id", "../../etc/passwd"), ("debug_id", "G" * 33),
                                         ("debug_id", "A" * 4096), ("code_id", "12/34"),
                                         ("build_id", "abc"), ("build_id", "ab/cd")])
def test_hostile_ids_get_no_key(field: str, value: str) -> None:
    module = Module(base=0, size=1, path="w.exe", debug_file="w.pdb", debug_id="A" * 33,
                    code_id="6B1510634000")
    setattr(module, field, value)
    kind, label = {"debug_id": ("pdb", "debug id"), "code_id": ("pe", "code id"),
                   "build_id": ("elf", "build-id")}[field]
    key, problem = key_for(module, kind)  # type: ignore[arg-type]
    assert key is None and problem is not None and f": {label} " in problem and "is not" in problem
    assert len(problem) < 300


def test_hostile_names_stay_inside_dirs_server_and_cache(tmp_path: Path) -> None:
    """Every request stays under the server's path and every file under the cache."""
    outside = tmp_path / "secret"
    put(outside / "w.pdb" / ("A" * 33) / "w.sym", sym_text("A" * 33))
    www = tmp_path / "www"
    (www / "syms").mkdir(parents=True)
    names = ["../../secret/w.pdb", "..\\..\\secret\\w.pdb", "a b#?%.pdb", "ünï.pdb", "%2e%2e.pdb",
             "..%2f..%2fsecret.pdb", "x" * 300 + ".pdb", "\uff0e\uff0e"]
    with serve(StaticHandler, www, "syms/") as (url, server):
        cfg = config(tmp_path, dirs=[str(www / "syms")], servers=[url], retries=0)
        finder = SymbolFinder(cfg)
        for name in names:
            module = Module(base=0, size=1, path=name, debug_id="A" * 33, debug_file=name)
            for kind in ("breakpad", "pdb"):
                lookup = finder.find(module, kind)
                assert lookup.file is None
    assert server.log, "the server was asked nothing"
    for path in server.log:
        assert path.startswith("/syms/") and "?" not in path and "/../" not in path, path
        assert "/" not in path[len("/syms/"):].split("/")[0]
    assert "/syms/a%20b%23%3F%25.pdb/" + "A" * 33 + "/a%20b%23%3F%25.sym" in server.log
    cache = Path(cfg.cache_dir).resolve()
    for dirpath, _, files in os.walk(tmp_path):
        for f in files:
            p = Path(dirpath, f).resolve()
            assert p.is_relative_to(cache) or p.is_relative_to(outside) or p.is_relative_to(www), p


# -- local dirs and sysroot ------------------------------------------------------------------

def test_breakpad_and_symstore_layouts_in_a_local_dir(tmp_path: Path, natives: Natives) -> None:
    store = symstore(tmp_path / "store", natives)
    finder: Finder = SymbolFinder(config(tmp_path, dirs=[str(store)]))
    module = win_module(natives)
    pid, cid = natives.pdb_id["a"], natives.code_id["a"]
    for kind, rel in (("breakpad", f"w.pdb/{pid}/w.sym"), ("pdb", f"w.pdb/{pid}/w.pdb"),
                      ("pe", f"w.exe/{cid}/w.exe")):
        lookup = finder.find(module, kind)  # type: ignore[arg-type]
        assert lookup.file is not None, (kind, lookup)
        assert lookup.file.path == str(store / rel) and lookup.file.origin == str(store)
        assert lookup.file.kind == kind and lookup.problems == ()
    assert finder.find(module, "elf").file is None


def test_files_of_another_id_in_a_local_dir_are_rejected(tmp_path: Path, natives: Natives) -> None:
    store = symstore(tmp_path / "store", natives, "b")
    bid_a, bid_b = natives.build_id["a"], natives.build_id["b"]
    put(store / ".build-id" / bid_a[:2] / (bid_a[2:] + ".debug"), natives.elf["b.debug"])
    put(store / bid_a / "executable", natives.elf["a.debug"])  # a debug-only file as the executable
    finder = SymbolFinder(config(tmp_path, dirs=[str(store)]))
    module = win_module(natives)
    for kind, words in (("breakpad", natives.pdb_id["b"]), ("pdb", natives.pdb_id["b"]),
                        ("pe", natives.code_id["b"].lower())):
        lookup = finder.find(module, kind)  # type: ignore[arg-type]
        assert lookup.file is None
        assert len(lookup.problems) == 1 and str(store) in lookup.problems[0], lookup
        assert words in lookup.problems[0] and "not used" in lookup.problems[0]
    debug = finder.find(elf_module(natives), "elf_debug")
    assert debug.file is None and bid_b in debug.problems[0]
    exe = finder.find(elf_module(natives), "elf")
    assert exe.file is None and "debug-only" in exe.problems[0]


def test_build_id_layouts_in_a_local_dir(tmp_path: Path, natives: Natives) -> None:
    bid = natives.build_id["a"]
    gdb_style = tmp_path / "debug"
    put(gdb_style / ".build-id" / bid[:2] / (bid[2:] + ".debug"), natives.elf["a.debug"])
    put(gdb_style / ".build-id" / bid[:2] / bid[2:], natives.elf["a.stripped"])
    dbgd_style = tmp_path / "dbgd"
    put(dbgd_style / bid / "debuginfo", natives.elf["a.debug"])
    put(dbgd_style / bid / "executable", natives.elf["a.stripped"])
    for root in (gdb_style, dbgd_style):
        finder = SymbolFinder(config(tmp_path, dirs=[str(root)]))
        for kind in ("elf", "elf_debug"):
            lookup = finder.find(elf_module(natives), kind)
            assert lookup.file is not None and lookup.problems == ()
            want = natives.elf["a.debug" if kind == "elf_debug" else "a.stripped"]
            assert filecmp.cmp(lookup.file.path, want, shallow=False)


def test_sysroot_by_module_path_only_with_the_same_build_id(tmp_path: Path, natives: Natives) -> None:
    root = tmp_path / "root"
    put(root / "usr" / "bin" / "app", natives.elf["a.stripped"])
    put(root / "usr" / "bin" / "other", natives.elf["b.stripped"])
    put(tmp_path / "etc" / "app", natives.elf["a.stripped"])
    finder = SymbolFinder(config(tmp_path, sysroot=str(root)))
    good = finder.find(elf_module(natives), "elf")
    assert good.file is not None and good.file.origin == "sysroot"
    assert good.file.path == str(root / "usr/bin/app")
    bad = finder.find(elf_module(natives, path="/usr/bin/other"), "elf")
    assert bad.file is None and natives.build_id["b"] in bad.problems[0]
    for hostile in ("/../etc/app", "/usr/../../etc/app", "../etc/app", "/usr/bin/\0app"):
        assert finder.find(elf_module(natives, path=hostile), "elf").file is None


def test_local_compressed_pdb_is_expanded_into_the_cache_once(tmp_path: Path, natives: Natives) -> None:
    need("cabextract")
    store = symstore(tmp_path / "store", natives, packed=True)
    cfg = config(tmp_path, dirs=[str(store)])
    module = win_module(natives)
    for kind, src in (("pdb", natives.pdb["a"]), ("pe", natives.exe["a"])):
        lookup = SymbolFinder(cfg).find(module, kind)  # type: ignore[arg-type]
        assert lookup.file is not None and lookup.problems == (), lookup
        assert Path(lookup.file.path).is_relative_to(cfg.cache_dir)
        assert filecmp.cmp(lookup.file.path, src, shallow=False)
        stamp = os.stat(lookup.file.path).st_mtime_ns
        again = SymbolFinder(cfg).find(module, kind)  # type: ignore[arg-type]
        assert again.file == lookup.file and os.stat(lookup.file.path).st_mtime_ns == stamp
    assert no_temp_files(Path(cfg.cache_dir))


# -- HTTP symbol servers ---------------------------------------------------------------------

def test_symbol_server_breakpad_native_then_compressed(tmp_path: Path, natives: Natives) -> None:
    need("cabextract")
    www = symstore(tmp_path / "www" / "symbols", natives, packed=True)
    module = win_module(natives)
    pid, cid = natives.pdb_id["a"], natives.code_id["a"]
    with serve(StaticHandler, tmp_path / "www", "symbols/") as (url, server):
        cfg = config(tmp_path, servers=[url])
        finder = SymbolFinder(cfg)
        sym = finder.find(module, "breakpad")
        pdb = finder.find(module, "pdb")
        pe = finder.find(module, "pe")
        assert finder.find(module, "pdb") is pdb  # memoized: asked once per process
    assert server.log == [f"/symbols/w.pdb/{pid}/w.sym",
                          f"/symbols/w.pdb/{pid}/w.pdb", f"/symbols/w.pdb/{pid}/w.pd_",
                          f"/symbols/w.exe/{cid}/w.exe", f"/symbols/w.exe/{cid}/w.ex_"]
    sources = ((sym, www / "w.pdb" / pid / "w.sym"), (pdb, natives.pdb["a"]), (pe, natives.exe["a"]))
    for lookup, src in sources:
        assert lookup.file is not None and lookup.file.origin == url and lookup.problems == ()
        assert Path(lookup.file.path).is_relative_to(cfg.cache_dir)
        assert filecmp.cmp(lookup.file.path, src, shallow=False)
    assert no_temp_files(Path(cfg.cache_dir))


def test_server_file_of_another_id_is_rejected_and_not_cached(tmp_path: Path, natives: Natives) -> None:
    need("cabextract")
    symstore(tmp_path / "www", natives, "b")
    with serve(StaticHandler, tmp_path / "www") as (url, _):
        cfg = config(tmp_path, servers=[url])
        finder = SymbolFinder(cfg)
        for kind in ("breakpad", "pdb", "pe"):
            lookup = finder.find(win_module(natives), kind)
            assert lookup.file is None
            assert len(lookup.problems) == 1 and lookup.problems[0].startswith(url), lookup
            assert "rejected" in lookup.problems[0]
    cache = Path(cfg.cache_dir)
    assert not [p for p in cache.rglob("*") if p.is_file() and ".misses" not in p.parts]
    misses = [json.loads(p.read_text()) for p in cache.rglob("*.json")]
    assert len(misses) == 3 and all(m["until"] - time.time() <= cfg.error_ttl for m in misses)


def test_a_miss_is_remembered_and_expires(tmp_path: Path, natives: Natives) -> None:
    (tmp_path / "www").mkdir()
    with serve(StaticHandler, tmp_path / "www") as (url, server):
        cfg = config(tmp_path, servers=[url])
        assert SymbolFinder(cfg).find(win_module(natives), "pdb").file is None
        asked = len(server.log)
        assert asked == 2  # w.pdb, then w.pd_
        assert SymbolFinder(cfg).find(win_module(natives), "pdb") .file is None
        assert len(server.log) == asked  # another process: the cache remembers the miss
        expired = config(tmp_path, servers=[url], miss_ttl=0.0)
        assert SymbolFinder(expired).find(win_module(natives), "breakpad").file is None
        SymbolFinder(expired).find(win_module(natives), "breakpad")
        assert len(server.log) == asked + 2


def test_hanging_server_costs_one_timeout_budget(tmp_path: Path, natives: Natives) -> None:
    with serve(HangHandler) as (url, server):
        cfg = config(tmp_path, servers=[url], timeout=0.5, retries=1, backoff=0.05)
        finder = SymbolFinder(cfg)
        start = time.monotonic()
        first = finder.find(win_module(natives), "pdb")
        assert time.monotonic() - start < 10
        assert first.file is None
        assert first.problems[0].startswith(url) and "timed out after 0.5 s (2 attempts)" in first.problems[0]
        start = time.monotonic()
        second = finder.find(win_module(natives), "breakpad")
        assert time.monotonic() - start < 1
        assert second.file is None and "not asked" in second.problems[0] and url in second.problems[0]
        assert len(server.log) == 2


def test_trickling_server_is_cut_at_the_deadline(tmp_path: Path, natives: Natives) -> None:
    with serve(TrickleHandler) as (url, server):
        cfg = config(tmp_path, servers=[url], timeout=2.0, deadline=1.0, retries=2)
        start = time.monotonic()
        lookup = SymbolFinder(cfg).find(win_module(natives), "breakpad")
        assert time.monotonic() - start < 8
        assert len(server.log) == 1  # a spent deadline is not retried
    assert lookup.file is None and lookup.problems == (
        f"{url}w.pdb/{natives.pdb_id['a']}/w.sym: did not finish within 1 s",)
    assert no_temp_files(Path(cfg.cache_dir))


def test_server_error_is_retried_boundedly_and_remembered_briefly(tmp_path: Path, natives: Natives) -> None:
    with serve(ErrorHandler) as (url, server):
        cfg = config(tmp_path, servers=[url], retries=2, backoff=0.01)
        lookup = SymbolFinder(cfg).find(win_module(natives), "pdb")
        assert len(server.log) == 3  # one path, three attempts, then the server rests
    assert lookup.file is None and lookup.problems == (f"{url}w.pdb/{natives.pdb_id['a']}/w.pdb: HTTP 500 "
                                                        "(3 attempts)",)
    miss = SymbolFinder(cfg).cache.miss(str(key_for(win_module(natives), "pdb")[0]), cfg.remote_fingerprint())
    assert miss is not None and miss.until - time.time() <= cfg.error_ttl and "HTTP 500" in miss.reason
    remembered = SymbolFinder(cfg).find(win_module(natives), "pdb")
    assert remembered.file is None and "(remembered)" in remembered.problems[0]


@pytest.mark.parametrize("handler,words,down", [
    (EndlessHandler, "sent more than the 1048576 byte cap", False),
    (HugeDeclaredHandler, "declares 10737418240 bytes", False),
    (GarbageHandler, "bad response", True)])
def test_huge_or_garbage_answers_are_refused(tmp_path: Path, natives: Natives,
                                             handler: type, words: str, down: bool) -> None:
    with serve(handler) as (url, server):
        cfg = config(tmp_path, servers=[url], max_download=1 << 20, retries=0)
        finder = SymbolFinder(cfg)
        lookup = finder.find(win_module(natives), "breakpad")
        asked = len(server.log)
        after = finder.find(win_module(natives), "pdb")
    assert lookup.file is None and lookup.problems[0].startswith(url) and words in lookup.problems[0], lookup
    # a file over the cap is that file's fault; garbage instead of HTTP is the server's
    assert after.file is None and ("not asked" in after.problems[0]) is down, after
    assert len(server.log) == asked + (0 if down else 2)
    cache = Path(cfg.cache_dir)
    assert no_temp_files(cache) and not [p for p in cache.rglob("*.sym")]


def test_one_bad_server_does_not_hide_a_good_one(tmp_path: Path, natives: Natives) -> None:
    symstore(tmp_path / "www", natives)
    with serve(ErrorHandler) as (bad, _), serve(StaticHandler, tmp_path / "www") as (good, _):
        cfg = config(tmp_path, servers=[bad, good], retries=0)
        lookup = SymbolFinder(cfg).find(win_module(natives), "pdb")
    assert lookup.file is not None and lookup.file.origin == good
    assert len(lookup.problems) == 1 and lookup.problems[0].startswith(bad)


# -- CAB caps --------------------------------------------------------------------------------

def test_cab_caps_hold(tmp_path: Path, natives: Natives) -> None:
    need("cabextract", "gcab")
    many = []
    for i in range(20):
        many.append(tmp_path / f"m{i}.pdb")
        many[-1].write_bytes(b"x")
    with open(tmp_path / "out", "wb") as out:
        with pytest.raises(CabError, match="20 members, more than the 16"):
            expand_cab(str(make_cab(tmp_path / "many.cab", *many)), "w.pdb", out, max_bytes=1 << 20)
        big = tmp_path / "w.pdb"
        big.write_bytes(bytes(3 << 20))
        with pytest.raises(CabError, match="declares 3145728 bytes"):
            expand_cab(str(make_cab(tmp_path / "big.cab", big)), "w.pdb", out, max_bytes=1 << 20)
        junk = tmp_path / "junk.pd_"
        junk.write_bytes(b"MSCF" + os.urandom(200))
        with pytest.raises(CabError, match="not a valid cabinet"):
            expand_cab(str(junk), "w.pdb", out, max_bytes=1 << 20)
        # the stream cap itself, whatever a cabinet declares: the reader stops and kills the writer
        status, _, seen = _run_capped(["head", "-c", str(8 << 20), "/dev/zero"], out, 1 << 20, 30)
        assert status == -1 and seen <= (1 << 20) + (1 << 16)
        assert out.tell() <= 1 << 20


def test_garbage_pd_on_a_server_is_rejected(tmp_path: Path, natives: Natives) -> None:
    need("cabextract")
    put(tmp_path / "www" / "w.pdb" / natives.pdb_id["a"] / "w.pd_", "MSCF" + "garbage" * 100)
    with serve(StaticHandler, tmp_path / "www") as (url, _):
        cfg = config(tmp_path, servers=[url])
        lookup = SymbolFinder(cfg).find(win_module(natives), "pdb")
    assert lookup.file is None and "w.pd_: not a valid cabinet; rejected" in lookup.problems[0]
    assert no_temp_files(Path(cfg.cache_dir))


# -- debuginfod, offline, and a cache shared by processes ------------------------------------

def test_debuginfod_then_offline_from_the_cache(tmp_path: Path, natives: Natives) -> None:
    files = tmp_path / "files"
    files.mkdir()
    shutil.copy(natives.elf["a.debug"], files / "app.debug")
    shutil.copy(natives.elf["a.stripped"], files / "app.stripped")
    cache = str(tmp_path / "cache")
    unknown = elf_module(natives, "b")
    with run_debuginfod(files, tmp_path / "db.sqlite", expect_files=2) as url:
        cfg = SymbolConfig(debuginfod=(url,), cache_dir=cache)
        finder = SymbolFinder(cfg)
        debug = finder.find(elf_module(natives), "elf_debug")
        exe = finder.find(elf_module(natives), "elf")
        missing = finder.find(unknown, "elf_debug")
    bid = natives.build_id["a"]
    assert debug.file is not None and debug.file.origin == url + "/" and debug.problems == ()
    assert debug.file.path == os.path.join(cache, bid, "debuginfo")
    assert filecmp.cmp(debug.file.path, natives.elf["a.debug"], shallow=False)
    assert exe.file is not None and exe.file.path == os.path.join(cache, bid, "executable")
    assert filecmp.cmp(exe.file.path, natives.elf["a.stripped"], shallow=False)
    assert missing.file is None and missing.problems == ()
    # the server is gone: offline answers from the cache alone, and so does an online finder
    offline = SymbolFinder(SymbolConfig(debuginfod=(url,), cache_dir=cache, offline=True))
    for finder in (offline, SymbolFinder(SymbolConfig(debuginfod=(url,), cache_dir=cache, timeout=1))):
        again = finder.find(elf_module(natives), "elf_debug")
        assert again.file is not None and again.file.path == debug.file.path and again.file.origin == "cache"
    start = time.monotonic()
    gone = offline.find(unknown, "elf")
    assert gone.file is None and gone.problems == () and time.monotonic() - start < 1


_WORKER = """
import json, sys
from dumpkit.model import Module
from dumpkit.symbols.config import SymbolConfig
from dumpkit.symbols.finder import SymbolFinder
url, cache, pid, cid = sys.argv[1:5]
finder = SymbolFinder(SymbolConfig(servers=[url], cache_dir=cache, debuginfod=()))
module = Module(base=0, size=1, path="C:\\\\w.exe", code_id=cid, debug_id=pid, debug_file="C:\\\\w.pdb")
out = {}
for kind in ("breakpad", "pdb", "pe"):
    found = finder.find(module, kind)
    out[kind] = [found.file.path if found.file else None, list(found.problems)]
print(json.dumps(out))
"""


def test_cache_shared_by_two_processes_at_once(tmp_path: Path, natives: Natives) -> None:
    need("cabextract")
    symstore(tmp_path / "www", natives, packed=True)
    cache = tmp_path / "cache"
    with serve(StaticHandler, tmp_path / "www") as (url, server):
        argv = [sys.executable, "-c", _WORKER, url, str(cache), natives.pdb_id["a"], natives.code_id["a"]]
        procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            results.append(json.loads(out))
    assert results[0] == results[1]
    for kind, (path, problems) in results[0].items():
        assert path is not None and problems == [], (kind, problems)
        assert Path(path).is_relative_to(cache)
    assert filecmp.cmp(results[0]["pdb"][0], natives.pdb["a"], shallow=False)
    assert filecmp.cmp(results[0]["pe"][0], natives.exe["a"], shallow=False)
    assert no_temp_files(cache)
    asked = len(server.log)
    assert 5 <= asked <= 10  # each process asks at most once per path


def test_requests_per_process_are_bounded(tmp_path: Path, natives: Natives) -> None:
    with serve(SlowMissHandler) as (url, server):
        server.counter = threading.Lock()  # type: ignore[attr-defined]
        server.in_flight = server.peak = 0  # type: ignore[attr-defined]
        finder = SymbolFinder(config(tmp_path, servers=[url], max_connections=2))
        modules = [Module(base=0, size=1, path=f"m{i}.dll", debug_id=f"{i:032X}1", debug_file=f"m{i}.pdb")
                   for i in range(6)]
        threads = [threading.Thread(target=finder.find, args=(m, "breakpad")) for m in modules]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert len(server.log) == 6
        assert 1 <= server.peak <= 2  # type: ignore[attr-defined]


def test_an_unwritable_cache_is_a_problem_line(tmp_path: Path, natives: Natives) -> None:
    symstore(tmp_path / "www", natives)
    (tmp_path / "file").write_text("not a directory")
    with serve(StaticHandler, tmp_path / "www") as (url, _):
        cfg = config(tmp_path, servers=[url], cache_dir=str(tmp_path / "file" / "cache"))
        lookup = SymbolFinder(cfg).find(win_module(natives), "pdb")
    assert lookup.file is None
    assert lookup.problems[0].startswith(f"cache {tmp_path / 'file' / 'cache'}: cannot write"), lookup


def test_stale_temporary_files_are_pruned(tmp_path: Path) -> None:
    cache = SymbolCache(str(tmp_path / "cache"))
    with cache.writing(("a.pdb", "A" * 33, "a.sym")) as (fh, tmp):
        fh.write(b"MODULE")
        kept = Path(tmp)
        old = kept.with_name(".tmp-old")
        old.write_bytes(b"x")
        os.utime(old, (time.time() - 2 * 86400,) * 2)
        assert cache.prune_temp() == 1 and kept.exists() and not old.exists()
    assert not kept.exists()  # not committed: removed


def test_a_server_error_is_not_remembered_for_long(tmp_path: Path, natives: Natives) -> None:
    symstore(tmp_path / "www", natives)
    with serve(FlakyHandler, tmp_path / "www") as (url, _):
        finder = SymbolFinder(config(tmp_path, servers=[url], retries=0, error_ttl=2.0))
        first = finder.find(win_module(natives), "pdb")
        assert first.file is None and "HTTP 503" in first.problems[0]
        assert finder.find(win_module(natives), "pdb") == first  # within error_ttl: the same answer
        time.sleep(2.1)
        again = finder.find(win_module(natives), "pdb")  # the same process asks again
    assert again.file is not None and again.problems == ()


def test_server_path_casing_option(tmp_path: Path, natives: Natives) -> None:
    """A store holding everything lower-case (as SSQP writes it) needs ``casing="lower"``."""
    pid = natives.pdb_id["a"].lower()
    put(tmp_path / "www" / "w.pdb" / pid / "w.pdb", natives.pdb["a"])
    module = win_module(natives, pdb="W.PDB")
    with serve(StaticHandler, tmp_path / "www") as (url, server):
        plain = SymbolFinder(config(tmp_path, servers=[url], cache_dir=str(tmp_path / "c1")))
        assert plain.find(module, "pdb").file is None
        assert server.log[0] == f"/W.PDB/{natives.pdb_id['a']}/W.PDB"
        lower = SymbolFinder(config(tmp_path, servers=[url], cache_dir=str(tmp_path / "c2"), casing="lower"))
        found = lower.find(module, "pdb")
    assert found.file is not None and filecmp.cmp(found.file.path, natives.pdb["a"], shallow=False)
    assert server.log[-1] == f"/w.pdb/{pid}/w.pdb"
    with pytest.raises(ValueError):
        SymbolConfig.from_options(casing="title")
    assert (SymbolConfig.from_options(casing="lower", debuginfod=()).fingerprint()
            != SymbolConfig.from_options(debuginfod=()).fingerprint())


def test_no_urllib_handler_subclasses_are_added() -> None:
    """volatility3 instantiates every urllib BaseHandler subclass in the process: add none."""
    import urllib.request

    import dumpkit.symbols.http  # noqa: F401

    todo, seen = [urllib.request.BaseHandler], []
    while todo:
        cls = todo.pop()
        seen.append(cls)
        todo += cls.__subclasses__()
    assert not [c for c in seen if c.__module__.startswith("dumpkit")]


def test_redirects_are_followed_to_http_only(tmp_path: Path, natives: Natives) -> None:
    symstore(tmp_path / "www", natives)
    with serve(RedirectHandler, tmp_path / "www", "moved/") as (moved, _), \
            serve(RedirectHandler, tmp_path / "www", "evil/") as (evil, _):
        found = SymbolFinder(config(tmp_path, servers=[moved], cache_dir=str(tmp_path / "c1"))).find(
            win_module(natives), "pdb")
        refused = SymbolFinder(config(tmp_path, servers=[evil], cache_dir=str(tmp_path / "c2"))).find(
            win_module(natives), "breakpad")
    assert found.file is not None and filecmp.cmp(found.file.path, natives.pdb["a"], shallow=False)
    assert refused.file is None and not list((tmp_path / "c2").rglob("*.sym"))
    assert refused.problems[0].startswith(evil)
    assert "redirect to 'ftp://127.0.0.1/etc/passwd' refused" in refused.problems[0]


def test_a_failing_server_rests_longer_each_time(tmp_path: Path, natives: Natives) -> None:
    with serve(ErrorHandler) as (url, server):
        finder = SymbolFinder(config(tmp_path, servers=[url], retries=0, error_ttl=1.0))
        modules = [Module(base=0, size=1, path=f"m{i}.dll", debug_id=f"{i:032X}1", debug_file=f"m{i}.pdb")
                   for i in range(3)]
        assert "HTTP 500" in finder.find(modules[0], "breakpad").problems[0]
        time.sleep(1.2)  # the first rest (1 s) is over: asked again, fails again
        assert "HTTP 500" in finder.find(modules[1], "breakpad").problems[0]
        time.sleep(1.2)  # the second rest is 2 s: not asked yet
        rested = finder.find(modules[2], "breakpad").problems[0]
        assert "not asked" in rested and "2 time(s) in a row" in rested
        assert len(server.log) == 2
