"""Imports a library makes as it loads that dumpkit does not need then, each tens of
milliseconds per process, kept from happening:

* :func:`hidden`: a probe for an optional dependency dumpkit never uses is answered "not
  installed": pyarrow's first array asks for ``pandas`` (:mod:`dumpkit.pipeline.batch.tables`);
  ``luigi.parameter`` asks for ``jsonschema``, to check parameters given a ``schema=``
  (:mod:`dumpkit.pipeline.batch.luigi_lib`);
* :func:`deferred`: a dependency imported for a few functions is loaded when one of them is
  first called: siggen imports ``glom`` (~45 ms) for lookups that dumpkit answers itself, and
  ``importlib.resources`` (~4 ms) to find its list files, which dumpkit finds itself
  (:mod:`dumpkit.pipeline.document.signature_tool`);
* :func:`versions_read`: a library that asks ``importlib.metadata`` for its own version as it
  loads (siggen) gets it from its installed ``METADATA`` file, without loading
  ``importlib.metadata`` (~15 ms: it imports ``email``, ``zipfile``, ``csv``, ``socket``);
* :func:`build_date_parsed`: a compiled extension that parses its build date with
  ``email.utils`` as it loads (jsonschema_rs: pyo3's build facts) gets it parsed without
  ``email.utils`` (~8 ms: it imports ``socket``, ``calendar``, ``locale``, the ``email``
  codecs) (:mod:`dumpkit.pipeline.document.validate`).

Each holds only while the importing code runs: the library stays importable, and one already
imported is found as usual. The last three give the importing code a stand-in module holding
only the names it takes, each answering as the real one does.
"""
from __future__ import annotations

import datetime
import importlib
import os
import re
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["build_date_parsed", "deferred", "hidden", "versions_read"]


class _Hidden:
    """An import finder that finds none of ``roots`` (nor their submodules)."""

    def __init__(self, roots: tuple[str, ...]) -> None:
        self.roots = roots

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.partition(".")[0] in self.roots:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


@contextmanager
def hidden(*roots: str) -> Iterator[None]:
    """Within the block, importing any of the top-level packages ``roots`` (not imported yet)
    fails with ``ModuleNotFoundError``."""
    finder = _Hidden(roots)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


@contextmanager
def deferred(root: str, names: tuple[str, ...], real: str | None = None) -> Iterator[None]:
    """Within the block, importing ``root`` (a module not imported yet) gives a stand-in whose
    ``names`` are functions that, when called, import the real module (``real``, default
    ``root``) and call its namesake; any other name is missing from it. After the block,
    ``root`` imports as usual."""
    with _stand_in(root, {name: _forward(real or root, name) for name in names}, "deferred"):
        yield


def _forward(root: str, name: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(_real_module(root), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call


@contextmanager
def versions_read() -> Iterator[None]:
    """Within the block, importing ``importlib.metadata`` gives a stand-in with ``version`` and
    ``PackageNotFoundError``: ``version(name)`` reads the ``Version:`` line of
    ``NAME-*.dist-info/METADATA`` in the first ``sys.path`` folder that holds one, and asks the
    real module for anything else (egg-info, zip files, custom finders)."""
    not_found = type("PackageNotFoundError", (ModuleNotFoundError,), {})

    def version(name: str) -> str:
        found = _installed_version(name)
        if found is not None:
            return found
        real = _real_module("importlib.metadata")
        try:
            answer: str = real.version(name)
        except real.PackageNotFoundError as exc:
            raise not_found(*exc.args) from exc
        return answer

    with _stand_in("importlib.metadata", {"version": version, "PackageNotFoundError": not_found},
                   "versions_read"):
        yield


def _installed_version(name: str) -> str | None:
    """The version in ``METADATA`` of the wheel-installed distribution ``name``, or ``None``."""
    prefix = name.replace("-", "_").replace(".", "_").lower() + "-"
    for folder in sys.path:
        try:
            entries = os.listdir(folder or ".")
        except OSError:
            continue
        for entry in entries:
            if entry.endswith(".dist-info") and entry.lower().startswith(prefix):
                try:
                    with open(os.path.join(folder, entry, "METADATA"), encoding="utf-8") as fp:
                        for line in fp:
                            if line.startswith("Version:"):
                                return line[len("Version:"):].strip()
                            if not line.strip():
                                break  # the headers end; no version among them
                except OSError:
                    pass
                return None
    return None


#: an RFC 2822 date as a build stamp writes it: ``Thu, 12 Nov 2026 07:50:16 +0000``
RFC2822_DATE = re.compile(r"[A-Z][a-z]{2}, (\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) "
                          r"(\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@contextmanager
def build_date_parsed() -> Iterator[None]:
    """Within the block, importing ``email.utils`` gives a stand-in with
    ``parsedate_to_datetime``: a date in the one layout above (not ``-0000``) is parsed here,
    any other text by the real function."""

    def parsedate_to_datetime(text: str) -> datetime.datetime:
        found = RFC2822_DATE.fullmatch(text)
        if found is None or found[2] not in MONTHS or found.group(7, 8, 9) == ("-", "00", "00"):
            parsed: datetime.datetime = _real_module("email.utils").parsedate_to_datetime(text)
            return parsed
        day, month, year, hour, minute, second, sign, tz_hours, tz_minutes = found.groups()
        offset = datetime.timedelta(hours=int(tz_hours), minutes=int(tz_minutes))
        return datetime.datetime(int(year), MONTHS.index(month) + 1, int(day), int(hour), int(minute),
                                 int(second), tzinfo=datetime.timezone(-offset if sign == "-" else offset))

    with _stand_in("email.utils", {"parsedate_to_datetime": parsedate_to_datetime}, "build_date_parsed"):
        yield


@contextmanager
def _stand_in(root: str, names: dict[str, Any], probe: str) -> Iterator[None]:
    """Within the block, importing ``root`` (not imported yet) gives a module holding only
    ``names``; after it, ``root`` imports as usual."""
    if root in sys.modules:
        yield
        return
    module = types.ModuleType(root, f"stand-in for {root}: see dumpkit.pipeline.probes.{probe}")
    module.__stand_in__ = True  # type: ignore[attr-defined]
    for name, value in names.items():
        setattr(module, name, value)
    sys.modules[root] = module
    try:
        yield
    finally:
        if sys.modules.get(root) is module:
            del sys.modules[root]


def _real_module(root: str) -> types.ModuleType:
    """The module ``root`` itself, imported in place of a stand-in (which it replaces)."""
    if getattr(sys.modules.get(root), "__stand_in__", False):
        del sys.modules[root]
    return importlib.import_module(root)
