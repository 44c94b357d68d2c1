import { traefikMetricsFromText } from '../rollout/prometheus-text.js';
import { TraefikError, type TraefikMetrics, type TraefikPort, type TraefikRouter, type TraefikService } from '../ports/traefik.js';

/**
 * The Traefik port over HTTP (Node's fetch), against Traefik v3's API.
 *
 * `api` is `traefik.api` from berth.yaml: the address of Traefik's `traefik`
 * entrypoint (`http://traefik:8080`); a trailing `/api` is accepted too. The
 * API lives under `<root>/api/…`, and Prometheus metrics under `<root>/metrics`,
 * which is where Traefik serves them when `metrics.prometheus` uses the
 * default `traefik` entrypoint.
 *
 * Credentials as userinfo (`http://user:pass@traefik:8080`, the usual way to
 * reach an API behind a basicAuth middleware) become a Basic Authorization
 * header; fetch refuses URLs with userinfo anyway. Every error message names
 * the URL without them, and fetch's own errors are not passed on (undici's
 * messages can quote what they were given).
 */
export const DEFAULT_TRAEFIK_TIMEOUT_MS = 5_000;
/** Traefik's API pages lists (default 100 per page); this bounds a runaway loop. */
const MAX_PAGES = 100;

export interface TraefikHttpOptions {
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
}

interface Endpoint {
  /** Scheme, host and base path, no userinfo, no trailing slash. */
  root: string;
  authorization: string | null;
}

export function traefikEndpoint(api: string): Endpoint {
  let u: URL;
  try {
    u = new URL(api);
  } catch {
    // Not echoing the value: it may hold a password.
    throw new TraefikError('traefik.api is not a valid URL', null);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TraefikError('traefik.api must be an http:// or https:// URL', null);
  let authorization: string | null = null;
  if (u.username || u.password) {
    const user = safeDecode(u.username);
    const pass = safeDecode(u.password);
    authorization = `Basic ${Buffer.from(`${user}:${pass}`, 'utf8').toString('base64')}`;
  }
  const path = u.pathname.replace(/\/+$/, '').replace(/\/api$/, '');
  return { root: `${u.protocol}//${u.host}${path}`, authorization };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function createTraefikClient(api: string, opts: TraefikHttpOptions = {}): TraefikPort {
  const ep = traefikEndpoint(api);
  const fetchImpl = opts.fetchImpl ?? fetch;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TRAEFIK_TIMEOUT_MS;

  async function get(path: string, accept: string): Promise<Response> {
    const url = `${ep.root}${path}`;
    const headers: Record<string, string> = { accept, 'user-agent': 'berth' };
    if (ep.authorization) headers.authorization = ep.authorization;
    let res: Response;
    try {
      // A redirect could carry the Authorization header somewhere the config did not name.
      res = await fetchImpl(url, { headers, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw new TraefikError(`Traefik ${url}: ${describeFetchError(err, timeoutMs)}`, null);
    }
    return res;
  }

  async function failed(res: Response, url: string): Promise<never> {
    await res.body?.cancel().catch(() => undefined);
    const hint = res.status === 401 || res.status === 403 ? ' (check the credentials in traefik.api)' : '';
    throw new TraefikError(`Traefik ${url}: HTTP ${res.status}${hint}`, res.status);
  }

  async function getJson(path: string): Promise<{ body: unknown; nextPage: number | null }> {
    const res = await get(path, 'application/json');
    if (!res.ok) await failed(res, `${ep.root}${path}`);
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      throw new TraefikError(`Traefik ${ep.root}${path}: the response is not JSON (is traefik.api the address of Traefik's API entrypoint?)`, res.status);
    }
    const next = Number(res.headers.get('x-next-page'));
    return { body, nextPage: Number.isInteger(next) && next > 0 ? next : null };
  }

  /** Every page of a list endpoint: Traefik sets X-Next-Page to the next page, or to 1 on the last. */
  async function list<T extends { name: string }>(path: string): Promise<T[]> {
    const out: T[] = [];
    for (let page = 1; page <= MAX_PAGES; page++) {
      const { body, nextPage } = await getJson(`${path}?page=${page}&per_page=100`);
      if (!Array.isArray(body) || body.some((x) => typeof x !== 'object' || x === null || typeof (x as { name?: unknown }).name !== 'string')) {
        throw new TraefikError(`Traefik ${ep.root}${path}: unexpected response (not a list of named objects)`, 200);
      }
      out.push(...(body as T[]));
      if (nextPage === null || nextPage <= page) break;
    }
    return out;
  }

  return {
    services: () => list<TraefikService>('/api/http/services'),
    routers: () => list<TraefikRouter>('/api/http/routers'),
    overview: async () => (await getJson('/api/overview')).body,
    async metrics(): Promise<TraefikMetrics | null> {
      const url = `${ep.root}/metrics`;
      const res = await get('/metrics', 'text/plain; version=0.0.4');
      if (res.status === 404) {
        await res.body?.cancel().catch(() => undefined);
        return null;
      }
      if (!res.ok) await failed(res, url);
      return traefikMetricsFromText(await res.text());
    },
  };
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: unknown; cause?: { code?: unknown } } | null;
  if (e && (e.name === 'TimeoutError' || e.name === 'AbortError')) return `no response within ${timeoutMs} ms`;
  const code = e?.cause?.code;
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code)) return `request failed (${code})`;
  return 'request failed';
}
