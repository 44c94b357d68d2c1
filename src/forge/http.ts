import { ForgeHttpError } from '../ports/forge.js';

/**
 * One JSON request to a forge API. Errors say the method, the path and the
 * status — never the token, never the request body. Retry-After (seconds or
 * an HTTP date) and GitHub's `x-ratelimit-reset` become `retryAfterMs` for
 * the queue's backoff.
 */
export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal }) => Promise<Response>;

export interface ForgeRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT';
  url: string;
  headers: Record<string, string>;
  body?: unknown;
}

const TIMEOUT_MS = 15_000;

export async function forgeJson<T>(fetchImpl: FetchLike, req: ForgeRequest): Promise<T> {
  const path = new URL(req.url).pathname;
  let res: Response;
  try {
    res = await fetchImpl(req.url, {
      method: req.method,
      headers: { accept: 'application/json', 'user-agent': 'berth', ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}), ...req.headers },
      ...(req.body !== undefined ? { body: JSON.stringify(req.body) } : {}),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (e) {
    throw new ForgeHttpError(`${req.method} ${path}: no answer (${(e as Error).name === 'TimeoutError' ? 'timeout' : (e as Error).message})`, null);
  }
  const text = await res.text();
  if (!res.ok) {
    // A 403 with no rate limit left is GitHub's rate limit: worth waiting for, like a 429.
    const limited = res.status === 403 && res.headers.get('x-ratelimit-remaining') === '0';
    throw new ForgeHttpError(`${req.method} ${path}: HTTP ${res.status}`, limited ? 429 : res.status, retryAfterMs(res.headers));
  }
  return (text ? JSON.parse(text) : null) as T;
}

function retryAfterMs(h: Headers): number | undefined {
  const ra = h.get('retry-after');
  if (ra) {
    const secs = Number(ra);
    if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
    const at = Date.parse(ra);
    if (Number.isFinite(at)) return Math.max(0, at - Date.now());
  }
  const reset = Number(h.get('x-ratelimit-reset'));
  if (h.get('x-ratelimit-remaining') === '0' && Number.isFinite(reset) && reset > 0) return Math.max(0, reset * 1000 - Date.now());
  return undefined;
}
