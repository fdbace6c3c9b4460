meta:
  id: windows_crashdump
  title: Windows kernel crash dump (PAGEDUMP / PAGEDU64, MEMORY.DMP and small memory dumps)
  file-extension: dmp
  license: MIT
  endian: le
doc: |
  Windows kernel-mode crash dump: a fixed header (DUMP_HEADER32, 0x1000 bytes, or
  DUMP_HEADER64, 0x2000 bytes) followed by a DumpType-dependent body: physical pages
  stored run by run (complete dumps), a bitmap header and the pages whose bit is set
  (kernel / full bitmap dumps), an RDMP range table (types 8, 9, 0xA), or a triage
  block of sections (small memory dumps).

  Header fields Windows did not set are filled with the ASCII pattern `PAGE`
  (u4 0x45474150 / u8 0x4547415045474150); readers report those as absent.

  Page data, the bitmap bits and the triage memory blocks are never parsed here:
  their file offsets and sizes are exposed and the reader reads them on demand.
doc-ref: docs/formats.md section 2 (DUMP_HEADER32/64, PHYSICAL_MEMORY_DESCRIPTOR, TRIAGE_DUMP, KDDEBUGGER_DATA64)
seq:
  - id: magic
    contents: PAGE
    -orig-id: Signature
  - id: valid_dump
    type: u4
    enum: header_kind
    valid:
      any-of:
        - header_kind::dump32
        - header_kind::dump64
    -orig-id: ValidDump
    doc: '`DUMP` for DUMP_HEADER32, `DU64` for DUMP_HEADER64 (decides 32 vs 64, not MachineImageType).'
instances:
  is_64:
    value: valid_dump == header_kind::dump64
  len_header:
    value: 'is_64 ? 0x2000 : 0x1000'
    doc: Size of the fixed header; DumpType-dependent data starts here.
  header32:
    pos: 0
    type: dump_header32
    if: not is_64
  header64:
    pos: 0
    type: dump_header64
    if: is_64
  dump_type:
    value: 'is_64 ? header64.dump_type.to_i : header32.dump_type.to_i'
  bitmap_header:
    pos: len_header
    size: 0x38
    type: bitmap_dump_header
    doc: Modern SDMP / FDMP header of kernel (2, 6) and full bitmap (5) dumps.
  ofs_bitmap:
    value: len_header + 0x38
    doc: File offset of the page bitmap (bit n set = PFN n stored, LSB first).
  len_bitmap:
    value: (bitmap_header.num_bits + 7) / 8
    doc: Bytes of the page bitmap (never read here; the reader indexes it lazily).
  summary_header32_legacy:
    pos: 0x1000
    size: 0x20
    type: summary_dump_header32_legacy
    if: not is_64
    doc: XP-era 32-bit type-2 summary header (unverified layout; used only when the modern one fails its checks).
  rdmp_header:
    pos: len_header
    type: rdmp_header
    if: is_64
    doc: Range-based dumps (DumpType 8, 9, 0xA).
  rdmp_full_info:
    pos: len_header + 0x20
    size: 0x10
    type: rdmp_full_info
    if: is_64
  triage64:
    pos: 0x2000
    type: triage_dump64
    if: is_64
  triage32:
    pos: 0x1000
    type: triage_dump32
    if: not is_64
