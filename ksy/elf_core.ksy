meta:
  id: elf_core
  title: ELF core file (Linux process core, gdb gcore, kdump /proc/vmcore)
  file-extension: core
  license: MIT
  encoding: ASCII
  imports:
    - elf_notes
doc: |
  An ELF file of type ET_CORE: the ELF header, the program header table, PT_NOTE
  segments holding notes (thread registers, process facts, mapped files, the kernel's
  VMCOREINFO text) and PT_LOAD segments holding the captured memory.

  Byte order (EI_DATA) and word width (EI_CLASS) come from e_ident: everything after
  e_ident lives in `body`, whose endianness is calculated from EI_DATA, and every
  address-sized field switches on EI_CLASS.

  The notes themselves (records, descriptors, register layouts) are described by
  elf_notes.ksy, which the kdump-compressed reader also uses for its note copy.
  PT_LOAD contents are never parsed here: `ofs_body` / `len_body_in_file` are exposed
  and readers read memory on demand.
doc-ref: docs/formats.md sections 4 (ELF core files) and 5 (kdump /proc/vmcore, VMCOREINFO)
seq:
  - id: magic
    contents: [0x7f, "ELF"]
  - id: ei_class
    type: u1
    enum: elf_class
    valid:
      any-of:
        - elf_class::b32
        - elf_class::b64
    -orig-id: EI_CLASS
  - id: ei_data
    type: u1
    enum: byte_order
    valid:
      any-of:
        - byte_order::le
        - byte_order::be
    -orig-id: EI_DATA
  - id: ei_version
    type: u1
    -orig-id: EI_VERSION
    doc: 1 (current); VirtualBox writes 0, so it is not validated.
  - id: ei_osabi
    type: u1
    enum: os_abi
    -orig-id: EI_OSABI
  - id: ei_abiversion
    type: u1
    -orig-id: EI_ABIVERSION
  - id: reserved
    size: 7
    -orig-id: EI_PAD
  - id: body
    type: body
instances:
  is_64:
    value: ei_class == elf_class::b64
