import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createNotifier, parseRetryAfter, type HttpNotifierOptions } from '../../src/adapters/http-notifier.js';
import type { NotifierSpec } from '../../src/model/desired.js';
import { NotifyDispatcher, type DispatcherLogger } from '../../src/notify/dispatcher.js';
import { formatBody } from '../../src/notify/format.js';
import { systemClock } from '../../src/ports/clock.js';
import type { ChatMessage, NotifyError } from '../../src/ports/notifier.js';
import { FakeClock, settle } from '../notify/fake-clock.js';

/**
 * The HTTP notifier against a real server on 127.0.0.1 (port 0) that records
 * every request. The webhook URL carries a token in its path, as Slack, Discord
 * and Teams URLs do; it and the HMAC secret must never show up in an error or a
 * log line — every error and log line of this file is collected and checked at
 * the end.
 */
const TOKEN = 'xoxT0KEN-b9f3e1c7d2a84e6f';
const SECRET = 'hmac-secret-5e8a1f77c3';
const PATH = `/services/T01ABCDEF/B02GHIJKL/${TOKEN}`;

const captured: string[] = [];

function logger(): { log: DispatcherLogger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const cap = (level: string) => (obj: object, msg?: string) => {
    const line = { level, ...obj, msg };
    lines.push(line);
    captured.push(JSON.stringify(line));
  };
  return { log: { info: cap('info'), warn: cap('warn'), error: cap('error') }, lines };
}

async function failure(p: Promise<unknown>): Promise<NotifyError> {
  try {
    await p;
  } catch (err) {
    const e = err as NotifyError;
    captured.push(String(e), e.stack ?? '', JSON.stringify(e));
    return e;
  }
  throw new Error('expected a rejection');
}

interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  at: number;
}
type Reply = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

