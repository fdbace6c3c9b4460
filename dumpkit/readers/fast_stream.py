"""A faster Kaitai stream: the runtime's reading API over a buffer, with ``struct.unpack_from``.

The generated parsers (``dumpkit/formats/``) read every field through a ``KaitaiStream``:
``read_u4le()`` calls ``read_bytes(4)``, which calls ``align_to_byte()`` and the file object's
``read()``, then unpacks the copy. :class:`FastStream` keeps the same API and the same
results, errors and messages, but holds a buffer (the file's mmap, or the bytes of a
substream) and an integer position, and unpacks fields in place.

The generated modules create substreams as ``KaitaiStream(BytesIO(raw))`` and resolve enums
with ``KaitaiStream.resolve_enum``, both through their own module globals. :func:`adopt`
points those two names of one generated module at :class:`FastStream` (the generated files
themselves are not touched), so substreams are fast streams too.

Behaviour kept from the runtime (``kaitaistruct`` 0.11), which the readers' diagnostics show:

* a short read raises ``EndOfStreamError("requested N bytes, but only M bytes available")``;
* a stream over the mmap refuses to seek past the end (``ValueError("seek out of range")``,
  as ``mmap.seek`` does), while a substream (bytes) may seek anywhere and then reads nothing;
* a negative seek or length raises ``InvalidArgumentError`` with the runtime's message.
"""
from __future__ import annotations

import mmap
import struct
from types import ModuleType
from typing import Any

from kaitaistruct import EndOfStreamError, InvalidArgumentError, KaitaiStream, NoTerminatorFoundError

__all__ = ["FastStream", "adopt"]

_BIG_READ = 8 * 1024 * 1024  # the runtime checks the remaining size first from this length on
_MMAP_SEEKABLE = hasattr(mmap.mmap, "seekable")


def _unpacker(fmt: str) -> Any:
    return struct.Struct(fmt).unpack_from


_S1, _U1 = _unpacker("b"), _unpacker("B")
_S2LE, _S4LE, _S8LE = _unpacker("<h"), _unpacker("<i"), _unpacker("<q")
_U2LE, _U4LE, _U8LE = _unpacker("<H"), _unpacker("<I"), _unpacker("<Q")
_S2BE, _S4BE, _S8BE = _unpacker(">h"), _unpacker(">i"), _unpacker(">q")
_U2BE, _U4BE, _U8BE = _unpacker(">H"), _unpacker(">I"), _unpacker(">Q")
_F4LE, _F8LE, _F4BE, _F8BE = _unpacker("<f"), _unpacker("<d"), _unpacker(">f"), _unpacker(">d")


