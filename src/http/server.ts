import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../ports/logger.js';
import type { BerthMetrics, WebhookResultLabel } from './metrics.js';
import { providerOf, pushedBranch, verifyWebhook } from './webhook.js';
import { pullRequestOf, type PullRequestEvent } from './pull-request-webhook.js';
import type { LiveFeed } from '../ui/feed.js';
import { checkUiAccess, uiAccess } from './ui-auth.js';
import { isUiPath, serveUi, uiAssets } from './ui-routes.js';

/**
 * The HTTP side of `berth run` (PRODUCT.md §5) on plain node:http:
 *   GET /healthz     200 "ok" while the process serves requests
 *   GET /readyz      200 once isReady(), else 503
 *   GET /metrics     Prometheus text from the berth registry
 *   GET /api/status  status() as JSON
 *   POST /webhook    authenticated push → onWebhook(), at most once per request;
 *                    a signed pull-request delivery → onPullRequest() (plan preview)
 *   GET /            the dashboard (src/ui), its files under /ui/, its live feed /api/events
 *
 * Beyond loopback, `/`, `/ui/*` and `/api/*` need BERTH_UI_TOKEN (ui-auth.ts);
 * /healthz, /readyz, /metrics and /webhook are as they were.
 *
 * The webhook body is capped (1 MiB → 413 as soon as it is exceeded) and must
 * arrive within a deadline (→ 408, connection closed), so a client can neither
 * fill memory nor hold a socket open by trickling bytes. Secrets, signatures and
 * bodies are never logged.
 */

export interface HttpServerOptions {
  /** `host:port`, `[v6]:port` or `port`; port 0 picks a free one. Default 127.0.0.1:9090. */
  listen?: string;
  /** The branch berth follows: pushes to other branches are ignored. */
  branch: string;
  /** BERTH_WEBHOOK_SECRET, or null when unset. */
  webhookSecret: string | null;
  /** Accept unsigned webhooks when no secret is set. */
  insecureWebhook: boolean;
  metrics: BerthMetrics;
  isReady(): boolean;
  status(): unknown;
  onWebhook(info: { provider: string; branch: string | null }): void;
  /** A signed pull-request delivery targeting `branch` (plan previews); absent: such deliveries are ignored. */
  onPullRequest?(event: PullRequestEvent): void;
  log: Logger;
  /** Largest webhook body accepted. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Time allowed for the whole webhook body once the headers are in. Default 10 s. */
  bodyTimeoutMs?: number;
  /** Time allowed for the request headers. Default 10 s. */
  headersTimeoutMs?: number;
  /** The dashboard's live feed; without it, `/` and `/api/events` are 404. */
  feed?: LiveFeed;
  /** BERTH_UI_TOKEN: required for the dashboard and `/api/*` when listening beyond loopback. */
  uiToken?: string | null;
}

export interface HttpServer {
  /** The bound address as `host:port` (`[v6]:port` for IPv6). */
  address: string;
  port: number;
  close(): Promise<void>;
}

export const DEFAULT_LISTEN = '127.0.0.1:9090';
export const MAX_WEBHOOK_BODY = 1024 * 1024;
const DEFAULT_BODY_TIMEOUT_MS = 10_000;
const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** How long close() waits for in-flight requests before cutting their connections. */
const CLOSE_GRACE_MS = 1_000;
/** How long a refused upload may go on being read and discarded so its client sees the answer (see lingeringClose). */
const LINGER_MS = 2_000;

/** Parse `--listen`: `host:port`, `[::1]:port`, or a bare port (on 127.0.0.1). */
export function parseListen(listen: string): { host: string; port: number } {
  const s = listen.trim();
  const m = /^\[([0-9a-fA-F:.%\w-]+)\]:(\d{1,5})$/.exec(s) ?? /^([^\s:[\]/]+):(\d{1,5})$/.exec(s) ?? /^()(\d{1,5})$/.exec(s);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new Error(`--listen "${listen}" is not host:port (e.g. 127.0.0.1:9090, [::1]:9090, 0.0.0.0:9090)`);
  }
  return { host: m[1] || '127.0.0.1', port };
}

