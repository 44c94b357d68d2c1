import type { TraefikMetrics } from '../ports/traefik.js';

/**
 * A reader for the Prometheus text exposition format (version 0.0.4), enough
 * for Traefik's /metrics: samples with labels, escaped label values, special
 * values (+Inf, -Inf, NaN) and optional timestamps. Comments (# HELP, # TYPE)
 * and lines it cannot read are skipped: one odd line must not hide the rest.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

export function parsePrometheusText(text: string, keep: (name: string) => boolean = () => true): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const name = NAME.exec(line)?.[0];
    if (!name || !keep(name)) continue;
    const s = parseSampleLine(line, name);
    if (s) out.push(s);
  }
  return out;
}

function parseSampleLine(line: string, name: string): Sample | null {
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (line[i] === ' ' || line[i] === ',') i++;
      if (line[i] === '}') {
        i++;
        break;
      }
      const ln = LABEL_NAME.exec(line.slice(i))?.[0];
      if (!ln) return null;
      i += ln.length;
      while (line[i] === ' ') i++;
      if (line[i] !== '=') return null;
      i++;
      while (line[i] === ' ') i++;
      if (line[i] !== '"') return null;
      i++;
      let v = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) return null;
        if (c === '"') {
          i++;
          break;
        }
        if (c === '\\') {
          const e = line[i + 1];
          v += e === 'n' ? '\n' : e === undefined ? '' : e;
          i += 2;
          continue;
        }
        v += c;
        i++;
      }
      labels[ln] = v;
    }
  }
  const rest = line.slice(i).trim().split(/\s+/);
  const value = parseValue(rest[0]);
  if (value === null) return null;
  return { name, labels, value };
}

function parseValue(s: string | undefined): number | null {
  if (s === undefined || s === '') return null;
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  const n = Number(s);
  return Number.isNaN(n) ? null : n;
}

export const TRAEFIK_REQUESTS = 'traefik_service_requests_total';
export const TRAEFIK_DURATION_BUCKET = 'traefik_service_request_duration_seconds_bucket';
export const TRAEFIK_SERVER_UP = 'traefik_service_server_up';

/**
 * The three families berth reads, summed over the labels it does not use
 * (method, protocol, code for the histogram): Traefik splits each counter by
 * them, the gate only needs per service and code / per service and bound.
 */
export function traefikMetricsFromText(text: string): TraefikMetrics {
  const wanted = new Set([TRAEFIK_REQUESTS, TRAEFIK_DURATION_BUCKET, TRAEFIK_SERVER_UP]);
  const requests = new Map<string, { service: string; code: number; count: number }>();
  const buckets = new Map<string, { service: string; le: number; count: number }>();
  const serverUp: TraefikMetrics['serverUp'] = [];
  for (const s of parsePrometheusText(text, (n) => wanted.has(n))) {
    const service = s.labels.service;
    if (service === undefined || !Number.isFinite(s.value)) continue;
    if (s.name === TRAEFIK_REQUESTS) {
      const code = Number(s.labels.code);
      if (!Number.isInteger(code)) continue;
      const k = `${service}\u0000${code}`;
      const e = requests.get(k) ?? { service, code, count: 0 };
      e.count += s.value;
      requests.set(k, e);
    } else if (s.name === TRAEFIK_DURATION_BUCKET) {
      const le = parseValue(s.labels.le);
      if (le === null || Number.isNaN(le)) continue;
      const k = `${service}\u0000${le}`;
      const e = buckets.get(k) ?? { service, le, count: 0 };
      e.count += s.value;
      buckets.set(k, e);
    } else if (s.labels.url !== undefined) {
      serverUp.push({ service, url: s.labels.url, up: s.value >= 1 });
    }
  }
  return { requests: [...requests.values()], durationBuckets: [...buckets.values()], serverUp };
}
