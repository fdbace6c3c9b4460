"""Real symbol files and real servers for the symbol-source tests.

- :func:`build_natives`: ELF files (``gcc -g -O2 -Wl,--build-id``, split with ``objcopy``), PDBs
  and a PE (``clang --target=x86_64-pc-windows-msvc -gcodeview`` + ``lld-link /debug``), two of
  each with different ids; their ids read by independent tools (``readelf -n``,
  ``llvm-pdbutil``, ``llvm-readobj``), never by dumpkit or symbolic;
- :func:`make_cab`: a cabinet made by Debian's ``gcab`` (MSZIP);
- :func:`serve`: a stdlib HTTP server in a thread over a handler class, stopped on exit;
  handlers for a static layout (with a request log) and hostile servers (hang, 500, trickle,
  endless body, huge declared size, non-HTTP garbage);
- :func:`run_debuginfod`: elfutils ``debuginfod`` over a directory, on a free port, stopped on exit;
- :func:`symstore_dir`: PDB and PE files laid out as Microsoft's ``symstore`` does, by the ids
  ``llvm-pdbutil``/``llvm-readobj`` read; :func:`local_store`: a SymbolStore over local dirs.
"""
from __future__ import annotations

import contextlib
import http.server
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "Natives",
    "build_natives",
    "elf_build_id",
    "free_port",
    "local_store",
    "make_cab",
    "need",
    "run_debuginfod",
    "serve",
    "symstore_dir",
]


def need(*tools: str) -> None:
    """Skip the test when a tool is missing (``make test`` installs them all)."""
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed (make test installs it)")


def _run(*argv: str | Path, cwd: Path | None = None) -> str:
    proc = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{argv}: {proc.stderr}"
    return proc.stdout


@dataclass
class Natives:
    """Files of two builds ("a" and "b") of a small program, and their ids per independent tools."""

    root: Path
    elf: dict[str, Path]  # "a" -> the full ELF; "a.debug", "a.stripped"
    build_id: dict[str, str]
    pdb: dict[str, Path]
    exe: dict[str, Path]
    pdb_id: dict[str, str]  # Breakpad debug id: GUID + age, upper-case hex
    code_id: dict[str, str]  # %08X timestamp + %x SizeOfImage


_C_SOURCE = """
__attribute__((noinline)) int settle_account(int x) { return x * %d + 1; }
int main(int argc, char **argv) { (void)argv; return settle_account(argc); }
"""

_WIN_SOURCE = """
__attribute__((noinline)) int settle_account(int x) { return x * %d + 1; }
int mainCRTStartup(void) { return settle_account(2); }
"""


def elf_build_id(path: Path) -> str:
    """The GNU build-id of the ELF file at ``path``, as binutils' readelf prints it (an oracle)."""
    match = re.search(r"Build ID: ([0-9a-f]+)", _run("readelf", "-n", path))
    assert match, path
    return match.group(1)


def _pdb_id(path: Path) -> str:
    out = _run("llvm-pdbutil", "dump", "-summary", path)
    guid = re.search(r"GUID: \{([0-9A-F-]+)\}", out)
    age = re.search(r"Age: (\d+)", out)
    assert guid and age, out
    return guid.group(1).replace("-", "") + f"{int(age.group(1)):X}"


def _code_id(path: Path) -> str:
    out = _run("llvm-readobj", "--file-headers", path)
    stamp = re.search(r"TimeDateStamp: .*\(0x([0-9A-Fa-f]+)\)", out)
    size = re.search(r"SizeOfImage: (\d+)", out)
    assert stamp and size, out
    return f"{int(stamp.group(1), 16):08X}{int(size.group(1)):x}"


