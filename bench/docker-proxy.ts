// A counting pass-through proxy for the Docker Engine API (bench only).
//
// Listens on a unix socket, pipes every connection byte for byte to the real
// engine, and records each HTTP request line seen in the client→engine
// direction. It never parses or alters anything: keep-alive connections carry
// several requests (each request line is counted), and hijacked/upgraded
// streams (attach, exec start) just keep being piped — whatever flows after
// the upgrade is scanned too, but raw stdin practically never looks like an
// HTTP request line.
import { existsSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

const REQUEST_LINE = /^(GET|POST|PUT|DELETE|HEAD) (\/\S*) HTTP\/1\.[01]\r$/;
/** A partial line longer than this is body data, not a request line. */
const MAX_LINE = 8192;

export type Upstream = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

export interface ApiCall {
  method: string;
  /** The request target as sent, query string included. */
  target: string;
  /** When the request line was read (epoch ms, sub-ms precision): the controller bench times the start call of a heal. */
  at: number;
}

/** Where the engine is, from DOCKER_HOST (unix or plain tcp); null when the proxy cannot reach it (TLS, ssh). */
export function upstreamFromEnv(env: Record<string, string | undefined>): Upstream | null {
  const host = env.DOCKER_HOST;
  if (!host) return { kind: 'unix', path: '/var/run/docker.sock' };
  if (host.startsWith('unix://')) return { kind: 'unix', path: host.slice('unix://'.length) };
  if (env.DOCKER_TLS_VERIFY || env.DOCKER_TLS) return null;
  const m = /^(?:tcp:\/\/)?([^:/]+)(?::(\d+))?\/?$/.exec(host);
  if (!m) return null;
  return { kind: 'tcp', host: m[1]!, port: Number(m[2] ?? 2375) };
}

export class CountingProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private calls: ApiCall[] = [];

  constructor(
    readonly socketPath: string,
    private readonly upstream: Upstream,
  ) {}

  get dockerHost(): string {
    return `unix://${this.socketPath}`;
  }

  async start(): Promise<void> {
    if (existsSync(this.socketPath)) unlinkSync(this.socketPath);
    const server = createServer((client) => this.handle(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  /** The calls recorded since the last take(), and a fresh count from here. */
  take(): ApiCall[] {
    const calls = this.calls;
    this.calls = [];
    return calls;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    try {
      if (existsSync(this.socketPath)) unlinkSync(this.socketPath);
    } catch {
      /* already gone */
    }
  }

  private handle(client: Socket): void {
    const up =
      this.upstream.kind === 'unix' ? createConnection(this.upstream.path) : createConnection(this.upstream.port, this.upstream.host);
    this.sockets.add(client);
    this.sockets.add(up);
    const done = () => {
      this.sockets.delete(client);
      this.sockets.delete(up);
    };
    client.on('close', done);
    up.on('close', done);
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());

    let carry = '';
    let midLine = false; // the current line started in data we dropped
    client.on('data', (buf: Buffer) => {
      const text = carry + buf.toString('latin1');
      const lines = text.split('\n');
      carry = lines.pop() ?? '';
      for (const line of lines) {
        if (midLine) {
          midLine = false;
          continue;
        }
        const m = REQUEST_LINE.exec(line);
        if (m) this.calls.push({ method: m[1]!, target: m[2]!, at: performance.timeOrigin + performance.now() });
      }
      if (carry.length > MAX_LINE) {
        carry = '';
        midLine = true;
      }
    });
    client.pipe(up);
    up.pipe(client);
  }
}

/**
 * `GET /v1.41/containers/3f…/json?size=false` → `GET /containers/{id}/json?size`:
 * API version dropped, object ids and names replaced, query values dropped
 * (keys kept), so calls group by endpoint.
 */
export function endpointOf(call: ApiCall): string {
  const [rawPath = '', query] = call.target.split('?', 2);
  let path = rawPath.replace(/^\/v\d+(\.\d+)?(?=\/)/, '');
  path = path
    .replace(/^\/containers\/(?!json$|create$|prune$)[^/]+/, '/containers/{id}')
    .replace(/^\/networks\/(?!create$|prune$)[^/]+/, '/networks/{id}')
    .replace(/^\/volumes\/(?!create$|prune$)[^/]+/, '/volumes/{name}')
    .replace(/^\/exec\/[^/]+/, '/exec/{id}')
    .replace(/^\/images\/(?!json$|create$|prune$|search$|load$|get$).+?\/(json|history|push|tag)$/, '/images/{name}/$1');
  const keys = query ? query.split('&').map((kv) => kv.split('=')[0]).filter(Boolean) : [];
  return `${call.method} ${path}${keys.length ? `?${keys.join('&')}` : ''}`;
}

/** The collection list endpoints a snapshot of the host needs. */
export function isListCall(call: ApiCall): boolean {
  const path = (call.target.split('?')[0] ?? '').replace(/^\/v\d+(\.\d+)?(?=\/)/, '');
  return call.method === 'GET' && /^\/(containers\/json|networks|volumes|images\/json)$/.test(path);
}

/** Endpoint → count, most frequent first. */
export function tally(calls: ApiCall[]): [string, number][] {
  const m = new Map<string, number>();
  for (const c of calls) {
    const e = endpointOf(c);
    m.set(e, (m.get(e) ?? 0) + 1);
  }
  return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}
