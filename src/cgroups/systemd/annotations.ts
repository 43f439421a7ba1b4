// org.systemd.property.NAME annotations: extra unit properties, the value in GVariant text
// format, as runc reads them (specconv's initSystemdProps with godbus's ParseVariant).
import { TsrunError } from '../../errors.js';
import type { Variant } from './wire.js';
import type { Property } from './properties.js';

const PREFIX = 'org.systemd.property.';

const TYPED: Record<string, string> = { byte: 'y', int16: 'n', uint16: 'q', int32: 'i', uint32: 'u', int64: 'x', uint64: 't', double: 'd', boolean: 'b', string: 's', objectpath: 'o' };

/** One GVariant text value: true/false, a quoted string, a number (int32, or typed: "uint64 5", "@t 5"), or an array of one type. */
export function parseGVariant(text: string): Variant {
  let s = text.trim();
  let sig: string | undefined;
  const at = /^@([a-z()]+)\s+/.exec(s);
  const word = /^([a-z]+[0-9]*)\s+/.exec(s);
  if (at) {
    sig = at[1];
    s = s.slice(at[0].length);
  } else if (word && word[1]! in TYPED) {
    sig = TYPED[word[1]!];
    s = s.slice(word[0].length);
  }
  if (s.startsWith('[')) {
    const inner = s.slice(1, -1).trim();
    if (!s.endsWith(']')) throw new Error(`unterminated array`);
    const items = inner ? splitTop(inner).map(parseGVariant) : [];
    const elem = sig?.slice(1) ?? items[0]?.sig;
    if (!elem) throw new Error('an empty array needs a type (@as [])');
    if (items.some((i) => i.sig !== elem)) throw new Error('array items of different types');
    return { sig: `a${elem}`, value: items.map((i) => i.value) };
  }
  if (s === 'true' || s === 'false') return check({ sig: 'b', value: s === 'true' }, sig);
  if (/^'.*'$|^".*"$/s.test(s)) return check({ sig: 's', value: s.slice(1, -1).replace(/\\(.)/g, '$1') }, sig);
  if (/^-?\d+$/.test(s)) {
    const type = sig ?? 'i';
    if (!'ynqiuxt'.includes(type)) throw new Error(`${s} is not a ${type}`);
    return { sig: type, value: 'xt'.includes(type) ? BigInt(s) : Number(s) };
  }
  if (/^-?\d*\.\d+$/.test(s)) return check({ sig: 'd', value: Number(s) }, sig);
  throw new Error(`cannot parse "${text}"`);
}

function check(v: Variant, sig: string | undefined): Variant {
  if (sig && sig !== v.sig) throw new Error(`value is a ${v.sig}, not a ${sig}`);
  return v;
}

/** Splits "a, 'b,c', d" at its top-level commas. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

/** A number property's seconds as microseconds: TimeoutStopSec=5 is TimeoutStopUSec=5000000, as runc converts it. */
function secToUSec(v: Variant): Variant {
  if (!'ynqiuxtd'.includes(v.sig)) throw new Error('not a number');
  const n = v.sig === 'd' ? BigInt(Math.trunc(Number(v.value) * 1e6)) : BigInt(v.value as number | bigint) * 1000000n;
  return { sig: 't', value: n };
}

/** The properties the config's annotations ask for, in the annotations' order. */
export function annotationProperties(annotations: Record<string, string> | undefined): Property[] {
  const props: Property[] = [];
  for (const [key, text] of Object.entries(annotations ?? {})) {
    if (!key.startsWith(PREFIX)) continue;
    let name = key.slice(PREFIX.length);
    if (name.length < 3 || !/^[A-Za-z]+$/.test(name)) throw new TsrunError(`annotations: ${key}: the property name must be ASCII letters only (at least 3)`);
    try {
      let value = parseGVariant(text);
      if (/[a-z]Sec$/.test(name)) {
        name = `${name.slice(0, -3)}USec`;
        value = secToUSec(value);
      }
      props.push([name, value]);
    } catch (e) {
      throw new TsrunError(`annotations: ${key}=${text}: ${(e as Error).message}`);
    }
  }
  return props;
}
