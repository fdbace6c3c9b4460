meta:
  id: elf_core
  title: ELF core file (Linux process core, gdb gcore, kdump /proc/vmcore)
  file-extension: core
  license: MIT
  encoding: ASCII
doc: |
  An ELF file of type ET_CORE: the ELF header, the program header table, PT_NOTE
  segments holding notes (thread registers, process facts, mapped files, the kernel's
  VMCOREINFO text) and PT_LOAD segments holding the captured memory.

  Byte order (EI_DATA) and word width (EI_CLASS) come from e_ident: everything after
  e_ident lives in `body`, whose endianness is calculated from EI_DATA, and every
  address-sized field switches on EI_CLASS.

  Notes are small and each one parses in its own substream (a bad note cannot spoil
  its neighbours); they form a lazy chain (`note.next`) so a reader walks them one by
  one and keeps the good ones in front of a broken one. PT_LOAD contents are never
  parsed here: `ofs_body` / `len_body_in_file` are exposed and readers read memory on
  demand.

  Note descriptors whose layout depends on the target ABI (elf_prstatus, elf_prpsinfo,
  siginfo, auxv, NT_FILE) use `body.len_word`, the width of the ABI's `long`, which is
  decided by e_machine first and EI_CLASS second: a 32-bit ARM or i386 kernel dump may
  be written as ELF64, and x32 / MIPS n32 processes are ELF32 with 64-bit registers.
