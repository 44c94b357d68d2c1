import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/http/metrics.js';
import { startHttpServer, type HttpServer, type HttpServerOptions } from '../../src/http/server.js';
import { isLoopbackHost, presentedToken } from '../../src/http/ui-auth.js';
import { UI_CSP } from '../../src/http/ui-routes.js';
import type { Logger } from '../../src/ports/logger.js';
import { LiveFeed } from '../../src/ui/feed.js';

/** The dashboard's HTTP side against a real server: page, files, CSP, live feed, token beyond loopback. */
const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const open: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function start(listen: string, over: Partial<HttpServerOptions> = {}, state: { value: unknown } = { value: { sync: 'in sync' } }) {
  const feed = new LiveFeed(() => state.value, { pollMs: 20 });
  const server = await startHttpServer({
    listen,
    branch: 'main',
    webhookSecret: null,
    insecureWebhook: false,
    metrics: createMetrics(),
    isReady: () => true,
    status: () => state.value,
    onWebhook: () => {},
    log: quiet,
    feed,
    ...over,
  });
  open.push(server);
  return { server, feed, base: `http://127.0.0.1:${server.port}`, state };
}

/** Read server-sent `status` events until `until` says stop. */
function readEvents(url: string, until: (events: unknown[]) => boolean, headers: Record<string, string> = {}): Promise<{ events: unknown[]; contentType: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const events: unknown[] = [];
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          if (block.includes('event: status') && data) events.push(JSON.parse(data.slice(6)));
        }
        if (until(events)) {
          req.destroy();
          resolve({ events, contentType: String(res.headers['content-type']) });
        }
      });
      res.on('end', () => resolve({ events, contentType: String(res.headers['content-type']) }));
    });
    req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
    req.end();
  });
}

describe('dashboard over HTTP', () => {
  it('serves the page and its files from berth itself, under a CSP without inline script', async () => {
    const { base } = await start('127.0.0.1:0');
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(UI_CSP);
    expect(UI_CSP).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await page.text();
    expect(html).toMatch(/<meta name="viewport" content="width=device-width/);
    // Every script is a file of this origin; no inline script, handler or style attribute.
    expect([...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1])).toEqual([' src="/ui/app.js" defer']);
    expect(html).not.toMatch(/\son\w+=|style=|<style/);
    // No URL to anywhere else: the page works air-gapped.
    for (const path of ['/', '/ui/app.js', '/ui/app.css', '/ui/favicon.svg']) {
      const r = await fetch(`${base}${path}`);
      expect(r.status, path).toBe(200);
      const text = await r.text();
      expect(text.match(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/gi)?.filter((u) => u !== 'http://www.w3.org') /* the SVG namespace name, never fetched */ ?? [], path).toEqual([]);
      const again = await fetch(`${base}${path}`, { headers: { 'if-none-match': r.headers.get('etag')! } });
      expect(again.status).toBe(304);
    }
    expect((await fetch(`${base}/ui/nothing.js`)).status).toBe(404);
  });

  it('the live feed sends the status at once and again whenever it changes', async () => {
    const state = { value: { sync: 'in sync', n: 0 } as unknown };
    const { base, feed } = await start('127.0.0.1:0', {}, state);
    const seen = readEvents(`${base}/api/events`, (ev) => ev.length === 3);
    // Changes made after the stream opened arrive as further events.
    await new Promise<void>((r) => {
      const wait = setInterval(() => {
        if (feed.size > 0) {
          clearInterval(wait);
          r();
        }
      }, 5);
    });
    state.value = { sync: 'changes pending', n: 1 };
    feed.notify();
    feed.notify(); // unchanged: no event
    state.value = { sync: 'in sync', n: 2 }; // picked up by the feed's own look
    const { events, contentType } = await seen;
    expect(contentType).toMatch(/^text\/event-stream/);
    expect(events).toEqual([
      { sync: 'in sync', n: 0 },
      { sync: 'changes pending', n: 1 },
      { sync: 'in sync', n: 2 },
    ]);
  });

  it('closing the server ends the live feeds', async () => {
    const { base, server } = await start('127.0.0.1:0');
    const seen = readEvents(`${base}/api/events`, () => false);
    // Let the feed connect first (under load 50 ms was not enough and close() raced the request).
    await new Promise((r) => setTimeout(r, 1_000));
    await server.close();
    expect((await seen).events.length).toBe(1);
  });

  it('beyond loopback, the dashboard and /api/* need BERTH_UI_TOKEN; health, readiness, metrics and webhook do not', async () => {
    const closed = await start('0.0.0.0:0');
    for (const p of ['/', '/ui/app.js', '/api/status', '/api/events']) expect((await fetch(`${closed.base}${p}`)).status, p).toBe(403);
    expect((await fetch(`${closed.base}/healthz`)).status).toBe(200);
    expect((await fetch(`${closed.base}/metrics`)).status).toBe(200);

    const token = 'ui-token-7f3e9a';
    const guarded = await start('0.0.0.0:0', { uiToken: token });
    const none = await fetch(`${guarded.base}/api/status`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm="berth"/);
    expect(await none.text()).not.toContain(token);
    expect((await fetch(`${guarded.base}/api/status`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const bearer = await fetch(`${guarded.base}/api/status`, { headers: { authorization: `Bearer ${token}` } });
    expect(bearer.status).toBe(200);
    expect(await bearer.json()).toEqual({ sync: 'in sync' });
    const basic = `Basic ${Buffer.from(`anyone:${token}`).toString('base64')}`;
    expect((await fetch(`${guarded.base}/`, { headers: { authorization: basic } })).status).toBe(200);
    const feed = await readEvents(`${guarded.base}/api/events`, (ev) => ev.length === 1, { authorization: basic });
    expect(feed.events).toEqual([{ sync: 'in sync' }]);
    expect((await fetch(`${guarded.base}/healthz`)).status).toBe(200);
    expect((await fetch(`${guarded.base}/readyz`)).status).toBe(200);
    // The webhook keeps its own rules (here: no secret → off), not the UI token's.
    expect((await fetch(`${guarded.base}/webhook`, { method: 'POST', body: '{}' })).status).toBe(404);

    // On loopback the page is open.
    const local = await start('127.0.0.1:0', { uiToken: token });
    expect((await fetch(`${local.base}/api/status`)).status).toBe(200);
  });

  it('knows loopback addresses and reads bearer and basic credentials', () => {
    for (const h of ['127.0.0.1', '127.3.4.5', '::1', 'localhost', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', '127.0.0.1.example']) expect(isLoopbackHost(h), h).toBe(false);
    expect(presentedToken({ authorization: 'Bearer abc' })).toBe('abc');
    expect(presentedToken({ authorization: `Basic ${Buffer.from('u:p:with:colons').toString('base64')}` })).toBe('p:with:colons');
    expect(presentedToken({ authorization: 'Digest x' })).toBeNull();
    expect(presentedToken({})).toBeNull();
  });
});
