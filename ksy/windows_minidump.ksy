meta:
  id: windows_minidump
  title: Windows user-mode minidump (MDMP), with Breakpad and Crashpad extension streams
  application:
    - Windows MiniDumpWriteDump (dbghelp)
    - Google Breakpad
    - Crashpad
  file-extension:
    - dmp
    - mdmp
  license: MIT
  ks-version: '0.11'
  endian: le
doc: |
  A minidump is a 32-byte header followed by a directory of typed streams; each stream is
  found through a 32-bit file offset (RVA) and size. Every stream body is a lazy instance
  (`directory[i].body`) parsed in its own bounded substream, so a malformed stream cannot
  spoil its neighbours. Memory bytes are never parsed here: memory lists give only the
  descriptors (target address, size, file offset) and readers fetch the bytes on demand.

  CPU contexts cannot be chosen by the spec alone (the layout depends on the
  SystemInfo stream's ProcessorArchitecture and on the context flags), so each
  `context_location` offers one lazy instance per layout and the reader picks one.

  Little-endian files only (signature bytes `MDMP`); the byte-swapped `PMDM` variant
  written by Breakpad on big-endian hosts is not described here.
doc-ref:
  - https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/
  - https://chromium.googlesource.com/breakpad/breakpad/+/HEAD/src/google_breakpad/common/minidump_format.h
  - https://chromium.googlesource.com/crashpad/crashpad/+/HEAD/minidump/minidump_extensions.h
seq:
  - id: header
    type: header
instances:
  directory:
    pos: header.ofs_streams
    type: directory_entry
    repeat: expr
    repeat-expr: header.num_streams
    doc: |
      The stream directory. Readers must check `ofs_streams + num_streams * 12` against
      the file size before touching it.
types:
  header:
    doc: MINIDUMP_HEADER (0x20 bytes at file offset 0).
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_header
    seq:
      - id: magic
        contents: MDMP
        -orig-id: Signature
      - id: version
        type: u4
        valid:
          expr: (_ & 0xffff) == 0xa793
        -orig-id: Version
        doc: |
          Low 16 bits are MINIDUMP_VERSION (0xA793); the high 16 bits are implementation
          specific (dbghelp build) and are not checked.
      - id: num_streams
        type: u4
        -orig-id: NumberOfStreams
      - id: ofs_streams
        type: u4
        -orig-id: StreamDirectoryRva
      - id: checksum
        type: u4
        -orig-id: CheckSum
      - id: time_date_stamp
        type: u4
        -orig-id: TimeDateStamp
        doc: Creation time, seconds since the Unix epoch.
      - id: flags
        type: u8
        -orig-id: Flags
        doc: MINIDUMP_TYPE bitmask (WithFullMemory 0x2, WithHandleData 0x4, ...); Breakpad writes 0.

  directory_entry:
    doc: MINIDUMP_DIRECTORY (12 bytes).
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_directory
    seq:
      - id: stream_type
        type: u4
        enum: stream_types
        -orig-id: StreamType
      - id: len_data
        type: u4
        -orig-id: Location.DataSize
      - id: ofs_data
        type: u4
        -orig-id: Location.Rva
    instances:
      body:
        io: _root._io
        pos: ofs_data
        size: len_data
        type:
          switch-on: stream_type
          cases:
            'stream_types::thread_list': thread_list(false)
            'stream_types::thread_ex_list': thread_list(true)
            'stream_types::module_list': module_list
            'stream_types::memory_list': memory_list
            'stream_types::exception': exception_stream
            'stream_types::system_info': system_info
            'stream_types::memory64_list': memory64_list
            'stream_types::handle_data': handle_data
            'stream_types::unloaded_module_list': unloaded_module_list
            'stream_types::misc_info': misc_info
            'stream_types::memory_info_list': memory_info_list
            'stream_types::thread_info_list': thread_info_list
            'stream_types::thread_names': thread_name_list
            'stream_types::breakpad_info': breakpad_info
            'stream_types::assertion_info': assertion_info
            'stream_types::linux_cpu_info': linux_text
            'stream_types::linux_proc_status': linux_text
            'stream_types::linux_lsb_release': linux_text
            'stream_types::linux_cmd_line': linux_text
            'stream_types::linux_environ': linux_text
            'stream_types::linux_auxv': linux_auxv
            'stream_types::linux_maps': linux_text
            'stream_types::linux_dso_debug': linux_dso_debug
            'stream_types::crashpad_info': crashpad_info
        doc: |
          The stream body, parsed in a substream of exactly `len_data` bytes. Stream types
          without a case here (comments, tokens, vendor streams) come back as raw bytes.

  location_descriptor:
    doc: MINIDUMP_LOCATION_DESCRIPTOR (8 bytes).
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_location_descriptor
    seq:
      - id: len_data
        type: u4
        -orig-id: DataSize
      - id: ofs_data
        type: u4
        -orig-id: Rva

  memory_descriptor:
    doc: |
      MINIDUMP_MEMORY_DESCRIPTOR (16 bytes): a captured range of the target's memory and
      where its bytes are in the file. The bytes themselves are not parsed.
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_memory_descriptor
    seq:
      - id: start_of_memory_range
        type: u8
        -orig-id: StartOfMemoryRange
      - id: memory
        type: location_descriptor
        -orig-id: Memory

  memory_descriptor64:
    doc: MINIDUMP_MEMORY_DESCRIPTOR64 (16 bytes); no file offset, see memory64_list.
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_memory_descriptor64
    seq:
      - id: start_of_memory_range
        type: u8
        -orig-id: StartOfMemoryRange
      - id: len_data
        type: u8
        -orig-id: DataSize

  minidump_string:
    doc: MINIDUMP_STRING, a byte length, then UTF-16LE text (a 2-byte NUL follows, not counted).
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_string
    seq:
      - id: len_buffer
        type: u4
        valid:
          max: 0x10000
        -orig-id: Length
        doc: Length in bytes, without the terminator. Capped at 64 KiB (longer than any Windows path).
      - id: buffer
        size: len_buffer
        -orig-id: Buffer
        doc: UTF-16LE text (decoded by the reader, which tolerates unpaired surrogates).

  guid:
    doc: A GUID as stored on disk (Data1..3 little-endian, Data4 as bytes).
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/guiddef/ns-guiddef-guid
    seq:
      - id: data1
        type: u4
      - id: data2
        type: u2
      - id: data3
        type: u2
      - id: data4
        size: 8

  # ---------------------------------------------------------------- threads
  thread_list:
    doc: |
      MINIDUMP_THREAD_LIST (stream 3) or MINIDUMP_THREAD_EX_LIST (stream 8). Some writers put
      4 bytes of padding after the count so that the entries are 8-aligned; the padding is
      there when the stream is exactly 4 bytes longer than the count and the entries need.
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_thread_list
    params:
      - id: is_ex
        type: bool
        doc: True for the ThreadExList stream (64-byte entries with a backing store).
    seq:
      - id: num_threads
        type: u4
        valid:
          max: (_io.size - 4) / len_entry
        -orig-id: NumberOfThreads
      - id: padding
        size: 4
        if: has_padding
      - id: threads
        type: thread
        repeat: expr
        repeat-expr: num_threads
        -orig-id: Threads
    instances:
      len_entry:
        value: 'is_ex ? 64 : 48'
      has_padding:
        value: _io.size - 4 - num_threads * len_entry == 4

  thread:
    doc: MINIDUMP_THREAD (48 bytes) or MINIDUMP_THREAD_EX (64 bytes).
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_thread
    seq:
      - id: thread_id
        type: u4
        -orig-id: ThreadId
      - id: suspend_count
        type: u4
        -orig-id: SuspendCount
      - id: priority_class
        type: u4
        -orig-id: PriorityClass
      - id: priority
        type: u4
        -orig-id: Priority
      - id: teb
        type: u8
        -orig-id: Teb
        doc: Address of the thread environment block (Windows); 0 or a TLS pointer elsewhere.
      - id: stack
        type: memory_descriptor
        -orig-id: Stack
        doc: Full-memory dumps may leave the file offset 0; look the range up in Memory64List.
      - id: thread_context
        type: context_location
        -orig-id: ThreadContext
      - id: backing_store
        type: memory_descriptor
        if: _parent.is_ex
        -orig-id: BackingStore
        doc: IA-64 register backing store (ThreadExList only).

  context_location:
    doc: |
      A LOCATION_DESCRIPTOR pointing at a CPU context. The layout is not recorded next to it:
      pick it from SystemInfo.ProcessorArchitecture and check the context flags. Each
      layout instance parses a substream of exactly `len_data` bytes, so a context smaller
      than its layout fails to parse (XSTATE data may make it larger).
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_location_descriptor
    seq:
      - id: len_data
        type: u4
        -orig-id: DataSize
      - id: ofs_data
        type: u4
        -orig-id: Rva
    instances:
      first_u4:
        io: _root._io
        pos: ofs_data
        type: u4
        doc: |
          The first 4 bytes: ContextFlags for x86, arm and arm64 (new) layouts, the low half
          of the 64-bit flags of Breakpad arm64_old (0x80000000 set there).
      x86:
        io: _root._io
        pos: ofs_data
        size: len_data
        type: context_x86
      amd64:
        io: _root._io
        pos: ofs_data
        size: len_data
        type: context_amd64
      arm:
        io: _root._io
        pos: ofs_data
        size: len_data
        type: context_arm
      arm64:
        io: _root._io
        pos: ofs_data
        size: len_data
        type: context_arm64
      arm64_old:
        io: _root._io
        pos: ofs_data
        size: len_data
        type: context_arm64_old

  # ---------------------------------------------------------------- modules
  module_list:
    doc: MINIDUMP_MODULE_LIST (stream 4); entries are 108 bytes (never 112), optional 4-byte padding.
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_module_list
    seq:
      - id: num_modules
        type: u4
        valid:
          max: (_io.size - 4) / 108
        -orig-id: NumberOfModules
      - id: padding
        size: 4
        if: has_padding
      - id: modules
        type: module
        repeat: expr
        repeat-expr: num_modules
        -orig-id: Modules
    instances:
      has_padding:
        value: _io.size - 4 - num_modules * 108 == 4

  module:
    doc: MINIDUMP_MODULE (108 bytes).
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_module
    seq:
      - id: base_of_image
        type: u8
        -orig-id: BaseOfImage
      - id: len_image
        type: u4
        -orig-id: SizeOfImage
      - id: checksum
        type: u4
        -orig-id: CheckSum
        doc: PE checksum, 0 if unknown.
      - id: time_date_stamp
        type: u4
        -orig-id: TimeDateStamp
        doc: PE link time (seconds since the Unix epoch), 0 if unknown (ELF, Mach-O).
      - id: ofs_module_name
        type: u4
        -orig-id: ModuleNameRva
      - id: version_info
        type: vs_fixedfileinfo
        -orig-id: VersionInfo
      - id: cv_record
        type: location_descriptor
        -orig-id: CvRecord
      - id: misc_record
        type: location_descriptor
        -orig-id: MiscRecord
        doc: IMAGE_DEBUG_MISC, obsolete.
      - id: reserved0
        type: u8
        -orig-id: Reserved0
      - id: reserved1
        type: u8
        -orig-id: Reserved1
    instances:
      module_name:
        io: _root._io
        pos: ofs_module_name
        type: minidump_string
        doc: Full path of the module file.
      cv_info:
        io: _root._io
        pos: cv_record.ofs_data
        type: codeview_record(cv_record.len_data)
        if: cv_record.len_data >= 4
        doc: |
          The CodeView record. Bounded by `cv_record.len_data` through the parameter rather
          than a substream (this runs once per module); readers bound `len_data` first.

  vs_fixedfileinfo:
    doc: VS_FIXEDFILEINFO (52 bytes); meaningful only when `signature` is 0xFEEF04BD.
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/verrsrc/ns-verrsrc-vs_fixedfileinfo
    seq:
      - id: signature
        type: u4
        -orig-id: dwSignature
      - id: struc_version
        type: u4
        -orig-id: dwStrucVersion
      - id: file_version_ms
        type: u4
        -orig-id: dwFileVersionMS
        doc: major << 16 | minor
      - id: file_version_ls
        type: u4
        -orig-id: dwFileVersionLS
        doc: build << 16 | revision
      - id: product_version_ms
        type: u4
        -orig-id: dwProductVersionMS
      - id: product_version_ls
        type: u4
        -orig-id: dwProductVersionLS
      - id: file_flags_mask
        type: u4
        -orig-id: dwFileFlagsMask
      - id: file_flags
        type: u4
        -orig-id: dwFileFlags
        doc: VS_FF_DEBUG 1, PRERELEASE 2, PATCHED 4, PRIVATEBUILD 8, INFOINFERRED 0x10, SPECIALBUILD 0x20.
      - id: file_os
        type: u4
        -orig-id: dwFileOS
      - id: file_type
        type: u4
        -orig-id: dwFileType
      - id: file_subtype
        type: u4
        -orig-id: dwFileSubtype
      - id: file_date_ms
        type: u4
        -orig-id: dwFileDateMS
      - id: file_date_ls
        type: u4
        -orig-id: dwFileDateLS
    instances:
      is_valid:
        value: signature == 0xfeef04bd

  codeview_record:
    doc: |
      A CodeView debug-information record: a 4-byte signature, then a layout chosen by it.
      Breakpad writes its ELF build-id record with the constant 'BpEL' (bytes `LEpB`).
    doc-ref: https://github.com/dotnet/runtime/blob/main/docs/design/specs/PE-COFF.md
    params:
      - id: len_record
        type: u4
        doc: The record's size from the module's CvRecord descriptor.
    seq:
      - id: signature
        type: u4
        enum: cv_signatures
      - id: info
        type:
          switch-on: signature
          cases:
            'cv_signatures::pdb70': cv_info_pdb70
            'cv_signatures::pdb20': cv_info_pdb20
            'cv_signatures::elf_build_id': cv_info_elf

  cv_info_pdb70:
    doc: CV_INFO_PDB70 (after the `RSDS` signature).
    doc-ref: https://github.com/dotnet/runtime/blob/main/docs/design/specs/PE-COFF.md#codeview-debug-directory-entry-type-2
    seq:
      - id: guid
        type: guid
        -orig-id: Signature
      - id: age
        type: u4
        -orig-id: Age
      - id: pdb_file_name
        size: _parent.len_record - 24
        terminator: 0
        -orig-id: PdbFileName
        doc: NUL-terminated UTF-8 path of the PDB (cut at the first NUL).

  cv_info_pdb20:
    doc: CV_INFO_PDB20 (after the `NB10` signature).
    doc-ref: https://www.debuginfo.com/articles/debuginfomatch.html
    seq:
      - id: ofs_codeview
        type: u4
        -orig-id: Offset
        doc: Always 0 for a separate PDB.
      - id: signature
        type: u4
        -orig-id: Signature
        doc: time_t the PDB was written.
      - id: age
        type: u4
        -orig-id: Age
      - id: pdb_file_name
        size: _parent.len_record - 16
        terminator: 0
        -orig-id: PdbFileName
        doc: NUL-terminated path of the PDB (cut at the first NUL).

  cv_info_elf:
    doc: Breakpad MDCVInfoELF (after the 'BpEL' signature).
    doc-ref: https://chromium.googlesource.com/breakpad/breakpad/+/HEAD/src/google_breakpad/common/minidump_format.h
    seq:
      - id: build_id
        size: _parent.len_record - 4
        doc: The ELF GNU build-id (usually 20 bytes, a SHA-1).

  unloaded_module_list:
    doc: MINIDUMP_UNLOADED_MODULE_LIST (stream 14); entries start at `len_header`, stride `len_entry`.
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_unloaded_module_list
    seq:
      - id: len_header
        type: u4
        valid:
          min: 12
        -orig-id: SizeOfHeader
      - id: len_entry
        type: u4
        valid:
          min: 24
        -orig-id: SizeOfEntry
      - id: num_entries
        type: u4
        valid:
          max: (_io.size - len_header) / len_entry
        -orig-id: NumberOfEntries
    instances:
      entries:
        pos: len_header
        size: len_entry
        type: unloaded_module
        repeat: expr
        repeat-expr: num_entries

  unloaded_module:
    doc: MINIDUMP_UNLOADED_MODULE (24 bytes).
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_unloaded_module
    seq:
      - id: base_of_image
        type: u8
        -orig-id: BaseOfImage
      - id: len_image
        type: u4
        -orig-id: SizeOfImage
      - id: checksum
        type: u4
        -orig-id: CheckSum
      - id: time_date_stamp
        type: u4
        -orig-id: TimeDateStamp
      - id: ofs_module_name
        type: u4
        -orig-id: ModuleNameRva
    instances:
      module_name:
        io: _root._io
        pos: ofs_module_name
        type: minidump_string

  # ---------------------------------------------------------------- memory
  memory_list:
    doc: MINIDUMP_MEMORY_LIST (stream 5); each range's bytes are at its own 32-bit RVA.
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_memory_list
    seq:
      - id: num_memory_ranges
        type: u4
        valid:
          max: (_io.size - 4) / 16
        -orig-id: NumberOfMemoryRanges
      - id: padding
        size: 4
        if: has_padding
      - id: memory_ranges
        type: memory_descriptor
        repeat: expr
        repeat-expr: num_memory_ranges
        -orig-id: MemoryRanges
    instances:
      has_padding:
        value: _io.size - 4 - num_memory_ranges * 16 == 4

  memory64_list:
    doc: |
      MINIDUMP_MEMORY64_LIST (stream 9, full-memory dumps). The data of range i starts at
      `ofs_base + sum(len_data of ranges 0..i-1)`: ranges are stored back to back in
      descriptor order (the running sum is computed by the reader).
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_memory64_list
    seq:
      - id: num_memory_ranges
        type: u8
        valid:
          max: (_io.size - 16) / 16
        -orig-id: NumberOfMemoryRanges
      - id: ofs_base
        type: u8
        -orig-id: BaseRva
      - id: memory_ranges
        type: memory_descriptor64
        repeat: expr
        repeat-expr: num_memory_ranges
        -orig-id: MemoryRanges

  memory_info_list:
    doc: MINIDUMP_MEMORY_INFO_LIST (stream 16); entries start at `len_header`, stride `len_entry`.
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_memory_info_list
    seq:
      - id: len_header
        type: u4
        valid:
          min: 16
        -orig-id: SizeOfHeader
      - id: len_entry
        type: u4
        valid:
          min: 48
        -orig-id: SizeOfEntry
      - id: num_entries
        type: u8
        valid:
          max: (_io.size - len_header) / len_entry
        -orig-id: NumberOfEntries
    instances:
      entries:
        pos: len_header
        size: len_entry
        type: memory_info
        repeat: expr
        repeat-expr: num_entries

  memory_info:
    doc: MINIDUMP_MEMORY_INFO (48 bytes), one region of the target's address space.
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_memory_info
    seq:
      - id: base_address
        type: u8
        -orig-id: BaseAddress
      - id: allocation_base
        type: u8
        -orig-id: AllocationBase
      - id: allocation_protect
        type: u4
        -orig-id: AllocationProtect
      - id: reserved1
        type: u4
        -orig-id: __alignment1
      - id: region_size
        type: u8
        -orig-id: RegionSize
      - id: state
        type: u4
        enum: memory_states
        -orig-id: State
      - id: protect
        type: u4
        -orig-id: Protect
        doc: |
          PAGE_* value: NOACCESS 1, READONLY 2, READWRITE 4, WRITECOPY 8, EXECUTE 0x10,
          EXECUTE_READ 0x20, EXECUTE_READWRITE 0x40, EXECUTE_WRITECOPY 0x80, plus modifiers
          GUARD 0x100, NOCACHE 0x200, WRITECOMBINE 0x400.
      - id: type
        type: u4
        enum: memory_types
        -orig-id: Type
      - id: reserved2
        type: u4
        -orig-id: __alignment2

  # ---------------------------------------------------------------- exception
  exception_stream:
    doc: MINIDUMP_EXCEPTION_STREAM (stream 6, 0xA8 bytes).
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_exception_stream
    seq:
      - id: thread_id
        type: u4
        -orig-id: ThreadId
      - id: reserved
        type: u4
        -orig-id: __alignment
      - id: exception_record
        type: exception_record
        -orig-id: ExceptionRecord
      - id: thread_context
        type: context_location
        -orig-id: ThreadContext
        doc: The faulting context (the thread list holds the dump writer's view of the same thread).

  exception_record:
    doc: |
      MINIDUMP_EXCEPTION (0x98 bytes). Breakpad/Crashpad on Linux and Android store the signal
      number in `exception_code`, si_code in `exception_flags` and si_addr in
      `exception_address`; 0xFFFFFFFF means the dump was requested without a crash.
      On macOS the code is the Mach exception type and the flags the Mach code.
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_exception
    seq:
      - id: exception_code
        type: u4
        -orig-id: ExceptionCode
      - id: exception_flags
        type: u4
        -orig-id: ExceptionFlags
      - id: addr_exception_record
        type: u8
        -orig-id: ExceptionRecord
        doc: Target address of a nested EXCEPTION_RECORD.
      - id: exception_address
        type: u8
        -orig-id: ExceptionAddress
      - id: num_parameters
        type: u4
        -orig-id: NumberParameters
        doc: Used entries of `exception_information` (at most 15).
      - id: reserved
        type: u4
        -orig-id: __unusedAlignment
      - id: exception_information
        type: u8
        repeat: expr
        repeat-expr: 15
        -orig-id: ExceptionInformation

  # ---------------------------------------------------------------- system and process
  system_info:
    doc: MINIDUMP_SYSTEM_INFO (stream 7, 0x38 bytes).
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_system_info
    seq:
      - id: processor_architecture
        type: u2
        enum: processor_architectures
        -orig-id: ProcessorArchitecture
      - id: processor_level
        type: u2
        -orig-id: ProcessorLevel
        doc: x86 family; ARM architecture version.
      - id: processor_revision
        type: u2
        -orig-id: ProcessorRevision
        doc: x86 model << 8 | stepping.
      - id: num_processors
        type: u1
        -orig-id: NumberOfProcessors
      - id: product_type
        type: u1
        enum: product_types
        -orig-id: ProductType
      - id: major_version
        type: u4
        -orig-id: MajorVersion
      - id: minor_version
        type: u4
        -orig-id: MinorVersion
      - id: build_number
        type: u4
        -orig-id: BuildNumber
      - id: platform_id
        type: u4
        enum: platform_ids
        -orig-id: PlatformId
      - id: ofs_csd_version
        type: u4
        -orig-id: CSDVersionRva
      - id: suite_mask
        type: u2
        -orig-id: SuiteMask
      - id: reserved2
        type: u2
        -orig-id: Reserved2
      - id: cpu
        size: 24
        type:
          switch-on: processor_architecture
          cases:
            'processor_architectures::intel': cpu_info_x86
            'processor_architectures::amd64': cpu_info_x86
            'processor_architectures::ia32_on_win64': cpu_info_x86
            'processor_architectures::arm': cpu_info_arm
            _: cpu_info_other
        -orig-id: Cpu
    instances:
      csd_version:
        io: _root._io
        pos: ofs_csd_version
        type: minidump_string
        if: ofs_csd_version != 0
        doc: Service pack (Windows), `uname -srvmo` style text (Breakpad Linux), OS build (macOS).

  cpu_info_x86:
    doc: CPU_INFORMATION.X86CpuInfo (24 bytes).
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-cpu_information
    seq:
      - id: vendor_id
        size: 12
        -orig-id: VendorId
        doc: cpuid(0) EBX, EDX, ECX as bytes, e.g. "GenuineIntel".
      - id: version_information
        type: u4
        -orig-id: VersionInformation
        doc: cpuid(1).EAX
      - id: feature_information
        type: u4
        -orig-id: FeatureInformation
        doc: cpuid(1).EDX
      - id: amd_extended_cpu_features
        type: u4
        -orig-id: AMDExtendedCpuFeatures
        doc: cpuid(0x80000001).EBX

  cpu_info_arm:
    doc: Breakpad's ARM CPU information (24 bytes).
    doc-ref: https://chromium.googlesource.com/breakpad/breakpad/+/HEAD/src/google_breakpad/common/minidump_format.h
    seq:
      - id: cpuid
        type: u4
        doc: Main ID register (MIDR).
      - id: elf_hwcaps
        type: u4
        doc: AT_HWCAP of the process.
      - id: reserved
        size: 16

  cpu_info_other:
    doc: CPU_INFORMATION.OtherCpuInfo.
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-cpu_information
    seq:
      - id: processor_features
        type: u8
        repeat: expr
        repeat-expr: 2
        -orig-id: ProcessorFeatures

  misc_info:
    doc: |
      MINIDUMP_MISC_INFO .. MINIDUMP_MISC_INFO_5 (stream 15). Versions append fields:
      size 24 (v1), 44 (v2), 232 (v3), 832 (v4), 1364 (v5, padded to 1368 by some writers).
      Fields are present here when the stream is long enough; `flags1` says which are valid.
      Later-version fields are lazy instances.
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_misc_info_5
    seq:
      - id: len_info
        type: u4
        -orig-id: SizeOfInfo
        doc: The writer's struct size (not always equal to the stream size; some writers leave 0).
      - id: flags1
        type: u4
        -orig-id: Flags1
        doc: |
          PROCESS_ID 0x1, PROCESS_TIMES 0x2, PROCESSOR_POWER_INFO 0x4, PROCESS_INTEGRITY 0x10,
          PROCESS_EXECUTE_FLAGS 0x20, TIMEZONE 0x40, PROTECTED_PROCESS 0x80, BUILDSTRING 0x100,
          PROCESS_COOKIE 0x200.
      - id: process_id
        type: u4
        -orig-id: ProcessId
      - id: process_create_time
        type: u4
        -orig-id: ProcessCreateTime
        doc: Seconds since the Unix epoch.
      - id: process_user_time
        type: u4
        -orig-id: ProcessUserTime
        doc: Seconds.
      - id: process_kernel_time
        type: u4
        -orig-id: ProcessKernelTime
        doc: Seconds.
      - id: power_info
        type: misc_power_info
        if: _io.size >= 44
    instances:
      version:
        value: |
          _io.size >= 1364 ? 5 :
          _io.size >= 832 ? 4 :
          _io.size >= 232 ? 3 :
          _io.size >= 44 ? 2 : 1
        doc: Version implied by the stream size.
      process_integrity_level:
        pos: 0x2c
        type: u4
        if: _io.size >= 232
        -orig-id: ProcessIntegrityLevel
      process_execute_flags:
        pos: 0x30
        type: u4
        if: _io.size >= 232
        -orig-id: ProcessExecuteFlags
      protected_process:
        pos: 0x34
        type: u4
        if: _io.size >= 232
        -orig-id: ProtectedProcess
      time_zone_id:
        pos: 0x38
        type: u4
        if: _io.size >= 232
        -orig-id: TimeZoneId
      time_zone:
        pos: 0x3c
        type: time_zone_information
        if: _io.size >= 232
        -orig-id: TimeZone
      build_string:
        pos: 0xe8
        size: 520
        if: _io.size >= 832
        -orig-id: BuildString
        doc: UTF-16LE, NUL-padded (WCHAR[260]).
      dbg_bld_str:
        pos: 0x2f0
        size: 80
        if: _io.size >= 832
        -orig-id: DbgBldStr
        doc: UTF-16LE, NUL-padded (WCHAR[40]).
      xstate_data:
        pos: 0x340
        type: xstate_config_feature_msc_info
        if: _io.size >= 1364
        -orig-id: XStateData
      process_cookie:
        pos: 0x550
        type: u4
        if: _io.size >= 1364
        -orig-id: ProcessCookie

  misc_power_info:
    doc: The MINIDUMP_MISC_INFO_2 processor power fields (valid with flag 0x4).
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_misc_info_2
    seq:
      - id: processor_max_mhz
        type: u4
        -orig-id: ProcessorMaxMhz
      - id: processor_current_mhz
        type: u4
        -orig-id: ProcessorCurrentMhz
      - id: processor_mhz_limit
        type: u4
        -orig-id: ProcessorMhzLimit
      - id: processor_max_idle_state
        type: u4
        -orig-id: ProcessorMaxIdleState
      - id: processor_current_idle_state
        type: u4
        -orig-id: ProcessorCurrentIdleState

  time_zone_information:
    doc: TIME_ZONE_INFORMATION (172 bytes).
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/timezoneapi/ns-timezoneapi-time_zone_information
    seq:
      - id: bias
        type: s4
        -orig-id: Bias
        doc: Minutes, UTC = local time + bias.
      - id: standard_name
        size: 64
        -orig-id: StandardName
        doc: UTF-16LE, NUL-padded.
      - id: standard_date
        type: system_time
        -orig-id: StandardDate
      - id: standard_bias
        type: s4
        -orig-id: StandardBias
      - id: daylight_name
        size: 64
        -orig-id: DaylightName
      - id: daylight_date
        type: system_time
        -orig-id: DaylightDate
      - id: daylight_bias
        type: s4
        -orig-id: DaylightBias

  system_time:
    doc: SYSTEMTIME (16 bytes).
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minwinbase/ns-minwinbase-systemtime
    seq:
      - id: year
        type: u2
      - id: month
        type: u2
      - id: day_of_week
        type: u2
      - id: day
        type: u2
      - id: hour
        type: u2
      - id: minute
        type: u2
      - id: second
        type: u2
      - id: milliseconds
        type: u2

  xstate_config_feature_msc_info:
    doc: XSTATE_CONFIG_FEATURE_MSC_INFO (528 bytes).
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_misc_info_5
    seq:
      - id: len_info
        type: u4
        -orig-id: SizeOfInfo
      - id: len_context
        type: u4
        -orig-id: ContextSize
      - id: enabled_features
        type: u8
        -orig-id: EnabledFeatures
      - id: features
        type: xstate_feature
        repeat: expr
        repeat-expr: 64
        -orig-id: Features

  xstate_feature:
    doc: XSTATE_FEATURE (8 bytes).
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_misc_info_5
    seq:
      - id: ofs_feature
        type: u4
        -orig-id: Offset
      - id: len_feature
        type: u4
        -orig-id: Size

  thread_info_list:
    doc: MINIDUMP_THREAD_INFO_LIST (stream 17); entries start at `len_header`, stride `len_entry`.
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_thread_info_list
    seq:
      - id: len_header
        type: u4
        valid:
          min: 12
        -orig-id: SizeOfHeader
      - id: len_entry
        type: u4
        valid:
          min: 64
        -orig-id: SizeOfEntry
      - id: num_entries
        type: u4
        valid:
          max: (_io.size - len_header) / len_entry
        -orig-id: NumberOfEntries
    instances:
      entries:
        pos: len_header
        size: len_entry
        type: thread_info
        repeat: expr
        repeat-expr: num_entries

  thread_info:
    doc: MINIDUMP_THREAD_INFO (64 bytes).
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_thread_info
    seq:
      - id: thread_id
        type: u4
        -orig-id: ThreadId
      - id: dump_flags
        type: u4
        -orig-id: DumpFlags
        doc: |
          ERROR_THREAD 0x1, WRITING_THREAD 0x2, EXITED_THREAD 0x4, INVALID_INFO 0x8,
          INVALID_CONTEXT 0x10, INVALID_TEB 0x20.
      - id: dump_error
        type: u4
        -orig-id: DumpError
        doc: HRESULT
      - id: exit_status
        type: u4
        -orig-id: ExitStatus
      - id: create_time
        type: u8
        -orig-id: CreateTime
        doc: FILETIME
      - id: exit_time
        type: u8
        -orig-id: ExitTime
        doc: FILETIME
      - id: kernel_time
        type: u8
        -orig-id: KernelTime
        doc: 100 ns units
      - id: user_time
        type: u8
        -orig-id: UserTime
        doc: 100 ns units
      - id: start_address
        type: u8
        -orig-id: StartAddress
      - id: affinity
        type: u8
        -orig-id: Affinity

  handle_data:
    doc: MINIDUMP_HANDLE_DATA_STREAM (stream 12); descriptors start at `len_header`, stride `len_descriptor`.
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_handle_data_stream
    seq:
      - id: len_header
        type: u4
        valid:
          min: 16
        -orig-id: SizeOfHeader
      - id: len_descriptor
        type: u4
        valid:
          min: 32
        -orig-id: SizeOfDescriptor
        doc: 32 (MINIDUMP_HANDLE_DESCRIPTOR) or 40 (MINIDUMP_HANDLE_DESCRIPTOR_2).
      - id: num_descriptors
        type: u4
        valid:
          max: (_io.size - len_header) / len_descriptor
        -orig-id: NumberOfDescriptors
      - id: reserved
        type: u4
        -orig-id: Reserved
    instances:
      descriptors:
        pos: len_header
        size: len_descriptor
        type: handle_descriptor
        repeat: expr
        repeat-expr: num_descriptors

  handle_descriptor:
    doc: MINIDUMP_HANDLE_DESCRIPTOR (32 bytes) or MINIDUMP_HANDLE_DESCRIPTOR_2 (40 bytes).
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_handle_descriptor_2
    seq:
      - id: handle
        type: u8
        -orig-id: Handle
        doc: Windows HANDLE value; a file descriptor in Breakpad/Crashpad dumps.
      - id: ofs_type_name
        type: u4
        -orig-id: TypeNameRva
      - id: ofs_object_name
        type: u4
        -orig-id: ObjectNameRva
      - id: attributes
        type: u4
        -orig-id: Attributes
      - id: granted_access
        type: u4
        -orig-id: GrantedAccess
      - id: handle_count
        type: u4
        -orig-id: HandleCount
      - id: pointer_count
        type: u4
        -orig-id: PointerCount
      - id: ofs_object_info
        type: u4
        if: _io.size >= 40
        -orig-id: ObjectInfoRva
        doc: First MINIDUMP_HANDLE_OBJECT_INFORMATION of a chain (0 = none).
      - id: reserved0
        type: u4
        if: _io.size >= 40
        -orig-id: Reserved0
    instances:
      type_name:
        io: _root._io
        pos: ofs_type_name
        type: minidump_string
        if: ofs_type_name != 0
      object_name:
        io: _root._io
        pos: ofs_object_name
        type: minidump_string
        if: ofs_object_name != 0
      object_info:
        io: _root._io
        pos: ofs_object_info
        type: handle_object_info
        if: _io.size >= 40 and ofs_object_info != 0

  handle_object_info:
    doc: |
      MINIDUMP_HANDLE_OBJECT_INFORMATION header; `len_info` bytes of type-specific data follow.
      `ofs_next_info` chains to the next one (0 ends the chain; readers must bound the walk).
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_handle_object_information
    seq:
      - id: ofs_next_info
        type: u4
        -orig-id: NextInfoRva
      - id: info_type
        type: u4
        enum: handle_object_info_types
        -orig-id: InfoType
      - id: len_info
        type: u4
        -orig-id: SizeOfInfo

  thread_name_list:
    doc: MINIDUMP_THREAD_NAME_LIST (stream 24); 12-byte entries, optional 4-byte padding after the count.
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_thread_name_list
    seq:
      - id: num_thread_names
        type: u4
        valid:
          max: (_io.size - 4) / 12
        -orig-id: NumberOfThreadNames
      - id: padding
        size: 4
        if: has_padding
      - id: thread_names
        type: thread_name
        repeat: expr
        repeat-expr: num_thread_names
        -orig-id: ThreadNames
    instances:
      has_padding:
        value: _io.size - 4 - num_thread_names * 12 == 4

  thread_name:
    doc: MINIDUMP_THREAD_NAME (12 bytes, packed to 4).
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_thread_name
    seq:
      - id: thread_id
        type: u4
        -orig-id: ThreadId
      - id: ofs_thread_name
        type: u8
        -orig-id: RvaOfThreadName
        doc: A 64-bit RVA of a MINIDUMP_STRING.
    instances:
      thread_name:
        io: _root._io
        pos: ofs_thread_name
        type: minidump_string
        if: ofs_thread_name != 0

  # ---------------------------------------------------------------- Breakpad / Crashpad
  breakpad_info:
    doc: MDRawBreakpadInfo (stream 0x47670001, 12 bytes).
    doc-ref: https://chromium.googlesource.com/breakpad/breakpad/+/HEAD/src/google_breakpad/common/minidump_format.h
    seq:
      - id: validity
        type: u4
        doc: bit 0 = dump_thread_id valid, bit 1 = requesting_thread_id valid.
      - id: dump_thread_id
        type: u4
        doc: The thread that wrote the dump (not part of the crash).
      - id: requesting_thread_id
        type: u4
        doc: The thread that asked for the dump (the crashing one for in-process handlers).

  assertion_info:
    doc: MDRawAssertionInfo (stream 0x47670002, 0x308 bytes); strings are UTF-16LE, NUL-terminated.
    doc-ref: https://chromium.googlesource.com/breakpad/breakpad/+/HEAD/src/google_breakpad/common/minidump_format.h
    seq:
      - id: expression
        size: 256
      - id: function
        size: 256
      - id: file
        size: 256
      - id: line
        type: u4
      - id: type
        type: u4
        enum: assertion_types

  linux_text:
    doc: |
      A raw Linux text file copied by Breakpad: /proc/cpuinfo, /proc/PID/status,
      /etc/lsb-release (or os-release), /proc/PID/cmdline and /proc/PID/environ (NUL
      separated), /proc/PID/maps.
    doc-ref: https://chromium.googlesource.com/breakpad/breakpad/+/HEAD/src/client/linux/minidump_writer/minidump_writer.cc
    seq:
      - id: text
        size-eos: true

  linux_auxv:
    doc: |
      The raw auxiliary vector (stream 0x47670008): (a_type, a_val) pairs of the target's
      native word size, which the reader picks from the CPU architecture.
    doc-ref: https://man7.org/linux/man-pages/man3/getauxval.3.html
    instances:
      entries_32:
        pos: 0
        type: auxv_entry_32
        repeat: eos
      entries_64:
        pos: 0
        type: auxv_entry_64
        repeat: eos

  auxv_entry_32:
    doc: Elf32_auxv_t
    doc-ref: https://man7.org/linux/man-pages/man3/getauxval.3.html
    seq:
      - id: a_type
        type: u4
      - id: a_val
        type: u4

  auxv_entry_64:
    doc: Elf64_auxv_t
    doc-ref: https://man7.org/linux/man-pages/man3/getauxval.3.html
    seq:
      - id: a_type
        type: u8
      - id: a_val
        type: u8

  linux_dso_debug:
    doc: |
      Breakpad's MDRawDebug (stream 0x4767000A), followed in the stream by a copy of the
      target's DYNAMIC section. The header is native-layout: the reader picks the 32- or
      64-bit view from the CPU architecture. (Real 64-bit dumps confirm the padded layout:
      stream sizes are 0x28 + 16 * n.)
    doc-ref: https://chromium.googlesource.com/breakpad/breakpad/+/HEAD/src/google_breakpad/common/minidump_format.h
    instances:
      debug_32:
        pos: 0
        type: raw_debug_32
      debug_64:
        pos: 0
        type: raw_debug_64

  raw_debug_32:
    doc: MDRawDebug32 (24 bytes).
    doc-ref: https://chromium.googlesource.com/breakpad/breakpad/+/HEAD/src/google_breakpad/common/minidump_format.h
    seq:
      - id: version
        type: u4
      - id: ofs_map
        type: u4
        doc: RVA of `num_dso` MDRawLinkMap32 entries.
      - id: num_dso
        type: u4
        -orig-id: dso_count
      - id: brk
        type: u4
      - id: ldbase
        type: u4
      - id: dynamic
        type: u4
    instances:
      link_maps:
        io: _root._io
        pos: ofs_map
        type: link_map_32
        repeat: expr
        repeat-expr: num_dso

  raw_debug_64:
    doc: MDRawDebug64 (0x28 bytes, natural alignment).
    doc-ref: https://chromium.googlesource.com/breakpad/breakpad/+/HEAD/src/google_breakpad/common/minidump_format.h
    seq:
      - id: version
        type: u4
      - id: ofs_map
        type: u4
        doc: RVA of `num_dso` MDRawLinkMap64 entries.
      - id: num_dso
        type: u4
        -orig-id: dso_count
      - id: padding
        type: u4
      - id: brk
        type: u8
      - id: ldbase
        type: u8
      - id: dynamic
        type: u8
    instances:
      link_maps:
        io: _root._io
        pos: ofs_map
        type: link_map_64
        repeat: expr
        repeat-expr: num_dso

  link_map_32:
    doc: MDRawLinkMap32 (12 bytes).
    doc-ref: https://chromium.googlesource.com/breakpad/breakpad/+/HEAD/src/google_breakpad/common/minidump_format.h
    seq:
      - id: addr
        type: u4
      - id: ofs_name
        type: u4
      - id: ld
        type: u4
    instances:
      name:
        io: _root._io
        pos: ofs_name
        type: minidump_string
        if: ofs_name != 0

  link_map_64:
    doc: MDRawLinkMap64 (0x18 bytes, natural alignment).
    doc-ref: https://chromium.googlesource.com/breakpad/breakpad/+/HEAD/src/google_breakpad/common/minidump_format.h
    seq:
      - id: addr
        type: u8
      - id: ofs_name
        type: u4
      - id: padding
        type: u4
      - id: ld
        type: u8
    instances:
      name:
        io: _root._io
        pos: ofs_name
        type: minidump_string
        if: ofs_name != 0

  crashpad_info:
    doc: MinidumpCrashpadInfo (stream 0x43500001).
    doc-ref: https://chromium.googlesource.com/crashpad/crashpad/+/HEAD/minidump/minidump_extensions.h
    seq:
      - id: version
        type: u4
      - id: report_id
        type: guid
      - id: client_id
        type: guid
      - id: simple_annotations
        type: location_descriptor
        doc: MinidumpSimpleStringDictionary (DataSize 0 = none).
      - id: module_list
        type: location_descriptor
        doc: MinidumpModuleCrashpadInfoList (DataSize 0 = none).
      - id: reserved
        type: u4
        if: _io.size >= 0x38
      - id: address_mask
        type: u8
        if: _io.size >= 0x40
        doc: Pointer-authentication mask (newer writers).
    instances:
      simple_annotations_dict:
        io: _root._io
        pos: simple_annotations.ofs_data
        size: simple_annotations.len_data
        type: simple_string_dictionary
        if: simple_annotations.len_data != 0
      module_infos:
        io: _root._io
        pos: module_list.ofs_data
        size: module_list.len_data
        type: module_crashpad_info_list
        if: module_list.len_data != 0

  utf8_string:
    doc: MinidumpUTF8String, a byte length, UTF-8 text, then a NUL (not counted).
    doc-ref: https://chromium.googlesource.com/crashpad/crashpad/+/HEAD/minidump/minidump_extensions.h
    seq:
      - id: len_buffer
        type: u4
        valid:
          max: 0x100000
        doc: Capped at 1 MiB.
      - id: buffer
        size: len_buffer

  utf8_string_ref:
    doc: An RVA of a MinidumpUTF8String.
    doc-ref: https://chromium.googlesource.com/crashpad/crashpad/+/HEAD/minidump/minidump_extensions.h
    seq:
      - id: ofs_string
        type: u4
    instances:
      value:
        io: _root._io
        pos: ofs_string
        type: utf8_string

  byte_array:
    doc: MinidumpByteArray, a byte length, then the bytes.
    doc-ref: https://chromium.googlesource.com/crashpad/crashpad/+/HEAD/minidump/minidump_extensions.h
    seq:
      - id: len_data
        type: u4
        valid:
          max: 0x100000
      - id: data
        size: len_data

  simple_string_dictionary:
    doc: MinidumpSimpleStringDictionary.
    doc-ref: https://chromium.googlesource.com/crashpad/crashpad/+/HEAD/minidump/minidump_extensions.h
    seq:
      - id: num_entries
        type: u4
        valid:
          max: (_io.size - 4) / 8
        -orig-id: count
      - id: entries
        type: simple_string_dictionary_entry
        repeat: expr
        repeat-expr: num_entries

  simple_string_dictionary_entry:
    doc: MinidumpSimpleStringDictionaryEntry.
    doc-ref: https://chromium.googlesource.com/crashpad/crashpad/+/HEAD/minidump/minidump_extensions.h
    seq:
      - id: ofs_key
        type: u4
        -orig-id: key
      - id: ofs_value
        type: u4
        -orig-id: value
    instances:
      key:
        io: _root._io
        pos: ofs_key
        type: utf8_string
      value:
        io: _root._io
        pos: ofs_value
        type: utf8_string

  module_crashpad_info_list:
    doc: MinidumpModuleCrashpadInfoList.
    doc-ref: https://chromium.googlesource.com/crashpad/crashpad/+/HEAD/minidump/minidump_extensions.h
    seq:
      - id: num_links
        type: u4
        valid:
          max: (_io.size - 4) / 12
        -orig-id: count
      - id: links
        type: module_crashpad_info_link
        repeat: expr
        repeat-expr: num_links

  module_crashpad_info_link:
    doc: MinidumpModuleCrashpadInfoLink.
    doc-ref: https://chromium.googlesource.com/crashpad/crashpad/+/HEAD/minidump/minidump_extensions.h
    seq:
      - id: minidump_module_list_index
        type: u4
        doc: Index into the ModuleList stream.
      - id: location
        type: location_descriptor
    instances:
      info:
        io: _root._io
        pos: location.ofs_data
        size: location.len_data
        type: module_crashpad_info

  module_crashpad_info:
    doc: MinidumpModuleCrashpadInfo.
    doc-ref: https://chromium.googlesource.com/crashpad/crashpad/+/HEAD/minidump/minidump_extensions.h
    seq:
      - id: version
        type: u4
      - id: list_annotations
        type: location_descriptor
        doc: MinidumpRVAList of MinidumpUTF8String.
      - id: simple_annotations
        type: location_descriptor
        doc: MinidumpSimpleStringDictionary.
      - id: annotation_objects
        type: location_descriptor
        if: _io.size >= 28
        doc: MinidumpAnnotationList.
    instances:
      list_annotations_list:
        io: _root._io
        pos: list_annotations.ofs_data
        size: list_annotations.len_data
        type: rva_list
        if: list_annotations.len_data != 0
      simple_annotations_dict:
        io: _root._io
        pos: simple_annotations.ofs_data
        size: simple_annotations.len_data
        type: simple_string_dictionary
        if: simple_annotations.len_data != 0
      annotation_objects_list:
        io: _root._io
        pos: annotation_objects.ofs_data
        size: annotation_objects.len_data
        type: annotation_list
        if: _io.size >= 28 and annotation_objects.len_data != 0

  rva_list:
    doc: MinidumpRVAList of MinidumpUTF8String RVAs.
    doc-ref: https://chromium.googlesource.com/crashpad/crashpad/+/HEAD/minidump/minidump_extensions.h
    seq:
      - id: num_children
        type: u4
        valid:
          max: (_io.size - 4) / 4
        -orig-id: count
      - id: children
        type: utf8_string_ref
        repeat: expr
        repeat-expr: num_children

  annotation_list:
    doc: MinidumpAnnotationList.
    doc-ref: https://chromium.googlesource.com/crashpad/crashpad/+/HEAD/minidump/minidump_extensions.h
    seq:
      - id: num_objects
        type: u4
        valid:
          max: (_io.size - 4) / 12
        -orig-id: count
      - id: objects
        type: annotation
        repeat: expr
        repeat-expr: num_objects

  annotation:
    doc: MinidumpAnnotation (12 bytes); type 1 = string, >= 0x8000 user-defined.
    doc-ref: https://chromium.googlesource.com/crashpad/crashpad/+/HEAD/minidump/minidump_extensions.h
    seq:
      - id: ofs_name
        type: u4
        -orig-id: name
      - id: type
        type: u2
      - id: reserved
        type: u2
      - id: ofs_value
        type: u4
        -orig-id: value
    instances:
      name:
        io: _root._io
        pos: ofs_name
        type: utf8_string
      value:
        io: _root._io
        pos: ofs_value
        type: byte_array

  # ---------------------------------------------------------------- CPU contexts
  context_x86:
    doc: CONTEXT for x86 (0x2CC = 716 bytes; more with XSTATE). ContextFlags CPU bits 0x00010000.
    doc-ref: https://chromium.googlesource.com/breakpad/breakpad/+/HEAD/src/google_breakpad/common/minidump_cpu_x86.h
    seq:
      - id: context_flags
        type: u4
        -orig-id: ContextFlags
      - id: dr0
        type: u4
      - id: dr1
        type: u4
      - id: dr2
        type: u4
      - id: dr3
        type: u4
      - id: dr6
        type: u4
      - id: dr7
        type: u4
      - id: float_save
        type: floating_save_area_x86
        -orig-id: FloatSave
      - id: gs
        type: u4
        -orig-id: SegGs
      - id: fs
        type: u4
        -orig-id: SegFs
      - id: es
        type: u4
        -orig-id: SegEs
      - id: ds
        type: u4
        -orig-id: SegDs
      - id: edi
        type: u4
      - id: esi
        type: u4
      - id: ebx
        type: u4
      - id: edx
        type: u4
      - id: ecx
        type: u4
      - id: eax
        type: u4
      - id: ebp
        type: u4
      - id: eip
        type: u4
      - id: cs
        type: u4
        -orig-id: SegCs
      - id: eflags
        type: u4
        -orig-id: EFlags
      - id: esp
        type: u4
      - id: ss
        type: u4
        -orig-id: SegSs
      - id: extended_registers
        size: 512
        -orig-id: ExtendedRegisters
        doc: FXSAVE image.

  floating_save_area_x86:
    doc: FLOATING_SAVE_AREA (112 bytes).
    doc-ref: https://chromium.googlesource.com/breakpad/breakpad/+/HEAD/src/google_breakpad/common/minidump_cpu_x86.h
    seq:
      - id: control_word
        type: u4
      - id: status_word
        type: u4
      - id: tag_word
        type: u4
      - id: error_offset
        type: u4
      - id: error_selector
        type: u4
      - id: data_offset
        type: u4
      - id: data_selector
        type: u4
      - id: register_area
        size: 80
      - id: cr0_npx_state
        type: u4

  context_amd64:
    doc: CONTEXT for AMD64 (0x4D0 = 1232 bytes; more with XSTATE). ContextFlags (at 0x30) CPU bits 0x00100000.
    doc-ref: https://chromium.googlesource.com/breakpad/breakpad/+/HEAD/src/google_breakpad/common/minidump_cpu_amd64.h
    seq:
      - id: p_home
        type: u8
        repeat: expr
        repeat-expr: 6
        -orig-id: P1Home..P6Home
      - id: context_flags
        type: u4
        -orig-id: ContextFlags
      - id: mx_csr
        type: u4
        -orig-id: MxCsr
      - id: cs
        type: u2
        -orig-id: SegCs
      - id: ds
        type: u2
        -orig-id: SegDs
      - id: es
        type: u2
        -orig-id: SegEs
      - id: fs
        type: u2
        -orig-id: SegFs
      - id: gs
        type: u2
        -orig-id: SegGs
      - id: ss
        type: u2
        -orig-id: SegSs
      - id: eflags
        type: u4
        -orig-id: EFlags
      - id: dr0
        type: u8
      - id: dr1
        type: u8
      - id: dr2
        type: u8
      - id: dr3
        type: u8
      - id: dr6
        type: u8
      - id: dr7
        type: u8
      - id: rax
        type: u8
      - id: rcx
        type: u8
      - id: rdx
        type: u8
      - id: rbx
        type: u8
      - id: rsp
        type: u8
      - id: rbp
        type: u8
      - id: rsi
        type: u8
      - id: rdi
        type: u8
      - id: r8
        type: u8
      - id: r9
        type: u8
      - id: r10
        type: u8
      - id: r11
        type: u8
      - id: r12
        type: u8
      - id: r13
        type: u8
      - id: r14
        type: u8
      - id: r15
        type: u8
      - id: rip
        type: u8
      - id: flt_save
        size: 512
        -orig-id: FltSave
        doc: XMM_SAVE_AREA32 (FXSAVE image); Xmm0 at context offset 0x1A0.
      - id: vector_register
        size: 416
        -orig-id: VectorRegister
        doc: 26 x 16 bytes.
      - id: vector_control
        type: u8
      - id: debug_control
        type: u8
      - id: last_branch_to_rip
        type: u8
      - id: last_branch_from_rip
        type: u8
      - id: last_exception_to_rip
        type: u8
      - id: last_exception_from_rip
        type: u8

  context_arm:
    doc: Breakpad MDRawContextARM / Windows ARM CONTEXT prefix (368 bytes). Flags CPU bits 0x40000000.
    doc-ref: https://chromium.googlesource.com/breakpad/breakpad/+/HEAD/src/google_breakpad/common/minidump_cpu_arm.h
    seq:
      - id: context_flags
        type: u4
      - id: r0
        type: u4
      - id: r1
        type: u4
      - id: r2
        type: u4
      - id: r3
        type: u4
      - id: r4
        type: u4
      - id: r5
        type: u4
      - id: r6
        type: u4
      - id: r7
        type: u4
      - id: r8
        type: u4
      - id: r9
        type: u4
      - id: r10
        type: u4
      - id: r11
        type: u4
        doc: Frame pointer (ARM state; r7 on iOS).
      - id: r12
        type: u4
      - id: sp
        type: u4
        doc: r13
      - id: lr
        type: u4
        doc: r14
      - id: pc
        type: u4
        doc: r15
      - id: cpsr
        type: u4
      - id: fpscr
        type: u8
      - id: float_regs
        size: 256
        doc: d0..d31
      - id: extra
        size: 32

  context_arm64:
    doc: CONTEXT for ARM64 (Windows; also Breakpad's new MDRawContextARM64) (0x390 = 912 bytes). Flags CPU bits 0x00400000.
    doc-ref: https://chromium.googlesource.com/breakpad/breakpad/+/HEAD/src/google_breakpad/common/minidump_cpu_arm64.h
    seq:
      - id: context_flags
        type: u4
        -orig-id: ContextFlags
      - id: cpsr
        type: u4
        -orig-id: Cpsr
      - id: x
        type: u8
        repeat: expr
        repeat-expr: 29
        doc: x0..x28
      - id: fp
        type: u8
        doc: x29
      - id: lr
        type: u8
        doc: x30
      - id: sp
        type: u8
      - id: pc
        type: u8
      - id: v
        size: 512
        doc: v0..v31 (16 bytes each)
      - id: fpcr
        type: u4
      - id: fpsr
        type: u4
      - id: bcr
        size: 32
      - id: bvr
        size: 64
      - id: wcr
        size: 8
      - id: wvr
        size: 16

  context_arm64_old:
    doc: Breakpad MDRawContextARM64_Old (796 bytes, packed to 4). Flags (u8) CPU bits 0x80000000.
    doc-ref: https://chromium.googlesource.com/breakpad/breakpad/+/HEAD/src/google_breakpad/common/minidump_cpu_arm64.h
    seq:
      - id: context_flags
        type: u8
      - id: x
        type: u8
        repeat: expr
        repeat-expr: 29
        doc: x0..x28
      - id: fp
        type: u8
      - id: lr
        type: u8
      - id: sp
        type: u8
      - id: pc
        type: u8
      - id: cpsr
        type: u4
      - id: fpsr
        type: u4
      - id: fpcr
        type: u4
      - id: float_regs
        size: 512
        doc: v0..v31 (16 bytes each, unaligned)

enums:
  stream_types:
    0:
      id: unused
      -orig-id: UnusedStream
    1:
      id: reserved0
      -orig-id: ReservedStream0
    2:
      id: reserved1
      -orig-id: ReservedStream1
    3:
      id: thread_list
      -orig-id: ThreadListStream
    4:
      id: module_list
      -orig-id: ModuleListStream
    5:
      id: memory_list
      -orig-id: MemoryListStream
    6:
      id: exception
      -orig-id: ExceptionStream
    7:
      id: system_info
      -orig-id: SystemInfoStream
    8:
      id: thread_ex_list
      -orig-id: ThreadExListStream
    9:
      id: memory64_list
      -orig-id: Memory64ListStream
    10:
      id: comment_a
      -orig-id: CommentStreamA
    11:
      id: comment_w
      -orig-id: CommentStreamW
    12:
      id: handle_data
      -orig-id: HandleDataStream
    13:
      id: function_table
      -orig-id: FunctionTableStream
    14:
      id: unloaded_module_list
      -orig-id: UnloadedModuleListStream
    15:
      id: misc_info
      -orig-id: MiscInfoStream
    16:
      id: memory_info_list
      -orig-id: MemoryInfoListStream
    17:
      id: thread_info_list
      -orig-id: ThreadInfoListStream
    18:
      id: handle_operation_list
      -orig-id: HandleOperationListStream
    19:
      id: token
      -orig-id: TokenStream
    20:
      id: java_script_data
      -orig-id: JavaScriptDataStream
    21:
      id: system_memory_info
      -orig-id: SystemMemoryInfoStream
    22:
      id: process_vm_counters
      -orig-id: ProcessVmCountersStream
    23:
      id: ipt_trace
      -orig-id: IptTraceStream
    24:
      id: thread_names
      -orig-id: ThreadNamesStream
    0x8000:
      id: ce_null
      -orig-id: ceStreamNull
    0x8001:
      id: ce_system_info
      -orig-id: ceStreamSystemInfo
    0x8002:
      id: ce_exception
      -orig-id: ceStreamException
    0x8003:
      id: ce_module_list
      -orig-id: ceStreamModuleList
    0x8004:
      id: ce_process_list
      -orig-id: ceStreamProcessList
    0x8005:
      id: ce_thread_list
      -orig-id: ceStreamThreadList
    0x8006:
      id: ce_thread_context_list
      -orig-id: ceStreamThreadContextList
    0x8007:
      id: ce_thread_call_stack_list
      -orig-id: ceStreamThreadCallStackList
    0x8008:
      id: ce_memory_virtual_list
      -orig-id: ceStreamMemoryVirtualList
    0x8009:
      id: ce_memory_physical_list
      -orig-id: ceStreamMemoryPhysicalList
    0x800a:
      id: ce_bucket_parameters
      -orig-id: ceStreamBucketParameters
    0x800b:
      id: ce_process_module_map
      -orig-id: ceStreamProcessModuleMap
    0x800c:
      id: ce_diagnosis_list
      -orig-id: ceStreamDiagnosisList
    0xffff:
      id: last_reserved
      -orig-id: LastReservedStream
    0x47670001:
      id: breakpad_info
      -orig-id: MD_BREAKPAD_INFO_STREAM
    0x47670002:
      id: assertion_info
      -orig-id: MD_ASSERTION_INFO_STREAM
    0x47670003:
      id: linux_cpu_info
      -orig-id: MD_LINUX_CPU_INFO
    0x47670004:
      id: linux_proc_status
      -orig-id: MD_LINUX_PROC_STATUS
    0x47670005:
      id: linux_lsb_release
      -orig-id: MD_LINUX_LSB_RELEASE
    0x47670006:
      id: linux_cmd_line
      -orig-id: MD_LINUX_CMD_LINE
    0x47670007:
      id: linux_environ
      -orig-id: MD_LINUX_ENVIRON
    0x47670008:
      id: linux_auxv
      -orig-id: MD_LINUX_AUXV
    0x47670009:
      id: linux_maps
      -orig-id: MD_LINUX_MAPS
    0x4767000a:
      id: linux_dso_debug
      -orig-id: MD_LINUX_DSO_DEBUG
    0x43500001:
      id: crashpad_info
      -orig-id: MD_CRASHPAD_INFO_STREAM
    0x4b6b0002:
      id: chromium_stability_report
      -orig-id: MD_CHROMIUM_STABILITY_REPORT
    0x4d7a0001:
      id: mozilla_macos_crash_info
      -orig-id: MOZ_MACOS_CRASH_INFO_STREAM
    0x4d7a0002:
      id: mozilla_macos_bootargs
      -orig-id: MOZ_MACOS_BOOTARGS_STREAM
    0x4d7a0003:
      id: mozilla_linux_limits
      -orig-id: MOZ_LINUX_LIMITS
    0x4d7a0004:
      id: mozilla_soft_errors
      -orig-id: MOZ_SOFT_ERRORS

  processor_architectures:
    0:
      id: intel
      -orig-id: PROCESSOR_ARCHITECTURE_INTEL
    1:
      id: mips
      -orig-id: PROCESSOR_ARCHITECTURE_MIPS
    2:
      id: alpha
      -orig-id: PROCESSOR_ARCHITECTURE_ALPHA
    3:
      id: ppc
      -orig-id: PROCESSOR_ARCHITECTURE_PPC
    4:
      id: shx
      -orig-id: PROCESSOR_ARCHITECTURE_SHX
    5:
      id: arm
      -orig-id: PROCESSOR_ARCHITECTURE_ARM
    6:
      id: ia64
      -orig-id: PROCESSOR_ARCHITECTURE_IA64
    7:
      id: alpha64
      -orig-id: PROCESSOR_ARCHITECTURE_ALPHA64
    8:
      id: msil
      -orig-id: PROCESSOR_ARCHITECTURE_MSIL
    9:
      id: amd64
      -orig-id: PROCESSOR_ARCHITECTURE_AMD64
    10:
      id: ia32_on_win64
      -orig-id: PROCESSOR_ARCHITECTURE_IA32_ON_WIN64
    12:
      id: arm64
      -orig-id: PROCESSOR_ARCHITECTURE_ARM64
    0x8001:
      id: sparc
      -orig-id: MD_CPU_ARCHITECTURE_SPARC
    0x8002:
      id: ppc64
      -orig-id: MD_CPU_ARCHITECTURE_PPC64
    0x8003:
      id: arm64_old
      -orig-id: MD_CPU_ARCHITECTURE_ARM64_OLD
    0x8004:
      id: mips64
      -orig-id: MD_CPU_ARCHITECTURE_MIPS64
    0x8005:
      id: riscv
      -orig-id: MD_CPU_ARCHITECTURE_RISCV
    0x8006:
      id: riscv64
      -orig-id: MD_CPU_ARCHITECTURE_RISCV64
    0xffff:
      id: unknown
      -orig-id: PROCESSOR_ARCHITECTURE_UNKNOWN

  platform_ids:
    0:
      id: win32s
      -orig-id: VER_PLATFORM_WIN32s
    1:
      id: win32_windows
      -orig-id: VER_PLATFORM_WIN32_WINDOWS
    2:
      id: win32_nt
      -orig-id: VER_PLATFORM_WIN32_NT
    3:
      id: win32_ce
      -orig-id: VER_PLATFORM_WIN32_CE
    0x8000:
      id: unix
      -orig-id: MD_OS_UNIX
    0x8101:
      id: macos
      -orig-id: MD_OS_MAC_OS_X
    0x8102:
      id: ios
      -orig-id: MD_OS_IOS
    0x8201:
      id: linux
      -orig-id: MD_OS_LINUX
    0x8202:
      id: solaris
      -orig-id: MD_OS_SOLARIS
    0x8203:
      id: android
      -orig-id: MD_OS_ANDROID
    0x8204:
      id: ps3
      -orig-id: MD_OS_PS3
    0x8205:
      id: nacl
      -orig-id: MD_OS_NACL
    0x8206:
      id: fuchsia
      -orig-id: MD_OS_FUCHSIA

  product_types:
    1:
      id: workstation
      -orig-id: VER_NT_WORKSTATION
    2:
      id: domain_controller
      -orig-id: VER_NT_DOMAIN_CONTROLLER
    3:
      id: server
      -orig-id: VER_NT_SERVER

  cv_signatures:
    0x53445352:
      id: pdb70
      doc: bytes `RSDS`
    0x3031424e:
      id: pdb20
      doc: bytes `NB10`
    0x4270454c:
      id: elf_build_id
      doc: Breakpad 'BpEL' (bytes `LEpB`)
    0x3930424e:
      id: cv410
      doc: bytes `NB09`, embedded CodeView 4.10
    0x3131424e:
      id: cv50
      doc: bytes `NB11`, embedded CodeView 5.0

  memory_states:
    0x1000:
      id: commit
      -orig-id: MEM_COMMIT
    0x2000:
      id: reserve
      -orig-id: MEM_RESERVE
    0x10000:
      id: free
      -orig-id: MEM_FREE

  memory_types:
    0x20000:
      id: private
      -orig-id: MEM_PRIVATE
    0x40000:
      id: mapped
      -orig-id: MEM_MAPPED
    0x1000000:
      id: image
      -orig-id: MEM_IMAGE

  handle_object_info_types:
    0: none
    1: thread_1
    2: mutant_1
    3: mutant_2
    4: process_1
    5: process_2
    6: event_1
    7: section_1
    8: semaphore_1

  assertion_types:
    0: unknown
    1: invalid_parameter
    2: pure_virtual_call