function formatAddress(a: AddressInfo): string {
  return a.family === 'IPv6' || a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  send(res, status, JSON.stringify(value), { 'content-type': 'application/json; charset=utf-8', ...headers });
}

type BodyResult = { kind: 'ok'; body: Buffer } | { kind: 'too_large' } | { kind: 'timeout' } | { kind: 'aborted' };

/**
 * Read a request body up to `limit` bytes within `timeoutMs`. Past the limit it
 * stops at once: the data listener is removed and the stream paused, so nothing
 * more is buffered; the caller answers and closes the connection.
 */
function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (r: BodyResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onClose);
      if (r.kind !== 'ok') req.pause();
      resolve(r);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        finish({ kind: 'too_large' });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish({ kind: 'ok', body: Buffer.concat(chunks, size) });
    const onClose = () => finish({ kind: 'aborted' });
    const timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onClose);
  });
}

/**
 * Close a connection whose request body was refused half-read (413, 408)
 * without resetting it. A socket closed with unread bytes in its receive
 * buffer answers the client with a TCP reset, and a client still sending its
 * body then loses our answer with it: half of the 10 MiB uploads in the
 * security fuzz saw "connection reset" instead of 413. As nginx's
 * lingering_close does: send the answer and FIN, keep reading and discarding
 * (nothing is buffered) until the client closes its side or LINGER_MS pass,
 * then close. Node calls `socket.destroySoon()` once a `connection: close`
 * response is flushed; for this one socket that call lingers instead.
 */
function lingeringClose(req: IncomingMessage): void {
  const socket = req.socket;
  let lingering = false;
  socket.destroySoon = () => {
    if (lingering) return;
    lingering = true;
    if (socket.writable) socket.end();
    const stop = () => {
      clearTimeout(timer);
      socket.destroy();
    };
    const timer = setTimeout(stop, LINGER_MS);
    timer.unref();
    socket.once('end', stop);
    socket.once('close', () => clearTimeout(timer));
    // The rest of the body flows through the parser into a request nobody reads: dropped as it arrives.
    req.resume();
    socket.resume();
  };
}

