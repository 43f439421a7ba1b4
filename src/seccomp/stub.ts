// The ENOSYS stub (runc's patchbpf, done here as a prefix to libseccomp's program).
//
// Why: a profile is written against a list of syscalls it knows. A syscall added to the kernel
// later (clone3, openat2, ...) is not named in it, so it gets the default action, typically
// EPERM — and new glibc then reports an error instead of falling back to the old syscall, which
// it does only on ENOSYS. A syscall whose number is above every number the profile names is
// one the profile's author cannot have known about: it gets ENOSYS, "this kernel has no such
// call". Syscalls at or below that number keep the profile's default.
//
// How: before libseccomp's program, per architecture of the filter:
//     ld  [4]                       ; seccomp_data.arch
//   A:jeq AUDIT_ARCH, 0, <next A>   ; (libseccomp's arch tokens are the AUDIT_ARCH_* values)
//     ld  [0]                       ; seccomp_data.nr
//     jge 0x40000000, <body>, 0     ; x86_64 only: x32 calls go to libseccomp's program as is
//     jgt MAX_NR_OF_THIS_ARCH, <enosys>, <body>
//     ...
//     ja  <body>                    ; an architecture we have no stub for
//   enosys: ret SECCOMP_RET_ERRNO|ENOSYS
//   body: libseccomp's program, which starts by loading the arch again, so nothing it relies on
//   is changed. Jumps are forward only and short, as classic BPF requires.
import { ENOSYS } from './constants.js';
import type { Libseccomp } from './libseccomp.js';

const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGT_K = 0x25;
const JGE_K = 0x35;
const JA = 0x05;
const RET_K = 0x06;
const RET_ERRNO = 0x00050000;
const AUDIT_ARCH_X86_64 = 0xc000003e;
const X32_SYSCALL_BIT = 0x40000000;

interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** The prefix (struct sock_filter[], native byte order), empty when no stub applies. */
export function stubPrefix(lib: Libseccomp, defaultAction: string, arches: number[], names: string[]): Buffer {
  // Allowed or logged anyway: the stub would turn a working new syscall into ENOSYS.
  if (defaultAction === 'SCMP_ACT_ALLOW' || defaultAction === 'SCMP_ACT_LOG') return Buffer.alloc(0);
  const blocks: { arch: number; max: number }[] = [];
  for (const arch of new Set(arches)) {
    let max = -1;
    for (const n of names) max = Math.max(max, lib.resolveNameArch(arch, n));
    if (max >= 0) blocks.push({ arch, max });
  }
  if (!blocks.length) return Buffer.alloc(0);

  // Jump targets are filled in once the length is known: "enosys" and "body" are the last two.
  const prog: Insn[] = [{ code: LD_W_ABS, jt: 0, jf: 0, k: 4 }];
  const toEnosys: number[] = [];
  const toBody: { at: number; field: 'jt' | 'jf' | 'k' }[] = [];
  for (const b of blocks) {
    const x32 = b.arch === AUDIT_ARCH_X86_64;
    const len = x32 ? 4 : 3;
    prog.push({ code: JEQ_K, jt: 0, jf: len - 1, k: b.arch });
    prog.push({ code: LD_W_ABS, jt: 0, jf: 0, k: 0 });
    if (x32) {
      toBody.push({ at: prog.length, field: 'jt' });
      prog.push({ code: JGE_K, jt: 0, jf: 0, k: X32_SYSCALL_BIT });
    }
    toEnosys.push(prog.length);
    toBody.push({ at: prog.length, field: 'jf' });
    prog.push({ code: JGT_K, jt: 0, jf: 0, k: b.max });
  }
  toBody.push({ at: prog.length, field: 'k' });
  prog.push({ code: JA, jt: 0, jf: 0, k: 0 });
  const enosys = prog.length;
  prog.push({ code: RET_K, jt: 0, jf: 0, k: RET_ERRNO | ENOSYS });
  const body = prog.length;
  for (const at of toEnosys) prog[at]!.jt = enosys - at - 1;
  for (const { at, field } of toBody) prog[at]![field] = body - at - 1;
  if (prog.some((i) => i.jt > 255 || i.jf > 255)) throw new Error('seccomp stub: a jump is too long');

  const buf = Buffer.alloc(8 * prog.length);
  prog.forEach((i, n) => {
    // struct sock_filter { __u16 code; __u8 jt; __u8 jf; __u32 k; } in native (little-endian) order
    buf.writeUInt16LE(i.code, 8 * n);
    buf.writeUInt8(i.jt, 8 * n + 2);
    buf.writeUInt8(i.jf, 8 * n + 3);
    buf.writeUInt32LE(i.k >>> 0, 8 * n + 4);
  });
  return buf;
}
