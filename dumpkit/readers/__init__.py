"""One module per format family: generated Kaitai objects -> :class:`dumpkit.model.Dump`.

Each module exposes ``read(path: str) -> Dump``.
"""
