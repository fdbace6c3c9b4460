meta:
  id: elf_notes
  title: The notes of an ELF core's PT_NOTE segment (also the note copy in a kdump file)
  license: MIT
  encoding: ASCII
  endian:
    switch-on: is_be
    cases:
      true: be
      false: le
doc: |
  A run of ELF note records, as found in a PT_NOTE segment of an ELF core
  (ksy/elf_core.ksy parses it from there) and in the copy of the crashed kernel's
  PT_NOTE segment that a makedumpfile (kdump-compressed) file keeps (offset_note /
  size_note of its sub-header). The parameters are the target's facts that the note
  layouts depend on: e_machine, the ELF class and the byte order.

  Notes are small and each one parses in its own substream (a bad note cannot spoil
  its neighbours); they form a lazy chain (`first`, then each note's `next`) so a
  reader walks them one by one and keeps the good ones in front of a broken one.

  Note descriptors whose layout depends on the target ABI (elf_prstatus, elf_prpsinfo,
  siginfo, auxv, NT_FILE) use `len_word`, the width of the ABI's `long`, which is
  decided by e_machine first and the ELF class second: a 32-bit ARM or i386 kernel dump
  may be written as ELF64, and x32 / MIPS n32 processes are ELF32 with 64-bit registers.
doc-ref: docs/formats.md sections 4 (ELF core files) and 5 (kdump /proc/vmcore, VMCOREINFO)
params:
  - id: machine_id
    type: u2
    doc: e_machine of the target (0 when unknown).
  - id: is_64
    type: bool
    doc: ELFCLASS64 (for a kdump file, a 64-bit target).
  - id: is_be
    type: bool
    doc: Big-endian target (EI_DATA is ELFDATA2MSB).
instances:
  machine:
    value: machine_id
    enum: machine
  first:
    pos: 0
    type: note(0)
    if: _io.size >= 12
    doc: The first note; walk on with each note's `next`.
  len_word:
    value: |
      machine == machine::i386 or machine == machine::arm or machine == machine::ppc
      or machine == machine::m68k or machine == machine::sparc ? 4
      : machine == machine::aarch64 or machine == machine::ppc64 or machine == machine::sparcv9
      or machine == machine::alpha ? 8
      : is_64 ? 8 : 4
    doc: |
      Width of the target ABI's `long` (pointer): fixed by e_machine where the
      architecture has one width (32-bit ARM / i386 kernels may write ELF64 dumps),
      else by the ELF class (x32 and MIPS n32 are ELF32 with 4-byte longs).
types:
  note:
    doc: |
      One note record: name and descriptor each padded to 4 bytes (also in ELF64
      cores). Notes are keyed by (name, type): type numbers collide across names.
    doc-ref: docs/formats.md 4.1, 4.2
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
        type: mapped_files(_root.len_word)
        if: _parent.is_core and _parent.type == note_type::file.to_i
      mapped_files_other_width:
        pos: 0
        type: 'mapped_files(_root.len_word == 8 ? 4 : 8)'
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
        doc: KEY=value lines (docs/formats.md 5).
      netbsd_procinfo:
        pos: 0
        type: netbsd_procinfo
        if: _parent.name == "NetBSD-CORE" and _parent.type == 1
      netbsd_regs:
        pos: 0
        type:
          switch-on: _root.machine
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
          switch-on: _root.len_word
          cases:
            4: u4
            8: u8
      - id: usec
        type:
          switch-on: _root.len_word
          cases:
            4: u4
            8: u8
  prstatus:
    doc: |
      struct elf_prstatus: signal state, ids and times of one thread, then pr_reg
      (the architecture's elf_gregset_t) at `ofs_registers`. pr_fpvalid follows
      pr_reg after arch-dependent padding and is not read.
    doc-ref: docs/formats.md 4.3
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
        size: '_root.machine == machine::m68k ? 0 : 2'
        doc: m68k aligns long to 2 bytes, so pr_sigpend follows pr_cursig directly there.
      - id: sigpend
        type:
          switch-on: _root.len_word
          cases:
            4: u4
            8: u8
        -orig-id: pr_sigpend
      - id: sighold
        type:
          switch-on: _root.len_word
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
        value: '_root.len_word == 8 ? 0x70 : _root.machine == machine::m68k ? 0x46 : 0x48'
        doc: Where pr_reg starts (0x70 LP64, 0x48 ILP32, 0x46 m68k).
      registers:
        pos: ofs_registers
        type:
          switch-on: _root.machine
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
    doc-ref: docs/formats.md 4.3
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
    doc-ref: docs/formats.md 4.3
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
    doc-ref: docs/formats.md 4.3
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
    doc-ref: docs/formats.md 4.3
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
          switch-on: _root.len_word
          cases:
            4: u4
            8: u8
        repeat: expr
        repeat-expr: 32
      - id: others
        type:
          switch-on: _root.len_word
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
          switch-on: _root.len_word
          cases:
            4: u4
            8: u8
      - id: psw_addr
        type:
          switch-on: _root.len_word
          cases:
            4: u4
            8: u8
      - id: gprs
        type:
          switch-on: _root.len_word
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
          switch-on: _root.len_word
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
          switch-on: _root.len_word
          cases:
            4: u4
            8: u8
      - id: x
        type:
          switch-on: _root.len_word
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
    doc-ref: docs/formats.md 4.4
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
        size: '_root.len_word == 8 ? 4 : 0'
      - id: flag
        type:
          switch-on: _root.len_word
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
        value: _root.len_word == 4 and _io.size < 128
  siginfo:
    doc: |
      The user-space siginfo_t of the signal that killed the process (128 bytes).
      MIPS stores si_code before si_errno. The union starts at 0x10 with 8-byte
      longs, at 0x0C with 4-byte longs.
    doc-ref: docs/formats.md 4.7
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
        value: '_root.machine == machine::mips ? second : third'
        -orig-id: si_code
      errno:
        value: '_root.machine == machine::mips ? third : second'
        -orig-id: si_errno
      ofs_fields:
        value: '_root.len_word == 8 ? 16 : 12'
      addr:
        pos: ofs_fields
        type:
          switch-on: _root.len_word
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
    doc-ref: docs/formats.md 4.5
    seq:
      - id: entries
        type: auxv_entry
        repeat: expr
        repeat-expr: _io.size / (2 * _root.len_word)
  auxv_entry:
    seq:
      - id: type
        type:
          switch-on: _root.len_word
          cases:
            4: u4
            8: u8
        -orig-id: a_type
      - id: value
        type:
          switch-on: _root.len_word
          cases:
            4: u4
            8: u8
        -orig-id: a_val
  mapped_files:
    doc: |
      NT_FILE: count and page size, then `num_entries` (start, end, file page offset)
      triples, then as many NUL-terminated paths. A reader checks `num_entries`
      against the descriptor size before touching the lists.
    doc-ref: docs/formats.md 4.6
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
    doc-ref: docs/formats.md 4.8
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
