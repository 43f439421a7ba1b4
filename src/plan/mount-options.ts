// <linux/mount.h> MS_* and MOUNT_ATTR_* values.
export const MS = {
  RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, SYNCHRONOUS: 0x10, REMOUNT: 0x20,
  MANDLOCK: 0x40, DIRSYNC: 0x80, NOSYMFOLLOW: 0x100, NOATIME: 0x400, NODIRATIME: 0x800,
  BIND: 0x1000, MOVE: 0x2000, REC: 0x4000, SILENT: 0x8000, UNBINDABLE: 0x20000,
  PRIVATE: 0x40000, SLAVE: 0x80000, SHARED: 0x100000, RELATIME: 0x200000,
  I_VERSION: 0x800000, STRICTATIME: 0x1000000, LAZYTIME: 0x2000000,
} as const;

const ATTR = { RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, ATIME: 0x70, RELATIME: 0x0, NOATIME: 0x10, STRICTATIME: 0x20, NODIRATIME: 0x80, NOSYMFOLLOW: 0x200000 } as const;

/** option → [set flags, clear flags] (runc's table: "ro" sets MS_RDONLY, "rw" clears it...). */
const FLAGS: Record<string, [number, number]> = {
  async: [0, MS.SYNCHRONOUS], atime: [0, MS.NOATIME], bind: [MS.BIND, 0], defaults: [0, 0],
  dev: [0, MS.NODEV], diratime: [0, MS.NODIRATIME], dirsync: [MS.DIRSYNC, 0], exec: [0, MS.NOEXEC],
  iversion: [MS.I_VERSION, 0], lazytime: [MS.LAZYTIME, 0], loud: [0, MS.SILENT], mand: [MS.MANDLOCK, 0],
  noatime: [MS.NOATIME, 0], nodev: [MS.NODEV, 0], nodiratime: [MS.NODIRATIME, 0], noexec: [MS.NOEXEC, 0],
  noiversion: [0, MS.I_VERSION], nolazytime: [0, MS.LAZYTIME], nomand: [0, MS.MANDLOCK],
  norelatime: [0, MS.RELATIME], nostrictatime: [0, MS.STRICTATIME], nosuid: [MS.NOSUID, 0],
  nosymfollow: [MS.NOSYMFOLLOW, 0], rbind: [MS.BIND | MS.REC, 0], relatime: [MS.RELATIME, 0],
  remount: [MS.REMOUNT, 0], ro: [MS.RDONLY, 0], rw: [0, MS.RDONLY], silent: [MS.SILENT, 0],
  strictatime: [MS.STRICTATIME, 0], suid: [0, MS.NOSUID], sync: [MS.SYNCHRONOUS, 0],
};

export const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC, shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC, unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
};

/** Recursive mount attributes (mount_setattr, AT_RECURSIVE): option → [set, clear]. */
const RATTR: Record<string, [number, number]> = {
  rro: [ATTR.RDONLY, 0], rrw: [0, ATTR.RDONLY], rnosuid: [ATTR.NOSUID, 0], rsuid: [0, ATTR.NOSUID],
  rnodev: [ATTR.NODEV, 0], rdev: [0, ATTR.NODEV], rnoexec: [ATTR.NOEXEC, 0], rexec: [0, ATTR.NOEXEC],
  rnodiratime: [ATTR.NODIRATIME, 0], rdiratime: [0, ATTR.NODIRATIME],
  rrelatime: [ATTR.RELATIME, ATTR.ATIME], rnorelatime: [0, 0], rnoatime: [ATTR.NOATIME, ATTR.ATIME],
  ratime: [0, ATTR.NOATIME], rstrictatime: [ATTR.STRICTATIME, ATTR.ATIME], rnostrictatime: [0, 0],
  rnosymfollow: [ATTR.NOSYMFOLLOW, 0], rsymfollow: [0, ATTR.NOSYMFOLLOW],
};

export interface ParsedOptions {
  flags: number;
  propagation: number;
  attrSet: number;
  attrClr: number;
  data: string[];
  idmap: boolean;
  recursiveIdmap: boolean;
  /** runc's tmpcopyup: the tmpfs starts with a copy of the directory it covers. */
  copyUp: boolean;
}

/** Splits a mount's options into mount(2) flags, propagation, recursive attributes and fs data. */
export function parseMountOptions(options: string[]): ParsedOptions {
  const r: ParsedOptions = { flags: 0, propagation: 0, attrSet: 0, attrClr: 0, data: [], idmap: false, recursiveIdmap: false, copyUp: false };
  for (const o of options) {
    const f = FLAGS[o];
    const a = RATTR[o];
    if (f) {
      r.flags = (r.flags | f[0]) & ~f[1];
    } else if (o in PROPAGATION) {
      r.propagation = PROPAGATION[o]!;
    } else if (a) {
      r.attrSet = (r.attrSet | a[0]) & ~a[1];
      r.attrClr = (r.attrClr | a[1]) & ~a[0];
    } else if (o === 'idmap' || o === 'ridmap') {
      r.idmap = true;
      r.recursiveIdmap = o === 'ridmap';
    } else if (o === 'tmpcopyup') {
      r.copyUp = true;
    } else if (o.startsWith('x-')) {
      // userspace-only options (mount helpers'), which runc ignores too
    } else {
      r.data.push(o);
    }
  }
  return r;
}

/** Every option name this runtime understands (for `features`). */
export function knownMountOptions(): string[] {
  return [...Object.keys(FLAGS), ...Object.keys(PROPAGATION), ...Object.keys(RATTR), 'idmap', 'ridmap', 'tmpcopyup'].sort();
}
