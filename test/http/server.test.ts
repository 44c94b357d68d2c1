import { createHmac } from 'node:crypto';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, type BerthMetrics } from '../../src/http/metrics.js';
import { parseListen, startHttpServer, type HttpServer, type HttpServerOptions } from '../../src/http/server.js';
import type { Logger } from '../../src/ports/logger.js';
import type { PullRequestEvent } from '../../src/http/pull-request-webhook.js';

/**
 * Real HTTP against a server on 127.0.0.1, port 0. The timeout tests pass short
 * deadlines to stay fast; the others keep the 10 s defaults so a loaded machine
 * cannot turn a slow accept into a 408.
 */
const SECRET = 'http-test-secret-3c9a41';
const BODY_TIMEOUT_MS = 300;
const HEADERS_TIMEOUT_MS = 300;
const SHORT = { bodyTimeoutMs: BODY_TIMEOUT_MS, headersTimeoutMs: HEADERS_TIMEOUT_MS };

interface Harness {
  server: HttpServer;
  base: string;
  metrics: BerthMetrics;
  triggers: { provider: string; branch: string | null }[];
  logs: string[];
  setReady(v: boolean): void;
}

const open: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function start(over: Partial<HttpServerOptions> = {}): Promise<Harness> {
  const logs: string[] = [];
  const capture = (level: string) => (obj: object, msg?: string) => void logs.push(JSON.stringify({ level, ...obj, msg }));
  const log: Logger = { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error') };
  const triggers: Harness['triggers'] = [];
  const metrics = createMetrics();
  let ready = false;
  const server = await startHttpServer({
    listen: '127.0.0.1:0',
    branch: 'main',
    webhookSecret: SECRET,
    insecureWebhook: false,
    metrics,
    isReady: () => ready,
    status: () => ({ repo: '/srv/desired', branch: 'main', ready }),
    onWebhook: (info) => void triggers.push(info),
    log,
    ...over,
  });
  open.push(server);
  return { server, base: `http://${server.address}`, metrics, triggers, logs, setReady: (v) => (ready = v) };
}

const sign = (body: string, secret = SECRET) => createHmac('sha256', secret).update(body).digest('hex');
const push = (branch: string) => JSON.stringify({ ref: `refs/heads/${branch}`, after: 'f'.repeat(40), note: 'body-marker-5e1b' });
const github = (body: string, event = 'push', secret = SECRET) => ({ 'content-type': 'application/json', 'x-github-event': event, 'x-hub-signature-256': `sha256=${sign(body, secret)}` });
const gitea = (body: string) => ({ 'content-type': 'application/json', 'x-gitea-event': 'push', 'x-github-event': 'push', 'x-gitea-signature': sign(body), 'x-hub-signature-256': `sha256=${sign(body)}` });
const gitlab = (token = SECRET) => ({ 'content-type': 'application/json', 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': token });

async function post(h: Harness, headers: Record<string, string>, body: string) {
  const r = await fetch(`${h.base}/webhook`, { method: 'POST', headers, body });
  return { status: r.status, text: await r.text() };
}

async function webhookCount(h: Harness, result: string): Promise<number> {
  const m = new RegExp(`^berth_webhooks_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(await h.metrics.metrics());
  return Number(m?.[1]);
}

/** A POST through node:http so the body can be streamed; tolerates the server closing early. */
function streamPost(base: string, headers: Record<string, string>, totalBytes: number, chunk = 64 * 1024): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    let done = false;
    const req = request(`${base}/webhook`, { method: 'POST', headers }, (res) => {
      done = true;
      res.resume();
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
    });
    req.on('error', (e) => {
      if (!done) reject(e);
    });
    const piece = Buffer.alloc(chunk, 'a');
    let sent = 0;
    const pump = () => {
      while (sent < totalBytes && !done && !req.destroyed) {
        sent += piece.length;
        if (!req.write(piece)) return void req.once('drain', pump);
      }
      if (!req.destroyed) req.end();
    };
    pump();
  });
}

/** Raw TCP: send `head`, then stall; resolves with what came back and when the socket closed. */
function stall(port: number, head: string): Promise<{ data: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    let data = '';
    const s = connect(port, '127.0.0.1', () => s.write(head));
    s.on('data', (d) => (data += d.toString()));
    s.on('error', () => undefined);
    s.on('close', () => resolve({ data, ms: Date.now() - t0 }));
    setTimeout(() => {
      s.destroy();
      reject(new Error(`socket still open after 5 s; got: ${JSON.stringify(data)}`));
    }, 5_000).unref();
  });
}

describe('parseListen', () => {
  it('reads host:port, [v6]:port and a bare port', () => {
    expect(parseListen('127.0.0.1:9090')).toEqual({ host: '127.0.0.1', port: 9090 });
    expect(parseListen('0.0.0.0:0')).toEqual({ host: '0.0.0.0', port: 0 });
    expect(parseListen('[::1]:9090')).toEqual({ host: '::1', port: 9090 });
    expect(parseListen('localhost:80')).toEqual({ host: 'localhost', port: 80 });
    expect(parseListen('9090')).toEqual({ host: '127.0.0.1', port: 9090 });
  });
  it.each(['', ':9090', '::1:9090', '127.0.0.1', '127.0.0.1:65536', '127.0.0.1:http', '[::1]'])('refuses %j', (s) => {
    expect(() => parseListen(s)).toThrow(/host:port/);
  });
});

describe('startHttpServer', () => {
  it('listens on the given address, reports the bound port, and fails clearly when the port is taken', async () => {
    const h = await start();
    expect(h.server.port).toBeGreaterThan(0);
    expect(h.server.address).toBe(`127.0.0.1:${h.server.port}`);
    await expect(start({ listen: `127.0.0.1:${h.server.port}` })).rejects.toThrow(/EADDRINUSE/);
  });

  it('listens on IPv6 [::1] where the host has it', async (ctx) => {
    let h: Harness;
    try {
      h = await start({ listen: '[::1]:0' });
    } catch (e) {
      if (/EADDRNOTAVAIL|EAFNOSUPPORT/.test((e as Error).message)) return ctx.skip();
      throw e;
    }
    expect(h.server.address).toBe(`[::1]:${h.server.port}`);
    expect((await fetch(`${h.base}/healthz`)).status).toBe(200);
  });

  it('GET /healthz → 200 ok', async () => {
    const h = await start();
    const r = await fetch(`${h.base}/healthz`);
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('ok\n');
  });

  it('GET /readyz follows isReady()', async () => {
    const h = await start();
    expect((await fetch(`${h.base}/readyz`)).status).toBe(503);
    h.setReady(true);
    expect((await fetch(`${h.base}/readyz`)).status).toBe(200);
  });

  it('GET /metrics serves the registry with its content type', async () => {
    const h = await start();
    h.metrics.observeReconcile(1.5, 'converged');
    const r = await fetch(`${h.base}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe(h.metrics.contentType);
    const text = await r.text();
    expect(text).toContain('berth_reconcile_total{result="converged"} 1');
    expect(text).toContain('process_resident_memory_bytes');
  });

  it('GET /api/status serves status() as JSON', async () => {
    const h = await start();
    h.setReady(true);
    const r = await fetch(`${h.base}/api/status?x=1`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await r.json()).toEqual({ repo: '/srv/desired', branch: 'main', ready: true });
  });

  it('answers 500 when status() throws, and keeps serving', async () => {
    const h = await start({ status: () => { throw new Error('boom'); } });
    expect((await fetch(`${h.base}/api/status`)).status).toBe(500);
    expect((await fetch(`${h.base}/healthz`)).status).toBe(200);
  });

  it('unknown paths → 404, wrong methods → 405', async () => {
    const h = await start();
    expect((await fetch(`${h.base}/nope`)).status).toBe(404);
    expect((await fetch(`${h.base}/`)).status).toBe(404);
    const del = await fetch(`${h.base}/healthz`, { method: 'DELETE' });
    expect(del.status).toBe(405);
    expect(del.headers.get('allow')).toBe('GET, HEAD');
    expect((await fetch(`${h.base}/metrics`, { method: 'POST', body: 'x' })).status).toBe(405);
    const get = await fetch(`${h.base}/webhook`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await fetch(`${h.base}/healthz`, { method: 'HEAD' })).status).toBe(200);
  });
});

