/**
 * Units as Compose writes them, parsed into one canonical number so that
 * `90s` and `1m30s` are the same duration and `1g` and `1024m` the same size.
 */

/**
 * Docker takes sizes and durations as 64-bit integers. Past 2^53 a JavaScript
 * number is no longer exact (and 1e400 is Infinity), so such a value is
 * refused here instead of reaching Docker rounded, or as something it cannot
 * read. 2^53 is 8 PiB as bytes and about 104 days as nanoseconds.
 */
function exact(n: number): number | null {
  return Number.isSafeInteger(n) ? n : null;
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  // Escaped, not written: one non-ASCII character makes V8 hold the whole bundle chunk this
  // lands in (~0.5 MB of source, kept for the life of `berth run`) as a two-byte string.
  '\u00b5s': 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Go-style duration (`1m30s`, `1.5s`, `500ms`) → nanoseconds; a bare number is seconds. null if invalid. */
export function parseDurationNs(input: string | number): number | null {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? exact(Math.round(input * 1e9)) : null;
  const s = input.trim();
  if (s === '') return null;
  if (/^\d+(\.\d+)?$/.test(s)) return exact(Math.round(Number(s) * 1e9));
  const re = /(\d+(?:\.\d+)?)(ns|us|\u00b5s|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (consumed !== s.length) return null;
  return exact(Math.round(total));
}

/** berth's own durations for flags and berth.yaml: `500ms`, `30s`, `5m`, `1h` (and Go forms). → milliseconds */
export function parseDurationMs(input: string | number): number | null {
  const ns = parseDurationNs(input);
  return ns === null ? null : ns / 1e6;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
};

/** Docker byte sizes (`512m`, `1g`, `1.5GB`, `1024`) → bytes. null if invalid. */
export function parseBytes(input: string | number): number | null {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? exact(Math.floor(input)) : null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?b?|[kmgt]i?b?)\s*$/i.exec(input);
  if (!m) return null;
  const unit = m[2]!.toLowerCase().replace('i', '');
  const mult = SIZE_UNITS[unit];
  if (mult === undefined) return null;
  return exact(Math.floor(Number(m[1]) * mult));
}

/** `cpus: 0.5` / `"1.5"` → NanoCPUs as the Engine API wants them. */
export function parseNanoCpus(input: string | number): number | null {
  const n = typeof input === 'number' ? input : Number(input.trim());
  if (!Number.isFinite(n) || n < 0 || (typeof input === 'string' && input.trim() === '')) return null;
  return exact(Math.round(n * 1e9));
}
