/** Signals a person or a supervisor sends to a foreground `run`/`exec` that belong to the container. */
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT'];

/** Forwards those signals to `pid` until `exited` settles; resolves with the exit status. */
export async function forwardUntilExit(pid: number, exited: Promise<number>): Promise<number> {
  const forward = (sig: NodeJS.Signals): void => {
    try {
      process.kill(pid, sig);
    } catch {
      // exited meanwhile
    }
  };
  for (const s of FORWARDED) process.on(s, forward);
  try {
    return await exited;
  } finally {
    for (const s of FORWARDED) process.off(s, forward);
  }
}
