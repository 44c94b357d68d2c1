// A Docker Engine API proxy for fault-injection tests.
//
// It listens on a unix socket and pipes every connection to the real engine,
// but it reads the client→engine direction as HTTP requests (head, then a
// Content-Length or chunked body), so it knows exactly where each request
// starts and ends. That lets a test crash berth between any two Docker calls:
//
//   - `before`: the k-th mutating request (POST/PUT/DELETE) is held back, the
//     berth process is SIGKILLed, and the request never reaches the engine;
//   - `after`: the k-th mutating request is forwarded, and when the engine's
//     first response bytes come back — the engine has done the work — berth
//     is SIGKILLed before it can read them.
//
// After the kill every connection is cut, as the kernel would cut a dead
// process's sockets. Upgraded connections (exec start, attach: `Upgrade: tcp`)
// and streaming responses (events, pull progress) are piped untouched once
// their request went through.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';

export interface EngineCall {
  /** 1-based index among the mutating calls since the last `reset`. */
  seq: number;
  method: string;
  /** Path without the `/v1.41` prefix or the query string. */
  path: string;
  /** What the call does, with object names where the proxy knows them: `start web-web-1`. */
  what: string;
}

export interface FaultPlan {
  /** Kill at this mutating call (1-based). */
  at: number;
  when: 'before' | 'after';
  /** Kill the berth process, synchronously (e.g. `() => child.kill('SIGKILL')`). */
  kill: () => void;
}

const MUTATING = new Set(['POST', 'PUT', 'DELETE']);
/** Requests larger than this are piped as they come instead of held whole (none of berth's are). */
const MAX_HELD = 4 * 1024 * 1024;

interface ParsedHead {
  method: string;
  target: string;
  headers: Map<string, string>;
}

function parseHead(text: string): ParsedHead | null {
  const lines = text.split('\r\n');
  const m = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(lines[0] ?? '');
  if (!m) return null;
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return { method: m[1]!, target: m[2]!, headers };
}

/**
 * End offset (exclusive) of a chunked body that starts at `from` in `buf`,
 * or -1 when it is not complete yet. Trailers are allowed.
 */
function chunkedEnd(buf: Buffer, from: number): number {
  let at = from;
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return -1;
    const size = parseInt(buf.subarray(at, eol).toString('latin1').split(';')[0]!.trim(), 16);
    if (Number.isNaN(size)) return -1;
    if (size === 0) {
      const end = buf.indexOf('\r\n\r\n', eol);
      // "0\r\n\r\n": the CRLF after the size line is also the empty trailer's.
      if (buf.subarray(eol, eol + 4).toString('latin1') === '\r\n\r\n') return eol + 4;
      return end < 0 ? -1 : end + 4;
    }
    const next = eol + 2 + size + 2;
    if (buf.length < next) return -1;
    at = next;
  }
}

export class FaultProxy {
  readonly socketPath: string;
  private readonly dir: string;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private plan: FaultPlan | null = null;
  private count = 0;
  private calls: EngineCall[] = [];
  private trippedAt: EngineCall | null = null;
  /** Container id → name, learnt from create responses and renames (for `what`). */
  private readonly names = new Map<string, string>();

  private constructor(private readonly upstreamPath: string) {
    // Short path: unix socket paths are limited to ~107 bytes.
    this.dir = mkdtempSync('/tmp/bfp-');
    this.socketPath = join(this.dir, 'docker.sock');
  }

