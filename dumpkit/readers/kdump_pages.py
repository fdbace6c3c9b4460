"""Physical memory of a kdump-compressed dump: PFN -> 2nd-bitmap rank -> page_desc -> page.

The 2nd bitmap has one bit per PFN, set when the page was dumped (docs/formats.md 6.3); the
page descriptors (6.4) are stored in the order of the set bits, so the descriptor of PFN
*p* is the number of set bits before *p*. The rank index (set bits before each 4096-PFN
chunk) is built once, on the first page read, with bytes-level popcounts; a question that
reads no page never touches the bitmap.

Pages are raw or compressed with zlib (stdlib), zstd (``zstandard``), LZO (``lzallright``)
or snappy (``cramjam``); a page whose compressor is not installed, or whose descriptor or
data is corrupt, raises :class:`PageUnreadableError` (a :class:`NotCapturedError`: the page
is absent, with the reason in the message). Excluded pages are not captured, never zeros.
"""
from __future__ import annotations

import io
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

from kaitaistruct import KaitaiStream

from dumpkit.bitmap import ByteSource, PageBitmap
from dumpkit.errors import DumpkitError, NotCapturedError
from dumpkit.formats.kdump_compressed import KdumpCompressed
from dumpkit.memory import AddressSpace
from dumpkit.readers.kaitai import guard

__all__ = ["COMPRESSION_NAMES", "ByteSource", "KdumpPhysicalSpace", "PageUnreadableError",
           "decompressor_available"]

PAGE_DESC_SIZE = 24
PAGE_CACHE_PAGES = 64
ZLIB, LZO, SNAPPY, ZSTD = 0x1, 0x2, 0x4, 0x20
COMPRESSION_NAMES = {ZLIB: "zlib", LZO: "lzo", SNAPPY: "snappy", ZSTD: "zstd"}


class PageUnreadableError(NotCapturedError):
    """A dumped page that cannot be read back (corrupt descriptor or data, unsupported compression)."""

    code = "page_unreadable"

    def __init__(self, address: int, size: int, reason: str, *, space: str = "physical") -> None:
        super().__init__(address, size, space=space)
        self.reason = reason
        self.message = f"{space} address {address:#x}: page unreadable: {reason}"
        self.args = (self.message,)


def _zlib(data: bytes, size: int) -> bytes:
    d = zlib.decompressobj()
    return d.decompress(data, size + 1)


def _zstd(data: bytes, size: int) -> bytes:
    import zstandard

    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data))
    out = bytearray()
    while len(out) <= size:  # bounded: a zstd frame can claim far more than a page
        chunk = reader.read(size + 1 - len(out))
        if not chunk:
            break
        out += chunk
    return bytes(out)


def _lzo(data: bytes, size: int) -> bytes:
    import lzallright

    return bytes(lzallright.LZOCompressor().decompress(data, output_size_hint=size))


def _snappy(data: bytes, size: int) -> bytes:
    import cramjam

    if cramjam.snappy.decompress_raw_len(data) != size:  # the raw block states its length first
        raise ValueError("snappy block length is not the page size")
    return bytes(cramjam.snappy.decompress_raw(data))


_DECOMPRESS: dict[int, tuple[str, Callable[[bytes, int], bytes]]] = {
    ZLIB: ("zlib", _zlib), ZSTD: ("zstandard", _zstd), LZO: ("lzallright", _lzo),
    SNAPPY: ("cramjam", _snappy),
}


def decompressor_available(flag: int) -> bool:
    """True when the Python package for compression ``flag`` can be imported."""
    module = _DECOMPRESS[flag][0]
    try:
        __import__(module)
    except ImportError:
        return False
    return True


