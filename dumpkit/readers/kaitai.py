"""The one door into the generated parsers: Kaitai runtime errors become dumpkit errors.

Readers open a generated parser with :func:`parse` and read each stream / note / section
inside :func:`guard`, so a malformed structure becomes a :class:`DumpParseError` that names
the file, the structure and the offset (never a traceback from the runtime).
"""
from __future__ import annotations

import struct
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from kaitaistruct import KaitaiStream, KaitaiStructError

from dumpkit.errors import DumpkitError, DumpParseError
from dumpkit.memory import FileView
from dumpkit.readers.fast_stream import FastStream, adopt

__all__ = ["PARSE_ERRORS", "guard", "parse", "stream_of"]

#: What bad input can make the Kaitai runtime and generated code raise: Kaitai's own errors,
#: EOF, struct errors, ValueError / UnicodeDecodeError from decoding, and what a .ksy
#: expression over file data can raise (an index, a seek or a size out of range, a division
#: by a zero field). Anything else (TypeError, AttributeError, KeyError, ...) is a bug of
#: ours: it is not caught here, so it becomes an ``internal_error`` and fails the tests.
PARSE_ERRORS = (KaitaiStructError, EOFError, ValueError, struct.error, UnicodeDecodeError,
                IndexError, OverflowError, ZeroDivisionError)

T = TypeVar("T")


def stream_of(view: FileView) -> KaitaiStream:
    """A Kaitai stream over the memory-mapped file, from offset 0 (no copy is made)."""
    if isinstance(view, FileView):
        return FastStream(view.buffer)
    return KaitaiStream(view.stream())


@contextmanager
def guard(path: str, structure: str, offset: int | None = None) -> Iterator[None]:
    """Turn any parser error raised inside the block into a :class:`DumpParseError`."""
    try:
        yield
    except DumpkitError:
        raise
    except RecursionError as exc:
        raise DumpParseError("structure nests too deeply", path=path, structure=structure,
                             offset=offset, code="recursion") from exc
    except PARSE_ERRORS as exc:
        raise DumpParseError(_describe(exc), path=path, structure=structure, offset=offset,
                             code=_code(exc)) from exc


def parse(cls: type[T], view: FileView, structure: str, *args: Any) -> T:
    """Instantiate generated parser ``cls`` over the whole file."""
    adopt(sys.modules[cls.__module__])
    with guard(view.path, structure, 0):
        return cls(*args, stream_of(view))  # type: ignore[call-arg]


def _code(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "truncated"
    if isinstance(exc, KaitaiStructError):
        return "invalid_value"
    return "malformed"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return f"truncated: {exc}"
    text = str(exc) or type(exc).__name__
    return text if len(text) < 300 else text[:297] + "..."
