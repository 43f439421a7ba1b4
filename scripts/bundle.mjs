// Bundles the CLI into one file, dist/tsrun-main.js: Node start-up reads one script, and
// per-command modules are wrapped so their bodies run only when the command needs them.
// dist/tsrun.js is the small loader Node starts (src/boot.ts): it runs that file with a V8
// code cache.
import { build } from 'esbuild';
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // Whitespace and local names too: V8 pre-parses every byte of the script at each start
  // (about 8 ms here for the unminified 540 KB). Error texts are strings and stay as written.
  minify: true,
  legalComments: 'none',
  define: { TSRUN_VERSION: JSON.stringify(pkg.version) },
  // koffi loads its prebuilt native module by path at run time: it stays in node_modules.
  external: ['*.node', 'koffi'],
  logLevel: 'warning',
};
await build({ ...common, entryPoints: ['src/main.ts'], outfile: 'dist/tsrun-main.js' });
// Stored as the function the loader calls: compiling it needs no wrapped copy of 130 KB of
// source, which would fill a fifth of V8's young generation and bring a collection forward.
const main = readFileSync('dist/tsrun-main.js', 'utf8');
writeFileSync('dist/tsrun-main.js', `(function (exports, require, module, __filename, __dirname) {${main}\n})`);
await build({
  ...common,
  entryPoints: ['src/boot.ts'],
  outfile: 'dist/tsrun.js',
  // env -S -u: NODE_EXTRA_CA_CERTS costs tens of ms at every Node start and tsrun needs no TLS.
  // The node that builds is the node that runs: callers such as Podman run the runtime with
  // no PATH, so the interpreter is named by its absolute path.
  banner: { js: `#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS ${process.execPath}` },
});
chmodSync('dist/tsrun.js', 0o755);
