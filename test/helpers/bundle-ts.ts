// Loads project TypeScript modules into the test process as tsrun bundles them (esbuild, like
// scripts/bundle.mjs), so their pure parts can be tested without a tsrun call.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOP } from './runtime.js';

const req = createRequire(join(TOP, 'package.json'));

/** Bundles `source` (export statements with paths relative to the repository) and requires it. */
export function loadBundled<T>(source: string): T {
  const esbuild = req('esbuild') as typeof import('esbuild');
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-bundle-'));
  try {
    const out = join(dir, 'bundle.js');
    esbuild.buildSync({
      stdin: { contents: source, resolveDir: TOP, loader: 'ts' },
      bundle: true, platform: 'node', format: 'cjs', outfile: out, logLevel: 'error',
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(out) as T;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
