/** One launch-plan record: a tag and its fields (docs/PLAN-FORMAT.md). */
export type PlanRecord = [tag: string, ...fields: (string | number | bigint)[]];

export const PLAN_VERSION = 1;

/** TAG\0COUNT\0FIELD...\0 for each record. A NUL inside a field would split it: refuse it. */
export function encodePlan(records: PlanRecord[]): Buffer {
  const parts: string[] = [];
  for (const [tag, ...fields] of records) {
    parts.push(tag, String(fields.length));
    for (const f of fields) {
      const s = String(f);
      if (s.includes('\0')) throw new Error(`plan record ${tag}: a field contains a NUL byte`);
      parts.push(s);
    }
  }
  return Buffer.from(parts.join('\0') + '\0');
}
