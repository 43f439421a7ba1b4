import type { Command } from '../main.js';

export function globalUsage(names: string[]): string {
  return `NAME:
   tsrun - an OCI container runtime

USAGE:
   tsrun [global options] command [command options] [arguments...]

COMMANDS:
   ${names.join('\n   ')}

GLOBAL OPTIONS:
   --root value        root directory for storage of container state (default: "/run/tsrun")
   --log value         set the log file to write tsrun logs to (default: stderr)
   --log-format value  set the log format ('text' (default), or 'json')
   --debug             enable debug logging
   --systemd-cgroup    use the systemd cgroup driver (a transient unit per container)
   --cgroup-manager v  cgroupfs (default), systemd or disabled (no cgroups)
   --rootless value    ignore cgroup permission errors ('true', 'false', or 'auto')
   --version, -v       print the version
   --help, -h          show help
`;
}

export function commandUsage(name: string, cmd: Command): string {
  const opts = cmd.flags
    .filter((f) => !f.hidden)
    .map((f) => `   ${f.names.map((n) => (n.length === 1 ? `-${n}` : `--${n}`)).join(', ')}${f.value ? ' value' : ''}  ${f.help ?? ''}`)
    .join('\n');
  return `USAGE:\n   tsrun ${name} ${cmd.usage}\n\nOPTIONS:\n${opts}\n`;
}

/** runc's usage text of a command on one container (checkpoint, restore): the ID, then what it does. */
export function idUsage(verb: string, description: string): string {
  return `[command options] <container-id>

Where "<container-id>" is the name for the instance of the container to be
${verb}.

DESCRIPTION:
   ${description}`;
}
