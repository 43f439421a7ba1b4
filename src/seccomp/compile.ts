// config-linux.md#seccomp → a BPF program, with libseccomp doing the rule compilation.
import { TsrunError } from '../errors.js';
import type { Config } from '../spec/load.js';
import {
  ACTIONS, ARCHES, archLibName, ATTR_CTL_NNP, EPERM, ERRNO_ACTIONS, FLAG_NEW_LISTENER, FLAG_TSYNC_ESRCH, FLAGS, OPERATORS,
} from './constants.js';
import { kernelFlags } from './kernel.js';
import { libseccomp, type Libseccomp } from './libseccomp.js';
import { stubPrefix } from './stub.js';

export type Seccomp = NonNullable<NonNullable<Config['linux']>['seccomp']>;
type Syscall = NonNullable<Seccomp['syscalls']>[number];

export interface CompiledSeccomp {
  /** SECCOMP_FILTER_FLAG_* for seccomp(2). */
  flags: number;
  /** struct sock_filter[] in native byte order. */
  program: Buffer;
  /** Set when a rule uses SCMP_ACT_NOTIFY: where the listener fd goes. */
  listener?: { path: string; metadata?: string };
  /** Names libseccomp does not know on this host (skipped, as runc does). */
  skipped: string[];
}

/** The action value for an action name and its optional errno, or an error naming the field. */
export function actionValue(name: string, errnoRet: number | undefined, actionField: string, errnoField: string): number {
  const base = ACTIONS[name];
  if (base === undefined) throw new TsrunError(`${actionField}: unknown seccomp action "${name}"`);
  if (errnoRet !== undefined && !ERRNO_ACTIONS.has(name)) throw new TsrunError(`${errnoField}: set, but ${name} takes no errno`);
  if (!ERRNO_ACTIONS.has(name)) return base;
  const e = errnoRet ?? EPERM;
  if (!Number.isInteger(e) || e < 0 || e > 0xffff) throw new TsrunError(`${errnoField}: ${e} is out of range 0..65535`);
  return (base | e) >>> 0;
}

/** 24-byte struct scmp_arg_cmp entries for one rule. */
function packArgs(args: NonNullable<Syscall['args']>, field: string): Buffer {
  const buf = Buffer.alloc(24 * args.length);
  args.forEach((a, i) => {
    const op = OPERATORS[a.op];
    if (op === undefined) throw new TsrunError(`${field}.args[${i}].op: unknown operator "${a.op}"`);
    if (!Number.isInteger(a.index) || a.index < 0 || a.index > 5) throw new TsrunError(`${field}.args[${i}].index: must be within 0..5: ${a.index}`);
    buf.writeUInt32LE(a.index, 24 * i);
    buf.writeUInt32LE(op, 24 * i + 4);
    buf.writeBigUInt64LE(BigInt(a.value), 24 * i + 8);
    buf.writeBigUInt64LE(BigInt(a.valueTwo ?? 0), 24 * i + 16);
  });
  return buf;
}

function addRules(lib: Libseccomp, ctx: unknown, sc: Syscall, i: number, defAction: number, skipped: string[]): void {
  const field = `linux.seccomp.syscalls[${i}]`;
  if (!sc.names?.length) throw new TsrunError(`${field}.names: must contain at least one name`);
  const action = actionValue(sc.action, sc.errnoRet, `${field}.action`, `${field}.errnoRet`);
  const args = sc.args ?? [];
  const packed = args.length ? packArgs(args, field) : null;
  // libseccomp refuses a rule whose action is the default one; it would change nothing anyway.
  if (action === defAction) return;
  // As runc: two conditions on the same argument cannot be ANDed by libseccomp, so each
  // condition becomes a rule of its own (OR) — otherwise all conditions form one rule (AND).
  const sameArg = new Set(args.map((a) => a.index)).size !== args.length;
  for (const name of sc.names) {
    const nr = lib.resolveName(name);
    // -1 (__NR_SCMP_ERROR): unknown to this libseccomp (a newer syscall): skipped, as runc does.
    // Other negative numbers are libseccomp's pseudo-syscalls for calls this arch lacks (chown32
    // on x86_64): the rule must still go in for the filter's other architectures.
    if (nr === -1) {
      if (!skipped.includes(name)) skipped.push(name);
      continue;
    }
    const groups = sameArg && packed ? args.map((_, k) => packed.subarray(24 * k, 24 * k + 24)) : [packed];
    for (const g of groups) {
      const rc = lib.ruleAdd(ctx, action, nr, g ? g.length / 24 : 0, g);
      if (rc < 0) throw new TsrunError(`${field}: adding the rule for "${name}" failed: errno ${-rc}`);
    }
  }
}