export function startHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  let where: { host: string; port: number };
  try {
    where = parseListen(opts.listen ?? DEFAULT_LISTEN);
  } catch (e) {
    return Promise.reject(e as Error);
  }
  const { log, metrics } = opts;
  const maxBody = opts.maxBodyBytes ?? MAX_WEBHOOK_BODY;
  const bodyTimeoutMs = opts.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  const headersTimeoutMs = opts.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  const secret = opts.webhookSecret !== null && opts.webhookSecret !== '' ? opts.webhookSecret : null;
  const access = uiAccess(where.host, opts.uiToken);
  let assetsLoaded: ReturnType<typeof uiAssets> | null = null;
  const assets = () => (assetsLoaded ??= uiAssets());

  const outcome = (result: WebhookResultLabel, fields: object, msg: string) => {
    metrics.webhook(result);
    if (result === 'accepted' || result === 'ignored') log.info({ webhook: result, ...fields }, msg);
    else if (result === 'error') log.error({ webhook: result, ...fields }, msg);
    else log.warn({ webhook: result, ...fields }, msg);
  };

  async function webhook(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const remote = req.socket.remoteAddress;
    if (req.method !== 'POST') {
      outcome('bad_request', { remote, method: req.method }, 'webhook: method not allowed');
      return send(res, 405, 'method not allowed: use POST\n', { allow: 'POST', connection: 'close' });
    }
    if (secret === null && !opts.insecureWebhook) {
      outcome('disabled', { remote }, 'webhook: endpoint disabled (no BERTH_WEBHOOK_SECRET)');
      return send(res, 404, 'webhook endpoint disabled: set BERTH_WEBHOOK_SECRET (or run with --insecure-webhook)\n', { connection: 'close' });
    }
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBody) {
      outcome('too_large', { remote, bytes: declared, limit: maxBody }, 'webhook: body too large');
      lingeringClose(req);
      return send(res, 413, `payload too large: at most ${maxBody} bytes\n`, { connection: 'close' });
    }

    const read = await readBody(req, maxBody, bodyTimeoutMs);
    if (read.kind === 'too_large') {
      outcome('too_large', { remote, limit: maxBody }, 'webhook: body too large');
      lingeringClose(req);
      return send(res, 413, `payload too large: at most ${maxBody} bytes\n`, { connection: 'close' });
    }
    if (read.kind === 'timeout') {
      outcome('timeout', { remote, timeoutMs: bodyTimeoutMs }, 'webhook: body not received in time');
      lingeringClose(req);
      send(res, 408, `request timeout: the body must arrive within ${bodyTimeoutMs} ms\n`, { connection: 'close' });
      // Node closes a `connection: close` socket once the answer is flushed; make sure of it (lingering, as above).
      res.once('finish', () => req.socket.destroySoon());
      return;
    }
    if (read.kind === 'aborted') {
      metrics.webhook('bad_request');
      log.warn({ webhook: 'bad_request', remote }, 'webhook: client went away before the body was complete');
      return;
    }

    let provider: string;
    if (secret !== null) {
      const v = verifyWebhook(req.headers, read.body, secret);
      if (!v.ok) {
        outcome('unauthorized', { remote, reason: v.reason }, 'webhook: rejected');
        return sendJson(res, 401, { error: 'unauthorized', reason: v.reason });
      }
      provider = v.provider;
    } else {
      provider = providerOf(req.headers) ?? 'unsigned';
    }

    // Previews act on untrusted content and post to the forge: only for signed deliveries.
    const pr = secret !== null ? pullRequestOf(req.headers, read.body) : { kind: 'not-pull-request' as const };
    if (pr.kind !== 'not-pull-request') return pullRequest(res, provider, pr);

    const push = pushedBranch(req.headers, read.body);
    let branch: string | null = null;
    switch (push.kind) {
      case 'ping':
        outcome('ignored', { provider, event: 'ping' }, 'webhook: ping');
        return sendJson(res, 200, { ok: 'ping' });
      case 'push':
        if (push.branch !== opts.branch) {
          outcome('ignored', { provider, branch: push.branch }, 'webhook: push to another branch');
          return sendJson(res, 202, { ignored: `branch ${push.branch}` });
        }
        branch = push.branch;
        break;
      case 'ignored':
        if (secret !== null || provider !== 'unsigned') {
          outcome('ignored', { provider, reason: push.reason }, 'webhook: nothing to do');
          return sendJson(res, 202, { ignored: push.reason });
        }
        break; // --insecure-webhook: a POST that is no forge delivery at all is a plain trigger
      case 'invalid':
        if (secret !== null) {
          outcome('bad_request', { provider, reason: push.reason }, 'webhook: unreadable push payload');
          return sendJson(res, 400, { error: 'bad request', reason: push.reason });
        }
        break; // --insecure-webhook: any other POST triggers
    }

    try {
      opts.onWebhook({ provider, branch });
    } catch (e) {
      outcome('error', { provider, branch, err: (e as Error).message }, 'webhook: trigger failed');
      return sendJson(res, 500, { error: 'trigger failed' });
    }
    outcome('accepted', { provider, branch, signed: secret !== null }, 'webhook: reconcile triggered');
    return sendJson(res, 202, { accepted: branch === null ? 'trigger' : `branch ${branch}` });
  }

  function pullRequest(res: ServerResponse, provider: string, pr: Exclude<ReturnType<typeof pullRequestOf>, { kind: 'not-pull-request' }>): void {
    if (pr.kind === 'invalid') {
      outcome('bad_request', { provider, reason: pr.reason }, 'webhook: unreadable pull request payload');
      return sendJson(res, 400, { error: 'bad request', reason: pr.reason });
    }
    if (pr.kind === 'ignored') {
      outcome('ignored', { provider, reason: pr.reason }, 'webhook: nothing to do');
      return sendJson(res, 202, { ignored: pr.reason });
    }
    const e = pr.event;
    if (e.base !== opts.branch || !opts.onPullRequest) {
      const reason = e.base !== opts.branch ? `pull request into ${e.base}` : 'plan previews are off';
      outcome('ignored', { provider, pullRequest: e.number, reason }, 'webhook: nothing to do');
      return sendJson(res, 202, { ignored: reason });
    }
    try {
      opts.onPullRequest(e);
    } catch (err) {
      outcome('error', { provider, pullRequest: e.number, err: (err as Error).message }, 'webhook: preview failed');
      return sendJson(res, 500, { error: 'preview failed' });
    }
    outcome('accepted', { provider, pullRequest: e.number, head: e.headSha.slice(0, 12) }, 'webhook: plan preview queued');
    return sendJson(res, 202, { accepted: `preview of #${e.number}` });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://berth.invalid').pathname;
    } catch {
      return send(res, 400, 'bad request\n');
    }
    const get = req.method === 'GET' || req.method === 'HEAD';
    const notGet = () => send(res, 405, 'method not allowed: use GET\n', { allow: 'GET, HEAD' });
    if (isUiPath(path)) {
      const allowed = checkUiAccess(access, req.headers);
      if (allowed === 'closed') return send(res, 403, 'the dashboard and /api/* need BERTH_UI_TOKEN when berth listens beyond loopback\n');
      if (allowed === 'unauthorized') return send(res, 401, 'unauthorized: give BERTH_UI_TOKEN as a bearer token or as the basic-auth password\n', { 'www-authenticate': 'Basic realm="berth", charset="UTF-8"' });
      if (opts.feed && get && (await serveUi(req, res, path, assets, opts.feed))) return;
    }
    switch (path) {
      case '/healthz':
        return get ? send(res, 200, 'ok\n') : notGet();
      case '/readyz': {
        if (!get) return notGet();
        let ready = false;
        try {
          ready = opts.isReady();
        } catch (e) {
          log.error({ err: (e as Error).message }, 'readiness check failed');
        }
        return ready ? send(res, 200, 'ready\n') : send(res, 503, 'not ready: no successful sync yet\n');
      }
      case '/metrics': {
        if (!get) return notGet();
        const text = await metrics.metrics();
        return send(res, 200, text, { 'content-type': metrics.contentType });
      }
      case '/api/status':
        return get ? sendJson(res, 200, opts.status() ?? null) : notGet();
      case '/webhook':
        return webhook(req, res);
      default:
        return send(res, 404, 'not found\n');
    }
  }

  // Node's own guards: the headers must arrive within headersTimeout, and the
  // whole request within requestTimeout (a backstop; the webhook's own body
  // deadline answers 408 first). connectionsCheckingInterval is how often Node
  // looks — its 30 s default would be coarser than the timeouts themselves.
  const requestTimeout = headersTimeoutMs + bodyTimeoutMs + 1_000;
  const server = createServer(
    {
      headersTimeout: headersTimeoutMs,
      requestTimeout,
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(Math.min(headersTimeoutMs, bodyTimeoutMs) / 4))),
    },
    (req, res) => {
      handle(req, res).catch((e: unknown) => {
        log.error({ path: req.url?.split('?')[0], err: (e as Error).message }, 'http handler failed');
        if (!res.headersSent) send(res, 500, 'internal error\n', { connection: 'close' });
        else res.destroy();
      });
    },
  );
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Malformed requests and Node's own header/request timeouts: answer like Node would, never log payloads.
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
  });

  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen(where.port, where.host, () => {
      server.off('error', onError);
      server.on('error', (e) => log.error({ err: e.message }, 'http server error'));
      const addr = server.address() as AddressInfo;
      let closing: Promise<void> | null = null;
      resolve({
        address: formatAddress(addr),
        port: addr.port,
        close() {
          // Live feeds never end by themselves: end them, or close() waits out its grace for them.
          opts.feed?.close();
          closing ??= new Promise<void>((done, fail) => {
            const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
            force.unref();
            server.close((err) => {
              clearTimeout(force);
              if (err) fail(err);
              else done();
            });
            server.closeIdleConnections();
          });
          return closing;
        },
      });
    });
  });
}
