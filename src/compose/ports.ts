import type { PortSpec } from '../model/desired.js';

/**
 * Ports in both Compose syntaxes, into one list of single-port mappings
 * (ranges expanded), so `"8080:80"` and `{target: 80, published: 8080}` agree.
 */
export type PortResult = { ports: PortSpec[] } | { error: string };

const PROTOCOLS = new Set(['tcp', 'udp', 'sctp']);

export function parsePortShort(input: string | number): PortResult {
  let s = String(input).trim();
  let protocol: PortSpec['protocol'] = 'tcp';
  const slash = s.lastIndexOf('/');
  if (slash >= 0) {
    const p = s.slice(slash + 1).toLowerCase();
    if (!PROTOCOLS.has(p)) return { error: `unknown protocol "${p}" (tcp, udp or sctp)` };
    protocol = p as PortSpec['protocol'];
    s = s.slice(0, slash);
  }
  let hostIp = '';
  // [ipv6]:host:container or ipv4:host:container
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(s);
  let rest: string[];
  if (v6) {
    hostIp = v6[1]!;
    rest = v6[2]!.split(':');
    if (rest.length !== 2) return { error: 'expected [IP]:HOST:CONTAINER' };
  } else {
    const parts = s.split(':');
    if (parts.length === 3) {
      hostIp = parts[0]!;
      rest = [parts[1]!, parts[2]!];
    } else if (parts.length <= 2) {
      rest = parts;
    } else {
      return { error: 'expected [[IP:]HOST:]CONTAINER[/PROTOCOL]' };
    }
  }
  const containerPart = rest[rest.length - 1]!;
  const hostPart = rest.length === 2 ? rest[0]! : '';
  const target = parseRange(containerPart);
  if (!target) return { error: `invalid container port "${containerPart}"` };
  let published: [number, number] | null = null;
  if (hostPart !== '') {
    published = parseRange(hostPart);
    if (!published) return { error: `invalid host port "${hostPart}"` };
  }
  return expand(target, published, hostIp, protocol);
}

export function parsePortLong(p: {
  target: number | string;
  published?: number | string | null;
  host_ip?: string;
  protocol?: string;
}): PortResult {
  const target = parseRange(String(p.target));
  if (!target || target[0] !== target[1]) return { error: `invalid target port "${String(p.target)}"` };
  const protocol = (p.protocol ?? 'tcp').toLowerCase();
  if (!PROTOCOLS.has(protocol)) return { error: `unknown protocol "${protocol}" (tcp, udp or sctp)` };
  let published: [number, number] | null = null;
  if (p.published !== undefined && p.published !== null && String(p.published) !== '') {
    published = parseRange(String(p.published));
    if (!published) return { error: `invalid published port "${String(p.published)}"` };
  }
  return expand(target, published, p.host_ip ?? '', protocol as PortSpec['protocol']);
}

function expand(target: [number, number], published: [number, number] | null, hostIp: string, protocol: PortSpec['protocol']): PortResult {
  const n = target[1] - target[0] + 1;
  if (published) {
    const m = published[1] - published[0] + 1;
    // One container port and a host range: the engine takes the first free host port of the range (Docker's own parser allows exactly this mismatch).
    if (n === 1 && m > 1) return { ports: [{ target: target[0], published: published[0], publishedEnd: published[1], hostIp, protocol }] };
    if (m !== n) {
      return { error: 'a published port range must have as many ports as the container range, or be a range for one container port' };
    }
  }
  const ports: PortSpec[] = [];
  for (let i = 0; i < n; i++) {
    ports.push({ target: target[0] + i, published: published ? published[0] + i : null, hostIp, protocol });
  }
  return { ports };
}

function parseRange(s: string): [number, number] | null {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s.trim());
  if (!m) return null;
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (a < 1 || b > 65535 || b < a) return null;
  return [a, b];
}

export function comparePorts(a: PortSpec, b: PortSpec): number {
  return (
    a.target - b.target ||
    a.protocol.localeCompare(b.protocol) ||
    a.hostIp.localeCompare(b.hostIp) ||
    (a.published ?? 0) - (b.published ?? 0) ||
    (a.publishedEnd ?? 0) - (b.publishedEnd ?? 0)
  );
}

/** The host side as Docker's HostPort takes it: "" (any), "8080", or "6005-6015" (the first free one of the range). */
export function hostPortText(p: PortSpec): string {
  if (p.published === null) return '';
  return p.publishedEnd !== undefined ? `${p.published}-${p.publishedEnd}` : String(p.published);
}

/** `expose` entries → canonical `port/proto` strings (ranges expanded). */
export function parseExpose(input: string | number): string[] | null {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(String(input).trim());
  if (!m) return null;
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (a < 1 || b > 65535 || b < a) return null;
  const proto = (m[3] ?? 'tcp').toLowerCase();
  const out: string[] = [];
  for (let p = a; p <= b; p++) out.push(`${p}/${proto}`);
  return out;
}
