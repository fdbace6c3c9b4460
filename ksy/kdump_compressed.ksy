meta:
  id: kdump_compressed
  title: makedumpfile kdump-compressed Linux kernel dump (KDUMP / DISKDUMP) and its flattened stream
  file-extension: kdump
  license: MIT
  encoding: ISO-8859-1
  endian:
    switch-on: is_be
    cases:
      false: le
      true: be
doc: |
  A Linux kernel crash dump written by makedumpfile (`-c`, `-l`, `-p`, `-z`) or by the
  legacy diskdump driver. The file is a sequence of blocks of `block_size` bytes (the
  target's page size): block 0 holds disk_dump_header, the next `sub_hdr_size` blocks
  the kdump_sub_header (and, from version 4, a copy of the ELF notes with VMCOREINFO),
  then the two page bitmaps, then an array of page descriptors (one per dumped page,
  i.e. per set bit of the 2nd bitmap), then the (possibly compressed) page data.

  The byte order and the word size are the target's and are not recorded: the reader
  tries each combination against the header's sanity rules (block_size a power of two
  of a sane size, `8 * bitmap_blocks * block_size >= max_mapnr`) and passes the result
  in as parameters. 32-bit targets differ in where the sub-header aligns its 64-bit
  fields (packed on i386, naturally aligned on ARM and most others): `sub_header_layout`.

  Bitmaps, descriptors and page data are never parsed here: their offsets are exposed
  and the reader reads them on demand (one descriptor with `page_desc`).

  The flattened form (`makedumpfile -F`, for streaming) starts with `flat_header` and
  carries the same file as (offset, size, data) records (`flat_record_header`), always
  big-endian, which the reader indexes before parsing the reassembled file.
doc-ref: docs/formats.md section 6 (makedumpfile kdump-compressed format, flattened format)
params:
  - id: is_be
    type: bool
    doc: The target is big-endian (s390x, ppc64, ...).
  - id: is_32
    type: bool
    doc: The target is 32-bit (disk_dump_header_32 and a 32-bit sub-header).
  - id: sub_header_layout
    type: u1
    enum: sub_header_layout
    doc: Which kdump_sub_header layout the target uses.
seq:
  - id: magic
    size: 8
    valid:
      any-of:
        - '[0x4b, 0x44, 0x55, 0x4d, 0x50, 0x20, 0x20, 0x20]'
        - '[0x44, 0x49, 0x53, 0x4b, 0x44, 0x55, 0x4d, 0x50]'
    -orig-id: signature
    doc: '`KDUMP   ` (makedumpfile) or `DISKDUMP` (legacy diskdump).'
instances:
  is_diskdump:
    value: magic == [0x44, 0x49, 0x53, 0x4b, 0x44, 0x55, 0x4d, 0x50]
  header32:
    pos: 0
    type: disk_dump_header_32
    if: is_32
  header64:
    pos: 0
    type: disk_dump_header_64
    if: not is_32
  header_version:
    value: 'is_32 ? header32.header_version : header64.header_version'
  block_size:
    value: 'is_32 ? header32.block_size : header64.block_size'
  sub_hdr_size:
    value: 'is_32 ? header32.sub_hdr_size : header64.sub_hdr_size'
  bitmap_blocks:
    value: 'is_32 ? header32.bitmap_blocks : header64.bitmap_blocks'
  max_mapnr:
    value: 'is_32 ? header32.max_mapnr : header64.max_mapnr'
  status:
    value: 'is_32 ? header32.status : header64.status'
  ofs_sub_header:
    value: block_size
    doc: The sub-header starts at block 1.
  ofs_bitmaps:
    value: (1 + sub_hdr_size) * block_size
    doc: File offset of the 1st bitmap; both bitmaps together are `len_bitmaps` bytes.
  len_bitmaps:
    value: bitmap_blocks * block_size
    doc: |
      Bytes of both bitmaps. Each is normally half of it (the 2nd bitmap starts at
      `ofs_bitmaps + len_bitmaps / 2`); a bitmap area too small to hold two bitmaps of
      max_mapnr bits is one bitmap (old diskdump).
  ofs_page_descs:
    value: (1 + sub_hdr_size + bitmap_blocks) * block_size
    doc: File offset of the page_desc array (entry k describes the k-th dumped page).
  sub_header_lp64:
    pos: ofs_sub_header
    type: kdump_sub_header_lp64
    if: sub_header_layout == sub_header_layout::lp64 and header_version >= 0
  sub_header_ilp32_packed:
    pos: ofs_sub_header
    type: kdump_sub_header_ilp32_packed
    if: sub_header_layout == sub_header_layout::ilp32_packed and header_version >= 0
  sub_header_ilp32_padded:
    pos: ofs_sub_header
    type: kdump_sub_header_ilp32_padded
    if: sub_header_layout == sub_header_layout::ilp32_padded and header_version >= 0