doc-ref: FORMATS.md sections 4 (ELF core files) and 5 (kdump /proc/vmcore, VMCOREINFO)
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
    doc-ref: FORMATS.md 4.1 (Ehdr, Phdr)
    seq:
      - id: object_type
        type: u2
        enum: object_type
        -orig-id: e_type
      - id: machine
        type: u2
        enum: machine
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
      len_word:
        value: |
          machine == machine::i386 or machine == machine::arm or machine == machine::ppc
          or machine == machine::m68k or machine == machine::sparc ? 4
          : machine == machine::aarch64 or machine == machine::ppc64 or machine == machine::sparcv9
          or machine == machine::alpha ? 8
          : _root.is_64 ? 8 : 4
        doc: |
          Width of the target ABI's `long` (pointer): fixed by e_machine where the
          architecture has one width (32-bit ARM / i386 kernels may write ELF64 dumps),
          else by EI_CLASS (x32 and MIPS n32 are ELF32 with 4-byte longs).
    types:
      section_header:
        doc: Only the fields PN_XNUM needs; section 0 of a core has no other use.
        doc-ref: FORMATS.md 4.10 (PN_XNUM)
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
        doc-ref: FORMATS.md 4.1 (Phdr)
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
          notes:
            pos: ofs_body
            size: len_body_in_file
            type: note_segment
            if: type == segment_type::note
            doc: The notes of a PT_NOTE segment (a note segment is small; PT_LOAD bodies are never read).
      program_header_64:
        doc: One Elf64_Phdr (56 bytes; p_flags moves to offset 4).
        doc-ref: FORMATS.md 4.1 (Phdr)
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
          notes:
            pos: ofs_body
            size: len_body_in_file
            type: note_segment
            if: type == segment_type::note
            doc: The notes of a PT_NOTE segment (a note segment is small; PT_LOAD bodies are never read).
      note_segment:
        doc: A PT_NOTE segment body; walk `first` then each note's `next`.
        doc-ref: FORMATS.md 4.1 (note record)
        instances:
          first:
            pos: 0
            type: note(0)
            if: _io.size >= 12
      note:
        doc: |
          One note record: name and descriptor each padded to 4 bytes (also in ELF64
          cores). Notes are keyed by (name, type): type numbers collide across names.
        doc-ref: FORMATS.md 4.1, 4.2
        params:
          - id: ofs_note
            type: u8
            doc: Offset of this record in the segment.
        seq:
          - id: len_name
            type: u4
            -orig-id: n_namesz
            doc: Counts the terminating NUL.
          - id: len_desc
            type: u4
            -orig-id: n_descsz
          - id: type
            type: u4
            -orig-id: n_type
          - id: name
            type: strz
            encoding: ISO-8859-1
            size: len_name
            doc: Owner, e.g. CORE, LINUX, VMCOREINFO, GDB, NetBSD-CORE@1, OpenBSD.
          - id: name_padding
            size: (4 - len_name % 4) % 4
          - id: desc
            size: len_desc
            type: note_desc
          - id: desc_padding
            size: '(4 - len_desc % 4) % 4 <= _io.size - _io.pos ? (4 - len_desc % 4) % 4 : _io.size - _io.pos'
            doc: The last note of a segment may omit its padding.
        instances:
          ofs_desc:
            value: ofs_note + 12 + len_name + (4 - len_name % 4) % 4
            doc: Offset of the descriptor in the segment.
          ofs_next:
            value: ofs_desc + len_desc + (4 - len_desc % 4) % 4
          is_core:
            value: name == "CORE"
          is_linux:
            value: name == "LINUX"
          next:
            pos: ofs_next
            type: note(ofs_next)
            if: ofs_next + 12 <= _io.size
            doc: The following note of the segment, parsed when asked for.
      note_desc:
        doc: |
          A note descriptor (its own substream of n_descsz bytes). Every typed view is a
          lazy instance: a reader asks for the one the note's (name, type) calls for.
        instances:
          raw:
            pos: 0
            size-eos: true
          prstatus:
            pos: 0
            type: prstatus
            if: _parent.is_core and _parent.type == note_type::prstatus.to_i
          prpsinfo:
            pos: 0
            type: prpsinfo
            if: _parent.is_core and _parent.type == note_type::prpsinfo.to_i
          siginfo:
            pos: 0
            type: siginfo
            if: _parent.is_core and _parent.type == note_type::siginfo.to_i
          auxv:
            pos: 0
            type: auxv
            doc: NT_AUXV (CORE, 6); also NetBSD-CORE type 2 and OpenBSD type 11 (same layout).
          mapped_files:
            pos: 0
            type: mapped_files(_root.body.len_word)
            if: _parent.is_core and _parent.type == note_type::file.to_i
          mapped_files_other_width:
            pos: 0
            type: 'mapped_files(_root.body.len_word == 8 ? 4 : 8)'
            if: _parent.is_core and _parent.type == note_type::file.to_i
            doc: |
              NT_FILE read with the other word width: MIPS o32 cores written by a 64-bit
              kernel (lldb's linux-mipsel-gnuabio32.core) use 8-byte words.
          x86_xstate:
            pos: 0
            type: x86_xstate
            if: _parent.is_linux and _parent.type == linux_note_type::x86_xstate.to_i
          vmcoreinfo:
            pos: 0
            size-eos: true
            type: str
            encoding: ISO-8859-1
            if: _parent.name == "VMCOREINFO"
            doc: KEY=value lines (FORMATS.md 5).
          netbsd_procinfo:
            pos: 0
            type: netbsd_procinfo
            if: _parent.name == "NetBSD-CORE" and _parent.type == 1
          netbsd_regs:
            pos: 0
            type:
              switch-on: _root.body.machine
              cases:
                'machine::x86_64': netbsd_regs_amd64
                'machine::aarch64': netbsd_regs_aarch64
                _: gregs_unknown
            if: _parent.name.length > 12 and _parent.name.substring(0, 12) == "NetBSD-CORE@"
            doc: PT_GETREGS of one LWP (type 33 on amd64, 32 on aarch64).
          openbsd_procinfo:
            pos: 0
            type: openbsd_procinfo
            if: _parent.name == "OpenBSD" and _parent.type == 10
      timeval:
        doc: struct __kernel_old_timeval (two longs).
        seq:
          - id: sec
            type:
              switch-on: _root.body.len_word
              cases:
                4: u4
                8: u8
          - id: usec
            type:
              switch-on: _root.body.len_word
              cases:
                4: u4
                8: u8
      prstatus:
        doc: |
          struct elf_prstatus: signal state, ids and times of one thread, then pr_reg
          (the architecture's elf_gregset_t) at `ofs_registers`. pr_fpvalid follows
          pr_reg after arch-dependent padding and is not read.
        doc-ref: FORMATS.md 4.3
        seq:
          - id: si_signo
            type: s4
            -orig-id: pr_info.si_signo
          - id: si_code
            type: s4
            -orig-id: pr_info.si_code
          - id: si_errno
            type: s4
            -orig-id: pr_info.si_errno
          - id: cursig
            type: s2
            -orig-id: pr_cursig
          - id: cursig_padding
            size: '_root.body.machine == machine::m68k ? 0 : 2'
            doc: m68k aligns long to 2 bytes, so pr_sigpend follows pr_cursig directly there.
          - id: sigpend
            type:
              switch-on: _root.body.len_word
              cases:
                4: u4
                8: u8
            -orig-id: pr_sigpend
          - id: sighold
            type:
              switch-on: _root.body.len_word
              cases:
                4: u4
                8: u8
            -orig-id: pr_sighold
          - id: pid
            type: s4
            -orig-id: pr_pid
            doc: Thread id (LWP); in a vmcore, the task running on that CPU.
          - id: ppid
            type: s4
            -orig-id: pr_ppid
          - id: pgrp
            type: s4
            -orig-id: pr_pgrp
          - id: sid
            type: s4
            -orig-id: pr_sid
          - id: utime
            type: timeval
            -orig-id: pr_utime
          - id: stime
            type: timeval
            -orig-id: pr_stime
          - id: cutime
            type: timeval
            -orig-id: pr_cutime
          - id: cstime
            type: timeval
            -orig-id: pr_cstime
        instances:
          ofs_registers:
            value: '_root.body.len_word == 8 ? 0x70 : _root.body.machine == machine::m68k ? 0x46 : 0x48'
            doc: Where pr_reg starts (0x70 LP64, 0x48 ILP32, 0x46 m68k).
          registers:
            pos: ofs_registers
            type:
              switch-on: _root.body.machine
              cases:
                'machine::x86_64': gregs_x86_64
                'machine::i386': gregs_i386
                'machine::aarch64': gregs_aarch64
                'machine::arm': gregs_arm
                'machine::ppc': gregs_ppc
                'machine::ppc64': gregs_ppc
                'machine::s390': gregs_s390
                'machine::riscv': gregs_riscv
                'machine::mips': gregs_mips
                'machine::loongarch': gregs_loongarch
                'machine::sparcv9': gregs_sparc64
                'machine::m68k': gregs_m68k
                _: gregs_unknown
            -orig-id: pr_reg
      gregs_x86_64:
        doc: struct user_regs_struct (x86_64; also x32 processes), 27 x u64.
        doc-ref: FORMATS.md 4.3
        seq:
          - id: r15
            type: u8
          - id: r14
            type: u8
          - id: r13
            type: u8
          - id: r12
            type: u8
          - id: rbp
            type: u8
          - id: rbx
            type: u8
          - id: r11
            type: u8
          - id: r10
            type: u8
          - id: r9
            type: u8
          - id: r8
            type: u8
          - id: rax
            type: u8
          - id: rcx
            type: u8
          - id: rdx
            type: u8
          - id: rsi
            type: u8
          - id: rdi
            type: u8
          - id: orig_rax
            type: u8
          - id: rip
            type: u8
          - id: cs
            type: u8
          - id: eflags
            type: u8
          - id: rsp
            type: u8
          - id: ss
            type: u8
          - id: fs_base
            type: u8
          - id: gs_base
            type: u8
          - id: ds
            type: u8
          - id: es
            type: u8
          - id: fs
            type: u8
          - id: gs
            type: u8
      gregs_i386:
        doc: struct user_regs_struct (i386), 17 x u32.
        doc-ref: FORMATS.md 4.3
        seq:
          - id: ebx
            type: u4
          - id: ecx
            type: u4
          - id: edx
            type: u4
          - id: esi
            type: u4
          - id: edi
            type: u4
          - id: ebp
            type: u4
          - id: eax
            type: u4
          - id: ds
            type: u4
            -orig-id: xds
          - id: es
            type: u4
            -orig-id: xes
          - id: fs
            type: u4
            -orig-id: xfs
          - id: gs
            type: u4
            -orig-id: xgs
          - id: orig_eax
            type: u4
          - id: eip
            type: u4
          - id: cs
            type: u4
            -orig-id: xcs
          - id: eflags
            type: u4
          - id: esp
            type: u4
          - id: ss
            type: u4
            -orig-id: xss
      gregs_aarch64:
        doc: struct user_pt_regs (aarch64); x29 is the frame pointer, x30 the link register.
        doc-ref: FORMATS.md 4.3
        seq:
          - id: x
            type: u8
            repeat: expr
            repeat-expr: 31
            -orig-id: regs
          - id: sp
            type: u8
          - id: pc
            type: u8
          - id: pstate
            type: u8
      gregs_arm:
        doc: ARM (32-bit) elf_gregset_t; r13 is SP, r14 LR, r15 PC.
        doc-ref: FORMATS.md 4.3
        seq:
          - id: r
            type: u4
            repeat: expr
            repeat-expr: 16
            -orig-id: uregs
          - id: cpsr
            type: u4
          - id: orig_r0
            type: u4
      gregs_ppc:
        doc: |
          PowerPC struct pt_regs (elf_gregset_t of 48 longs): gpr[32], nip, msr,
          orig_gpr3, ctr, link, xer, ccr, softe (ppc64) / mq (ppc32), trap, dar,
          dsisr, result. Register width is the ABI long.
        doc-ref: Linux arch/powerpc/include/uapi/asm/ptrace.h (struct pt_regs)
        seq:
          - id: gpr
            type:
              switch-on: _root.body.len_word
              cases:
                4: u4
                8: u8
            repeat: expr
            repeat-expr: 32
          - id: others
            type:
              switch-on: _root.body.len_word
              cases:
                4: u4
                8: u8
            repeat: expr
            repeat-expr: 12
            doc: nip, msr, orig_gpr3, ctr, link, xer, ccr, softe/mq, trap, dar, dsisr, result.
      gregs_s390:
        doc: |
          s390 struct s390_regs: PSW (mask, address), 16 general registers, 16 access
          registers (always 32-bit), orig_gpr2. Word width 8 on s390x, 4 on 31-bit s390.
        doc-ref: Linux arch/s390/include/uapi/asm/ptrace.h (s390_regs)
        seq:
          - id: psw_mask
            type:
              switch-on: _root.body.len_word
              cases:
                4: u4
                8: u8
          - id: psw_addr
            type:
              switch-on: _root.body.len_word
              cases:
                4: u4
                8: u8
          - id: gprs
            type:
              switch-on: _root.body.len_word
              cases:
                4: u4
                8: u8
            repeat: expr
            repeat-expr: 16
          - id: acrs
            type: u4
            repeat: expr
            repeat-expr: 16
          - id: orig_gpr2
            type:
              switch-on: _root.body.len_word
              cases:
                4: u4
                8: u8
      gregs_riscv:
        doc: |
          RISC-V struct user_regs_struct: pc then x1..x31 (ra, sp, gp, tp, t0-t2, s0-s1,
          a0-a7, s2-s11, t3-t6), XLEN wide.
        doc-ref: Linux arch/riscv/include/uapi/asm/ptrace.h
        seq:
          - id: pc
            type:
              switch-on: _root.body.len_word
              cases:
                4: u4
                8: u8
          - id: x
            type:
              switch-on: _root.body.len_word
              cases:
                4: u4
                8: u8
            repeat: expr
            repeat-expr: 31
            doc: x1 (ra) .. x31 (t6).
      gregs_mips:
        doc: |
          MIPS elf_gregset_t (45 words). o32: 32-bit words, six unused words first
          (EF_R0 = 6). n64 and n32: 64-bit words, EF_R0 = 0. Then lo, hi, cp0_epc
          (the PC), cp0_badvaddr, cp0_status, cp0_cause.
        doc-ref: Linux arch/mips/include/asm/reg.h (EF_* indices)
        seq:
          - id: reserved
            size: 'is_wide ? 0 : 24'
          - id: r
            type:
              switch-on: is_wide
              cases:
                true: u8
                false: u4
            repeat: expr
            repeat-expr: 32
          - id: others
            type:
              switch-on: is_wide
              cases:
                true: u8
                false: u4
            repeat: expr
            repeat-expr: 6
            doc: lo, hi, cp0_epc, cp0_badvaddr, cp0_status, cp0_cause.
        instances:
          is_wide:
            value: _root.is_64 or _io.size >= 0x48 + 45 * 8
            doc: |
              64-bit registers: n64 (ELF64), or n32 (ELF32 whose NT_PRSTATUS is 440
              bytes; the core's e_flags does not carry EF_MIPS_ABI2).
      gregs_loongarch:
        doc: LoongArch struct user_pt_regs - regs[32], orig_a0, csr_era (PC), csr_badv.
        doc-ref: Linux arch/loongarch/include/uapi/asm/ptrace.h
        seq:
          - id: r
            type: u8
            repeat: expr
            repeat-expr: 32
          - id: orig_a0
            type: u8
          - id: csr_era
            type: u8
          - id: csr_badv
            type: u8
      gregs_sparc64:
        doc: |
          sparc64 elf_gregset_t (36 x u64): g0-g7, o0-o7, l0-l7, i0-i7, tstate, tpc,
          tnpc, y. o6 is the (biased) stack pointer.
        doc-ref: Linux arch/sparc/include/asm/elf_64.h
        seq:
          - id: r
            type: u8
            repeat: expr
            repeat-expr: 32
          - id: tstate
            type: u8
          - id: tpc
            type: u8
          - id: tnpc
            type: u8
          - id: y
            type: u8
      gregs_m68k:
        doc: m68k struct user_regs_struct (80 bytes).
        doc-ref: Linux arch/m68k/include/asm/user.h
        seq:
          - id: d1_d7
            type: u4
            repeat: expr
            repeat-expr: 7
          - id: a0_a6
            type: u4
            repeat: expr
            repeat-expr: 7
          - id: d0
            type: u4
          - id: usp
            type: u4
          - id: orig_d0
            type: u4
          - id: stkadj
            type: u2
          - id: sr
            type: u2
          - id: pc
            type: u4
      gregs_unknown:
        doc: pr_reg of an architecture without a layout here (rest of the descriptor).
        seq:
          - id: raw
            size-eos: true
      prpsinfo:
        doc: |
          struct elf_prpsinfo. pr_uid/pr_gid are 16-bit on i386, arm, m68k, s390 and x32
          (124-byte note) and 32-bit elsewhere (128-byte ILP32 note, 136-byte LP64 note).
        doc-ref: FORMATS.md 4.4
        seq:
          - id: state
            type: s1
            -orig-id: pr_state
          - id: sname
            type: u1
            -orig-id: pr_sname
            doc: State letter (R, S, D, T, Z, ...).
          - id: zomb
            type: s1
            -orig-id: pr_zomb
          - id: nice
            type: s1
            -orig-id: pr_nice
          - id: flag_padding
            size: '_root.body.len_word == 8 ? 4 : 0'
          - id: flag
            type:
              switch-on: _root.body.len_word
              cases:
                4: u4
                8: u8
            -orig-id: pr_flag
          - id: uid
            type:
              switch-on: is_uid16
              cases:
                true: u2
                false: u4
            -orig-id: pr_uid
          - id: gid
            type:
              switch-on: is_uid16
              cases:
                true: u2
                false: u4
            -orig-id: pr_gid
          - id: pid
            type: s4
            -orig-id: pr_pid
          - id: ppid
            type: s4
            -orig-id: pr_ppid
          - id: pgrp
            type: s4
            -orig-id: pr_pgrp
          - id: sid
            type: s4
            -orig-id: pr_sid
          - id: fname
            size: 16
            terminator: 0
            -orig-id: pr_fname
            doc: Executable name (comm), raw bytes.
          - id: psargs
            size: 80
            terminator: 0
            -orig-id: pr_psargs
            doc: Start of the command line, arguments joined by spaces, raw bytes.
        instances:
          is_uid16:
            value: _root.body.len_word == 4 and _io.size < 128
      siginfo:
        doc: |
          The user-space siginfo_t of the signal that killed the process (128 bytes).
          MIPS stores si_code before si_errno. The union starts at 0x10 with 8-byte
          longs, at 0x0C with 4-byte longs.
        doc-ref: FORMATS.md 4.7
        seq:
          - id: signo
            type: s4
            -orig-id: si_signo
          - id: second
            type: s4
            doc: si_errno (si_code on MIPS).
          - id: third
            type: s4
            doc: si_code (si_errno on MIPS).
        instances:
          code:
            value: '_root.body.machine == machine::mips ? second : third'
            -orig-id: si_code
          errno:
            value: '_root.body.machine == machine::mips ? third : second'
            -orig-id: si_errno
          ofs_fields:
            value: '_root.body.len_word == 8 ? 16 : 12'
          addr:
            pos: ofs_fields
            type:
              switch-on: _root.body.len_word
              cases:
                4: u4
                8: u8
            -orig-id: si_addr
            doc: Faulting address (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP).
          sender_pid:
            pos: ofs_fields
            type: s4
            -orig-id: si_pid
            doc: Sending process (kill, tkill, sigqueue).
          sender_uid:
            pos: ofs_fields + 4
            type: u4
            -orig-id: si_uid
      auxv:
        doc: The auxiliary vector, (a_type, a_val) pairs of ABI longs up to AT_NULL.
        doc-ref: FORMATS.md 4.5
        seq:
          - id: entries
            type: auxv_entry
            repeat: expr
            repeat-expr: _io.size / (2 * _root.body.len_word)
      auxv_entry:
        seq:
          - id: type
            type:
              switch-on: _root.body.len_word
              cases:
                4: u4
                8: u8
            -orig-id: a_type
          - id: value
            type:
              switch-on: _root.body.len_word
              cases:
                4: u4
                8: u8
            -orig-id: a_val
      mapped_files:
        doc: |
          NT_FILE: count and page size, then `num_entries` (start, end, file page offset)
          triples, then as many NUL-terminated paths. A reader checks `num_entries`
          against the descriptor size before touching the lists.
        doc-ref: FORMATS.md 4.6
        params:
          - id: len_word
            type: u1
            doc: Word width (normally the ABI long).
        seq:
          - id: num_entries
            type:
              switch-on: len_word
              cases:
                4: u4
                8: u8
            -orig-id: count
          - id: page_size
            type:
              switch-on: len_word
              cases:
                4: u4
                8: u8
        instances:
          entries:
            pos: 2 * len_word
            type: mapped_file(len_word)
            repeat: expr
            repeat-expr: num_entries
          paths:
            pos: (2 + 3 * num_entries) * len_word
            terminator: 0
            eos-error: false
            repeat: expr
            repeat-expr: num_entries
            doc: Raw path bytes (may end in " (deleted)").
      mapped_file:
        params:
          - id: len_word
            type: u1
        seq:
          - id: start
            type:
              switch-on: len_word
              cases:
                4: u4
                8: u8
          - id: end
            type:
              switch-on: len_word
              cases:
                4: u4
                8: u8
          - id: file_page_offset
            type:
              switch-on: len_word
              cases:
                4: u4
                8: u8
            -orig-id: file_ofs
            doc: In units of the note's page_size.
      netbsd_procinfo:
        doc: |
          NetBSD struct netbsd_elfcore_procinfo (note "NetBSD-CORE", type 1). Each LWP's
          registers follow in notes named "NetBSD-CORE@<lwp id>".
        doc-ref: NetBSD sys/sys/exec_elf.h (netbsd_elfcore_procinfo)
        seq:
          - id: version
            type: u4
            -orig-id: cpi_version
          - id: len_procinfo
            type: u4
            -orig-id: cpi_cpisize
          - id: signo
            type: u4
            -orig-id: cpi_signo
          - id: sigcode
            type: u4
            -orig-id: cpi_sigcode
          - id: signal_masks
            size: 64
            doc: cpi_sigpend, cpi_sigmask, cpi_sigignore, cpi_sigcatch (4 x 128-bit sets).
          - id: pid
            type: s4
            -orig-id: cpi_pid
          - id: ppid
            type: s4
            -orig-id: cpi_ppid
          - id: pgrp
            type: s4
            -orig-id: cpi_pgrp
          - id: sid
            type: s4
            -orig-id: cpi_sid
          - id: ruid
            type: u4
            -orig-id: cpi_ruid
          - id: euid
            type: u4
            -orig-id: cpi_euid
          - id: svuid
            type: u4
            -orig-id: cpi_svuid
          - id: rgid
            type: u4
            -orig-id: cpi_rgid
          - id: egid
            type: u4
            -orig-id: cpi_egid
          - id: svgid
            type: u4
            -orig-id: cpi_svgid
          - id: num_lwps
            type: u4
            -orig-id: cpi_nlwps
          - id: name
            size: 32
            terminator: 0
            -orig-id: cpi_name
          - id: signal_lwp
            type: s4
            if: not _io.eof
            -orig-id: cpi_siglwp
            doc: LWP that received the signal (version 1+).
      netbsd_regs_amd64:
        doc: NetBSD/amd64 struct reg (26 x u64, _REG_* order).
        doc-ref: NetBSD sys/arch/amd64/include/frame_regs.h
        seq:
          - id: regs
            type: u8
            repeat: expr
            repeat-expr: 26
            doc: rdi rsi rdx rcx r8 r9 r10 r11 r12 r13 r14 r15 rbp rbx rax gs fs es ds trapno err rip cs rflags rsp ss.
      netbsd_regs_aarch64:
        doc: NetBSD/aarch64 struct reg - x0..x30, sp, pc, spsr, tpidr.
        doc-ref: NetBSD sys/arch/aarch64/include/reg.h
        seq:
          - id: x
            type: u8
            repeat: expr
            repeat-expr: 31
          - id: sp
            type: u8
          - id: pc
            type: u8
          - id: spsr
            type: u8
          - id: tpidr
            type: u8
      openbsd_procinfo:
        doc: OpenBSD struct elfcore_procinfo (note "OpenBSD", type 10).
        doc-ref: OpenBSD sys/sys/exec_elf.h (elfcore_procinfo)
        seq:
          - id: version
            type: s4
            -orig-id: cpi_version
          - id: len_procinfo
            type: s4
            -orig-id: cpi_cpisize
          - id: signo
            type: s4
            -orig-id: cpi_signo
          - id: sigcode
            type: s4
            -orig-id: cpi_sigcode
          - id: signal_masks
            size: 16
            doc: cpi_sigpend, cpi_sigmask, cpi_sigignore, cpi_sigcatch.
          - id: pid
            type: s4
            -orig-id: cpi_pid
          - id: ppid
            type: s4
            -orig-id: cpi_ppid
          - id: pgrp
            type: s4
            -orig-id: cpi_pgrp
          - id: sid
            type: s4
            -orig-id: cpi_sid
          - id: ruid
            type: u4
            -orig-id: cpi_ruid
          - id: euid
            type: u4
            -orig-id: cpi_euid
          - id: svuid
            type: u4
            -orig-id: cpi_svuid
          - id: rgid
            type: u4
            -orig-id: cpi_rgid
          - id: egid
            type: u4
            -orig-id: cpi_egid
          - id: svgid
            type: u4
            -orig-id: cpi_svgid
          - id: name
            size: 32
            terminator: 0
            -orig-id: cpi_name
      x86_xstate:
        doc: |
          XSAVE area (NT_X86_XSTATE): a 512-byte FXSAVE image, Linux's software words
          (XCR0 at 464) and the XSAVE header at 512.
        doc-ref: FORMATS.md 4.8
        instances:
          xcr0:
            pos: 464
            type: u8
            if: _io.size >= 472
            doc: Enabled feature mask as the kernel recorded it.
          xstate_bv:
            pos: 512
            type: u8
            if: _io.size >= 520
            -orig-id: XSTATE_BV
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
  machine:
    0: none
    2: sparc
    3: i386
    4: m68k
    8: mips
    15: parisc
    20: ppc
    21: ppc64
    22: s390
    40: arm
    43: sparcv9
    50: ia_64
    62: x86_64
    183: aarch64
    243: riscv
    258: loongarch
    0x9026: alpha
  segment_type:
    0: null_type
    1: load
    2: dynamic
    3: interp
    4: note
    6: phdr
    7: tls
  note_type:
    1:
      id: prstatus
      -orig-id: NT_PRSTATUS
    2:
      id: fpregset
      -orig-id: NT_PRFPREG
    3:
      id: prpsinfo
      -orig-id: NT_PRPSINFO
    4:
      id: taskstruct
      -orig-id: NT_TASKSTRUCT
    6:
      id: auxv
      -orig-id: NT_AUXV
    0x46494c45:
      id: file
      -orig-id: NT_FILE
    0x53494749:
      id: siginfo
      -orig-id: NT_SIGINFO
  linux_note_type:
    0x46e62b7f:
      id: prxfpreg
      -orig-id: NT_PRXFPREG
    0x200:
      id: i386_tls
      -orig-id: NT_386_TLS
    0x201:
      id: i386_ioperm
      -orig-id: NT_386_IOPERM
    0x202:
      id: x86_xstate
      -orig-id: NT_X86_XSTATE
    0x204:
      id: x86_shstk
      -orig-id: NT_X86_SHSTK
    0x205:
      id: x86_xsave_layout
      -orig-id: NT_X86_XSAVE_LAYOUT
    0x400:
      id: arm_vfp
      -orig-id: NT_ARM_VFP
    0x401:
      id: arm_tls
      -orig-id: NT_ARM_TLS
    0x405:
      id: arm_sve
      -orig-id: NT_ARM_SVE
    0x406:
      id: arm_pac_mask
      -orig-id: NT_ARM_PAC_MASK
    0x700:
      id: vmcoredd
      -orig-id: NT_VMCOREDD
