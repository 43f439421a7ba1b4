// Splits the compiled tap files into two lists of about the same run time, one per tap process
// (scripts/test.sh). tap runs its files in name order, and with two jobs the long ones that
// come late (rootfs-propagation, rootless, warm-cold) left one job alone at the end: about a
// minute of the tier. Each file's time is the one build/tap.log recorded for it in the last run,
// else the figure below (a quiet run of the test host), else 6 s; the longest go first, each to
// the list with less time so far.
// usage: node scripts/tap-lists.mjs DIR   (prints two lines of space-separated paths)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const SECONDS = {
  'client-server.js': 43,
  'rootfs-propagation.js': 25,
  'kill-faults.js': 21,
  'fuzz.js': 17,
  'concurrency.js': 16,
  'rootless.js': 16,
  'warm-cold.js': 14,
  'checkpoint.js': 13,
  'exec.js': 10,
  'hooks.js': 7,
  'faults.js': 6,
  'seccomp.js': 6,
  'lsm.js': 5,
  'process.js': 5,
  'errors.js': 5,
  'terminal.js': 5,
};

const dir = process.argv[2];
const files = readdirSync(dir).filter((f) => f.endsWith('.js')).sort();
const seconds = { ...SECONDS };
const last = join('build', 'tap.log');
if (existsSync(last)) {
  for (const m of readFileSync(last, 'utf8').matchAll(/^(?:not )?ok \d+ - \S*?([^/\s]+\.js) # time=([\d.]+)ms$/gm)) seconds[m[1]] = Number(m[2]) / 1000;
}
const lists = [
  { files: [], total: 0 },
  { files: [], total: 0 },
];
for (const f of [...files].sort((a, b) => (seconds[b] ?? 6) - (seconds[a] ?? 6))) {
  const l = lists[0].total <= lists[1].total ? lists[0] : lists[1];
  l.files.push(join(dir, f));
  l.total += seconds[f] ?? 6;
}
for (const l of lists) console.log(l.files.join(' '));