/** Compiles the config's seccomp section. Throws TsrunError naming the field at fault. */
export function compileSeccomp(s: Seccomp): CompiledSeccomp {
  const defAction = actionValue(s.defaultAction, s.defaultErrnoRet, 'linux.seccomp.defaultAction', 'linux.seccomp.defaultErrnoRet');
  if (s.defaultAction === 'SCMP_ACT_NOTIFY') throw new TsrunError('linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action');
  const usesNotify = (s.syscalls ?? []).some((c) => c.action === 'SCMP_ACT_NOTIFY');
  // As runc (libcontainer/seccomp): the runtime itself writes after the filter is loaded (the
  // start byte on the exec fifo), and a notified write would wait on the agent.
  (s.syscalls ?? []).forEach((c, i) => {
    if (c.action === 'SCMP_ACT_NOTIFY' && c.names?.includes('write')) {
      throw new TsrunError(`linux.seccomp.syscalls[${i}]: SCMP_ACT_NOTIFY cannot be used for the write syscall`);
    }
  });
  if (usesNotify && !s.listenerPath) throw new TsrunError('linux.seccomp.listenerPath: SCMP_ACT_NOTIFY needs a listener path');
  if (s.listenerMetadata && !s.listenerPath) throw new TsrunError('linux.seccomp.listenerMetadata: set without listenerPath');
  if (s.listenerPath && !s.listenerPath.startsWith('/')) throw new TsrunError(`linux.seccomp.listenerPath: must be absolute: ${s.listenerPath}`);

  let flags = 0;
  for (const f of s.flags ?? []) {
    const v = FLAGS[f];
    if (v === undefined) throw new TsrunError(`linux.seccomp.flags: unknown flag "${f}"`);
    if (!kernelFlags().includes(f)) throw new TsrunError(`linux.seccomp.flags: ${f} is not supported by this kernel`);
    flags |= v;
  }
  if (flags & FLAGS.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV! && !usesNotify) {
    throw new TsrunError('linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs a rule with SCMP_ACT_NOTIFY');
  }
  if (usesNotify) {
    flags |= FLAG_NEW_LISTENER;
    // The kernel refuses TSYNC with NEW_LISTENER unless told to fail with ESRCH instead.
    if (flags & FLAGS.SECCOMP_FILTER_FLAG_TSYNC!) flags |= FLAG_TSYNC_ESRCH;
  }

  const lib = libseccomp();
  const ctx = lib.init(defAction);
  try {
    // no_new_privs is the plan's business (process.noNewPrivileges), not the filter's.
    lib.attrSet(ctx, ATTR_CTL_NNP, 0);
    const arches = [lib.archNative()];
    (s.architectures ?? []).forEach((a, i) => {
      const token = ARCHES.includes(a) ? lib.archResolve(archLibName(a)) : 0;
      if (!token) throw new TsrunError(`linux.seccomp.architectures[${i}]: "${a}" is not known to libseccomp ${lib.version()}`);
      if (lib.archExist(ctx, token) === 0) return;
      const rc = lib.archAdd(ctx, token);
      if (rc < 0) throw new TsrunError(`linux.seccomp.architectures[${i}]: adding ${a} failed: errno ${-rc}`);
      arches.push(token);
    });
    const skipped: string[] = [];
    (s.syscalls ?? []).forEach((sc, i) => addRules(lib, ctx, sc, i, defAction, skipped));
    const body = lib.exportBpf(ctx);
    const names = (s.syscalls ?? []).flatMap((c) => c.names ?? []);
    const program = Buffer.concat([stubPrefix(lib, s.defaultAction, arches, names), body]);
    if (program.length / 8 > 4096) throw new TsrunError(`linux.seccomp: the filter has ${program.length / 8} instructions, more than the kernel's 4096`);
    return { flags, program, listener: usesNotify ? { path: s.listenerPath!, metadata: s.listenerMetadata } : undefined, skipped };
  } finally {
    lib.release(ctx);
  }
}
