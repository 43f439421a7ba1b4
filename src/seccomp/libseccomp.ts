// The system's libseccomp.so.2 through koffi. Loaded on first use only: a config without
// seccomp never pays for koffi or the library (and a host without libseccomp can still run it).
import { closeSync, fstatSync, readSync } from 'node:fs';
import { TsrunError } from '../errors.js';

/** Opaque scmp_filter_ctx. */
export type FilterCtx = unknown;

export interface Libseccomp {
  init(defAction: number): FilterCtx;
  release(ctx: FilterCtx): void;
  archAdd(ctx: FilterCtx, token: number): number;
  archExist(ctx: FilterCtx, token: number): number;
  archNative(): number;
  archResolve(name: string): number;
  resolveName(name: string): number;
  resolveNameArch(token: number, name: string): number;
  /** cmps: packed struct scmp_arg_cmp[] (24 bytes each), or null. */
  ruleAdd(ctx: FilterCtx, action: number, nr: number, count: number, cmps: Buffer | null): number;
  attrSet(ctx: FilterCtx, attr: number, value: number): number;
  /** The filter as raw struct sock_filter bytes (seccomp_export_bpf into a memfd). */
  exportBpf(ctx: FilterCtx): Buffer;
  version(): string;
  apiLevel(): number;
  /** seccomp(2) on this kernel: 0 or -errno (koffi calls libc's syscall()). */
  seccompSyscall(op: number, flags: number): number;
}

let lib: Libseccomp | undefined;

interface Koffi {
  load(path: string): { func(def: string): (...a: unknown[]) => unknown };
  struct(name: string, def: Record<string, string>): unknown;
  errno(): number;
}

export function libseccomp(): Libseccomp {
  if (lib) return lib;
  let koffi: Koffi;
  let so: ReturnType<Koffi['load']>;
  let libc: ReturnType<Koffi['load']>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    koffi = require('koffi') as Koffi;
    so = koffi.load('libseccomp.so.2');
    libc = koffi.load('libc.so.6');
  } catch (e) {
    throw new TsrunError(`linux.seccomp: cannot load libseccomp.so.2 (apt-get install libseccomp2): ${(e as Error).message}`);
  }
  koffi.struct('scmp_version', { major: 'uint', minor: 'uint', micro: 'uint' });
  const f = {
    init: so.func('void *seccomp_init(uint32_t def_action)'),
    release: so.func('void seccomp_release(void *ctx)'),
    archAdd: so.func('int seccomp_arch_add(void *ctx, uint32_t arch)'),
    archExist: so.func('int seccomp_arch_exist(void *ctx, uint32_t arch)'),
    archNative: so.func('uint32_t seccomp_arch_native(void)'),
    archResolve: so.func('uint32_t seccomp_arch_resolve_name(const char *name)'),
    resolveName: so.func('int seccomp_syscall_resolve_name(const char *name)'),
    resolveNameArch: so.func('int seccomp_syscall_resolve_name_arch(uint32_t arch, const char *name)'),
    ruleAdd: so.func('int seccomp_rule_add_array(void *ctx, uint32_t action, int nr, unsigned int cnt, const uint8_t *cmps)'),
    attrSet: so.func('int seccomp_attr_set(void *ctx, int attr, uint32_t value)'),
    exportBpf: so.func('int seccomp_export_bpf(void *ctx, int fd)'),
    version: so.func('const scmp_version *seccomp_version(void)'),
    apiGet: so.func('unsigned int seccomp_api_get(void)'),
    memfd: libc.func('int memfd_create(const char *name, unsigned int flags)'),
    syscall: libc.func('long syscall(long nr, ...)'),
  };
  lib = {
    init: (a) => {
      const ctx = f.init(a);
      if (!ctx) throw new TsrunError('linux.seccomp: seccomp_init failed');
      return ctx;
    },
    release: (ctx) => void f.release(ctx),
    archAdd: (ctx, t) => f.archAdd(ctx, t) as number,
    archExist: (ctx, t) => f.archExist(ctx, t) as number,
    archNative: () => f.archNative() as number,
    archResolve: (n) => f.archResolve(n) as number,
    resolveName: (n) => f.resolveName(n) as number,
    resolveNameArch: (t, n) => f.resolveNameArch(t, n) as number,
    ruleAdd: (ctx, a, nr, cnt, cmps) => f.ruleAdd(ctx, a, nr, cnt, cmps) as number,
    attrSet: (ctx, attr, v) => f.attrSet(ctx, attr, v) as number,
    exportBpf: (ctx) => {
      // MFD_CLOEXEC: the fd must not reach the tsrun-init we spawn later.
      const fd = f.memfd('tsrun-seccomp', 1) as number;
      if (fd < 0) throw new TsrunError(`linux.seccomp: memfd_create: errno ${koffi.errno()}`);
      try {
        const rc = f.exportBpf(ctx, fd) as number;
        if (rc < 0) throw new TsrunError(`linux.seccomp: seccomp_export_bpf: errno ${-rc}`);
        const buf = Buffer.alloc(fstatSync(fd).size);
        let off = 0;
        while (off < buf.length) {
          const n = readSync(fd, buf, off, buf.length - off, off);
          if (n <= 0) break;
          off += n;
        }
        return buf.subarray(0, off);
      } finally {
        closeSync(fd);
      }
    },
    version: () => {
      const v = f.version() as { major: number; minor: number; micro: number };
      return `${v.major}.${v.minor}.${v.micro}`;
    },
    apiLevel: () => f.apiGet() as number,
    seccompSyscall: (op, flags) => {
      // seccomp(op, flags, NULL): EFAULT means the kernel accepted op+flags and then read NULL.
      const r = Number(f.syscall(SYS_SECCOMP, 'int', op, 'uint', flags, 'void *', null));
      return r < 0 ? -koffi.errno() : r;
    },
  };
  return lib;
}

/** __NR_seccomp; only x86_64 and aarch64 hosts are supported by tsrun. */
const SYS_SECCOMP = process.arch === 'arm64' ? 277 : 317;