interface Recorder {
  url: string;
  base: string;
  requests: Recorded[];
  close(): Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

async function recorder(replies: Reply[] = [], fallback: Reply = { status: 200, body: 'ok' }): Promise<Recorder> {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks), at: performance.now() });
      const reply = replies.length > 0 ? replies.shift()! : fallback;
      if (reply === 'hang') return;
      res.writeHead(reply.status, reply.headers ?? {});
      res.end(reply.body ?? '');
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    url: `${base}${PATH}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const MSG: ChatMessage = {
  kind: 'drift-appeared',
  host: 'prod-1',
  title: '2 drift items appeared',
  lines: ['shop/web: container shop-web-1 stopped', 'shop/db: volume shop_pgdata missing'],
  severity: 'warning',
  revision: '4e1f0c2a9b7d3e5f6a8c0b1d2e3f4a5b6c7d8e9f',
  commitUrl: 'https://github.com/acme/infra/commit/4e1f0c2a9b7d3e5f6a8c0b1d2e3f4a5b6c7d8e9f',
  at: '2025-03-14T10:42:07.000Z',
};

function spec(type: NotifierSpec['type'], url: string, over: Partial<NotifierSpec> = {}): NotifierSpec {
  return { type, url, name: null, secret: null, ...over };
}

function notifier(s: NotifierSpec, opts: HttpNotifierOptions = {}) {
  return createNotifier(s, fetch, opts);
}

describe('createNotifier: what each type sends', () => {
  for (const type of ['slack', 'discord', 'teams'] as const) {
    it(`${type}: POSTs the formatted JSON to the URL, no signature`, async () => {
      const srv = await recorder();
      await notifier(spec(type, srv.url)).send(MSG);
      expect(srv.requests).toHaveLength(1);
      const [req] = srv.requests;
      expect(req).toMatchObject({ method: 'POST', path: PATH });
      expect(req!.headers['content-type']).toBe('application/json');
      expect(req!.headers['x-berth-signature-256']).toBeUndefined();
      expect(JSON.parse(req!.body.toString('utf8'))).toEqual(formatBody(type, MSG));
    });
  }

  it('webhook: the stable JSON, its kind in X-Berth-Event, and an HMAC of the exact body bytes', async () => {
    const srv = await recorder();
    await notifier(spec('webhook', srv.url, { secret: SECRET, name: 'ops-hook' })).send(MSG);
    const req = srv.requests[0]!;
    expect(JSON.parse(req.body.toString('utf8'))).toEqual({
      kind: 'drift-appeared',
      host: 'prod-1',
      title: '2 drift items appeared',
      lines: MSG.lines,
      severity: 'warning',
      revision: MSG.revision,
      commitUrl: MSG.commitUrl,
      at: MSG.at,
    });
    expect(req.headers['x-berth-event']).toBe('drift-appeared');
    const sig = String(req.headers['x-berth-signature-256']);
    expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
    const want = createHmac('sha256', SECRET).update(req.body).digest();
    expect(timingSafeEqual(Buffer.from(sig.slice(7), 'hex'), want)).toBe(true);
    // …and a tampered body does not verify.
    const other = createHmac('sha256', SECRET).update(Buffer.concat([req.body, Buffer.from(' ')])).digest();
    expect(timingSafeEqual(Buffer.from(sig.slice(7), 'hex'), other)).toBe(false);
  });

  it('webhook without a secret: no signature header', async () => {
    const srv = await recorder();
    await notifier(spec('webhook', srv.url)).send(MSG);
    expect(srv.requests[0]!.headers['x-berth-signature-256']).toBeUndefined();
  });

  it('is named by spec.name, else by its type', () => {
    expect(notifier(spec('slack', 'https://hooks.slack.com/x')).name).toBe('slack');
    expect(notifier(spec('slack', 'https://hooks.slack.com/x', { name: 'ops-chat' })).name).toBe('ops-chat');
  });
});

describe('createNotifier: failures carry the status and Retry-After, never the URL', () => {
  it('non-2xx: status and a redacted excerpt of the answer (a proxy page quoting the URL)', async () => {
    const srv = await recorder([{ status: 502, body: `<html>upstream error for POST ${PATH} (host 127.0.0.1) token=${TOKEN}</html>` }]);
    const e = await failure(notifier(spec('slack', srv.url, { name: 'ops-chat' })).send(MSG));
    expect(e.status).toBe(502);
    expect(e.retryAfterMs).toBeUndefined();
    expect(e.message).toMatch(/^ops-chat: HTTP 502: <html>upstream error for POST \[hidden\]/);
    expect(e.message).not.toContain(TOKEN);
    expect(e.message).not.toContain('T01ABCDEF');
  });

  it('Slack-style plain error bodies stay readable', async () => {
    const srv = await recorder([{ status: 404, body: 'no_service' }]);
    const e = await failure(notifier(spec('slack', srv.url)).send(MSG));
    expect(e.message).toBe('slack: HTTP 404: no_service');
  });

  it('Retry-After in seconds, as an HTTP date, and Discord’s JSON retry_after', async () => {
    const now = Date.parse('2025-03-14T10:00:00.000Z');
    const srv = await recorder([
      { status: 429, headers: { 'retry-after': '7' } },
      { status: 503, headers: { 'retry-after': 'Fri, 14 Mar 2025 10:00:30 GMT' } },
      { status: 429, headers: { 'content-type': 'application/json' }, body: '{"message":"You are being rate limited.","retry_after":2.5,"global":false}' },
    ]);
    const n = notifier(spec('discord', srv.url), { now: () => now });
    expect((await failure(n.send(MSG))).retryAfterMs).toBe(7000);
    expect(await failure(n.send(MSG))).toMatchObject({ status: 503, retryAfterMs: 30_000 });
    expect(await failure(n.send(MSG))).toMatchObject({ status: 429, retryAfterMs: 2500 });
  });

  it('parseRetryAfter', () => {
    const now = Date.parse('2025-03-14T10:00:00.000Z');
    expect(parseRetryAfter('1', now)).toBe(1000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('1.5', now)).toBe(1500);
    expect(parseRetryAfter('Fri, 14 Mar 2025 09:59:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-3', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('a redirect is not followed (the body would go somewhere the config did not name)', async () => {
    const srv = await recorder([{ status: 302, headers: { location: '/elsewhere' } }]);
    const e = await failure(notifier(spec('teams', srv.url)).send(MSG));
    expect(e.status).toBe(302);
    expect(srv.requests).toHaveLength(1);
  });

  it('no answer within the timeout: status null, a plain reason', async () => {
    const srv = await recorder(['hang']);
    const e = await failure(notifier(spec('slack', srv.url), { timeoutMs: 200 }).send(MSG));
    expect(e.status).toBeNull();
    expect(e.message).toBe('slack: no response within 200 ms');
  });

  it('connection refused and an unparseable URL: fetch’s own text (which can quote the URL) is not passed on', async () => {
    const srv = await recorder();
    const url = srv.url;
    await srv.close();
    const refused = await failure(notifier(spec('webhook', url, { secret: SECRET })).send(MSG));
    expect(refused.status).toBeNull();
    expect(refused.message).toBe('webhook: request failed (ECONNREFUSED)');
    expect('cause' in refused).toBe(false);
    const bad = await failure(notifier(spec('discord', `ht tp://discord.example/api/webhooks/1/${TOKEN}`)).send(MSG));
    expect(bad.status).toBeNull();
    expect(bad.message).not.toContain(TOKEN);
  });
});

