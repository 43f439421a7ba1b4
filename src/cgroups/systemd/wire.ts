// The D-Bus wire format (little-endian), for the few calls the systemd driver makes: a message is
// a fixed header, header fields a(yv), padding to 8, then the body, each value aligned to its
// type's size from the message's start (dbus-specification, "Message Format").

/** A value with its D-Bus type, as a variant holds it. */
export interface Variant {
  sig: string;
  value: DbusValue;
}

/** s/o/g: string; b: boolean; y/n/q/i/u/d: number; x/t: bigint (or number); a: array; (...): array; v: Variant. */
export type DbusValue = string | number | bigint | boolean | Variant | DbusValue[];

const ALIGN: Record<string, number> = { y: 1, b: 4, n: 2, q: 2, i: 4, u: 4, x: 8, t: 8, d: 8, s: 4, o: 4, g: 1, a: 4, '(': 8, '{': 8, v: 1, h: 4 };

/** Splits a signature into its complete types: "sa(sv)b" → ["s", "a(sv)", "b"]. */
export function splitSignature(sig: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < sig.length; ) {
    const end = typeEnd(sig, i);
    out.push(sig.slice(i, end));
    i = end;
  }
  return out;
}

function typeEnd(sig: string, i: number): number {
  const c = sig[i];
  if (c === 'a') return typeEnd(sig, i + 1);
  if (c === '(' || c === '{') {
    const close = c === '(' ? ')' : '}';
    let j = i + 1;
    while (sig[j] !== close) {
      if (j >= sig.length) throw new Error(`bad D-Bus signature ${sig}`);
      j = typeEnd(sig, j);
    }
    return j + 1;
  }
  if (c === undefined || !(c in ALIGN)) throw new Error(`bad D-Bus signature ${sig}`);
  return i + 1;
}

export class Writer {
  private buf = Buffer.alloc(512);
  len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(bigger, 0, 0, this.len);
    this.buf = bigger;
  }

  pad(n: number): void {
    const to = Math.ceil(this.len / n) * n;
    this.room(to - this.len);
    this.buf.fill(0, this.len, to);
    this.len = to;
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  setU32(at: number, v: number): void {
    this.buf.writeUInt32LE(v, at);
  }

  private u32(v: number): void {
    this.pad(4);
    this.room(4);
    this.buf.writeUInt32LE(v >>> 0, this.len);
    this.len += 4;
  }

  private text(s: string, sizeBytes: 1 | 4): void {
    const b = Buffer.from(s, 'utf8');
    if (sizeBytes === 1) {
      this.room(1);
      this.buf[this.len++] = b.length;
    } else this.u32(b.length);
    this.room(b.length + 1);
    b.copy(this.buf, this.len);
    this.len += b.length;
    this.buf[this.len++] = 0;
  }

  /** Appends one value of the complete type sig. */
  write(sig: string, v: DbusValue): void {
    const c = sig[0]!;
    this.pad(ALIGN[c] ?? 1);
    switch (c) {
      case 'y':
        this.room(1);
        this.buf[this.len++] = Number(v);
        return;
      case 'b':
        return this.u32(v ? 1 : 0);
      case 'n':
      case 'q':
        this.room(2);
        if (c === 'n') this.buf.writeInt16LE(Number(v), this.len);
        else this.buf.writeUInt16LE(Number(v), this.len);
        this.len += 2;
        return;
      case 'i':
        this.room(4);
        this.buf.writeInt32LE(Number(v), this.len);
        this.len += 4;
        return;
      case 'u':
        return this.u32(Number(v));
      case 'x':
      case 't':
        this.room(8);
        if (c === 'x') this.buf.writeBigInt64LE(BigInt(v as number | bigint), this.len);
        else this.buf.writeBigUInt64LE(BigInt(v as number | bigint), this.len);
        this.len += 8;
        return;
      case 'd':
        this.room(8);
        this.buf.writeDoubleLE(Number(v), this.len);
        this.len += 8;
        return;
      case 's':
      case 'o':
        return this.text(String(v), 4);
      case 'g':
        return this.text(String(v), 1);
      case 'v': {
        const va = v as Variant;
        this.text(va.sig, 1);
        return this.write(va.sig, va.value);
      }
      case 'a': {
        const elem = sig.slice(1);
        this.u32(0);
        const lenAt = this.len - 4;
        this.pad(ALIGN[elem[0]!] ?? 1);
        const start = this.len;
        for (const e of v as DbusValue[]) this.write(elem, e);
        this.setU32(lenAt, this.len - start);
        return;
      }
      case '(':
      case '{': {
        const parts = splitSignature(sig.slice(1, -1));
        const items = v as DbusValue[];
        parts.forEach((p, i) => this.write(p, items[i]!));
        return;
      }
      default:
        throw new Error(`D-Bus type ${c} is not supported`);
    }
  }
}

export class Reader {
  constructor(
    private readonly buf: Buffer,
    public pos = 0,
  ) {}

  align(n: number): void {
    this.pos = Math.ceil(this.pos / n) * n;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new Error('truncated D-Bus message');
  }