def build_natives(root: Path) -> Natives:
    """Compile, link and split two variants of the test program under ``root``."""
    need("gcc", "objcopy", "readelf", "clang", "lld-link", "llvm-pdbutil", "llvm-readobj")
    natives = Natives(root, {}, {}, {}, {}, {}, {})
    for variant, factor in (("a", 3), ("b", 5)):
        vdir = root / variant
        vdir.mkdir(parents=True)
        (vdir / "app.c").write_text(_C_SOURCE % factor)
        _run("gcc", "-g", "-O2", "-Wl,--build-id", "-o", "app", "app.c", cwd=vdir)
        _run("objcopy", "--only-keep-debug", "app", "app.debug", cwd=vdir)
        _run("objcopy", "--strip-debug", "--add-gnu-debuglink=app.debug", "app", "app.stripped", cwd=vdir)
        natives.elf[variant] = vdir / "app"
        natives.elf[variant + ".debug"] = vdir / "app.debug"
        natives.elf[variant + ".stripped"] = vdir / "app.stripped"
        natives.build_id[variant] = elf_build_id(vdir / "app")
        (vdir / "w.c").write_text(_WIN_SOURCE % factor)
        _run("clang", "--target=x86_64-pc-windows-msvc", "-g", "-gcodeview", "-O1", "-c", "w.c",
             "-o", "w.obj", cwd=vdir)
        _run("lld-link", "/debug", "/pdb:w.pdb", "/out:w.exe", "/entry:mainCRTStartup", "/subsystem:console",
             "/nodefaultlib", f"/timestamp:{0x5F000000 + factor}", "w.obj", cwd=vdir)
        natives.pdb[variant] = vdir / "w.pdb"
        natives.exe[variant] = vdir / "w.exe"
        natives.pdb_id[variant] = _pdb_id(vdir / "w.pdb")
        natives.code_id[variant] = _code_id(vdir / "w.exe")
    assert natives.build_id["a"] != natives.build_id["b"]
    assert natives.pdb_id["a"] != natives.pdb_id["b"]
    assert natives.code_id["a"] != natives.code_id["b"]
    return natives


def symstore_dir(root: Path, *files: Path, names: dict[Path, str] | None = None) -> Path:
    """``root`` holding ``files`` (PDBs and PEs) in the symstore layout, ``NAME.pdb/GUIDAGE/NAME.pdb``
    and ``NAME.exe/TIMESTAMPSIZE/NAME.exe``, by the ids independent tools read (copies). NAME is
    the file's name, or ``names[file]`` (the module's code file name, when it differs)."""
    for path in files:
        file_id = _pdb_id(path) if path.suffix.lower() == ".pdb" else _code_id(path)
        name = (names or {}).get(path, path.name)
        target = root / name / file_id / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    return root


def local_store(*dirs: Path | str, sysroot: Path | str | None = None) -> Any:
    """``SymbolStore.from_config`` over local symbol dirs and a sysroot only (no servers, no
    debuginfod whatever ``DEBUGINFOD_URLS`` says; a cache of its own next to the first dir)."""
    from dumpkit.symbols.config import SymbolConfig
    from dumpkit.symbols.store import SymbolStore

    first = Path(dirs[0] if dirs else sysroot or ".")
    config = SymbolConfig(dirs=tuple(str(d) for d in dirs), debuginfod=(), offline=True,
                          sysroot=str(sysroot) if sysroot is not None else None,
                          cache_dir=str(first.parent / f".{first.name}-cache"))
    return SymbolStore.from_config(config)


def make_cab(cab: Path, *members: Path) -> Path:
    """A cabinet (MSZIP) of ``members`` made by ``gcab``."""
    need("gcab")
    _run("gcab", "-c", "-z", "-n", cab, *members)
    return cab