types:
  dump_header32:
    doc: DUMP_HEADER32, 0x1000 bytes.
    doc-ref: docs/formats.md 2.1
    seq:
      - id: magic
        contents: PAGE
        -orig-id: Signature
      - id: valid_dump
        contents: DUMP
        -orig-id: ValidDump
      - id: major_version
        type: u4
        -orig-id: MajorVersion
        doc: 0xF free build, 0xC checked build.
      - id: minor_version
        type: u4
        -orig-id: MinorVersion
        doc: NT build number.
      - id: directory_table_base
        type: u4
        -orig-id: DirectoryTableBase
        doc: CR3; with PAE a 32-byte aligned PDPT address (do not page-align).
      - id: pfn_data_base
        type: u4
        -orig-id: PfnDataBase
      - id: ps_loaded_module_list
        type: u4
        -orig-id: PsLoadedModuleList
      - id: ps_active_process_head
        type: u4
        -orig-id: PsActiveProcessHead
      - id: machine_image_type
        type: u4
        enum: machine_type
        -orig-id: MachineImageType
      - id: number_processors
        type: u4
        -orig-id: NumberProcessors
      - id: bug_check_code
        type: u4
        -orig-id: BugCheckCode
      - id: bug_check_parameters
        type: u4
        repeat: expr
        repeat-expr: 4
        -orig-id: BugCheckParameter1..4
      - id: version_user
        size: 32
        -orig-id: VersionUser
      - id: pae_enabled
        type: u1
        -orig-id: PaeEnabled
      - id: kd_secondary_version
        type: u1
        -orig-id: KdSecondaryVersion
      - id: spare3
        type: u2
        -orig-id: Spare3
      - id: kd_debugger_data_block
        type: u4
        -orig-id: KdDebuggerDataBlock
      - id: physical_memory_block
        size: 700
        type: physical_memory_descriptor32
        -orig-id: PhysicalMemoryBlock
      - id: context_record
        size: 1200
        type:
          switch-on: machine_image_type
          cases:
            machine_type::i386: context_x86
        -orig-id: ContextRecord
      - id: exception
        size: 0x50
        type: exception_record32
        -orig-id: Exception
      - id: comment
        size: 128
        -orig-id: Comment
      - id: attributes
        type: u4
        -orig-id: Attributes
      - id: boot_id
        type: u4
        -orig-id: BootId
      - id: reserved0
        size: 1760
        -orig-id: _reserved0
      - id: dump_type
        type: u4
        enum: dump_type
        -orig-id: DumpType
      - id: mini_dump_fields
        type: u4
        -orig-id: MiniDumpFields
        doc: TRIAGE_DUMP_* flags of the sections a small dump holds.
      - id: secondary_data_state
        type: u4
        -orig-id: SecondaryDataState
      - id: product_type
        type: u4
        enum: product_type
        -orig-id: ProductType
      - id: suite_mask
        type: u4
        -orig-id: SuiteMask
      - id: writer_status
        type: u4
        -orig-id: WriterStatus
      - id: required_dump_space
        type: s8
        -orig-id: RequiredDumpSpace
      - id: reserved2
        size: 16
        -orig-id: _reserved2
      - id: system_up_time
        type: u8
        -orig-id: SystemUpTime
        doc: 100 ns units.
      - id: system_time
        type: u8
        -orig-id: SystemTime
        doc: FILETIME of the crash.
      - id: reserved3
        size: 56
        -orig-id: _reserved3
  dump_header64:
    doc: DUMP_HEADER64, 0x2000 bytes. Field order differs from the 32-bit header after Exception.
    doc-ref: docs/formats.md 2.2
    seq:
      - id: magic
        contents: PAGE
        -orig-id: Signature
      - id: valid_dump
        contents: DU64
        -orig-id: ValidDump
      - id: major_version
        type: u4
        -orig-id: MajorVersion
      - id: minor_version
        type: u4
        -orig-id: MinorVersion
      - id: directory_table_base
        type: u8
        -orig-id: DirectoryTableBase
        doc: CR3 at crash time; low 12 bits may hold a PCID, bit 63 a no-flush hint.
      - id: pfn_data_base
        type: u8
        -orig-id: PfnDataBase
      - id: ps_loaded_module_list
        type: u8
        -orig-id: PsLoadedModuleList
      - id: ps_active_process_head
        type: u8
        -orig-id: PsActiveProcessHead
      - id: machine_image_type
        type: u4
        enum: machine_type
        -orig-id: MachineImageType
      - id: number_processors
        type: u4
        -orig-id: NumberProcessors
      - id: bug_check_code
        type: u4
        -orig-id: BugCheckCode
      - id: reserved_bug_check
        type: u4
        doc: Alignment padding before the u8 parameters.
      - id: bug_check_parameters
        type: u8
        repeat: expr
        repeat-expr: 4
        -orig-id: BugCheckParameter1..4
      - id: version_user
        size: 32
        -orig-id: VersionUser
      - id: kd_debugger_data_block
        type: u8
        -orig-id: KdDebuggerDataBlock
      - id: physical_memory_block
        size: 700
        type: physical_memory_descriptor64
        -orig-id: PhysicalMemoryBlock
      - id: reserved_context
        type: u4
        doc: Alignment padding before the context record.
      - id: context_record
        size: 3000
        type:
          switch-on: machine_image_type
          cases:
            machine_type::amd64: context_amd64
            machine_type::arm64: context_arm64
        -orig-id: ContextRecord
      - id: exception
        size: 0x98
        type: exception_record64
        -orig-id: Exception
      - id: dump_type
        type: u4
        enum: dump_type
        -orig-id: DumpType
      - id: reserved_dump_type
        type: u4
      - id: required_dump_space
        type: s8
        -orig-id: RequiredDumpSpace
      - id: system_time
        type: u8
        -orig-id: SystemTime
        doc: FILETIME of the crash.
      - id: comment
        size: 128
        -orig-id: Comment
      - id: system_up_time
        type: u8
        -orig-id: SystemUpTime
      - id: mini_dump_fields
        type: u4
        -orig-id: MiniDumpFields
      - id: secondary_data_state
        type: u4
        -orig-id: SecondaryDataState
      - id: product_type
        type: u4
        enum: product_type
        -orig-id: ProductType
      - id: suite_mask
        type: u4
        -orig-id: SuiteMask
      - id: writer_status
        type: u4
        -orig-id: WriterStatus
      - id: unused1
        type: u1
        -orig-id: Unused1
      - id: kd_secondary_version
        type: u1
        -orig-id: KdSecondaryVersion
      - id: unused2
        size: 2
        -orig-id: Unused
      - id: attributes
        type: u4
        -orig-id: Attributes
      - id: boot_id
        type: u4
        -orig-id: BootId
      - id: reserved0
        size: 4008
        -orig-id: _reserved0
  physical_memory_descriptor32:
    doc: PHYSICAL_MEMORY_DESCRIPTOR32 inside the header's 700-byte buffer.
    doc-ref: docs/formats.md 2.3
    seq:
      - id: num_runs
        type: u4
        -orig-id: NumberOfRuns
      - id: num_pages
        type: u4
        -orig-id: NumberOfPages
    instances:
      runs:
        pos: 8
        type: physical_memory_run32
        repeat: expr
        repeat-expr: num_runs
        if: num_runs <= 86
        doc: Absent when NumberOfRuns is PAGE fill or more than the buffer holds.
  physical_memory_run32:
    doc-ref: docs/formats.md 2.3
    seq:
      - id: base_page
        type: u4
        -orig-id: BasePage
      - id: num_pages
        type: u4
        -orig-id: PageCount
  physical_memory_descriptor64:
    doc: PHYSICAL_MEMORY_DESCRIPTOR64 inside the header's 700-byte buffer.
    doc-ref: docs/formats.md 2.3
    seq:
      - id: num_runs
        type: u4
        -orig-id: NumberOfRuns
      - id: reserved
        type: u4
      - id: num_pages
        type: u8
        -orig-id: NumberOfPages
    instances:
      runs:
        pos: 0x10
        type: physical_memory_run64
        repeat: expr
        repeat-expr: num_runs
        if: num_runs <= 42
        doc: Absent when NumberOfRuns is PAGE fill or more than the buffer holds.
  physical_memory_run64:
    doc-ref: docs/formats.md 2.3
    seq:
      - id: base_page
        type: u8
        -orig-id: BasePage
      - id: num_pages
        type: u8
        -orig-id: PageCount
  exception_record32:
    doc-ref: docs/formats.md 2.4
    seq:
      - id: exception_code
        type: u4
        -orig-id: ExceptionCode
      - id: exception_flags
        type: u4
        -orig-id: ExceptionFlags
      - id: exception_record
        type: u4
        -orig-id: ExceptionRecord
      - id: exception_address
        type: u4
        -orig-id: ExceptionAddress
      - id: num_parameters
        type: u4
        -orig-id: NumberParameters
      - id: exception_information
        type: u4
        repeat: expr
        repeat-expr: 15
        -orig-id: ExceptionInformation
  exception_record64:
    doc-ref: docs/formats.md 2.4
    seq:
      - id: exception_code
        type: u4
        -orig-id: ExceptionCode
      - id: exception_flags
        type: u4
        -orig-id: ExceptionFlags
      - id: exception_record
        type: u8
        -orig-id: ExceptionRecord
      - id: exception_address
        type: u8
        -orig-id: ExceptionAddress
      - id: num_parameters
        type: u4
        -orig-id: NumberParameters
      - id: reserved
        type: u4
        -orig-id: __unusedAlignment
      - id: exception_information
        type: u8
        repeat: expr
        repeat-expr: 15
        -orig-id: ExceptionInformation
  context_x86:
    doc: x86 CONTEXT (0x2CC bytes used).
    doc-ref: docs/formats.md 1.16
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
        type: floating_save_area
        -orig-id: FloatSave
      - id: seg_gs
        type: u4
      - id: seg_fs
        type: u4
      - id: seg_es
        type: u4
      - id: seg_ds
        type: u4
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
      - id: seg_cs
        type: u4
      - id: eflags
        type: u4
        -orig-id: EFlags
      - id: esp
        type: u4
      - id: seg_ss
        type: u4
      - id: extended_registers
        size: 512
        -orig-id: ExtendedRegisters
        doc: FXSAVE image.
  floating_save_area:
    doc: x87 FLOATING_SAVE_AREA (112 bytes).
    doc-ref: docs/formats.md 1.16
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
        -orig-id: Cr0NpxState
  context_amd64:
    doc: AMD64 CONTEXT (0x4D0 bytes).
    doc-ref: docs/formats.md 1.16
    seq:
      - id: p1_home
        type: u8
      - id: p2_home
        type: u8
      - id: p3_home
        type: u8
      - id: p4_home
        type: u8
      - id: p5_home
        type: u8
      - id: p6_home
        type: u8
      - id: context_flags
        type: u4
        -orig-id: ContextFlags
      - id: mx_csr
        type: u4
        -orig-id: MxCsr
      - id: seg_cs
        type: u2
      - id: seg_ds
        type: u2
      - id: seg_es
        type: u2
      - id: seg_fs
        type: u2
      - id: seg_gs
        type: u2
      - id: seg_ss
        type: u2
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
        type: xmm_save_area32
        -orig-id: FltSave
      - id: vector_registers
        size: 16
        repeat: expr
        repeat-expr: 26
        -orig-id: VectorRegister
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
  xmm_save_area32:
    doc: FXSAVE image inside the AMD64 CONTEXT.
    doc-ref: docs/formats.md 1.16
    seq:
      - id: control_word
        type: u2
      - id: status_word
        type: u2
      - id: tag_word
        type: u1
      - id: reserved1
        type: u1
      - id: error_opcode
        type: u2
      - id: error_offset
        type: u4
      - id: error_selector
        type: u2
      - id: reserved2
        type: u2
      - id: data_offset
        type: u4
      - id: data_selector
        type: u2
      - id: reserved3
        type: u2
      - id: mx_csr
        type: u4
      - id: mx_csr_mask
        type: u4
      - id: float_registers
        size: 16
        repeat: expr
        repeat-expr: 8
      - id: xmm_registers
        size: 16
        repeat: expr
        repeat-expr: 16
      - id: reserved4
        size: 96
  context_arm64:
    doc: Windows ARM64 CONTEXT (0x390 bytes).
    doc-ref: docs/formats.md 1.16
    seq:
      - id: context_flags
        type: u4
        -orig-id: ContextFlags
      - id: cpsr
        type: u4
      - id: x
        type: u8
        repeat: expr
        repeat-expr: 29
        doc: X0..X28.
      - id: fp
        type: u8
        doc: X29.
      - id: lr
        type: u8
        doc: X30.
      - id: sp
        type: u8
      - id: pc
        type: u8
      - id: v
        size: 16
        repeat: expr
        repeat-expr: 32
      - id: fpcr
        type: u4
      - id: fpsr
        type: u4
      - id: bcr
        type: u4
        repeat: expr
        repeat-expr: 8
      - id: bvr
        type: u8
        repeat: expr
        repeat-expr: 8
      - id: wcr
        type: u4
        repeat: expr
        repeat-expr: 2
      - id: wvr
        type: u8
        repeat: expr
        repeat-expr: 2
  bitmap_dump_header:
    doc: |
      Bitmap header of kernel (SDMP) and full (FDMP) bitmap dumps. The bitmap follows at
      +0x38 (ceil(num_bits / 8) bytes); stored page k (k-th set bit) is at
      ofs_first_page + k * 0x1000.
    doc-ref: docs/formats.md 2.6
    seq:
      - id: magic
        type: str
        size: 4
        encoding: ASCII
        valid:
          any-of:
            - '"SDMP"'
            - '"FDMP"'
        -orig-id: Signature
      - id: valid_dump
        contents: DUMP
        -orig-id: ValidDump
      - id: dump_options
        type: u4
        -orig-id: DumpOptions
      - id: reserved
        size: 20
      - id: ofs_first_page
        type: u8
        -orig-id: HeaderSize
      - id: num_present_pages
        type: u8
        -orig-id: Pages
        doc: Number of set bits (stored pages).
      - id: num_bits
        type: u8
        -orig-id: BitmapSize
        doc: Number of bits, i.e. PFNs covered.
  summary_dump_header32_legacy:
    doc: XP-era SUMMARY_DUMP32 at 0x1000 (unverified on real files).
    doc-ref: docs/formats.md 2.6 (legacy)
    seq:
      - id: magic
        contents: SDMP
        -orig-id: Signature
      - id: valid_dump
        contents: DUMP
        -orig-id: ValidDump
      - id: dump_options
        type: u4
        -orig-id: DumpOptions
      - id: ofs_first_page
        type: u4
        -orig-id: HeaderSize
      - id: num_bits
        type: u4
        -orig-id: BitmapSize
      - id: num_present_pages
        type: u4
        -orig-id: Pages
      - id: len_bitmap_bits
        type: u4
        -orig-id: SizeOfBitMap
      - id: reserved
        type: u4
  rdmp_header:
    doc: Range-dump header at 0x2000 (DumpType 8, 9, 0xA); page ranges are stored back to back.
    doc-ref: docs/formats.md 2.7
    seq:
      - id: marker
        type: u4
        -orig-id: Marker
        doc: 0x40 in known samples.
      - id: magic
        contents: RDMP
        -orig-id: Signature
      - id: valid_dump
        contents: DUMP
        -orig-id: ValidDump
      - id: reserved
        type: u4
      - id: len_metadata
        type: u8
        -orig-id: MetadataSize
      - id: ofs_first_page
        type: u8
        -orig-id: FirstPageOffset
      - id: kernel_unknown1
        type: u8
        doc: Types 8/9; for type 0xA these bytes are rdmp_full_info (see the root instance).
      - id: kernel_unknown2
        type: u8
      - id: ranges
        type: rdmp_range
        repeat: until
        repeat-until: _.base_page == 0 or _index >= 0x3fff
        doc: Range table; a zero PFN ends it (types 8/9); at most 0x4000 entries.
  rdmp_full_info:
    doc: The type-0xA view of rdmp_header bytes 0x20..0x30.
    doc-ref: docs/formats.md 2.7
    seq:
      - id: num_ranges
        type: u4
        -orig-id: NumberOfRanges
      - id: unknown1
        type: u2
      - id: unknown2
        type: u2
      - id: total_num_pages
        type: u8
        -orig-id: TotalNumberOfPages
        doc: The range walk stops when the running page sum reaches it.
  rdmp_range:
    doc-ref: docs/formats.md 2.7
    seq:
      - id: base_page
        type: u8
        -orig-id: PageFileNumber
      - id: num_pages
        type: u8
        -orig-id: NumberOfPages
  triage_dump64:
    doc: TRIAGE_DUMP64 at 0x2000 of a small memory dump; all *_offset fields are file offsets.
    doc-ref: docs/formats.md 2.8
    seq:
      - id: service_pack_build
        type: u4
        -orig-id: ServicePackBuild
      - id: len_dump
        type: u4
        -orig-id: SizeOfDump
      - id: ofs_valid
        type: u4
        -orig-id: ValidOffset
      - id: ofs_context
        type: u4
        -orig-id: ContextOffset
      - id: ofs_exception
        type: u4
        -orig-id: ExceptionOffset
      - id: ofs_mm
        type: u4
        -orig-id: MmOffset
      - id: ofs_unloaded_drivers
        type: u4
        -orig-id: UnloadedDriversOffset
      - id: ofs_prcb
        type: u4
        -orig-id: PrcbOffset
      - id: ofs_process
        type: u4
        -orig-id: ProcessOffset
      - id: ofs_thread
        type: u4
        -orig-id: ThreadOffset
      - id: ofs_call_stack
        type: u4
        -orig-id: CallStackOffset
      - id: len_call_stack
        type: u4
        -orig-id: SizeOfCallStack
      - id: ofs_driver_list
        type: u4
        -orig-id: DriverListOffset
      - id: num_drivers
        type: u4
        -orig-id: DriverCount
      - id: ofs_string_pool
        type: u4
        -orig-id: StringPoolOffset
      - id: len_string_pool
        type: u4
        -orig-id: StringPoolSize
      - id: ofs_broken_driver
        type: u4
        -orig-id: BrokenDriverOffset
      - id: triage_options
        type: u4
        -orig-id: TriageOptions
      - id: top_of_stack
        type: u8
        -orig-id: TopOfStack
        doc: |
          Lowest address of the saved stack: in a real Windows 10 x64 sample the bytes
          cover [TopOfStack, TopOfStack + SizeOfCallStack) and contain the context's Rsp.
      - id: ofs_bstore
        type: u4
        -orig-id: ArchitectureSpecific.Ia64.BStoreOffset
      - id: len_bstore
        type: u4
        -orig-id: ArchitectureSpecific.Ia64.SizeOfBStore
      - id: limit_of_bstore
        type: u8
        -orig-id: ArchitectureSpecific.Ia64.LimitOfBStore
      - id: data_page_address
        type: u8
        -orig-id: DataPageAddress
      - id: ofs_data_page
        type: u4
        -orig-id: DataPageOffset
      - id: len_data_page
        type: u4
        -orig-id: DataPageSize
      - id: ofs_debugger_data
        type: u4
        -orig-id: DebuggerDataOffset
      - id: len_debugger_data
        type: u4
        -orig-id: DebuggerDataSize
      - id: ofs_data_blocks
        type: u4
        -orig-id: DataBlocksOffset
      - id: num_data_blocks
        type: u4
        -orig-id: DataBlocksCount
    instances:
      valid_tag:
        pos: ofs_valid
        size: 4
        if: ofs_valid != 0 and ofs_valid + 4 <= _io.size
        doc: '`TRGD` when the dump was completely written.'
      drivers:
        pos: ofs_driver_list
        type: dump_driver_entry64
        repeat: expr
        repeat-expr: num_drivers
        if: ofs_driver_list != 0 and num_drivers <= 0x4000 and ofs_driver_list + num_drivers * 0x90 <= _io.size
      unloaded_drivers:
        pos: ofs_unloaded_drivers
        type: unloaded_drivers64
        if: ofs_unloaded_drivers != 0 and ofs_unloaded_drivers + 8 <= _io.size
      mm:
        pos: ofs_mm
        type: dump_mm_storage64
        if: ofs_mm != 0 and ofs_mm + 0x50 <= _io.size
      data_blocks:
        pos: ofs_data_blocks
        type: triage_data_block64
        repeat: expr
        repeat-expr: num_data_blocks
        if: ofs_data_blocks != 0 and num_data_blocks <= 0x10000 and ofs_data_blocks + num_data_blocks * 16 <= _io.size
      debugger_data:
        pos: ofs_debugger_data
        size: len_debugger_data
        type: kddebugger_data64
        if: ofs_debugger_data != 0 and len_debugger_data >= 0x2c8 and len_debugger_data <= 0x1000 and ofs_debugger_data + len_debugger_data <= _io.size
        doc: Copy of KDDEBUGGER_DATA64; its target VA is the header's KdDebuggerDataBlock.
  triage_dump32:
    doc: TRIAGE_DUMP32 at 0x1000 of a 32-bit small memory dump.
    doc-ref: docs/formats.md 2.8
    seq:
      - id: service_pack_build
        type: u4
        -orig-id: ServicePackBuild
      - id: len_dump
        type: u4
        -orig-id: SizeOfDump
      - id: ofs_valid
        type: u4
        -orig-id: ValidOffset
      - id: ofs_context
        type: u4
        -orig-id: ContextOffset
      - id: ofs_exception
        type: u4
        -orig-id: ExceptionOffset
      - id: ofs_mm
        type: u4
        -orig-id: MmOffset
      - id: ofs_unloaded_drivers
        type: u4
        -orig-id: UnloadedDriversOffset
      - id: ofs_prcb
        type: u4
        -orig-id: PrcbOffset
      - id: ofs_process
        type: u4
        -orig-id: ProcessOffset
      - id: ofs_thread
        type: u4
        -orig-id: ThreadOffset
      - id: ofs_call_stack
        type: u4
        -orig-id: CallStackOffset
      - id: len_call_stack
        type: u4
        -orig-id: SizeOfCallStack
      - id: ofs_driver_list
        type: u4
        -orig-id: DriverListOffset
      - id: num_drivers
        type: u4
        -orig-id: DriverCount
      - id: ofs_string_pool
        type: u4
        -orig-id: StringPoolOffset
      - id: len_string_pool
        type: u4
        -orig-id: StringPoolSize
      - id: ofs_broken_driver
        type: u4
        -orig-id: BrokenDriverOffset
      - id: triage_options
        type: u4
        -orig-id: TriageOptions
      - id: top_of_stack
        type: u4
        -orig-id: TopOfStack
      - id: data_page_address
        type: u4
        -orig-id: DataPageAddress
      - id: ofs_data_page
        type: u4
        -orig-id: DataPageOffset
      - id: len_data_page
        type: u4
        -orig-id: DataPageSize
      - id: ofs_debugger_data
        type: u4
        -orig-id: DebuggerDataOffset
      - id: len_debugger_data
        type: u4
        -orig-id: DebuggerDataSize
      - id: ofs_data_blocks
        type: u4
        -orig-id: DataBlocksOffset
      - id: num_data_blocks
        type: u4
        -orig-id: DataBlocksCount
    instances:
      valid_tag:
        pos: ofs_valid
        size: 4
        if: ofs_valid != 0 and ofs_valid + 4 <= _io.size
      drivers:
        pos: ofs_driver_list
        type: dump_driver_entry32
        repeat: expr
        repeat-expr: num_drivers
        if: ofs_driver_list != 0 and num_drivers <= 0x4000 and ofs_driver_list + num_drivers * 0x4c <= _io.size
      unloaded_drivers:
        pos: ofs_unloaded_drivers
        type: unloaded_drivers32
        if: ofs_unloaded_drivers != 0 and ofs_unloaded_drivers + 4 <= _io.size
      data_blocks:
        pos: ofs_data_blocks
        type: triage_data_block32
        repeat: expr
        repeat-expr: num_data_blocks
        if: ofs_data_blocks != 0 and num_data_blocks <= 0x10000 and ofs_data_blocks + num_data_blocks * 12 <= _io.size
      debugger_data:
        pos: ofs_debugger_data
        size: len_debugger_data
        type: kddebugger_data64
        if: ofs_debugger_data != 0 and len_debugger_data >= 0x2c8 and len_debugger_data <= 0x1000 and ofs_debugger_data + len_debugger_data <= _io.size
        doc: Copy of KDDEBUGGER_DATA64; its target VA is the header's KdDebuggerDataBlock.
  dump_driver_entry64:
    doc: DUMP_DRIVER_ENTRY64 (stride 0x90); the embedded loader entry's string buffers are target VAs.
    doc-ref: docs/formats.md 2.8
    seq:
      - id: ofs_driver_name
        type: u4
        -orig-id: DriverNameOffset
      - id: reserved
        type: u4
      - id: ldr_entry
        size: 0x80
        type: kldr_data_table_entry64
        -orig-id: LdrEntry
      - id: time_date_stamp
        type: u4
        doc: |
          Image TimeDateStamp (the copied loader entry's +0x80): equal to ntoskrnl's PE
          header TimeDateStamp in a real Windows 10 x64 triage dump.
      - id: reserved_tail
        type: u4
    instances:
      driver_name:
        pos: ofs_driver_name
        type: dump_string
        if: ofs_driver_name != 0 and ofs_driver_name + 4 <= _io.size
  dump_driver_entry32:
    doc: DUMP_DRIVER_ENTRY32 (stride 0x4C).
    doc-ref: docs/formats.md 2.8
    seq:
      - id: ofs_driver_name
        type: u4
        -orig-id: DriverNameOffset
      - id: ldr_entry
        size: 0x48
        type: kldr_data_table_entry32
        -orig-id: LdrEntry
    instances:
      driver_name:
        pos: ofs_driver_name
        type: dump_string
        if: ofs_driver_name != 0 and ofs_driver_name + 4 <= _io.size
  dump_string:
    doc: DUMP_STRING of the string pool; the length counts UTF-16 characters (checked on a real dump).
    doc-ref: docs/formats.md 2.8
    seq:
      - id: num_chars
        type: u4
        -orig-id: Length
      - id: value
        size: 'num_chars <= 0x8000 ? num_chars * 2 : 0'
        type: str
        encoding: UTF-16LE
        -orig-id: Buffer
  unloaded_drivers64:
    doc: Count followed by DUMP_UNLOADED_DRIVERS64 entries.
    doc-ref: docs/formats.md 2.8
    seq:
      - id: num_entries
        type: u8
        doc: u4 count padded to 8 (read as u8).
      - id: entries
        type: dump_unloaded_driver64
        repeat: expr
        repeat-expr: 'num_entries <= 0x400 ? num_entries : 0'
        doc: Empty when the count is implausible.
  dump_unloaded_driver64:
    doc-ref: docs/formats.md 2.8
    seq:
      - id: name
        type: unicode_string64
        -orig-id: Name
      - id: driver_name
        size: 24
        type: str
        encoding: UTF-16LE
        -orig-id: DriverName
      - id: start_address
        type: u8
        -orig-id: StartAddress
      - id: end_address
        type: u8
        -orig-id: EndAddress
  unloaded_drivers32:
    doc: Count followed by DUMP_UNLOADED_DRIVERS32 entries (0x28 bytes each, 8 + 24 + 4 + 4).
    doc-ref: docs/formats.md 2.8
    seq:
      - id: num_entries
        type: u4
      - id: entries
        type: dump_unloaded_driver32
        repeat: expr
        repeat-expr: 'num_entries <= 0x400 ? num_entries : 0'
        doc: Empty when the count is implausible.
  dump_unloaded_driver32:
    doc-ref: docs/formats.md 2.8
    seq:
      - id: name
        type: unicode_string32
        -orig-id: Name
      - id: driver_name
        size: 24
        type: str
        encoding: UTF-16LE
        -orig-id: DriverName
      - id: start_address
        type: u4
        -orig-id: StartAddress
      - id: end_address
        type: u4
        -orig-id: EndAddress
  dump_mm_storage64:
    doc-ref: docs/formats.md 2.8
    seq:
      - id: version
        type: u4
      - id: size
        type: u4
      - id: mm_special_pool_tag
        type: u4
      - id: mi_triage_action_taken
        type: u4
      - id: mm_verify_driver_level
        type: u4
      - id: kernel_verifier
        type: u4
      - id: mm_maximum_non_paged_pool
        type: u8
      - id: mm_allocated_non_paged_pool
        type: u8
      - id: paged_pool_maximum
        type: u8
      - id: paged_pool_allocated
        type: u8
      - id: committed_pages
        type: u8
      - id: committed_pages_peak
        type: u8
      - id: commit_limit_maximum
        type: u8
  triage_data_block64:
    doc: TRIAGE_DATA_BLOCK64 - a target VA range and where its bytes are in the file.
    doc-ref: docs/formats.md 2.8
    seq:
      - id: address
        type: u8
        -orig-id: Address
      - id: ofs_data
        type: u4
        -orig-id: Offset
      - id: len_data
        type: u4
        -orig-id: Size
  triage_data_block32:
    doc-ref: docs/formats.md 2.8
    seq:
      - id: address
        type: u4
        -orig-id: Address
      - id: ofs_data
        type: u4
        -orig-id: Offset
      - id: len_data
        type: u4
        -orig-id: Size
  unicode_string64:
    doc-ref: docs/formats.md 2.10
    seq:
      - id: len_bytes
        type: u2
        -orig-id: Length
      - id: max_len_bytes
        type: u2
        -orig-id: MaximumLength
      - id: reserved
        type: u4
      - id: buffer
        type: u8
        -orig-id: Buffer
  unicode_string32:
    doc-ref: docs/formats.md 2.10
    seq:
      - id: len_bytes
        type: u2
        -orig-id: Length
      - id: max_len_bytes
        type: u2
        -orig-id: MaximumLength
      - id: buffer
        type: u4
        -orig-id: Buffer
  kldr_data_table_entry64:
    doc: KLDR_DATA_TABLE_ENTRY (x64), the stable leading 0x88 bytes.
    doc-ref: docs/formats.md 2.10
    seq:
      - id: flink
        type: u8
        -orig-id: InLoadOrderLinks.Flink
      - id: blink
        type: u8
        -orig-id: InLoadOrderLinks.Blink
      - id: exception_table
        type: u8
      - id: len_exception_table
        type: u4
        -orig-id: ExceptionTableSize
      - id: reserved1
        type: u4
      - id: gp_value
        type: u8
      - id: non_paged_debug_info
        type: u8
      - id: dll_base
        type: u8
        -orig-id: DllBase
      - id: entry_point
        type: u8
      - id: size_of_image
        type: u4
        -orig-id: SizeOfImage
      - id: reserved2
        type: u4
      - id: full_dll_name
        type: unicode_string64
        -orig-id: FullDllName
      - id: base_dll_name
        type: unicode_string64
        -orig-id: BaseDllName
      - id: flags
        type: u4
      - id: load_count
        type: u2
      - id: signature_level
        type: u2
        -orig-id: u1
      - id: section_pointer
        type: u8
      - id: checksum
        type: u4
        -orig-id: CheckSum
  kldr_data_table_entry32:
    doc: KLDR_DATA_TABLE_ENTRY32 (x86), the stable leading 0x44 bytes.
    doc-ref: docs/formats.md 2.10
    seq:
      - id: flink
        type: u4
        -orig-id: InLoadOrderLinks.Flink
      - id: blink
        type: u4
        -orig-id: InLoadOrderLinks.Blink
      - id: exception_table
        type: u4
      - id: len_exception_table
        type: u4
        -orig-id: ExceptionTableSize
      - id: gp_value
        type: u4
      - id: non_paged_debug_info
        type: u4
      - id: dll_base
        type: u4
        -orig-id: DllBase
      - id: entry_point
        type: u4
      - id: size_of_image
        type: u4
        -orig-id: SizeOfImage
      - id: full_dll_name
        type: unicode_string32
        -orig-id: FullDllName
      - id: base_dll_name
        type: unicode_string32
        -orig-id: BaseDllName
      - id: flags
        type: u4
      - id: load_count
        type: u2
      - id: signature_level
        type: u2
        -orig-id: u1
      - id: section_pointer
        type: u4
      - id: checksum
        type: u4
        -orig-id: CheckSum
  kddebugger_data64:
    doc: |
      KDDEBUGGER_DATA64 ("KDBG"), same layout on 32- and 64-bit Windows. Fields at or past
      `len_block` (Header.Size) do not exist on that OS version; the reader checks.
    doc-ref: docs/formats.md 2.9
    seq:
      - id: list_flink
        type: u8
        -orig-id: Header.List.Flink
      - id: list_blink
        type: u8
        -orig-id: Header.List.Blink
      - id: owner_tag
        type: u4
        -orig-id: Header.OwnerTag
        doc: '`KDBG` (0x4742444B) unless the block is encoded.'
      - id: len_block
        type: u4
        -orig-id: Header.Size
      - id: kern_base
        type: u8
        -orig-id: KernBase
      - id: breakpoint_with_status
        type: u8
      - id: saved_context
        type: u8
      - id: th_callback_stack
        type: u2
      - id: next_callback
        type: u2
      - id: frame_pointer
        type: u2
      - id: pae_enabled_bits
        type: u2
        doc: Bit 0 = PaeEnabled.
      - id: ki_call_user_mode
        type: u8
      - id: ke_user_callback_dispatcher
        type: u8
      - id: ps_loaded_module_list
        type: u8
        -orig-id: PsLoadedModuleList
      - id: ps_active_process_head
        type: u8
        -orig-id: PsActiveProcessHead
      - id: psp_cid_table
        type: u8
      - id: exp_system_resources_list
        type: u8
      - id: exp_paged_pool_descriptor
        type: u8
      - id: exp_number_of_paged_pools
        type: u8
      - id: ke_time_increment
        type: u8
      - id: ke_bug_check_callback_list_head
        type: u8
      - id: ki_bugcheck_data
        type: u8
      - id: iop_error_log_list_head
        type: u8
      - id: obp_root_directory_object
        type: u8
      - id: obp_type_object_type
        type: u8
      - id: mm_system_cache_start
        type: u8
      - id: mm_system_cache_end
        type: u8
      - id: mm_system_cache_ws
        type: u8
      - id: mm_pfn_database
        type: u8
      - id: mm_system_ptes_start
        type: u8
      - id: mm_system_ptes_end
        type: u8
      - id: mm_subsection_base
        type: u8
      - id: mm_number_of_paging_files
        type: u8
      - id: mm_lowest_physical_page
        type: u8
      - id: mm_highest_physical_page
        type: u8
      - id: mm_number_of_physical_pages
        type: u8
      - id: mm_maximum_non_paged_pool_in_bytes
        type: u8
      - id: mm_non_paged_system_start
        type: u8
      - id: mm_non_paged_pool_start
        type: u8
      - id: mm_non_paged_pool_end
        type: u8
      - id: mm_paged_pool_start
        type: u8
      - id: mm_paged_pool_end
        type: u8
      - id: mm_paged_pool_information
        type: u8
      - id: mm_page_size
        type: u8
      - id: mm_size_of_paged_pool_in_bytes
        type: u8
      - id: mm_commit_counters
        type: u8
        repeat: expr
        repeat-expr: 7
        doc: MmTotalCommitLimit, MmTotalCommittedPages, MmSharedCommit, MmDriverCommit, MmProcessCommit, MmPagedPoolCommit, MmExtendedCommit.
      - id: mm_page_list_heads
        type: u8
        repeat: expr
        repeat-expr: 5
        doc: Zeroed, Free, Standby, Modified, ModifiedNoWrite list heads.
      - id: mm_available_pages
        type: u8
      - id: mm_resident_available_pages
        type: u8
      - id: pool_track_table
        type: u8
      - id: non_paged_pool_descriptor
        type: u8
      - id: mm_highest_user_address
        type: u8
      - id: mm_system_range_start
        type: u8
      - id: mm_user_probe_address
        type: u8
      - id: kd_print_circular_buffer
        type: u8
      - id: kd_print_circular_buffer_end
        type: u8
      - id: kd_print_write_pointer
        type: u8
      - id: kd_print_rollover_count
        type: u8
      - id: mm_loaded_user_image_list
        type: u8
      - id: nt_build_lab
        type: u8
      - id: ki_normal_system_call
        type: u8
      - id: ki_processor_block
        type: u8
        -orig-id: KiProcessorBlock
        doc: VA of an array of KPRCB pointers, one per processor.
      - id: mm_unloaded_drivers
        type: u8
      - id: mm_last_unloaded_driver
        type: u8
      - id: mm_triage_action_taken
        type: u8
      - id: mm_special_pool_tag
        type: u8
      - id: kernel_verifier
        type: u8
      - id: mm_verifier_data
        type: u8
      - id: mm_allocated_non_paged_pool
        type: u8
      - id: mm_peak_commitment
        type: u8
      - id: mm_total_commit_limit_maximum
        type: u8
      - id: cm_nt_csd_version
        type: u8
      - id: mm_physical_memory_block
        type: u8
      - id: mm_session_base
        type: u8
      - id: mm_session_size
        type: u8
      - id: mm_system_parent_table_page
        type: u8
      - id: mm_virtual_translation_base
        type: u8
      - id: offset_kthread_next_processor
        type: u2
      - id: offset_kthread_teb
        type: u2
      - id: offset_kthread_kernel_stack
        type: u2
      - id: offset_kthread_initial_stack
        type: u2
      - id: offset_kthread_apc_process
        type: u2
      - id: offset_kthread_state
        type: u2
      - id: offset_kthread_bstore
        type: u2
      - id: offset_kthread_bstore_limit
        type: u2
      - id: size_eprocess
        type: u2
      - id: offset_eprocess_peb
        type: u2
      - id: offset_eprocess_parent_cid
        type: u2
      - id: offset_eprocess_directory_table_base
        type: u2
      - id: size_prcb
        type: u2
      - id: offset_prcb_dpc_routine
        type: u2
      - id: offset_prcb_current_thread
        type: u2
      - id: offset_prcb_mhz
        type: u2
      - id: offset_prcb_cpu_type
        type: u2
      - id: offset_prcb_vendor_string
        type: u2
      - id: offset_prcb_proc_state_context
        type: u2
        -orig-id: OffsetPrcbProcStateContext
      - id: offset_prcb_number
        type: u2
      - id: size_ethread
        type: u2
      - id: l1tf_high_physical_bit_index
        type: u1
      - id: l1tf_swizzle_bit_index
        type: u1
      - id: padding0
        type: u4
    instances:
      offset_prcb_context:
        pos: 0x338
        type: u2
        if: len_block >= 0x33a and _io.size >= 0x33a
        -orig-id: OffsetPrcbContext
        doc: Win7+; offset of KPRCB.Context, a pointer to the CPU's CONTEXT.
      pte_base:
        pos: 0x360
        type: u8
        if: len_block >= 0x368 and _io.size >= 0x368
        -orig-id: PteBase
      pointer_auth_mask:
        pos: 0x390
        type: u8
        if: len_block >= 0x398 and _io.size >= 0x398
        -orig-id: PointerAuthMask
enums:
  header_kind:
    0x504d5544: dump32
    0x34365544: dump64
  machine_type:
    0x14c: i386
    0x1c4: armnt
    0x200: ia64
    0x8664: amd64
    0xaa64: arm64
  product_type:
    1:
      id: workstation
      -orig-id: VER_NT_WORKSTATION
    2:
      id: domain_controller
      -orig-id: VER_NT_DOMAIN_CONTROLLER
    3:
      id: server
      -orig-id: VER_NT_SERVER
  dump_type:
    1: full
    2: summary
    3: header
    4: triage
    5: bitmap_full
    6: bitmap_kernel
    7: automatic
    8: kernel_range
    9: kernel_and_user_range
    0xa: complete_range
