"""The symbol store of a worker process: built once from the batch's symbol sources and kept
for every chunk the process makes, so a module's symbol files are found (and fetched) once per
process, and once per machine through the shared cache."""
from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dumpkit.symbols.store import SymbolStore

__all__ = ["symbol_store"]


@cache
def symbol_store(symbols: str) -> SymbolStore | None:
    """The store for ``SymbolConfig.to_json`` text ``symbols``; ``None`` without sources."""
    if not symbols:
        return None
    from dumpkit.symbols.config import SymbolConfig
    from dumpkit.symbols.store import SymbolStore

    config = SymbolConfig.from_json(symbols)
    return SymbolStore.from_config(config) if config.enabled else None