  private u32(): number {
    this.align(4);
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  private text(sizeBytes: 1 | 4): string {
    let n: number;
    if (sizeBytes === 1) {
      this.need(1);
      n = this.buf[this.pos++]!;
    } else n = this.u32();
    this.need(n + 1);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n + 1;
    return s;
  }

  /** Reads one value of the complete type sig. */
  read(sig: string): DbusValue {
    const c = sig[0]!;
    this.align(ALIGN[c] ?? 1);
    switch (c) {
      case 'y':
        this.need(1);
        return this.buf[this.pos++]!;
      case 'b':
        return this.u32() !== 0;
      case 'n':
      case 'q': {
        this.need(2);
        const v = c === 'n' ? this.buf.readInt16LE(this.pos) : this.buf.readUInt16LE(this.pos);
        this.pos += 2;
        return v;
      }
      case 'i':
      case 'h': {
        this.need(4);
        const v = this.buf.readInt32LE(this.pos);
        this.pos += 4;
        return v;
      }
      case 'u':
        return this.u32();
      case 'x':
      case 't': {
        this.need(8);
        const v = c === 'x' ? this.buf.readBigInt64LE(this.pos) : this.buf.readBigUInt64LE(this.pos);
        this.pos += 8;
        return v;
      }
      case 'd': {
        this.need(8);
        const v = this.buf.readDoubleLE(this.pos);
        this.pos += 8;
        return v;
      }
      case 's':
      case 'o':
        return this.text(4);
      case 'g':
        return this.text(1);
      case 'v': {
        const inner = this.text(1);
        return { sig: inner, value: this.read(inner) };
      }
      case 'a': {
        const elem = sig.slice(1);
        const n = this.u32();
        this.align(ALIGN[elem[0]!] ?? 1);
        const end = this.pos + n;
        this.need(n);
        const out: DbusValue[] = [];
        while (this.pos < end) out.push(this.read(elem));
        return out;
      }
      case '(':
      case '{':
        return splitSignature(sig.slice(1, -1)).map((p) => this.read(p));
      default:
        throw new Error(`D-Bus type ${c} is not supported`);
    }
  }
}

export const enum MessageType {
  MethodCall = 1,
  MethodReturn = 2,
  Error = 3,
  Signal = 4,
}

/** Header field codes. */
const F = { path: 1, interface: 2, member: 3, errorName: 4, replySerial: 5, destination: 6, sender: 7, signature: 8 } as const;

export interface Message {
  type: MessageType;
  serial: number;
  path?: string;
  interface?: string;
  member?: string;
  errorName?: string;
  replySerial?: number;
  destination?: string;
  signature?: string;
  body: DbusValue[];
}

/** A whole message, ready to send. NO_REPLY_EXPECTED is never set: every call here wants its answer. */
export function encodeMessage(m: Message): Buffer {
  const fields: DbusValue[] = [];
  const field = (code: number, sig: string, value: string | number | undefined): void => {
    if (value !== undefined) fields.push([code, { sig, value }]);
  };
  field(F.path, 'o', m.path);
  field(F.interface, 's', m.interface);
  field(F.member, 's', m.member);
  field(F.errorName, 's', m.errorName);
  field(F.replySerial, 'u', m.replySerial);
  field(F.destination, 's', m.destination);
  if (m.signature) field(F.signature, 'g', m.signature);
  const w = new Writer();
  w.write('y', 'l'.charCodeAt(0));
  w.write('y', m.type);
  w.write('y', 0);
  w.write('y', 1);
  w.write('u', 0); // body length, below
  w.write('u', m.serial);
  w.write('a(yv)', fields);
  w.pad(8);
  const bodyStart = w.len;
  const types = splitSignature(m.signature ?? '');
  types.forEach((t, i) => w.write(t, m.body[i]!));
  w.setU32(4, w.len - bodyStart);
  return Buffer.from(w.bytes());
}

/** The length of the whole message at the start of buf, or 0 if its fixed header is not all there. */
export function messageLength(buf: Buffer): number {
  if (buf.length < 16) return 0;
  if (buf[0] !== 0x6c) throw new Error('D-Bus message is not little-endian');
  const body = buf.readUInt32LE(4);
  const fields = buf.readUInt32LE(12);
  return Math.ceil((16 + fields) / 8) * 8 + body;
}

export function decodeMessage(buf: Buffer): Message {
  const r = new Reader(buf, 4);
  const bodyLen = r.read('u') as number;
  const m: Message = { type: buf[1] as MessageType, serial: r.read('u') as number, body: [] };
  for (const [code, v] of r.read('a(yv)') as [number, Variant][]) {
    const val = v.value;
    if (code === F.path) m.path = val as string;
    else if (code === F.interface) m.interface = val as string;
    else if (code === F.member) m.member = val as string;
    else if (code === F.errorName) m.errorName = val as string;
    else if (code === F.replySerial) m.replySerial = val as number;
    else if (code === F.destination) m.destination = val as string;
    else if (code === F.signature) m.signature = val as string;
  }
  r.align(8);
  const end = r.pos + bodyLen;
  for (const t of splitSignature(m.signature ?? '')) m.body.push(r.read(t));
  if (r.pos !== end) throw new Error('D-Bus message body does not match its signature');
  return m;
}
