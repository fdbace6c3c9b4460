"""Symbols: where they come from and what they say.

``dumpkit.symbols.locate`` is the contract between the two halves:

- *sources* (local dirs in Breakpad / Microsoft symstore / build-id layouts, HTTP symbol
  servers, debuginfod, a sysroot, one shared cache) answer "which local file holds this
  module's symbols of this kind?" with a :class:`~dumpkit.symbols.locate.Lookup`;
- *contents* (Breakpad ``.sym``, PDB, PE, ELF/DWARF, Mach-O through Sentry's ``symbolic``)
  turn such a file into names, source lines, inline chains and CFI for the unwinder.

Sources: ``config`` (SymbolConfig), ``keys`` (safe names, layouts), ``identity`` (id checks),
``cache``, ``http``, ``cab``, ``sources`` and ``finder`` (SymbolFinder, the Finder); README.md
in this directory gives the layouts, the order and the cache.

This package knows modules (``dumpkit.model.Module``: names and ids) and files, never a reader.
"""