types:
  body:
    meta:
      endian:
        switch-on: _root.ei_data
        cases:
          'byte_order::le': le
          'byte_order::be': be
    doc: Everything after e_ident, in the byte order EI_DATA names.
    doc-ref: docs/formats.md 4.1 (Ehdr, Phdr)
    seq:
      - id: object_type
        type: u2
        enum: object_type
        -orig-id: e_type
      - id: machine
        type: u2
        enum: elf_notes::machine
        -orig-id: e_machine
      - id: version
        type: u4
        -orig-id: e_version
      - id: entry_point
        type:
          switch-on: _root.ei_class
          cases:
            'elf_class::b32': u4
            'elf_class::b64': u8
        -orig-id: e_entry
      - id: ofs_program_headers
        type:
          switch-on: _root.ei_class
          cases:
            'elf_class::b32': u4
            'elf_class::b64': u8
        -orig-id: e_phoff
      - id: ofs_section_headers
        type:
          switch-on: _root.ei_class
          cases:
            'elf_class::b32': u4
            'elf_class::b64': u8
        -orig-id: e_shoff
      - id: flags
        type: u4
        -orig-id: e_flags
        doc: Machine flags (MIPS ABI bits); makedumpfile ELF output sets bit 0 when the dump is incomplete.
      - id: len_header
        type: u2
        -orig-id: e_ehsize
      - id: len_program_header
        type: u2
        -orig-id: e_phentsize
        doc: 32 (ELF32) or 56 (ELF64); readers check it before using the table.
      - id: num_program_headers_raw
        type: u2
        -orig-id: e_phnum
        doc: 0xFFFF (PN_XNUM) means the real count is in section header 0's sh_info.
      - id: len_section_header
        type: u2
        -orig-id: e_shentsize
      - id: num_section_headers
        type: u2
        -orig-id: e_shnum
      - id: section_names_idx
        type: u2
        -orig-id: e_shstrndx
    instances:
      has_extended_phnum:
        value: num_program_headers_raw == 0xffff
        doc: PN_XNUM in e_phnum.
      section_header_0:
        pos: ofs_section_headers
        type: section_header
        if: has_extended_phnum and ofs_section_headers != 0
        doc: Holds the real program header count (sh_info) when e_phnum is PN_XNUM.
      num_program_headers:
        value: 'has_extended_phnum ? (ofs_section_headers != 0 ? section_header_0.info : 0) : num_program_headers_raw'
        doc: The real number of program headers (check against the file size before use).
      program_headers:
        pos: ofs_program_headers
        type:
          switch-on: _root.ei_class
          cases:
            'elf_class::b32': program_header_32
            'elf_class::b64': program_header_64
        repeat: expr
        repeat-expr: num_program_headers
        doc: |
          The program header table. A reader must check `ofs_program_headers +
          num_program_headers * len_program_header` against the file size first.
      note_abi:
        pos: 0
        size: 0
        type: elf_notes(machine.to_i, _root.is_64, _root.ei_data == byte_order::be)
        doc: "The note layouts' view of this target (no bytes): holds len_word."
      len_word:
        value: note_abi.len_word
        doc: "Width of the target ABI's long (pointer); the rule lives in elf_notes.ksy."
    types:
      section_header:
        doc: Only the fields PN_XNUM needs; section 0 of a core has no other use.
        doc-ref: docs/formats.md 4.10 (PN_XNUM)
        seq:
          - id: ofs_name
            type: u4
            -orig-id: sh_name
          - id: type
            type: u4
            -orig-id: sh_type
          - id: flags
            type:
              switch-on: _root.ei_class
              cases:
                'elf_class::b32': u4
                'elf_class::b64': u8
            -orig-id: sh_flags
          - id: addr
            type:
              switch-on: _root.ei_class
              cases:
                'elf_class::b32': u4
                'elf_class::b64': u8
            -orig-id: sh_addr
          - id: ofs_body
            type:
              switch-on: _root.ei_class
              cases:
                'elf_class::b32': u4
                'elf_class::b64': u8
            -orig-id: sh_offset
          - id: len_body
            type:
              switch-on: _root.ei_class
              cases:
                'elf_class::b32': u4
                'elf_class::b64': u8
            -orig-id: sh_size
          - id: link
            type: u4
            -orig-id: sh_link
          - id: info
            type: u4
            -orig-id: sh_info
      program_header_32:
        doc: One Elf32_Phdr (32 bytes).
        doc-ref: docs/formats.md 4.1 (Phdr)
        seq:
          - id: type
            type: u4
            enum: segment_type
            -orig-id: p_type
          - id: ofs_body
            type: u4
            -orig-id: p_offset
          - id: vaddr
            type: u4
            -orig-id: p_vaddr
            doc: Target virtual address (process cores); a kernel VA for vmcore segments.
          - id: paddr
            type: u4
            -orig-id: p_paddr
            doc: Physical address (kernel vmcores); 0 in process cores.
          - id: len_body_in_file
            type: u4
            -orig-id: p_filesz
          - id: len_body_in_memory
            type: u4
            -orig-id: p_memsz
            doc: Bytes beyond p_filesz were not captured (not zeros).
          - id: flags
            type: u4
            -orig-id: p_flags
            doc: PF_X 1, PF_W 2, PF_R 4.
          - id: align
            type: u4
            -orig-id: p_align
        instances:
          note_bytes:
            pos: ofs_body
            size: len_body_in_file
            if: type == segment_type::note
            doc: |
              The body of a PT_NOTE segment (small; PT_LOAD bodies are never read), parsed
              with elf_notes.ksy.
      program_header_64:
        doc: One Elf64_Phdr (56 bytes; p_flags moves to offset 4).
        doc-ref: docs/formats.md 4.1 (Phdr)
        seq:
          - id: type
            type: u4
            enum: segment_type
            -orig-id: p_type
          - id: flags
            type: u4
            -orig-id: p_flags
            doc: PF_X 1, PF_W 2, PF_R 4.
          - id: ofs_body
            type: u8
            -orig-id: p_offset
          - id: vaddr
            type: u8
            -orig-id: p_vaddr
            doc: Target virtual address (process cores); a kernel VA for vmcore segments.
          - id: paddr
            type: u8
            -orig-id: p_paddr
            doc: Physical address (kernel vmcores); 0 in process cores.
          - id: len_body_in_file
            type: u8
            -orig-id: p_filesz
          - id: len_body_in_memory
            type: u8
            -orig-id: p_memsz
            doc: Bytes beyond p_filesz were not captured (not zeros).
          - id: align
            type: u8
            -orig-id: p_align
        instances:
          note_bytes:
            pos: ofs_body
            size: len_body_in_file
            if: type == segment_type::note
            doc: |
              The body of a PT_NOTE segment (small; PT_LOAD bodies are never read), parsed
              with elf_notes.ksy.
enums:
  elf_class:
    1: b32
    2: b64
  byte_order:
    1: le
    2: be
  os_abi:
    0: system_v
    1: hp_ux
    2: netbsd
    3: linux
    6: solaris
    9: freebsd
    12: openbsd
  object_type:
    0: none
    1: relocatable
    2: executable
    3: shared
    4: core
  segment_type:
    0: null_type
    1: load
    2: dynamic
    3: interp
    4: note
    6: phdr
    7: tls