describe('POST /webhook', () => {
  it('GitHub push to our branch → 202 and one trigger', async () => {
    const h = await start();
    const body = push('main');
    const r = await post(h, github(body), body);
    expect(r.status).toBe(202);
    expect(JSON.parse(r.text)).toEqual({ accepted: 'branch main' });
    expect(h.triggers).toEqual([{ provider: 'github', branch: 'main' }]);
    expect(await webhookCount(h, 'accepted')).toBe(1);
  });

  it('Gitea push (with its GitHub-compatible headers too) → 202 and one trigger', async () => {
    const h = await start();
    const body = push('main');
    expect((await post(h, gitea(body), body)).status).toBe(202);
    expect(h.triggers).toEqual([{ provider: 'gitea', branch: 'main' }]);
  });

  it('GitLab push → 202 and one trigger', async () => {
    const h = await start();
    const body = JSON.stringify({ object_kind: 'push', ref: 'refs/heads/main' });
    expect((await post(h, gitlab(), body)).status).toBe(202);
    expect(h.triggers).toEqual([{ provider: 'gitlab', branch: 'main' }]);
  });

  it('GitHub form-encoded push → 202 and one trigger', async () => {
    const h = await start();
    const body = new URLSearchParams({ payload: push('main') }).toString();
    const headers = { ...github(body), 'content-type': 'application/x-www-form-urlencoded' };
    expect((await post(h, headers, body)).status).toBe(202);
    expect(h.triggers).toHaveLength(1);
  });

  it.each([
    ['wrong secret', (b: string) => github(b, 'push', 'not-the-secret')],
    ['missing signature', () => ({ 'content-type': 'application/json', 'x-github-event': 'push' })],
    ['truncated signature', (b: string) => ({ ...github(b), 'x-hub-signature-256': `sha256=${sign(b).slice(0, 32)}` })],
    ['wrong Gitea signature', (b: string) => ({ ...gitea(b), 'x-gitea-signature': sign(b, 'nope') })],
    ['wrong GitLab token', () => gitlab('nope')],
  ])('%s → 401, nothing triggered', async (_name, headers) => {
    const h = await start();
    const body = push('main');
    const r = await post(h, headers(body), body);
    expect(r.status).toBe(401);
    expect(h.triggers).toEqual([]);
    expect(await webhookCount(h, 'unauthorized')).toBe(1);
  });

  it('push to another branch → 202 ignored, nothing triggered', async () => {
    const h = await start();
    const body = push('feature-x');
    const r = await post(h, github(body), body);
    expect(r.status).toBe(202);
    expect(JSON.parse(r.text)).toEqual({ ignored: 'branch feature-x' });
    expect(h.triggers).toEqual([]);
    expect(await webhookCount(h, 'ignored')).toBe(1);
  });

  it('a signed pull request into our branch → 202 and one preview, no reconcile; into another branch or unsigned → none', async () => {
    const previews: PullRequestEvent[] = [];
    const h = await start({ onPullRequest: (e) => void previews.push(e) });
    const pr = (base: string) => JSON.stringify({ action: 'opened', number: 4, pull_request: { head: { sha: 'a'.repeat(40) }, base: { ref: base } } });
    expect(await post(h, github(pr('main'), 'pull_request'), pr('main'))).toEqual({ status: 202, text: '{"accepted":"preview of #4"}' });
    expect(await post(h, github(pr('dev'), 'pull_request'), pr('dev'))).toEqual({ status: 202, text: '{"ignored":"pull request into dev"}' });
    expect((await post(h, { 'x-github-event': 'pull_request' }, pr('main'))).status).toBe(401);
    expect(previews.map((e) => [e.number, e.ref])).toEqual([[4, 'refs/pull/4/head']]);
    expect(h.triggers).toEqual([]);
    // --insecure-webhook: an unsigned pull request is never previewed (it is untrusted twice over), nor a trigger.
    const open = await start({ webhookSecret: null, insecureWebhook: true, onPullRequest: (e) => void previews.push(e) });
    expect((await post(open, { 'x-github-event': 'pull_request' }, pr('main'))).status).toBe(202);
    expect(previews).toHaveLength(1);
  });

  it('ping → 200, nothing triggered', async () => {
    const h = await start();
    const body = JSON.stringify({ zen: 'Design for failure.', hook_id: 42 });
    const r = await post(h, github(body, 'ping'), body);
    expect(r.status).toBe(200);
    expect(h.triggers).toEqual([]);
  });

  it('other events (issues) → 202 ignored, nothing triggered', async () => {
    const h = await start();
    const body = JSON.stringify({ action: 'opened' });
    const r = await post(h, github(body, 'issues'), body);
    expect(r.status).toBe(202);
    expect(JSON.parse(r.text)).toEqual({ ignored: 'event issues' });
    expect(h.triggers).toEqual([]);
  });

  it('a signed push that cannot be read → 400, nothing triggered', async () => {
    const h = await start();
    const body = '{"after": "x"}';
    expect((await post(h, github(body), body)).status).toBe(400);
    expect(h.triggers).toEqual([]);
    expect(await webhookCount(h, 'bad_request')).toBe(1);
  });

  it('a 2 MiB body → 413 as soon as the cap is passed, and the server stays healthy', async () => {
    const h = await start();
    // Chunked: no Content-Length, so the streaming cap is what stops it.
    const chunked = await streamPost(h.base, { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': 'sha256=' + '0'.repeat(64) }, 2 * 1024 * 1024);
    expect(chunked.status).toBe(413);
    expect(chunked.headers.connection).toBe('close');
    // Declared length: refused before a byte of the body is read.
    const declared = await streamPost(h.base, { 'content-type': 'application/json', 'content-length': String(2 * 1024 * 1024) }, 2 * 1024 * 1024);
    expect(declared.status).toBe(413);
    expect(h.triggers).toEqual([]);
    expect(await webhookCount(h, 'too_large')).toBe(2);
    const refusals = h.logs.filter((l) => l.includes('"webhook":"too_large"'));
    expect(refusals.filter((l) => l.includes('"bytes"'))).toHaveLength(1); // by Content-Length
    expect(refusals.filter((l) => !l.includes('"bytes"'))).toHaveLength(1); // by counting the stream
    expect((await fetch(`${h.base}/healthz`)).status).toBe(200);
    const body = push('main');
    expect((await post(h, github(body), body)).status).toBe(202);
  });

  it('a body that trickles in past the deadline → 408 and the socket closed', async () => {
    const h = await start(SHORT);
    const head = `POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-GitHub-Event: push\r\nX-Hub-Signature-256: sha256=${'0'.repeat(64)}\r\nContent-Length: 200\r\n\r\n{"ref":`;
    const r = await stall(h.server.port, head);
    expect(r.data).toMatch(/^HTTP\/1\.1 408 /);
    expect(r.ms).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 20);
    expect(r.ms).toBeLessThan(BODY_TIMEOUT_MS + 1_500);
    expect(h.triggers).toEqual([]);
    expect(await webhookCount(h, 'timeout')).toBe(1);
    expect((await fetch(`${h.base}/healthz`)).status).toBe(200);
  });

  it('headers that trickle in past the deadline → 408 and the socket closed', async () => {
    const h = await start(SHORT);
    const r = await stall(h.server.port, 'POST /webhook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: pu');
    expect(r.data).toMatch(/^HTTP\/1\.1 408 /);
    expect(r.ms).toBeLessThan(HEADERS_TIMEOUT_MS + 1_500);
    expect(h.triggers).toEqual([]);
  });

  it('no secret configured → 404 that says the endpoint is disabled', async () => {
    const h = await start({ webhookSecret: null });
    const body = push('main');
    const r = await post(h, github(body), body);
    expect(r.status).toBe(404);
    expect(r.text).toMatch(/disabled.*BERTH_WEBHOOK_SECRET/);
    expect(h.triggers).toEqual([]);
    expect(await webhookCount(h, 'disabled')).toBe(1);
  });

  it('--insecure-webhook without a secret: any POST triggers, no signature needed', async () => {
    const h = await start({ webhookSecret: null, insecureWebhook: true });
    expect((await fetch(`${h.base}/webhook`, { method: 'POST' })).status).toBe(202);
    expect((await post(h, { 'x-github-event': 'push' }, push('main'))).status).toBe(202);
    expect((await post(h, { 'content-type': 'text/plain' }, 'anything')).status).toBe(202);
    expect(h.triggers).toEqual([
      { provider: 'unsigned', branch: null },
      { provider: 'github', branch: 'main' },
      { provider: 'unsigned', branch: null },
    ]);
    // A delivery that says it is for another branch is still not ours.
    expect((await post(h, { 'x-github-event': 'push' }, push('other'))).status).toBe(202);
    expect(h.triggers).toHaveLength(3);
  });

  it('with a secret, --insecure-webhook does not waive the signature', async () => {
    const h = await start({ insecureWebhook: true });
    expect((await post(h, { 'x-github-event': 'push' }, push('main'))).status).toBe(401);
    expect(h.triggers).toEqual([]);
  });

  it('50 concurrent valid webhooks → onWebhook called 50 times', async () => {
    const h = await start();
    const body = push('main');
    const codes = await Promise.all(Array.from({ length: 50 }, () => post(h, github(body), body).then((r) => r.status)));
    expect(codes).toEqual(Array(50).fill(202));
    expect(h.triggers).toHaveLength(50);
    expect(await webhookCount(h, 'accepted')).toBe(50);
  });

  it('an onWebhook that throws → 500, the server keeps serving', async () => {
    const h = await start({ onWebhook: () => { throw new Error('queue closed'); } });
    const body = push('main');
    expect((await post(h, github(body), body)).status).toBe(500);
    expect(await webhookCount(h, 'error')).toBe(1);
    expect((await fetch(`${h.base}/healthz`)).status).toBe(200);
  });

  it('logs neither the secret, nor signatures, nor bodies', async () => {
    const h = await start();
    const body = push('main');
    await post(h, github(body), body);
    await post(h, gitea(body), body);
    await post(h, gitlab(), JSON.stringify({ object_kind: 'push', ref: 'refs/heads/main', note: 'body-marker-5e1b' }));
    await post(h, gitlab(SECRET + 'x'), body);
    await post(h, github(body, 'push', 'wrong-secret'), body);
    await post(h, { ...github(body), 'x-hub-signature-256': `sha256=${sign(body).slice(0, 20)}` }, body);
    await post(h, github(push('dev')), push('dev'));
    const logs = h.logs.join('\n');
    expect(h.logs.length).toBeGreaterThanOrEqual(7);
    expect(logs).not.toContain(SECRET);
    expect(logs).not.toContain(sign(body));
    expect(logs).not.toContain(sign(body).slice(0, 20));
    expect(logs).not.toContain(sign(body, 'wrong-secret'));
    expect(logs).not.toContain('body-marker-5e1b');
    expect(logs).not.toContain('f'.repeat(40));
  });

  it('close() resolves with keep-alive connections open', async () => {
    const h = await start();
    await fetch(`${h.base}/healthz`); // undici keeps the connection alive
    const t0 = Date.now();
    await h.server.close();
    expect(Date.now() - t0).toBeLessThan(1_500);
    await expect(fetch(`${h.base}/healthz`)).rejects.toThrow();
  });
});
