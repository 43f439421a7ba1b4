// The warm server of a harness's state root (src/server, docs/CLIENT-SERVER.md): finding it,
// starting it where the test's calls reach it, stopping it. A server exits by itself within a
// second once its root is removed (the harness removes every root it made).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sleep, type Harness, type Result } from './runtime.js';

/** A call must be served by the server: the client exits 125 instead of running it cold. */
export const WARM = { TSRUN_TEST_REQUIRE_SERVER: '1' };
/** Every call cold: Node started for the call alone, no server used or started. */
export const COLD = { TSRUN_SERVER: 'off' };

export { sleep };

export function until(what: string, ok: () => boolean, ms = 15_000): void {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    sleep(50);
  }
}

/** A process's state letter (R, S, T, Z ...), undefined once it is gone. */
export function stateOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0];
  } catch {
    return undefined;
  }
}

/** Pids of the live servers of a state root. */
export function servers(root: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let cmd: string[];
    try {
      cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const i = cmd.indexOf('--tsrun-server');
    if (i > 0 && cmd[i + 1] === root && stateOf(Number(name)) !== 'Z') out.push(Number(name));
  }
  return out;
}

/** The socket of a root's server, once it listens. */
export function socketOf(root: string): string | undefined {
  const dir = join(root, '@server');
  const s = existsSync(dir) ? readdirSync(dir).find((n) => n.endsWith('.sock')) : undefined;
  return s && join(dir, s);
}

/** A unix socket bound at path is listening (/proc/net/unix: flag __SO_ACCEPTCON). */
export function listening(path: string | undefined): boolean {
  if (!path) return false;
  return readFileSync('/proc/net/unix', 'utf8').split('\n').some((l) => l.endsWith(` ${path}`) && l.split(/\s+/)[3] === '00010000');
}

/** A call's --debug output names the server that ran it. */
export const served = (r: Result): boolean => /warm server/.test(r.stderr);

export function stopServers(root: string): void {
  for (const pid of servers(root)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  until('no server', () => servers(root).length === 0);
}

/**
 * Starts the server of h's root (a call that finds none starts it) with the given server
 * environment; its pid, once it serves. The caller must not be a subreaper (the server would
 * not stay under one). The grace period is long: a loaded host's slow create must not find it
 * gone idle.
 */
export function startServer(h: Harness, env: Record<string, string> = {}): number {
  mkdirSync(h.root, { recursive: true });
  stopServers(h.root);
  // the killed ones' sockets: the new server's shows it listens
  for (let s = socketOf(h.root); s; s = socketOf(h.root)) rmSync(s);
  h.ok(['list'], { env: { TSRUN_SERVER_GRACE_MS: '600000', ...env } });
  until('a listening server', () => servers(h.root).length === 1 && listening(socketOf(h.root)));
  if (!env.TSRUN_TEST_SERVER_PAUSE_AT) until('a served call', () => h.tsrun(['list'], { env: WARM }).status === 0);
  return servers(h.root)[0]!;
}
