/** One launch-plan record: a tag and its fields (docs/PLAN-FORMAT.md). */
export type PlanRecord = [tag: string, ...fields: (string | number | bigint)[]];

export const PLAN_VERSION = 2;

/**
 * TAG\0COUNT\0FIELD...\0 for each record. A NUL inside a field would split it: refuse it.
 * Written straight into one buffer: a plan can hold tens of KB (a seccomp program in hex), and
 * joining strings first would allocate it twice on the JavaScript heap.
 */
export function encodePlan(records: PlanRecord[]): Buffer {
  let size = 0;
  for (let r = 0; r < records.length; r++) {
    const rec = records[r]!;
    size += Buffer.byteLength(rec[0]) + String(rec.length - 1).length + 2;
    for (let i = 1; i < rec.length; i++) {
      const f = rec[i]!;
      if (typeof f === 'string' && f.includes('\0')) throw new Error(`plan record ${rec[0]}: a field contains a NUL byte`);
      size += (typeof f === 'string' ? Buffer.byteLength(f) : String(f).length) + 1;
    }
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  const put = (text: string): void => {
    at += out.write(text, at);
    out[at++] = 0;
  };
  for (let r = 0; r < records.length; r++) {
    const rec = records[r]!;
    put(rec[0]);
    put(String(rec.length - 1));
    for (let i = 1; i < rec.length; i++) put(String(rec[i]));
  }
  return out;
}