  /** A proxy in front of the engine at `upstreamPath` (a unix socket). */
  static async start(upstreamPath: string): Promise<FaultProxy> {
    const p = new FaultProxy(upstreamPath);
    // Half-open: `docker exec` closes its write side after the request and still reads the output.
    const server = createServer({ allowHalfOpen: true }, (client) => p.handle(client));
    p.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(p.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return p;
  }

  get dockerHost(): string {
    return `unix://${this.socketPath}`;
  }

  /** Forget the calls seen so far, cut leftover connections, and arm `plan` (or just count). */
  reset(plan: FaultPlan | null = null): void {
    this.cutAll();
    this.plan = plan;
    this.count = 0;
    this.calls = [];
    this.trippedAt = null;
  }

  /** Name containers the proxy has not seen created (for `what`): full id → name. */
  knowContainers(names: Record<string, string>): void {
    for (const [id, name] of Object.entries(names)) this.names.set(id, name);
  }

  /** The mutating calls since the last reset, in the order they reached the proxy. */
  get mutating(): readonly EngineCall[] {
    return this.calls;
  }

  /** The call at which berth was killed, or null when the plan's call never came. */
  get tripped(): EngineCall | null {
    return this.trippedAt;
  }

  async close(): Promise<void> {
    this.cutAll();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (existsSync(this.dir)) rmSync(this.dir, { recursive: true, force: true });
  }

  private cutAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  private trip(call: EngineCall): void {
    this.trippedAt = call;
    this.plan!.kill();
    this.cutAll();
  }

  private handle(client: Socket): void {
    if (this.trippedAt) {
      client.destroy();
      return;
    }
    const up = createConnection({ path: this.upstreamPath, allowHalfOpen: true });
    this.sockets.add(client);
    this.sockets.add(up);
    const done = () => {
      this.sockets.delete(client);
      this.sockets.delete(up);
    };
    client.on('close', () => {
      up.destroy();
      done();
    });
    up.on('close', () => {
      client.destroy();
      done();
    });
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());
    // A half-close travels on: the other direction keeps flowing until its side ends too.
    client.on('end', () => {
      if (!this.trippedAt) up.end();
    });
    up.on('end', () => {
      if (!this.trippedAt) client.end();
    });

    let held: Buffer = Buffer.alloc(0);
    let raw = false; // upgraded (exec start, attach) or too large to hold: pipe as is
    let awaiting: { call: EngineCall | null; killAfter: boolean; createName: string | null; response: string } | null = null;

    up.on('data', (buf: Buffer) => {
      if (this.trippedAt) return;
      if (awaiting) {
        if (awaiting.killAfter && awaiting.call) {
          this.trip(awaiting.call);
          return;
        }
        if (awaiting.createName !== null && awaiting.response.length < 4096) {
          awaiting.response += buf.toString('latin1');
          const id = /"Id"\s*:\s*"([0-9a-f]{64})"/.exec(awaiting.response)?.[1];
          if (id) {
            this.names.set(id, awaiting.createName);
            awaiting.createName = null;
          }
        }
      }
      client.write(buf);
    });

    client.on('data', (buf: Buffer) => {
      if (this.trippedAt) return;
      if (raw) {
        up.write(buf);
        return;
      }
      held = held.length === 0 ? buf : Buffer.concat([held, buf]);
      // Node's HTTP client does not pipeline: whole requests follow one another.
      while (held.length > 0 && !raw) {
        const headEnd = held.indexOf('\r\n\r\n');
        if (headEnd < 0) {
          if (held.length > MAX_HELD) {
            raw = true;
            up.write(held);
            held = Buffer.alloc(0);
          }
          return;
        }
        const headText = held.subarray(0, headEnd).toString('latin1');
        const head = parseHead(headText);
        if (!head) {
          // Not HTTP as we know it: stop interpreting, keep piping.
          raw = true;
          up.write(held);
          held = Buffer.alloc(0);
          return;
        }
        const bodyStart = headEnd + 4;
        const upgrade = head.headers.has('upgrade');
        let end: number;
        if (/chunked/i.test(head.headers.get('transfer-encoding') ?? '')) end = chunkedEnd(held, bodyStart);
        else end = bodyStart + Number(head.headers.get('content-length') ?? 0);
        if (end < 0 || held.length < end) {
          if (held.length > MAX_HELD) {
            this.record(head, Buffer.alloc(0));
            raw = true;
            up.write(held);
            held = Buffer.alloc(0);
          }
          return;
        }
        const request = held.subarray(0, end);
        held = held.subarray(end);
        const call = this.record(head, request.subarray(bodyStart));
        const plan = this.plan;
        if (call && plan && call.seq === plan.at && plan.when === 'before') {
          this.trip(call);
          return;
        }
        const killAfter = call !== null && plan !== null && call.seq === plan.at && plan.when === 'after';
        const createName = head.method === 'POST' && /\/containers\/create$/.test(pathOf(head.target)) ? new URLSearchParams(queryOf(head.target)).get('name') : null;
        awaiting = { call, killAfter, createName, response: '' };
        up.write(request);
        if (upgrade) {
          raw = true;
          if (held.length > 0) up.write(held);
          held = Buffer.alloc(0);
        }
      }
    });
  }

  /** Count and describe a mutating request; null for reads. */
  private record(head: ParsedHead, body: Buffer): EngineCall | null {
    if (!MUTATING.has(head.method)) return null;
    this.count += 1;
    const call: EngineCall = { seq: this.count, method: head.method, path: pathOf(head.target), what: this.describe(head, body) };
    this.calls.push(call);
    return call;
  }

  private describe(head: ParsedHead, body: Buffer): string {
    const path = pathOf(head.target);
    const query = new URLSearchParams(queryOf(head.target));
    let json: Record<string, unknown> = {};
    try {
      if (body.length > 0) json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      /* not JSON */
    }
    const container = (id: string) => this.names.get(id) ?? (/^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : decodeURIComponent(id));
    let m: RegExpExecArray | null;
    if (head.method === 'POST' && path === '/containers/create') return `create container ${query.get('name') ?? '?'}`;
    if ((m = /^\/containers\/([^/]+)\/(start|stop|restart|kill|exec|wait|attach)$/.exec(path))) return `${m[2]} ${container(m[1]!)}`;
    if ((m = /^\/containers\/([^/]+)\/rename$/.exec(path))) {
      const from = container(m[1]!);
      const to = query.get('name') ?? '?';
      if (/^[0-9a-f]{64}$/.test(m[1]!)) this.names.set(m[1]!, to);
      return `rename ${from} → ${to}`;
    }
    if (head.method === 'DELETE' && (m = /^\/containers\/([^/]+)$/.exec(path))) return `remove ${container(m[1]!)}`;
    if (path === '/networks/create') return `create network ${String(json.Name ?? '?')}`;
    if ((m = /^\/networks\/([^/]+)\/(connect|disconnect)$/.exec(path))) {
      return `${m[2]} ${container(String(json.Container ?? '?'))} ${m[2] === 'connect' ? 'to' : 'from'} ${decodeURIComponent(m[1]!)}`;
    }
    if (head.method === 'DELETE' && (m = /^\/networks\/([^/]+)$/.exec(path))) return `remove network ${decodeURIComponent(m[1]!)}`;
    if (path === '/volumes/create') return `create volume ${String(json.Name ?? '?')}`;
    if (path === '/images/create') return `pull ${query.get('fromImage') ?? '?'}${query.get('tag') ? `:${query.get('tag')}` : ''}`;
    if ((m = /^\/exec\/([^/]+)\/start$/.exec(path))) return 'exec start';
    return `${head.method} ${path}`;
  }
}

function pathOf(target: string): string {
  return (target.split('?', 1)[0] ?? '').replace(/^\/v\d+(\.\d+)?(?=\/)/, '');
}

function queryOf(target: string): string {
  const i = target.indexOf('?');
  return i < 0 ? '' : target.slice(i + 1);
}
