// What the client (csrc/client/client.c) and the server agree on besides the framing
// (csrc/common/wire.h); docs/CLIENT-SERVER.md describes the whole protocol.

/** node dist/tsrun.js --tsrun-server <root> <build>: the server of one state root and build. */
export const SERVER_FLAG = '--tsrun-server';
/** process.argv[2] of the server's worker threads: tells the bundle it runs in one without
 * loading node:worker_threads, about 5 ms of every cold call's start. */
export const WORKER_FLAG = '--tsrun-worker';
/** Under the state root: the socket and lock of each build's server (0700, this uid's). */
export const SERVER_DIR = '@server';
/** A file or dir of this name in a state root turns the server off there: every call is cold. */
export const NO_SERVER = '@no-server';
/** The answer bytes (csrc/common/wire.h WIRE_PENDING, WIRE_ACCEPTED, WIRE_EXIT), and the client's go-ahead after ACCEPTED (WIRE_CONFIRMED). */
export const ACCEPTED = 0x41;
export const CONFIRMED = 0x43;
export const PENDING = 0x50;
export const EXIT = 0x58;
/** What the server asks a client that started tsrun-init, and its answers (wire.h). */
export const WAIT = 0x57;
export const FORWARD = 0x46;
export const FOREGROUND = 0x47;
export const WAITED = 0x77;
export const FORWARDING = 0x66;
/** A connected client's request must arrive whole within this. */
export const RECV_TIMEOUT_MS = 5000;
/** How long a server whose root holds no container stays (TSRUN_SERVER_GRACE_MS overrides). */
export const DEFAULT_GRACE_MS = 60_000;