class FastStream(KaitaiStream):
    """A read-only Kaitai stream over ``buf`` (an ``mmap`` or ``bytes``), from offset 0."""

    def __init__(self, buf: mmap.mmap | bytes | bytearray) -> None:  # no super(): no file object
        if isinstance(buf, bytearray):
            buf = bytes(buf)
        self._buf = buf
        self._pos = 0
        self._size = len(buf)
        self._strict_seek = isinstance(buf, mmap.mmap)  # mmap.seek refuses positions past the end
        self.bits_left = 0
        self.bits = 0
        self.bits_le = False
        self.bits_write_mode = False
        self.write_back_handler = None
        self.child_streams: list[Any] = []

    def close(self) -> None:
        """Nothing to release: the buffer belongs to whoever made it (the mmap to its FileView)."""

    # ------------------------------------------------------------------ positioning
    def is_eof(self) -> bool:
        return self._pos >= self._size

    def seek(self, n: int) -> None:
        if n < 0:
            raise InvalidArgumentError(f"cannot seek to invalid position {n}")
        if n > self._size and self._strict_seek:
            raise ValueError("seek out of range")
        self._pos = n

    def pos(self) -> int:
        return self._pos

    def size(self) -> int:
        return self._size

    # ------------------------------------------------------------------ bytes
    def read_bytes(self, n: int) -> bytes:
        if n < 0:
            raise InvalidArgumentError(f"requested invalid {n} amount of bytes")
        pos = self._pos
        end = pos + n
        if end > self._size and n:
            raise self._short(n)
        if not n:
            return b""
        self._pos = end
        return self._buf[pos:end]

    def _short(self, n: int) -> EndOfStreamError:
        """The runtime's error for a read of ``n`` bytes past the end, with its position effects.

        The runtime first asks a seekable file for the remaining size when ``n`` is 8 MiB or
        more (``mmap`` is not ``seekable()`` before Python 3.13); otherwise it reads what there
        is, moving the position to the end, and counts it.
        """
        pos = self._pos
        if n >= _BIG_READ and (_MMAP_SEEKABLE or not self._strict_seek):
            available = self._size - pos
        else:
            available = max(0, self._size - pos)
            self._pos = max(pos, self._size)
        return EndOfStreamError(f"requested {n} bytes, but only {available} bytes available", n, available)

    def read_bytes_full(self) -> bytes:
        pos = self._pos
        if pos >= self._size:
            return b""
        self._pos = self._size
        return self._buf[pos:]

    def read_bytes_term(self, term: int, include_term: bool, consume_term: bool, eos_error: bool) -> bytes:
        pos = self._pos
        if pos >= self._size:
            if eos_error:
                raise NoTerminatorFoundError(bytes((term,)), 0)
            return b""
        at = self._buf.find(bytes((term,)), pos)
        if at < 0:
            if eos_error:
                self._pos = self._size
                raise NoTerminatorFoundError(bytes((term,)), 0)
            self._pos = self._size
            return self._buf[pos:]
        self._pos = at + 1 if consume_term else at
        return self._buf[pos:at + 1 if include_term else at]

    # ------------------------------------------------------------------ numbers
    def _take(self, n: int) -> int:
        """The position of the next ``n`` bytes, moving past them (or the runtime's error)."""
        pos = self._pos
        if pos + n > self._size:
            raise self._short(n)
        self._pos = pos + n
        return pos

    def read_u1(self) -> int:
        return _U1(self._buf, self._take(1))[0]

    def read_s1(self) -> int:
        return _S1(self._buf, self._take(1))[0]

    def read_u2le(self) -> int:
        return _U2LE(self._buf, self._take(2))[0]

    def read_u4le(self) -> int:
        pos = self._pos
        if pos + 4 > self._size:
            raise self._short(4)
        self._pos = pos + 4
        return _U4LE(self._buf, pos)[0]

    def read_u8le(self) -> int:
        pos = self._pos
        if pos + 8 > self._size:
            raise self._short(8)
        self._pos = pos + 8
        return _U8LE(self._buf, pos)[0]

    def read_s2le(self) -> int:
        return _S2LE(self._buf, self._take(2))[0]

    def read_s4le(self) -> int:
        return _S4LE(self._buf, self._take(4))[0]

    def read_s8le(self) -> int:
        return _S8LE(self._buf, self._take(8))[0]

    def read_u2be(self) -> int:
        return _U2BE(self._buf, self._take(2))[0]

    def read_u4be(self) -> int:
        return _U4BE(self._buf, self._take(4))[0]

    def read_u8be(self) -> int:
        return _U8BE(self._buf, self._take(8))[0]

    def read_s2be(self) -> int:
        return _S2BE(self._buf, self._take(2))[0]

    def read_s4be(self) -> int:
        return _S4BE(self._buf, self._take(4))[0]

    def read_s8be(self) -> int:
        return _S8BE(self._buf, self._take(8))[0]

    def read_f4le(self) -> float:
        return _F4LE(self._buf, self._take(4))[0]

    def read_f8le(self) -> float:
        return _F8LE(self._buf, self._take(8))[0]

    def read_f4be(self) -> float:
        return _F4BE(self._buf, self._take(4))[0]

    def read_f8be(self) -> float:
        return _F8BE(self._buf, self._take(8))[0]

    # ------------------------------------------------------------------ enums
    @staticmethod
    def resolve_enum(enum_obj: Any, value: Any) -> Any:
        """``enum_obj(value)``, or ``value`` itself when it is not a member (as the runtime does)."""
        try:
            return enum_obj._value2member_map_[value]
        except (AttributeError, KeyError, TypeError):  # not a member (or a Flag's composite): ask the enum
            return KaitaiStream.resolve_enum(enum_obj, value)


def _as_buffer(raw: bytes) -> bytes:
    """Stands in for ``BytesIO`` in a generated module: a substream is built over the bytes themselves."""
    return raw


def adopt(module: ModuleType) -> None:
    """Make generated ``module`` build its substreams as :class:`FastStream` and resolve enums fast."""
    if getattr(module, "KaitaiStream", None) is not FastStream:
        module.KaitaiStream = FastStream  # type: ignore[attr-defined]
        module.BytesIO = _as_buffer  # type: ignore[attr-defined]