describe('NotifyDispatcher over HTTP', () => {
  it('500, then 429 with Retry-After: 1, then 200: the message arrives once, the waits honour Retry-After (fake clock)', async () => {
    const srv = await recorder([{ status: 500, body: 'oops' }, { status: 429, headers: { 'retry-after': '1' } }]);
    const clock = new FakeClock(true);
    const { log, lines } = logger();
    const d = new NotifyDispatcher([notifier(spec('slack', srv.url))], clock, log, { baseBackoffMs: 5000 });
    d.enqueue(MSG);
    await until(() => srv.requests.length >= 3);
    await new Promise((r) => setTimeout(r, 50));
    await settle();
    expect(srv.requests).toHaveLength(3);
    expect(new Set(srv.requests.map((r) => r.body.toString('utf8'))).size).toBe(1);
    // backoff after the 500; then exactly Retry-After, not the 10 s backoff of a second failure
    expect(clock.sleeps).toEqual([5000, 1000]);
    expect(lines.filter((l) => l.msg === 'notify: send failed, will retry').map((l) => [l.status, l.retryInMs])).toEqual([
      [500, 5000],
      [429, 1000],
    ]);
    expect(lines.at(-1)).toMatchObject({ msg: 'notify: delivered after retries', attempts: 3, notifier: 'slack' });
  });

  it('the same with real time: the third request comes a full second after the 429', async () => {
    const srv = await recorder([{ status: 500 }, { status: 429, headers: { 'retry-after': '1' } }]);
    const d = new NotifyDispatcher([notifier(spec('discord', srv.url))], systemClock, logger().log, { baseBackoffMs: 50, minIntervalMs: 0 });
    d.enqueue(MSG);
    await expect(d.drain(5000)).resolves.toEqual({ undelivered: 0 });
    expect(srv.requests).toHaveLength(3);
    const [a, b, c] = srv.requests.map((r) => r.at) as [number, number, number];
    expect(b - a).toBeGreaterThanOrEqual(40);
    expect(b - a).toBeLessThan(900);
    expect(c - b).toBeGreaterThanOrEqual(990);
  });

  it('rate limit: requests to one notifier are spaced by minIntervalMs (fake clock: arrival times jitter under load)', async () => {
    const srv = await recorder();
    const clock = new FakeClock(true);
    const d = new NotifyDispatcher([notifier(spec('teams', srv.url))], clock, logger().log, { minIntervalMs: 150 });
    for (let i = 0; i < 4; i++) d.enqueue({ ...MSG, title: `message ${i}` });
    await until(() => srv.requests.length >= 4);
    await new Promise((r) => setTimeout(r, 50));
    await settle();
    expect(srv.requests).toHaveLength(4);
    // Sending takes no fake time, so each later send waits the whole interval; without the limit there is no sleep.
    expect(clock.sleeps).toEqual([150, 150, 150]);
    expect(srv.requests.map((r) => JSON.parse(r.body.toString('utf8')).attachments[0].content.body[0].inlines[0].text)).toEqual(
      [0, 1, 2, 3].map((i) => `⚠️ message ${i}`),
    );
  });

  it('a hanging chat server: 200 enqueues return at once, the queue keeps the newest 100 and logs each drop', async () => {
    const srv = await recorder([], 'hang');
    const { log, lines } = logger();
    const d = new NotifyDispatcher([notifier(spec('webhook', srv.url, { secret: SECRET }))], systemClock, log);
    // enqueue is synchronous: had it waited on the hanging server, this loop would never end.
    for (let i = 0; i < 200; i++) d.enqueue({ ...MSG, title: `message ${i}` });
    const drops = lines.filter((l) => l.msg === 'notify: queue full, dropped the oldest message');
    expect(drops).toHaveLength(100);
    expect(drops[0]).toMatchObject({ notifier: 'webhook', title: 'message 0' });
    await until(() => srv.requests.length === 1);
    expect(JSON.parse(srv.requests[0]!.body.toString('utf8')).title).toBe('message 100');
    const { undelivered } = await d.drain(50);
    expect(undelivered).toBe(100); // 99 waiting + the one in flight
  });

  it('berth notify test: one try per notifier, which failed and why', async () => {
    const good = await recorder();
    const bad = await recorder([{ status: 403, body: 'invalid_token' }]);
    const d = new NotifyDispatcher(
      [notifier(spec('slack', good.url, { name: 'ops-chat' })), notifier(spec('webhook', bad.url, { secret: SECRET }))],
      systemClock,
      logger().log,
    );
    const res = await d.sendNow({ ...MSG, kind: 'test', severity: 'info', title: 'berth notify test', lines: [] });
    captured.push(JSON.stringify(res));
    expect(res).toEqual([
      { name: 'ops-chat', ok: true, error: null },
      { name: 'webhook', ok: false, error: 'webhook: HTTP 403: invalid_token' },
    ]);
    expect(bad.requests).toHaveLength(1);
  });
});

afterAll(() => {
  // Every error text and log line of this file: no URL, path token or secret.
  expect(captured.length).toBeGreaterThan(20);
  for (const line of captured) {
    expect(line).not.toContain(TOKEN);
    expect(line).not.toContain(SECRET);
    expect(line).not.toContain(PATH);
    expect(line).not.toContain('127.0.0.1:');
  }
});
