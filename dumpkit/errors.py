"""dumpkit's exception hierarchy: every failure a caller sees is a :class:`DumpkitError`.

Errors carry structure (what was being read, where in the file, what was expected) and a
stable short ``code`` so batch reports can aggregate them.
"""
from __future__ import annotations

__all__ = [
    "INTERNAL_ERROR",
    "INTERNAL_ERROR_LOG_FLAG",
    "DumpIOError",
    "DumpParseError",
    "DumpkitError",
    "NotCapturedError",
    "UnknownFormatError",
]


#: The code of a failure that is a bug of dumpkit, never bad input: an exception outside the
#: :class:`DumpkitError` hierarchy (a reader bug), or a document that fails its schema.
INTERNAL_ERROR = "internal_error"
#: Attribute set on the log record of every internal error (``extra={INTERNAL_ERROR_LOG_FLAG:
#: True}``), so the test suite fails on one even where the output only reports it.
INTERNAL_ERROR_LOG_FLAG = "dumpkit_internal_error"


class DumpkitError(Exception):
    """Root of every error dumpkit raises on purpose."""

    code = "error"

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        structure: str | None = None,
        offset: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.structure = structure
        self.offset = offset
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        where = []
        if self.path:
            where.append(self.path)
        if self.structure:
            where.append(self.structure)
        if self.offset is not None:
            where.append(f"offset {self.offset:#x}")
        prefix = ": ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class UnknownFormatError(DumpkitError):
    """The file's first bytes match no format dumpkit reads."""

    code = "unknown_format"


class DumpParseError(DumpkitError):
    """A structure needed to read the dump at all is missing or malformed."""

    code = "parse_error"


class DumpIOError(DumpkitError):
    """The file could not be opened or read."""

    code = "io_error"


class NotCapturedError(DumpkitError):
    """An address (or part of a range) is not present in the dump's captured memory."""

    code = "not_captured"

    def __init__(self, address: int, size: int = 1, *, space: str = "virtual") -> None:
        super().__init__(f"{space} address {address:#x} (+{size:#x}) is not captured in the dump",
                         structure=space)
        self.address = address
        self.size = size
        self.space = space