types:
  new_utsname:
    doc: struct new_utsname, six NUL-padded fields of 65 bytes.
    doc-ref: docs/formats.md 6.1
    seq:
      - id: sysname
        type: strz
        size: 65
      - id: nodename
        type: strz
        size: 65
      - id: release
        type: strz
        size: 65
      - id: version
        type: strz
        size: 65
      - id: machine
        type: strz
        size: 65
        doc: x86_64, i686, aarch64, ppc64le, s390x, ...
      - id: domainname
        type: strz
        size: 65
  disk_dump_header_64:
    doc: disk_dump_header of a 64-bit target (0x1D0 bytes).
    doc-ref: docs/formats.md 6.1
    seq:
      - id: magic
        size: 8
        -orig-id: signature
      - id: header_version
        type: s4
        -orig-id: header_version
        doc: 6 for current makedumpfile; gates the sub-header fields.
      - id: utsname
        type: new_utsname
        -orig-id: utsname
      - id: reserved
        size: 6
        -orig-id: _pad1
      - id: timestamp_sec
        type: s8
        -orig-id: timestamp.tv_sec
      - id: timestamp_usec
        type: s8
        -orig-id: timestamp.tv_usec
      - id: status
        type: u4
        -orig-id: status
        doc: DUMP_DH_* flags (enum dump_flags); 0x8 marks an incomplete dump.
      - id: block_size
        type: s4
        -orig-id: block_size
        doc: Page size of the target; the unit of every block count.
      - id: sub_hdr_size
        type: s4
        -orig-id: sub_hdr_size
        doc: Blocks of sub-header (and note copy) after block 0.
      - id: bitmap_blocks
        type: u4
        -orig-id: bitmap_blocks
        doc: Blocks of both bitmaps together.
      - id: max_mapnr
        type: u4
        -orig-id: max_mapnr
        doc: Highest PFN + 1, truncated to 32 bits (max_mapnr_64 in the v6 sub-header).
      - id: total_ram_blocks
        type: u4
        -orig-id: total_ram_blocks
      - id: device_blocks
        type: u4
        -orig-id: device_blocks
      - id: written_blocks
        type: u4
        -orig-id: written_blocks
      - id: current_cpu
        type: u4
        -orig-id: current_cpu
      - id: nr_cpus
        type: s4
        -orig-id: nr_cpus
  disk_dump_header_32:
    doc: disk_dump_header of a 32-bit target (0x1C4 bytes; 32-bit timeval).
    doc-ref: docs/formats.md 6.1
    seq:
      - id: magic
        size: 8
        -orig-id: signature
      - id: header_version
        type: s4
        -orig-id: header_version
      - id: utsname
        type: new_utsname
        -orig-id: utsname
      - id: reserved
        size: 2
        -orig-id: _pad1
      - id: timestamp_sec
        type: s4
        -orig-id: timestamp.tv_sec
      - id: timestamp_usec
        type: s4
        -orig-id: timestamp.tv_usec
      - id: status
        type: u4
        -orig-id: status
      - id: block_size
        type: s4
        -orig-id: block_size
      - id: sub_hdr_size
        type: s4
        -orig-id: sub_hdr_size
      - id: bitmap_blocks
        type: u4
        -orig-id: bitmap_blocks
      - id: max_mapnr
        type: u4
        -orig-id: max_mapnr
      - id: total_ram_blocks
        type: u4
        -orig-id: total_ram_blocks
      - id: device_blocks
        type: u4
        -orig-id: device_blocks
      - id: written_blocks
        type: u4
        -orig-id: written_blocks
      - id: current_cpu
        type: u4
        -orig-id: current_cpu
      - id: nr_cpus
        type: s4
        -orig-id: nr_cpus
  kdump_sub_header_lp64:
    doc: |
      kdump_sub_header of a 64-bit target (0x68 bytes at v6). Each group of fields is
      present only from the header version that introduced it, so an older (shorter)
      sub-header never reads past its end.
    doc-ref: docs/formats.md 6.2 (64-bit column)
    seq:
      - id: phys_base
        type: u8
        -orig-id: phys_base
      - id: dump_level
        type: s4
        if: _root.header_version >= 1
        -orig-id: dump_level
        doc: makedumpfile -d bits (1 zero, 2 cache, 4 private cache, 8 user, 16 free pages excluded).
      - id: split
        type: s4
        if: _root.header_version >= 2
        -orig-id: split
        doc: 1 in each file of a --split dump (PFNs start_pfn_64 .. end_pfn_64).
      - id: start_pfn
        type: u8
        if: _root.header_version >= 2
        -orig-id: start_pfn
      - id: end_pfn
        type: u8
        if: _root.header_version >= 2
        -orig-id: end_pfn
      - id: ofs_vmcoreinfo
        type: s8
        if: _root.header_version >= 3
        -orig-id: offset_vmcoreinfo
        doc: File offset of the raw VMCOREINFO text.
      - id: len_vmcoreinfo
        type: u8
        if: _root.header_version >= 3
        -orig-id: size_vmcoreinfo
      - id: ofs_note
        type: s8
        if: _root.header_version >= 4
        -orig-id: offset_note
        doc: File offset of a copy of the crashed kernel's PT_NOTE segment.
      - id: len_note
        type: u8
        if: _root.header_version >= 4
        -orig-id: size_note
      - id: ofs_eraseinfo
        type: s8
        if: _root.header_version >= 5
        -orig-id: offset_eraseinfo
      - id: len_eraseinfo
        type: u8
        if: _root.header_version >= 5
        -orig-id: size_eraseinfo
      - id: start_pfn_64
        type: u8
        if: _root.header_version >= 6
        -orig-id: start_pfn_64
      - id: end_pfn_64
        type: u8
        if: _root.header_version >= 6
        -orig-id: end_pfn_64
      - id: max_mapnr_64
        type: u8
        if: _root.header_version >= 6
        -orig-id: max_mapnr_64
  kdump_sub_header_ilp32_packed:
    doc: kdump_sub_header of a 32-bit target whose u64 is 4-aligned (i386; 0x50 bytes at v6).
    doc-ref: docs/formats.md 6.2 (i386 column)
    seq:
      - id: phys_base
        type: u4
        -orig-id: phys_base
      - id: dump_level
        type: s4
        if: _root.header_version >= 1
        -orig-id: dump_level
      - id: split
        type: s4
        if: _root.header_version >= 2
        -orig-id: split
      - id: start_pfn
        type: u4
        if: _root.header_version >= 2
        -orig-id: start_pfn
      - id: end_pfn
        type: u4
        if: _root.header_version >= 2
        -orig-id: end_pfn
      - id: ofs_vmcoreinfo
        type: s8
        if: _root.header_version >= 3
        -orig-id: offset_vmcoreinfo
      - id: len_vmcoreinfo
        type: u4
        if: _root.header_version >= 3
        -orig-id: size_vmcoreinfo
      - id: ofs_note
        type: s8
        if: _root.header_version >= 4
        -orig-id: offset_note
      - id: len_note
        type: u4
        if: _root.header_version >= 4
        -orig-id: size_note
      - id: ofs_eraseinfo
        type: s8
        if: _root.header_version >= 5
        -orig-id: offset_eraseinfo
      - id: len_eraseinfo
        type: u4
        if: _root.header_version >= 5
        -orig-id: size_eraseinfo
      - id: start_pfn_64
        type: u8
        if: _root.header_version >= 6
        -orig-id: start_pfn_64
      - id: end_pfn_64
        type: u8
        if: _root.header_version >= 6
        -orig-id: end_pfn_64
      - id: max_mapnr_64
        type: u8
        if: _root.header_version >= 6
        -orig-id: max_mapnr_64
  kdump_sub_header_ilp32_padded:
    doc: kdump_sub_header of a 32-bit target whose u64 is 8-aligned (ARM and most others; 0x60 bytes at v6).
    doc-ref: docs/formats.md 6.2 (arm32 column)
    seq:
      - id: phys_base
        type: u4
        -orig-id: phys_base
      - id: dump_level
        type: s4
        if: _root.header_version >= 1
        -orig-id: dump_level
      - id: split
        type: s4
        if: _root.header_version >= 2
        -orig-id: split
      - id: start_pfn
        type: u4
        if: _root.header_version >= 2
        -orig-id: start_pfn
      - id: end_pfn
        type: u4
        if: _root.header_version >= 2
        -orig-id: end_pfn
      - id: reserved1
        size: 4
        if: _root.header_version >= 3
      - id: ofs_vmcoreinfo
        type: s8
        if: _root.header_version >= 3
        -orig-id: offset_vmcoreinfo
      - id: len_vmcoreinfo
        type: u4
        if: _root.header_version >= 3
        -orig-id: size_vmcoreinfo
      - id: reserved2
        size: 4
        if: _root.header_version >= 4
      - id: ofs_note
        type: s8
        if: _root.header_version >= 4
        -orig-id: offset_note
      - id: len_note
        type: u4
        if: _root.header_version >= 4
        -orig-id: size_note
      - id: reserved3
        size: 4
        if: _root.header_version >= 5
      - id: ofs_eraseinfo
        type: s8
        if: _root.header_version >= 5
        -orig-id: offset_eraseinfo
      - id: len_eraseinfo
        type: u4
        if: _root.header_version >= 5
        -orig-id: size_eraseinfo
      - id: reserved4
        size: 4
        if: _root.header_version >= 6
      - id: start_pfn_64
        type: u8
        if: _root.header_version >= 6
        -orig-id: start_pfn_64
      - id: end_pfn_64
        type: u8
        if: _root.header_version >= 6
        -orig-id: end_pfn_64
      - id: max_mapnr_64
        type: u8
        if: _root.header_version >= 6
        -orig-id: max_mapnr_64
  page_desc:
    doc: |
      Where one dumped page is stored (24 bytes). Zero-filled pages usually share one
      descriptor target (the same offset for many PFNs).
    doc-ref: docs/formats.md 6.4
    seq:
      - id: ofs_data
        type: s8
        -orig-id: offset
        doc: File offset of the page data.
      - id: len_data
        type: u4
        -orig-id: size
        doc: Stored bytes; equals block_size for a raw page, at most block_size when compressed.
      - id: flags
        type: u4
        -orig-id: flags
        doc: 0 for a raw page, else one compression flag of enum dump_flags.
      - id: page_flags
        type: u8
        -orig-id: page_flags
        doc: The kernel's struct page flags (often 0).
  flat_header:
    meta:
      endian: be
    doc: |
      File header of the flattened form (4096 bytes, the rest zero). Records follow
      from offset 4096.
    doc-ref: docs/formats.md 6.6
    seq:
      - id: magic
        contents: ["makedumpfile", 0, 0, 0, 0]
        -orig-id: signature
      - id: type
        type: s8
        valid: 1
        -orig-id: type
        doc: TYPE_FLAT_HEADER.
      - id: version
        type: s8
        valid: 1
        -orig-id: version
  flat_record_header:
    meta:
      endian: be
    doc: |
      One record of the flattened stream: `len_data` bytes follow, to be placed at
      `ofs_target` of the reassembled file. offset = size = -1 ends the stream.
    doc-ref: docs/formats.md 6.6
    seq:
      - id: ofs_target
        type: s8
        -orig-id: offset
      - id: len_data
        type: s8
        -orig-id: buf_size
    instances:
      is_end:
        value: ofs_target == -1
enums:
  sub_header_layout:
    0: lp64
    1: ilp32_packed
    2: ilp32_padded
  dump_flags:
    0x1: compressed_zlib
    0x2: compressed_lzo
    0x4: compressed_snappy
    0x8: compressed_incomplete
    0x10: excluded_vmemmap
    0x20: compressed_zstd
