// A synchronous D-Bus connection to systemd over a unix socket: the handful of calls the systemd
// driver makes need no event loop, and a blocking socket with a timeout keeps create synchronous.
// As root the manager's private socket is used (a direct connection, as systemctl makes: no bus
// daemon between, no Hello, and systemd sends job signals to it unasked); otherwise, or without
// it, the bus (system, or the user's session bus for a user instance), with Hello and AddMatch.
import { closeSync, existsSync, readFileSync, readSync, writeSync } from 'node:fs';
import { TsrunError } from '../../errors.js';
import { loadNative } from '../../native/addon.js';
import { decodeMessage, encodeMessage, messageLength, MessageType, type DbusValue, type Message } from './wire.js';

/** runc waits as long for a job of systemd's. */
export const TIMEOUT_MS = 30000;

/** An error reply: its D-Bus name (org.freedesktop.systemd1.UnitExists) and systemd's message. */
export class DbusError extends TsrunError {
  constructor(
    readonly dbusName: string,
    readonly text: string,
  ) {
    super(`${text} (${dbusName})`);
  }
}

const SYSTEMD = 'org.freedesktop.systemd1';
export const MANAGER_PATH = '/org/freedesktop/systemd1';
export const MANAGER = 'org.freedesktop.systemd1.Manager';

/** The uid the bus sees: in a user namespace, the host uid euid maps to (runc's DetectUID). */
function busUid(): number {
  const euid = process.geteuid?.() ?? 0;
  try {
    for (const line of readFileSync('/proc/self/uid_map', 'utf8').split('\n')) {
      const [inside, outside, count] = line.trim().split(/\s+/).map(Number);
      if (inside === undefined || outside === undefined || count === undefined || Number.isNaN(count)) continue;
      if (euid >= inside && euid < inside + count) return outside + (euid - inside);
    }
  } catch {
    // no /proc: the euid is the one
  }
  return euid;
}

function addressPath(address: string | undefined): string | undefined {
  const m = /(?:^|;)unix:(?:[^;]*,)?path=([^,;]+)/.exec(address ?? '');
  return m ? decodeURIComponent(m[1]!) : undefined;
}

/** Where the manager is: its private socket when it is ours to use, else the bus. */
function endpoints(user: boolean): { path: string; direct: boolean }[] {
  const out: { path: string; direct: boolean }[] = [];
  const runtime = process.env.XDG_RUNTIME_DIR;
  if (user) {
    if (runtime) out.push({ path: `${runtime}/systemd/private`, direct: true });
    const bus = addressPath(process.env.DBUS_SESSION_BUS_ADDRESS) ?? (runtime ? `${runtime}/bus` : undefined);
    if (bus) out.push({ path: bus, direct: false });
  } else {
    if (process.geteuid?.() === 0) out.push({ path: '/run/systemd/private', direct: true });
    out.push({ path: addressPath(process.env.DBUS_SYSTEM_BUS_ADDRESS) ?? '/run/dbus/system_bus_socket', direct: false });
  }
  return out;
}

export class Bus {
  private serial = 0;
  private inbox = Buffer.alloc(0);
  private authed = false;
  /** Signals that came while a reply was awaited. */
  private signals: Message[] = [];

  private constructor(
    private fd: number,
    readonly direct: boolean,
    readonly where: string,
  ) {}

