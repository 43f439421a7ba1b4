import type { Command } from '../../main.js';
import { parseArgs, str, bool, exactArgs } from '../args.js';
import { createContainer } from '../../container/create.js';
import { TsrunError } from '../../errors.js';

export const createFlags = [
  { names: ['bundle', 'b'], value: true, help: 'path to the root of the bundle directory, defaults to the current directory' },
  { names: ['console-socket'], value: true, help: 'path to an AF_UNIX socket which will receive the console pty master' },
  { names: ['pid-file'], value: true, help: 'specify the file to write the process id to' },
  { names: ['no-pivot'], value: false, help: 'do not use pivot root to jail process inside rootfs' },
  { names: ['no-new-keyring'], value: false, help: 'do not create a new session keyring for the container' },
  { names: ['preserve-fds'], value: true, help: 'pass N additional file descriptors to the container (default: 0)' },
];

export function preserveFdsOf(v: string | undefined): number {
  if (v === undefined) return 0;
  if (!/^\d+$/.test(v)) throw new TsrunError(`invalid value "${v}" for flag -preserve-fds`);
  return Number(v);
}

const command: Command = {
  flags: createFlags,
  usage: '[command options] <container-id>',
  async run(argv, g) {
    const p = parseArgs(argv, createFlags, 'create');
    exactArgs(p, 1, 'create');
    await createContainer({
      root: g.root,
      id: p.args[0]!,
      bundle: str(p, 'bundle') ?? process.cwd(),
      pidFile: str(p, 'pid-file'),
      consoleSocket: str(p, 'console-socket'),
      noPivot: bool(p, 'no-pivot'),
      preserveFds: preserveFdsOf(str(p, 'preserve-fds')),
      wait: false,
      cgroups: g.cgroupManager !== 'disabled',
      rootless: g.rootlessCgroups,
      systemd: g.systemdCgroup,
    });
    return 0;
  },
};
export default command;
