/**
 * The Go conversions SOPS applies to values, reproduced bit for bit because
 * the MAC is computed over their output (sops.go ToBytes, aes/cipher.go).
 */

/** A time value decrypted from `type:time`; kept as Go's MarshalText form. */
export class GoTime {
  constructor(readonly text: string) {}
}

export type SopsScalar = string | number | boolean | Uint8Array | GoTime | null;

/** An int is kept apart from a float: ToBytes renders them differently only in principle, but typing matters for output. */
export class GoInt {
  constructor(readonly value: bigint) {}
}

/** strconv.FormatFloat(v, 'f', -1, 64): shortest round-trip digits, never an exponent. */
export function goFormatFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const s = String(v);
  if (!/e/i.test(s)) return s === '-0' ? '-0' : s;
  // Expand JavaScript's shortest exponent form (same digits as Go's) into plain decimal.
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const [, sign, int, frac = '', expText] = m;
  const digits = int! + frac;
  const exp = Number(expText);
  const point = 1 + exp;
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** strconv.ParseBool. */
export function goParseBool(s: string): boolean | null {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return null;
}

/** strconv.Atoi (decimal, optional sign, 64-bit). */
export function goParseInt(s: string): GoInt | null {
  if (!/^[-+]?[0-9]+$/.test(s)) return null;
  const v = BigInt(s);
  if (v > 9223372036854775807n || v < -9223372036854775808n) return null;
  return new GoInt(v);
}

/** strconv.ParseFloat(s, 64), the forms Go accepts that a SOPS file can hold. */
export function goParseFloat(s: string): number | null {
  const t = s.replace(/_/g, '');
  if (/^[-+]?(inf|infinity)$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(t)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t) && !/^[-+]?0[xX][0-9a-fA-F.]+([pP][-+]?\d+)?$/.test(t)) return null;
  const v = Number(t);
  return Number.isNaN(v) ? null : v;
}

/** time.Time.UnmarshalText (RFC 3339) followed by MarshalText (RFC 3339 with nanoseconds, trailing zeros cut). */
export function goTime(s: string): GoTime | null {
  const m = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[-+]\d{2}:\d{2})$/.exec(s);
  if (!m) return null;
  let frac = (m[3] ?? '').replace(/0+$/, '');
  if (frac === '.') frac = '';
  const zone = /^[Zz]$/.test(m[4]!) ? 'Z' : m[4]!;
  return new GoTime(`${m[1]}T${m[2]}${frac}${zone}`);
}

/** time.Parse(time.RFC3339, s).Format(time.RFC3339): the MAC's additional data. */
export function goRfc3339(s: string): string | null {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[-+]\d{2}:\d{2})$/.exec(s);
  if (!m) return null;
  const zone = m[3] === 'Z' || m[3] === '+00:00' || m[3] === '-00:00' ? 'Z' : m[3]!;
  return m[1]! + zone;
}

/** sops.ToBytes. */
export function toBytes(v: unknown): Buffer {
  if (v instanceof Uint8Array) return Buffer.from(v);
  if (typeof v === 'boolean') return Buffer.from(v ? 'True' : 'False');
  if (v instanceof GoInt) return Buffer.from(v.value.toString());
  if (typeof v === 'number') return Buffer.from(goFormatFloat(v));
  if (v instanceof GoTime) return Buffer.from(v.text);
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  throw new Error('a value of an unsupported type');
}

/** The text a plaintext store writes for a scalar. */
export function scalarText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof GoInt) return v.value.toString();
  if (typeof v === 'number') return goFormatFloat(v);
  if (v instanceof GoTime) return v.text;
  return String(v);
}