class StaticHandler(http.server.SimpleHTTPRequestHandler):
    """Serves ``server.root`` (case-sensitive, as a Linux file system is); logs request paths."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, directory=args[2].root, **kwargs)  # type: ignore[arg-type,attr-defined]

    def do_GET(self) -> None:
        self.server.log.append(self.path)  # type: ignore[attr-defined]
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


class HangHandler(http.server.BaseHTTPRequestHandler):
    """Accepts the request and never answers (until the server stops)."""

    def do_GET(self) -> None:
        self.server.log.append(self.path)  # type: ignore[attr-defined]
        self.server.stop.wait(60)  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: object) -> None:
        pass


class ErrorHandler(HangHandler):
    """Answers every request with HTTP 500."""

    def do_GET(self) -> None:
        self.server.log.append(self.path)  # type: ignore[attr-defined]
        self.send_error(500, "broken")


class TrickleHandler(HangHandler):
    """200, then one byte every 0.2 s, forever: never idle long enough to time out."""

    def do_GET(self) -> None:
        self.server.log.append(self.path)  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()
        with contextlib.suppress(OSError):
            while not self.server.stop.wait(0.2):  # type: ignore[attr-defined]
                self.wfile.write(b"x")
                self.wfile.flush()


class EndlessHandler(HangHandler):
    """200 without a length, then zeros as fast as the client takes them."""

    def do_GET(self) -> None:
        self.server.log.append(self.path)  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()
        block = bytes(1 << 16)
        with contextlib.suppress(OSError):
            while not self.server.stop.is_set():  # type: ignore[attr-defined]
                self.wfile.write(block)


class HugeDeclaredHandler(HangHandler):
    """200 declaring 10 GiB, then a few bytes."""

    def do_GET(self) -> None:
        self.server.log.append(self.path)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(10 << 30))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(b"MODULE")


class GarbageHandler(http.server.BaseHTTPRequestHandler):
    """Reads the request and answers with bytes that are not HTTP."""

    def handle(self) -> None:
        self.server.log.append("garbage")  # type: ignore[attr-defined]
        with contextlib.suppress(OSError):
            self.rfile.readline()
            self.wfile.write(b"\x00\x01garbage, not HTTP\r\n\r\n" * 4)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    root: str | None
    log: list[str]
    stop: threading.Event


@contextlib.contextmanager
def serve(handler: type[http.server.BaseHTTPRequestHandler], root: Path | None = None,
          prefix: str = "") -> Iterator[tuple[str, _Server]]:
    """``handler`` on 127.0.0.1 (a free port) in a thread; yields (base URL + prefix, server).
    Stopped, and its hanging handlers released, whatever the test does."""
    server = _Server(("127.0.0.1", 0), handler)
    server.root = str(root) if root else None
    server.log = []
    server.stop = threading.Event()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{prefix}", server
    finally:
        server.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def run_debuginfod(files: Path, db: Path, expect_files: int) -> Iterator[str]:
    """elfutils' ``debuginfod -F`` over ``files``; yields its URL once it scanned
    ``expect_files`` files (its ``/metrics``); terminated on exit."""
    need("debuginfod")
    port = free_port()
    log = open(db.with_suffix(".log"), "wb")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(["debuginfod", "-F", "-p", str(port), "-d", str(db), str(files)],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"debuginfod exited: {db.with_suffix('.log').read_text()[-2000:]}"
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(url + "/metrics", timeout=2) as resp:
                    text = resp.read().decode()
                match = re.search(r'scanned_files_total\{source="file"\} (\d+)', text)
                if match and int(match.group(1)) >= expect_files:
                    break
            assert time.monotonic() < deadline, "debuginfod did not scan its files within 60 s"
            time.sleep(0.1)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


class SlowMissHandler(HangHandler):
    """404 after 0.3 s; records the most requests it saw in flight at once."""

    def do_GET(self) -> None:
        server = self.server
        with server.counter:  # type: ignore[attr-defined]
            server.in_flight += 1  # type: ignore[attr-defined]
            server.peak = max(server.peak, server.in_flight)  # type: ignore[attr-defined]
        server.log.append(self.path)  # type: ignore[attr-defined]
        time.sleep(0.3)
        with server.counter:  # type: ignore[attr-defined]
            server.in_flight -= 1  # type: ignore[attr-defined]
        self.send_error(404)


class FlakyHandler(StaticHandler):
    """HTTP 503 for the first request, then the static files."""

    def do_GET(self) -> None:
        if not self.server.log:  # type: ignore[attr-defined]
            self.server.log.append(self.path)  # type: ignore[attr-defined]
            self.send_error(503)
            return
        super().do_GET()


class RedirectHandler(StaticHandler):
    """``/moved/...`` redirects to the same path without the prefix; ``/evil/...`` to an ftp:
    URL (urllib itself refuses file:)."""

    def do_GET(self) -> None:
        if self.path.startswith(("/moved/", "/evil/")):
            self.server.log.append(self.path)  # type: ignore[attr-defined]
            self.send_response(302)
            evil = "ftp://127.0.0.1/etc/passwd"
            target = self.path[len("/moved"):] if self.path.startswith("/moved/") else evil
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()
