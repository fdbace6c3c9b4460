"""Imports a library makes as it loads that dumpkit does not need then, each tens of
milliseconds per process, kept from happening:

* :func:`hidden`: a probe for an optional dependency dumpkit never uses is answered "not
  installed": pyarrow's first array asks for ``pandas`` (:mod:`dumpkit.pipeline.batch.tables`);
  ``luigi.parameter`` asks for ``jsonschema``, to check parameters given a ``schema=``
  (:mod:`dumpkit.pipeline.batch.luigi_lib`);
* :func:`deferred`: a dependency imported for a few functions is loaded when one of them is
  first called: siggen imports ``glom`` (~45 ms) for lookups that dumpkit answers itself
  (:mod:`dumpkit.pipeline.document.signature_tool`).

Either holds only while the importing code runs: the library stays importable, and one
already imported is found as usual.
"""
from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["deferred", "hidden"]


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
def deferred(root: str, names: tuple[str, ...]) -> Iterator[None]:
    """Within the block, importing ``root`` (a module not imported yet) gives a stand-in whose
    ``names`` are functions that, when called, import the real module and call its namesake;
    any other name is missing from it. After the block, ``root`` imports as usual."""
    if root in sys.modules:
        yield
        return
    stand_in = types.ModuleType(root, f"stand-in for {root}: see dumpkit.pipeline.probes.deferred")
    for name in names:
        setattr(stand_in, name, _forward(root, name))
    sys.modules[root] = stand_in
    try:
        yield
    finally:
        if sys.modules.get(root) is stand_in:
            del sys.modules[root]


def _forward(root: str, name: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(root), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call