  /** Connects to the system's systemd, or to the user's own instance. */
  static connect(user: boolean): Bus {
    const native = loadNative();
    const tried: string[] = [];
    for (const e of endpoints(user)) {
      if (!existsSync(e.path)) {
        tried.push(`${e.path}: no such socket`);
        continue;
      }
      let fd: number;
      try {
        fd = native.unixConnect(e.path, TIMEOUT_MS);
      } catch (err) {
        tried.push((err as Error).message);
        continue;
      }
      const bus = new Bus(fd, e.direct, e.path);
      // AUTH and BEGIN go in one write, the first message only once OK is back: systemd's sd-bus
      // server leaves message bytes that came in the same read as BEGIN unread until more input
      // arrives (the call then hangs), so they must not share a read.
      const hexUid = Buffer.from(String(busUid())).toString('hex');
      bus.writeRaw(Buffer.from(`\0AUTH EXTERNAL ${hexUid}\r\nBEGIN\r\n`));
      try {
        bus.authenticate();
      } catch (err) {
        bus.close();
        tried.push((err as Error).message);
        continue;
      }
      if (!e.direct) {
        bus.send('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'Hello', '', []);
        bus.send('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'AddMatch', 's', [`type='signal',sender='${SYSTEMD}',path='${MANAGER_PATH}',interface='${MANAGER}',member='JobRemoved'`]);
      }
      return bus;
    }
    throw new TsrunError(`systemd cgroup driver: cannot reach ${user ? "the user's systemd instance" : 'systemd'} over D-Bus (${tried.join('; ')})`);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private writeRaw(b: Buffer): void {
    try {
      for (let off = 0; off < b.length; ) off += writeSync(this.fd, b, off);
    } catch (e) {
      throw new TsrunError(`D-Bus ${this.where}: write: ${(e as Error).message}`);
    }
  }

  /** Sends a method call to systemd's manager (or another object); returns its serial. */
  send(destination: string, path: string, iface: string, member: string, signature: string, body: DbusValue[]): number {
    const serial = ++this.serial;
    this.writeRaw(encodeMessage({ type: MessageType.MethodCall, serial, destination, path, interface: iface, member, signature, body }));
    return serial;
  }

  private fill(): void {
    const chunk = Buffer.alloc(65536);
    let n: number;
    for (;;) {
      try {
        n = readSync(this.fd, chunk, 0, chunk.length, null);
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EINTR') continue;
        if (code === 'EAGAIN') throw new TsrunError(`D-Bus ${this.where}: no answer from systemd within ${TIMEOUT_MS / 1000} s`);
        throw new TsrunError(`D-Bus ${this.where}: read: ${(e as Error).message}`);
      }
    }
    if (n === 0) throw new TsrunError(`D-Bus ${this.where}: the connection was closed${this.authed ? '' : ' during authentication'}`);
    this.inbox = Buffer.concat([this.inbox, chunk.subarray(0, n)]);
  }

  /** Reads the server's answer to AUTH: "OK <guid>". */
  private authenticate(): void {
    while (!this.authed) {
      const nl = this.inbox.indexOf('\r\n');
      if (nl < 0) {
        this.fill();
        continue;
      }
      const line = this.inbox.toString('latin1', 0, nl);
      this.inbox = this.inbox.subarray(nl + 2);
      if (!line.startsWith('OK ')) throw new TsrunError(`D-Bus ${this.where}: authentication refused (${line})`);
      this.authed = true;
    }
  }

  /** The next message from the other side. */
  private next(): Message {
    for (;;) {
      const len = messageLength(this.inbox);
      if (len && this.inbox.length >= len) {
        const m = decodeMessage(this.inbox.subarray(0, len));
        this.inbox = this.inbox.subarray(len);
        return m;
      }
      this.fill();
    }
  }

  /** Waits for the reply to serial; an error reply throws DbusError. */
  reply(serial: number): DbusValue[] {
    for (;;) {
      const m = this.next();
      if (m.type === MessageType.Signal) this.signals.push(m);
      if (m.replySerial !== serial) continue;
      if (m.type === MessageType.Error) throw new DbusError(m.errorName ?? 'unknown', typeof m.body[0] === 'string' ? m.body[0] : (m.errorName ?? 'error'));
      return m.body;
    }
  }

  /** A call to systemd's manager, and its reply. */
  call(member: string, signature: string, body: DbusValue[], path = MANAGER_PATH, iface = MANAGER): DbusValue[] {
    return this.reply(this.send(SYSTEMD, path, iface, member, signature, body));
  }

  /** Waits for the JobRemoved signal of a job; its result ("done", "failed", "canceled", ...). */
  jobResult(job: string): string {
    for (;;) {
      const m = this.signals.shift() ?? this.next();
      if (m.type === MessageType.Signal && m.member === 'JobRemoved' && m.body[1] === job) return String(m.body[3]);
    }
  }
}
