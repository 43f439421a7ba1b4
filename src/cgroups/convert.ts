/**
 * cgroup v1 cpu.shares (2..262144) to v2 cpu.weight (1..10000). The quadratic-in-log mapping
 * runc and crun both use now: 1024 shares (the v1 default) lands on 100 (the v2 default), and
 * both ends of the range map to the ends of the other.
 */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  const exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
  return Math.ceil(Math.pow(10, exponent));
}

/** v1 blkio.weight (10..1000) to v2 io.weight (1..10000), linearly, as runc does. */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return Math.trunc(1 + ((weight - 10) * 9999) / 990);
}

/** "2MB" → 2097152 (the spec's base-1024 units). */
export function pageSizeBytes(pageSize: string): number | undefined {
  const m = /^(\d+)(KB|MB|GB|TB)$/.exec(pageSize);
  if (!m) return undefined;
  return Number(m[1]) * 1024 ** (['KB', 'MB', 'GB', 'TB'].indexOf(m[2]!) + 1);
}
