import { ALL_ACCESS, type DevicePolicy } from './devices.js';
import { isUnifiedHost } from './hierarchy.js';

// eBPF opcodes (<linux/bpf_common.h>, <linux/bpf.h>) the filter needs.
const LDX_MEM_W = 0x61; // dst = *(u32 *)(src + off)
const ALU32_AND_K = 0x54; // dst &= imm (32-bit)
const ALU32_RSH_K = 0x74; // dst >>= imm (32-bit)
const MOV64_X = 0xbf; // dst = src
const MOV64_K = 0xb7; // dst = imm
const JNE_K = 0x55; // if dst != imm goto +off
const EXIT = 0x95;

// struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }:
// access_type = (access << 16) | type, type BPF_DEVCG_DEV_BLOCK 1 / CHAR 2,
// access BPF_DEVCG_ACC_MKNOD 1 / READ 2 / WRITE 4 (devices.ts ACCESS).
const TYPE = { b: 1, c: 2 } as const;

type Insn = [code: number, dst: number, src: number, off: number, imm: number];

/**
 * The BPF_PROG_TYPE_CGROUP_DEVICE program for cgroup v2: the v1 device cgroup as code. Every
 * exception has the same verdict (the opposite of the default), so their order does not matter,
 * and each block starts with a test, so no code is unreachable (the verifier refuses that).
 */
export function deviceFilterProgram(policy: DevicePolicy): Buffer {
  const insns: Insn[] = [
    [LDX_MEM_W, 2, 1, 0, 0], // r2 = access_type
    [ALU32_AND_K, 2, 0, 0, 0xffff], // r2 = type
    [LDX_MEM_W, 3, 1, 0, 0],
    [ALU32_RSH_K, 3, 0, 0, 16], // r3 = access
    [LDX_MEM_W, 4, 1, 4, 0], // r4 = major
    [LDX_MEM_W, 5, 1, 8, 0], // r5 = minor
  ];
  for (const e of policy.exceptions) {
    const block: Insn[] = [[JNE_K, 2, 0, 0, TYPE[e.type]]];
    if (e.access !== ALL_ACCESS) {
      // every access asked for must be in the exception's set
      block.push([MOV64_X, 1, 3, 0, 0], [ALU32_AND_K, 1, 0, 0, ~e.access & ALL_ACCESS], [JNE_K, 1, 0, 0, 0]);
    }
    if (e.major !== '*') block.push([JNE_K, 4, 0, 0, e.major]);
    if (e.minor !== '*') block.push([JNE_K, 5, 0, 0, e.minor]);
    block.push([MOV64_K, 0, 0, 0, policy.allowAll ? 0 : 1], [EXIT, 0, 0, 0, 0]);
    // each "no match" jump lands on the first instruction after this block
    block.forEach((insn, i) => {
      if (insn[0] === JNE_K) insn[3] = block.length - i - 1;
    });
    insns.push(...block);
  }
  insns.push([MOV64_K, 0, 0, 0, policy.allowAll ? 1 : 0], [EXIT, 0, 0, 0, 0]);
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach(([code, dst, src, off, imm], i) => {
    buf.writeUInt8(code, i * 8);
    buf.writeUInt8((src << 4) | dst, i * 8 + 1);
    buf.writeInt16LE(off, i * 8 + 2);
    buf.writeInt32LE(imm | 0, i * 8 + 4);
  });
  return buf;
}

/**
 * The cgroup create and restore attach the program to: the container's v2 cgroup (v1 has the
 * devices files instead). Rootless: attaching a BPF program needs privilege runc does not
 * expect to have either.
 */
export function deviceProgramDir(cgroupDirs: string[], rootless: boolean): string | undefined {
  return isUnifiedHost() && cgroupDirs[0] && !rootless ? cgroupDirs[0] : undefined;
}