class KdumpPhysicalSpace(AddressSpace):
    """Physical memory of one kdump-compressed file (or its reassembled flattened form)."""

    name = "physical"

    def __init__(self, source: ByteSource, *, block_size: int, bitmap_offset: int, num_pfns: int,
                 page_descs_offset: int, is_le: bool, incomplete: bool = False,
                 owns_source: bool = False) -> None:
        self.source = source
        self.block_size = block_size
        self.bitmap_offset = bitmap_offset
        #: PFNs the 2nd bitmap covers (max_mapnr cut to the bitmap's size).
        self.num_pfns = max(0, num_pfns)
        self.bitmap = PageBitmap(source, bitmap_offset, self.num_pfns)
        self.page_descs_offset = page_descs_offset
        self.is_le = is_le
        self.incomplete = incomplete
        self._owns_source = owns_source
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        #: Unreadable pages met so far, reason -> count (the reader may report them).
        self.problems: dict[str, int] = {}

    # -- bitmap ---------------------------------------------------------------------
    @property
    def present_pages(self) -> int:
        """Number of dumped pages (set bits of the 2nd bitmap); builds the index."""
        return self.bitmap.total

    def has_page(self, pfn: int) -> bool:
        return self.bitmap.has(pfn)

    def desc_index(self, pfn: int) -> int | None:
        """Index of the page descriptor of ``pfn`` (its rank in the 2nd bitmap), or ``None``."""
        return self.bitmap.rank(pfn)

    # -- pages ----------------------------------------------------------------------
    def page_desc(self, pfn: int) -> Any:
        """The generated ``PageDesc`` of ``pfn`` or ``None`` when the page was not dumped."""
        index = self.desc_index(pfn)
        if index is None:
            return None
        ofs = self.page_descs_offset + index * PAGE_DESC_SIZE
        raw = self.source.read_upto(ofs, PAGE_DESC_SIZE)
        if len(raw) < PAGE_DESC_SIZE:
            return None  # past the end of the file: a truncated (incomplete) dump lost it
        with guard(self.source.path, "page_desc", ofs):
            return KdumpCompressed.PageDesc(KaitaiStream(io.BytesIO(raw)), None, None, self.is_le)

    def page(self, pfn: int) -> bytes:
        """The ``block_size`` bytes of page ``pfn``; raises :class:`NotCapturedError`."""
        cached = self._cache.get(pfn)
        if cached is not None:
            self._cache.move_to_end(pfn)
            return cached
        address = pfn * self.block_size
        try:
            desc = self.page_desc(pfn)
        except DumpkitError as exc:
            raise self._fail(address, f"page descriptor unreadable: {exc.message}") from exc
        if desc is None:
            if self.has_page(pfn):
                raise self._fail(address, "page descriptor missing (incomplete dump)")
            raise NotCapturedError(address, self.block_size, space=self.name)
        data = self._data(address, desc)
        self._cache[pfn] = data
        if len(self._cache) > PAGE_CACHE_PAGES:
            self._cache.popitem(last=False)
        return data

    def _fail(self, address: int, reason: str) -> PageUnreadableError:
        key = reason.split(":", 1)[0]
        self.problems[key] = self.problems.get(key, 0) + 1
        return PageUnreadableError(address, self.block_size, reason, space=self.name)

    def _data(self, address: int, desc: Any) -> bytes:
        ofs, size, flags = int(desc.ofs_data), int(desc.len_data), int(desc.flags)
        bs = self.block_size
        if ofs == 0 and self.incomplete:
            raise self._fail(address, "page lost (incomplete dump, descriptor offset 0)")
        if ofs <= 0 or size <= 0 or size > bs or ofs + size > self.source.size:
            raise self._fail(address, f"bad page descriptor (offset {ofs:#x}, size {size:#x})")
        method = flags & (ZLIB | LZO | SNAPPY | ZSTD)
        raw = self.source.read_upto(ofs, size)
        if len(raw) < size:
            raise self._fail(address, "page data past the end of the file")
        if not method:
            if size != bs:
                raise self._fail(address, f"raw page of {size:#x} bytes (page size {bs:#x})")
            return raw
        bit = method & -method  # makedumpfile sets exactly one compression flag
        name, fn = COMPRESSION_NAMES[bit], _DECOMPRESS[bit][1]
        try:
            data = fn(raw, bs)
        except ImportError as exc:
            raise self._fail(address, f"compression not supported: {name} "
                             f"(install the {_DECOMPRESS[bit][0]} package)") from exc
        except Exception as exc:  # each library has its own error classes
            raise self._fail(address, f"corrupt {name} page: {type(exc).__name__}") from exc
        if len(data) != bs:
            raise self._fail(address, f"{name} page inflates to {len(data):#x} bytes, not {bs:#x}")
        return data

    # -- AddressSpace ---------------------------------------------------------------
    def read(self, address: int, size: int) -> bytes:
        chunks = []
        cursor, remaining = address, size
        bs = self.block_size
        while remaining > 0:
            pfn, within = divmod(cursor, bs)
            take = min(remaining, bs - within)
            try:
                page = self.page(pfn)
            except NotCapturedError as exc:
                if isinstance(exc, PageUnreadableError):
                    raise PageUnreadableError(cursor, remaining, exc.reason, space=self.name) from exc
                raise NotCapturedError(cursor, remaining, space=self.name) from exc
            chunks.append(page[within:within + take])
            cursor += take
            remaining -= take
        return b"".join(chunks)

    def ranges(self) -> Iterator[tuple[int, int]]:
        """Runs of dumped pages (set bits of the 2nd bitmap), ascending."""
        for first, count in self.bitmap.runs():
            yield first * self.block_size, count * self.block_size

    def close(self) -> None:
        self._cache.clear()
        if self._owns_source:
            self.source.close()
