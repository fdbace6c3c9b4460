"""Converters from the Dump model (imports as ``dumpkit.converters``): the minidump (MDMP)
writer and the shrink policies per source kind.

What other parts of dumpkit may use is exported here; the modules are this package's own.
"""
from dumpkit.converters.roundtrip import compare_documents
from dumpkit.converters.shrink import (
    DEFAULT_MAX_SIZE,
    ShrinkError,
    ShrinkOptions,
    ShrinkReport,
    shrink_dump,
    shrink_file,
)

__all__ = ["DEFAULT_MAX_SIZE", "ShrinkError", "ShrinkOptions", "ShrinkReport", "compare_documents",
           "shrink_dump", "shrink_file"]
