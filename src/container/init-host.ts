// Who starts tsrun-init and is its parent. A cold call starts it itself (posix_spawn from the
// addon) and waits for it. In the warm server the client started it, so that the container
// descends from the caller (docs/CLIENT-SERVER.md): the server asks the client to wait for it
// and to forward signals (src/server/worker.ts).
import { closeSync } from 'node:fs';
import { loadNative } from '../native/addon.js';

export interface StartedInit {
  /** tsrun-init's pid (the C parent). */
  parent: number;
  /** This side's ends of the plan and sync sockets. */
  plan: number;
  sync: number;
}

export interface InitHost {
  /** Starts tsrun-init at path with the environment given; fds 3..3+preserveFds-1 are handed on. */
  start(path: string, env: string[], preserveFds: number): StartedInit;
  /** The parent's exit status within timeoutMs, undefined if it still runs. */
  waitExit(parent: number, timeoutMs: number): number | undefined;
  /** From now on the signals listed that this call gets go to pid. */
  forwardTo(pid: number, signals: number[]): void;
  /** Waits for the parent, sending it the signals listed meanwhile to target; its exit status. */
  waitForwarding(parent: number, target: number, signals: number[]): number;
}

const local: InitHost = {
  start(path, env, preserveFds) {
    const native = loadNative();
    const planFd = 3 + preserveFds;
    const [plan, planChild] = native.socketpair();
    let sync = -1;
    let syncChild = -1;
    try {
      [sync, syncChild] = native.socketpair();
      const fds = [0, 1, 2];
      for (let fd = 3; fd < planFd; fd++) fds.push(fd);
      fds.push(planChild, syncChild);
      return { parent: native.spawn(path, [path, String(planFd), String(planFd + 1)], env, fds), plan, sync };
    } catch (e) {
      closeQuietly(plan);
      if (sync >= 0) closeQuietly(sync);
      throw e;
    } finally {
      closeQuietly(planChild);
      if (syncChild >= 0) closeQuietly(syncChild);
    }
  },
  waitExit: (parent, timeoutMs) => loadNative().waitExit(parent, timeoutMs),
  forwardTo: (pid, signals) => loadNative().forwardSignals(pid, signals),
  waitForwarding: (parent, target, signals) => loadNative().waitForwarding(parent, target, signals),
};

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // closed already
  }
}

let current: InitHost | undefined;

/** The server's worker sets the client's host for one call, and unsets it after. */
export function setInitHost(h: InitHost | undefined): void {
  current = h;
}

export function initHost(): InitHost {
  return current ?? local;
}
