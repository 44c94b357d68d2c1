import { createHmac } from 'node:crypto';
import type { NotifierSpec } from '../model/desired.js';
import { formatBody, oneLine } from '../notify/format.js';
import { NotifyError, type ChatMessage, type Notifier } from '../ports/notifier.js';

/**
 * The Notifier port over HTTP: one POST of the formatted JSON body per message.
 * No retry here (notify/dispatcher.ts retries); this only reports what happened
 * as a NotifyError with the status and the server's Retry-After.
 *
 * The webhook URL is a secret (Slack, Discord and Teams URLs carry their token in
 * the path), as is the HMAC secret: neither is ever put in an error. Errors are
 * built from safe parts only (status, an error code, a redacted excerpt of the
 * response body); fetch's own errors are not passed on, since undici's messages
 * and causes can quote the URL ("Failed to parse URL from …").
 */
export const SIGNATURE_HEADER = 'X-Berth-Signature-256';
export const EVENT_HEADER = 'X-Berth-Event';
export const DEFAULT_TIMEOUT_MS = 5_000;
const SNIPPET_BYTES = 2048;

export interface HttpNotifierOptions {
  timeoutMs?: number;
  /** For Retry-After given as an HTTP date. */
  now?: () => number;
}

export function notifierName(spec: NotifierSpec): string {
  return spec.name ?? spec.type;
}

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Retry-After is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
 * Returns milliseconds from `nowMs`, or undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value == null) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v) * 1000);
  if (!/[A-Za-z]/.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

export function createNotifier(spec: NotifierSpec, fetchImpl: typeof fetch = fetch, opts: HttpNotifierOptions = {}): Notifier {
  const name = notifierName(spec);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const now = opts.now ?? Date.now;
  const redact = redactor(spec);

  return {
    name,
    async send(msg: ChatMessage): Promise<void> {
      const body = JSON.stringify(formatBody(spec.type, msg));
      const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'berth' };
      if (spec.type === 'webhook') {
        headers[EVENT_HEADER] = msg.kind;
        if (spec.secret) headers[SIGNATURE_HEADER] = signBody(spec.secret, body);
      }
      let res: Response;
      try {
        res = await fetchImpl(spec.url, {
          method: 'POST',
          headers,
          body,
          // A redirect would re-send the body somewhere the config did not name.
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        throw new NotifyError(`${name}: ${describeFetchError(err, timeoutMs)}`, null);
      }
      if (res.status >= 200 && res.status < 300) {
        await res.body?.cancel().catch(() => undefined);
        return;
      }
      let text = '';
      try {
        text = await readSnippet(res, SNIPPET_BYTES);
      } catch {
        // The status is what matters; an unreadable body is not another failure.
      }
      let retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), now());
      if (retryAfterMs === undefined) retryAfterMs = jsonRetryAfter(text);
      const excerpt = text ? clipText(oneLine(redact(text)), 200) : '';
      throw new NotifyError(`${name}: HTTP ${res.status}${excerpt ? `: ${excerpt}` : ''}`, res.status, retryAfterMs);
    },
  };
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: unknown; cause?: { code?: unknown; name?: unknown } } | null;
  if (e && (e.name === 'TimeoutError' || e.name === 'AbortError')) return `no response within ${timeoutMs} ms`;
  const code = e?.cause?.code;
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code)) return `request failed (${code})`;
  const causeName = e?.cause?.name;
  if (typeof causeName === 'string' && /^[A-Za-z]{1,40}$/.test(causeName)) return `request failed (${causeName})`;
  return 'request failed';
}

/** Discord also gives `retry_after` (seconds) in a JSON 429 body. */
function jsonRetryAfter(text: string): number | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const v = (JSON.parse(text) as { retry_after?: unknown }).retry_after;
    return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.ceil(v * 1000) : undefined;
  } catch {
    return undefined;
  }
}

async function readSnippet(res: Response, maxBytes: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}

function clipText(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/**
 * Removes the URL and the secret from text a server sent back (a proxy's error
 * page may quote the request line): the whole URL in its usual spellings, its
 * path and query, every path segment or query value long enough to be a token,
 * and the HMAC secret.
 */
function redactor(spec: NotifierSpec): (text: string) => string {
  const needles = new Set<string>();
  const add = (s: string | null | undefined) => {
    if (s && s.length >= 6) needles.add(s);
  };
  add(spec.url);
  add(spec.secret);
  try {
    const u = new URL(spec.url);
    add(u.href);
    add(u.host + u.pathname + u.search);
    add(u.pathname + u.search);
    add(u.pathname);
    for (const seg of u.pathname.split('/')) {
      add(seg);
      try {
        add(decodeURIComponent(seg));
      } catch {
        // not percent-encoded text
      }
    }
    for (const v of u.searchParams.values()) add(v);
    add(u.password);
    add(u.username);
  } catch {
    // An unparseable URL is still removed whole above.
  }
  const list = [...needles].sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const n of list) out = out.split(n).join('[hidden]');
    return out;
  };
}
