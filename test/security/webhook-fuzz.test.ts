import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/free-port.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics, type BerthMetrics } from '../../src/http/metrics.js';
import { MAX_WEBHOOK_BODY, startHttpServer, type HttpServer } from '../../src/http/server.js';
import type { Logger } from '../../src/ports/logger.js';
import { removePrefixed } from '../support/berth-objects.js';
import { recordCapture } from '../support/capture.js';
import { requireEngine, uniqueName } from '../support/engine.js';
import { createRng, seedFrom, type Rng } from '../support/prng.js';
import { chunked, pieces, rawExchange, requestHead, type RawPart, type RawReply } from '../support/raw-http.js';
import { tmpRepo } from '../support/tmp-repo.js';

/**
 * Fuzzing POST /webhook (issue 8, security checks): random bodies and
 * headers, missing/wrong/short signatures, wrong algorithm prefixes,
 * signatures of another body, oversized and 10 MiB bodies, slow clients,
 * random methods and paths, JSON bombs. Every request has an expected status
 * and says whether it may trigger a reconcile; nothing rejected may.
 *
 * Part 1 runs the server factory in-process with a counting trigger (fast,
 * many requests, short deadlines). Part 2 runs `berth run` itself (the built
 * CLI, as users run it) to check the real wiring, its 10 s deadlines, and
 * its RSS while 50 bodies of 10 MiB are thrown at it.
 *
 * Inputs come from a seeded PRNG; the seed is printed, BERTH_FUZZ_SEED replays it.
 */
const SECRET = 'security-webhook-secret-0d6b2f';
const SEED = seedFrom('BERTH_FUZZ_SEED');
const MiB = 1024 * 1024;
console.log(`[webhook fuzz] seed ${SEED} (replay with BERTH_FUZZ_SEED=${SEED})`);

const hmac = (body: Buffer | string, secret = SECRET) => createHmac('sha256', secret).update(body).digest('hex');
const pushBody = (branch: string, extra: Record<string, unknown> = {}) => Buffer.from(JSON.stringify({ ref: `refs/heads/${branch}`, after: 'c0ffee'.padEnd(40, '0'), ...extra }));

type Provider = 'github' | 'gitea' | 'gitlab';
/** Event + credential headers of a correctly signed delivery. */
function signedHeaders(provider: Provider, body: Buffer, event: 'push' | 'ping' = 'push'): [string, string][] {
  switch (provider) {
    case 'github':
      return [['Content-Type', 'application/json'], ['X-GitHub-Event', event], ['X-Hub-Signature-256', `sha256=${hmac(body)}`]];
    case 'gitea':
      return [['Content-Type', 'application/json'], ['X-Gitea-Event', event], ['X-GitHub-Event', event], ['X-Gitea-Signature', hmac(body)], ['X-Hub-Signature-256', `sha256=${hmac(body)}`]];
    case 'gitlab':
      return [['Content-Type', 'application/json'], ['X-Gitlab-Event', 'Push Hook'], ['X-Gitlab-Token', SECRET]];
  }
}

interface Case {
  /** For the printed tally. */
  group: string;
  kind: string;
  method: string;
  path: string;
  headers: [string, string][];
  body: Buffer;
  /** Send the body chunked (no Content-Length): only the streaming cap can stop it. */
  chunked?: boolean;
  /** Any of these statuses is right. */
  status: number[];
  /** Must this request trigger a reconcile (exactly once)? Everything else must not. */
  triggers: boolean;
}

const PRINTABLE = ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~';
const HEX = '0123456789abcdef';

function randomBody(r: Rng): Buffer {
  switch (r.int(0, 5)) {
    case 0:
      return Buffer.alloc(0);
    case 1:
      return r.bytes(r.int(1, 4096));
    case 2:
      return pushBody(r.pick(['main', 'dev', 'main\u0000', '../main', 'x'.repeat(300)]), { junk: r.string(r.int(0, 200), PRINTABLE) });
    case 3:
      return Buffer.from(new URLSearchParams({ payload: pushBody('main').toString() }).toString());
    case 4:
      return Buffer.from(r.string(r.int(1, 2000), PRINTABLE));
    default:
      return Buffer.from(JSON.stringify({ object_kind: 'push', ref: 'refs/heads/main', commits: Array.from({ length: r.int(0, 50) }, (_, i) => ({ id: i })) }));
  }
}

function randomEvent(r: Rng): [string, string][] {
  return r.pick<[string, string][]>([
    [['X-GitHub-Event', 'push']],
    [['X-GitHub-Event', r.pick(['ping', 'issues', 'release', r.string(r.int(1, 30), PRINTABLE.trim())])]],
    [['X-Gitea-Event', 'push'], ['X-GitHub-Event', 'push']],
    [['X-Gitlab-Event', r.pick(['Push Hook', 'System Hook', 'Tag Push Hook'])]],
    [],
  ]);
}

/** A credential that is not the right one, in one of many shapes. */
function badCredential(r: Rng, body: Buffer): { kind: string; headers: [string, string][] } {
  const other = Buffer.concat([body, Buffer.from(r.pick([' ', '\n', 'x', '{}']))]);
  const good = hmac(body);
  const options: { kind: string; headers: [string, string][] }[] = [
    { kind: 'missing signature', headers: [] },
    { kind: 'wrong secret (GitHub)', headers: [['X-Hub-Signature-256', `sha256=${hmac(body, `${SECRET}x`)}`]] },
    { kind: 'wrong secret (Gitea)', headers: [['X-Gitea-Signature', hmac(body, 'not-the-secret')]] },
    { kind: 'wrong token (GitLab)', headers: [['X-Gitlab-Token', r.pick([SECRET.slice(0, -1), `${SECRET}x`, SECRET.toUpperCase(), '', r.string(r.int(1, 64), PRINTABLE.trim())])]] },
    { kind: 'truncated signature', headers: [['X-Hub-Signature-256', `sha256=${good.slice(0, r.int(0, 63))}`]] },
    { kind: 'overlong signature', headers: [['X-Hub-Signature-256', `sha256=${good}${r.string(r.int(1, 64), HEX)}`]] },
    { kind: 'wrong algorithm prefix', headers: [['X-Hub-Signature-256', `${r.pick(['sha1=', 'sha512=', 'SHA256=', 'sha256:', 'sha256 =', ''])}${good}`]] },
    { kind: 'Gitea signature with prefix', headers: [['X-Gitea-Signature', `sha256=${good}`]] },
    { kind: 'signature of another body', headers: [['X-Hub-Signature-256', `sha256=${hmac(other)}`]] },
    { kind: 'random hex signature', headers: [['X-Hub-Signature-256', `sha256=${r.string(64, HEX)}`]] },
    { kind: 'repeated signature header', headers: [['X-Hub-Signature-256', `sha256=${good}`], ['X-Hub-Signature-256', `sha256=${good}`]] },
    // A valid GitHub signature does not rescue a wrong Gitea one: the first credential present decides.
    { kind: 'wrong Gitea + valid GitHub', headers: [['X-Gitea-Signature', hmac(other)], ['X-Hub-Signature-256', `sha256=${good}`]] },
    { kind: 'non-hex signature', headers: [['X-Hub-Signature-256', `sha256=${r.string(64, 'ghijklmnopqrstuvwxyz')}`]] },
  ];
  return r.pick(options);
}

/** A request with no valid credential: 401 whatever the body and headers say. */
function rejectedCase(r: Rng): Case {
  const body = randomBody(r);
  const cred = badCredential(r, body);
  return {
    group: 'no valid credential',
    kind: `no valid credential: ${cred.kind}`,
    method: 'POST',
    path: r.pick(['/webhook', '/webhook?token=x', '/webhook#frag']),
    headers: [['Content-Type', r.pick(['application/json', 'application/x-www-form-urlencoded', 'text/plain'])], ...randomEvent(r), ...cred.headers],
    body,
    chunked: r.chance(0.2),
    status: [401],
    triggers: false,
  };
}

/** Header values with control characters: Node refuses the request (400) before berth sees it. */
function malformedHeaderCase(r: Rng): Case {
  const ctl = String.fromCharCode(r.pick([0, 1, 8, 11, 12, 27, 127]));
  return {
    group: 'control character in a header',
    kind: 'control character in a header value',
    method: 'POST',
    path: '/webhook',
    headers: [['X-GitHub-Event', 'push'], ['X-Hub-Signature-256', `sha256=${ctl}${r.string(63, HEX)}`]],
    body: pushBody('main'),
    status: [400],
    triggers: false,
  };
}

const OTHER_PATHS: Record<string, number> = { '/healthz': 405, '/readyz': 405, '/metrics': 405, '/api/status': 405 };
/** POSTs with a valid signature to anything that is not /webhook: never a trigger. */
function pathCase(r: Rng): Case {
  const path = r.pick(['/', '/webhook/', '/Webhook', '/WEBHOOK', '//webhook', '/webhook/..', '/webhooks', '/api/webhook', '/%77ebhook', '/healthz', '/metrics', '/api/status', '/readyz', `/${r.string(r.int(1, 200), 'abcdefghijklmnopqrstuvwxyz0123456789-._~%/')}`]);
  const pathname = (() => {
    try {
      return new URL(path, 'http://berth.invalid').pathname;
    } catch {
      return null;
    }
  })();
  const body = pushBody('main');
  // Dot segments normalise (/webhook/.. is /); only the exact pathname /webhook is the endpoint.
  const status = pathname === null ? [400] : pathname === '/webhook' ? [202] : [OTHER_PATHS[pathname] ?? 404];
  return { group: 'other path', kind: `path ${path.slice(0, 40)}`, method: 'POST', path, headers: signedHeaders('github', body), body, status, triggers: pathname === '/webhook' };
}

function methodCase(r: Rng): Case {
  const method = r.pick(['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND', 'FOO', 'post', 'P0ST']);
  const body = pushBody('main');
  // Node's parser knows the registered methods (405 from berth); other tokens are a 400 before berth sees them.
  const known = ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND'].includes(method);
  return { group: 'other method', kind: `method ${method}`, method, path: '/webhook', headers: signedHeaders('github', body), body: method === 'GET' || method === 'HEAD' ? Buffer.alloc(0) : body, status: known ? [405] : [400], triggers: false };
}

/** Deep nesting, correctly signed, within the size cap: parsed without crashing. */
function jsonBombCase(r: Rng): Case {
  // Up to ~1 MB, under the 1 MiB cap: arrays at 2 bytes a level, objects at 6.
  const arrays = r.chance(0.5);
  const depth = r.int(1_000, arrays ? 400_000 : 150_000);
  const open = arrays ? '['.repeat(depth) : '{"a":'.repeat(depth);
  const close = arrays ? ']'.repeat(depth) : '}'.repeat(depth);
  const variant = r.pick(['with-ref', 'no-ref', 'unclosed'] as const);
  const text =
    variant === 'with-ref' ? `{"ref":"refs/heads/main","x":${open}1${close}}` : variant === 'no-ref' ? `{"x":${open}1${close}}` : `{"ref":"refs/heads/main","x":${open}1`;
  const body = Buffer.from(text);
  const provider = r.pick<Provider>(['github', 'gitea', 'gitlab']);
  // A readable push to our branch is a push, however deep its other fields; an unreadable one is 400.
  return { group: 'JSON bomb, signed', kind: `JSON bomb ${variant} depth ${depth} (${provider})`, method: 'POST', path: '/webhook', headers: signedHeaders(provider, body), body, status: variant === 'with-ref' ? [202] : [400], triggers: variant === 'with-ref' };
}

/** Correctly signed, but over the cap: 413 and nothing else happens. */
function oversizedCase(r: Rng): Case {
  const body = Buffer.alloc(MAX_WEBHOOK_BODY + r.int(1, 256 * 1024), 0x7b);
  return { group: 'signed, over the size cap', kind: 'valid signature, body over the cap', method: 'POST', path: '/webhook', headers: signedHeaders(r.pick<Provider>(['github', 'gitea', 'gitlab']), body), body, chunked: r.chance(0.5), status: [413], triggers: false };
}

/** Positive controls: if these did not trigger, "nothing triggered" would prove nothing. */
function validCase(r: Rng): Case {
  const provider = r.pick<Provider>(['github', 'gitea', 'gitlab']);
  const branch = r.pick(['main', 'main', 'dev']);
  const body = provider === 'gitlab' ? Buffer.from(JSON.stringify({ object_kind: 'push', ref: `refs/heads/${branch}` })) : pushBody(branch);
  if (provider !== 'gitlab' && r.chance(0.2)) return { group: 'valid (control)', kind: `valid ${provider} ping`, method: 'POST', path: '/webhook', headers: signedHeaders(provider, body, 'ping'), body, status: [200], triggers: false };
  return { group: 'valid (control)', kind: `valid ${provider} push to ${branch}`, method: 'POST', path: '/webhook', headers: signedHeaders(provider, body), body, chunked: r.chance(0.2), status: [202], triggers: branch === 'main' };
}

function randomCase(r: Rng): Case {
  const x = r.next();
  if (x < 0.55) return rejectedCase(r);
  if (x < 0.62) return malformedHeaderCase(r);
  if (x < 0.72) return pathCase(r);
  if (x < 0.8) return methodCase(r);
  if (x < 0.84) return jsonBombCase(r);
  if (x < 0.88) return oversizedCase(r);
  return validCase(r);
}

function partsOf(c: Case): RawPart[] {
  const headers: [string, string][] = c.chunked ? [...c.headers, ['Transfer-Encoding', 'chunked']] : [...c.headers, ['Content-Length', String(c.body.length)]];
  return [{ data: requestHead(c.method, c.path, headers) }, ...(c.chunked ? chunked(c.body) : pieces(c.body))];
}

const describeCase = (i: number, c: Case, got: RawReply) => `#${i} ${c.kind} (seed ${SEED}): expected ${c.status.join('|')}, got ${got.status} ${JSON.stringify(got.text.split('\r\n\r\n')[1]?.slice(0, 120) ?? '')}`;

// ---------------------------------------------------------------- part 1: the server factory, in-process

describe('webhook fuzz against the HTTP server (in-process, counting triggers)', () => {
  let server: HttpServer;
  let metrics: BerthMetrics;
  const triggers: { provider: string; branch: string | null }[] = [];
  const logs: string[] = [];
  const BODY_TIMEOUT_MS = 2_000;
  const HEADERS_TIMEOUT_MS = 2_000;

  beforeAll(async () => {
    const capture = (level: string) => (obj: object, msg?: string) => void logs.push(JSON.stringify({ level, ...obj, msg }));
    const log: Logger = { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error') };
    metrics = createMetrics();
    server = await startHttpServer({
      listen: '127.0.0.1:0',
      branch: 'main',
      webhookSecret: SECRET,
      insecureWebhook: false,
      metrics,
      isReady: () => true,
      status: () => ({ ok: true }),
      onWebhook: (info) => void triggers.push(info),
      log,
      bodyTimeoutMs: BODY_TIMEOUT_MS,
      headersTimeoutMs: HEADERS_TIMEOUT_MS,
    });
  });

  afterAll(async () => {
    await server?.close();
    recordCapture('webhook fuzz server log', logs.join('\n'));
  });

  const healthz = async () => (await rawExchange(server.port, [{ data: requestHead('GET', '/healthz', []) }], 10_000)).status;

  it('answers every random request as expected and triggers exactly for valid pushes to the branch', async () => {
    const r = createRng(SEED);
    const N = 600;
    const counts = new Map<string, number>();
    let expectedTriggers = 0;
    for (let i = 0; i < N; i++) {
      const c = randomCase(r);
      const before = triggers.length;
      const got = await rawExchange(server.port, partsOf(c));
      expect(c.status, describeCase(i, c, got)).toContain(got.status);
      expect(triggers.length - before, `#${i} ${c.kind} (seed ${SEED}) ${c.triggers ? 'must' : 'must not'} trigger`).toBe(c.triggers ? 1 : 0);
      if (c.triggers) expectedTriggers++;
      counts.set(c.group, (counts.get(c.group) ?? 0) + 1);
    }
    expect(triggers).toHaveLength(expectedTriggers);
    expect(expectedTriggers).toBeGreaterThan(0); // the positive controls ran
    const rejected = N - expectedTriggers;
    console.log(`[webhook fuzz] in-process: ${N} random requests, ${rejected} not triggering (all answered as expected), ${expectedTriggers} valid pushes triggered; by kind: ${[...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`);
    expect(await healthz()).toBe(200);
  });

  it('10 MiB bodies, declared or streamed, get 413 without a trigger', async () => {
    const body = Buffer.alloc(10 * MiB, 0x61);
    const before = triggers.length;
    const headers = signedHeaders('github', body);
    const declared = await rawExchange(server.port, [{ data: requestHead('POST', '/webhook', [...headers, ['Content-Length', String(body.length)]]) }, ...pieces(body)]);
    const streamed = await rawExchange(server.port, [{ data: requestHead('POST', '/webhook', [...headers, ['Transfer-Encoding', 'chunked']]) }, ...chunked(body)]);
    expect([declared.status, streamed.status]).toEqual([413, 413]);
    // Refused early: far less than the body was written before the answer came.
    expect(declared.sent).toBeLessThan(body.length);
    expect(streamed.sent).toBeLessThan(body.length);
    expect(triggers.length).toBe(before);
    expect(await healthz()).toBe(200);
  });

  it('slow clients (body at 1 byte/s, headers at 5 bytes/s) get 408 at the deadline; the server keeps answering meanwhile', async () => {
    const before = triggers.length;
    const body = pushBody('main');
    const slowBody = (): RawPart[] => [
      { data: requestHead('POST', '/webhook', [...signedHeaders('github', body), ['Content-Length', String(body.length)]]) },
      ...[...body.subarray(0, 10)].map((b) => ({ data: Buffer.from([b]), delayMs: 1_000 })),
    ];
    const head = requestHead('POST', '/webhook', [...signedHeaders('github', body), ['Content-Length', String(body.length)]]);
    const slowHeaders = (): RawPart[] => [...head.slice(0, 40)].map((ch) => ({ data: ch, delayMs: 200 }));
    const clients = [...Array.from({ length: 10 }, () => rawExchange(server.port, slowBody())), ...Array.from({ length: 5 }, () => rawExchange(server.port, slowHeaders()))];
    // While 15 sockets trickle, a normal request is served at once.
    await new Promise((r) => setTimeout(r, 500));
    expect(await healthz()).toBe(200);
    const replies = await Promise.all(clients);
    for (const [i, rep] of replies.entries()) {
      expect(rep.status, `slow client ${i}: ${rep.text.slice(0, 80)}`).toBe(408);
      // Answered at the deadline (slack for Node's check interval and a loaded machine), not when the client gave up;
      // the connection is closed soon after (at most the 2 s linger while the client keeps trickling).
      const deadline = i < 10 ? BODY_TIMEOUT_MS : HEADERS_TIMEOUT_MS;
      expect(rep.answeredMs).toBeGreaterThanOrEqual(deadline - 50);
      expect(rep.answeredMs).toBeLessThan(deadline + 2_500);
      expect(rep.ms).toBeLessThan(deadline + 5_000);
    }
    expect(triggers.length).toBe(before);
    expect(await healthz()).toBe(200);
  });

  it('the metrics agree: every accepted webhook triggered, nothing else did', async () => {
    const text = await metrics.metrics();
    const count = (result: string) => Number(new RegExp(`^berth_webhooks_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    expect(count('accepted')).toBe(triggers.length);
    expect(count('unauthorized')).toBeGreaterThan(100);
    expect(count('too_large')).toBeGreaterThan(0);
    expect(count('timeout')).toBe(10);
    // Neither the secret nor a signature reached a log line.
    const all = logs.join('\n');
    expect(all).not.toContain(SECRET);
    expect(all).not.toMatch(/[0-9a-f]{64}/);
  });
});

// ---------------------------------------------------------------- part 2: `berth run`, as users run it

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'bundle', 'main.js');


/** Resident set and its high-water mark of a process, in bytes (Linux /proc). */
function memoryOf(pid: number): { rss: number; hwm: number } | null {
  const path = `/proc/${pid}/status`;
  if (!existsSync(path)) return null;
  const text = readFileSync(path, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

const mib = (b: number) => `${(b / MiB).toFixed(1)} MiB`;

describe('webhook fuzz against `berth run`', () => {
  let engine = false;
  let child: ChildProcess | null = null;
  let logs = '';
  let port = 0;
  const prefix = `${uniqueName('sec')}-`;

  beforeAll(async () => {
    engine = await requireEngine();
    if (!engine) return;
    // The smallest desired state: one stack with one network (no containers to start).
    const repo = tmpRepo({ [`stacks/${prefix}fz/compose.yaml`]: 'services: {}\nnetworks:\n  n: {}\n' });
    port = await freePort();
    child = spawn(process.execPath, [CLI, 'run', '--repo', repo, '--interval', '1h', '--listen', `127.0.0.1:${port}`, '--name', 'fuzz-host'], {
      env: { ...process.env, BERTH_WEBHOOK_SECRET: SECRET, BERTH_STATE_DIR: mkdtempSync(join(tmpdir(), 'berth-fuzz-state-')) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
    const end = Date.now() + 60_000;
    for (;;) {
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200, () => false);
      if (ready) break;
      if (Date.now() > end) throw new Error(`berth run not ready after 60 s:\n${logs.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  afterAll(async () => {
    if (child) {
      const c = child;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await exited;
    }
    recordCapture('berth run (webhook fuzz) stdout+stderr', logs);
    if (engine) await removePrefixed(prefix);
  });

  /** Reconcile passes started by a webhook, from berth's own log lines. */
  const webhookReconciles = () => logs.split('\n').filter((l) => l.includes('"msg":"reconcile"') && l.includes('"webhook:')).length;

  it('50 bodies of 10 MiB → 413 each, and the resident set stays bounded', async (ctx) => {
    if (!engine) return ctx.skip();
    const pid = child!.pid!;
    if (!memoryOf(pid)) return ctx.skip(); // no /proc
    const body = Buffer.alloc(10 * MiB, 0x5b);
    const headers = signedHeaders('github', body);
    const send = (i: number) =>
      rawExchange(
        port,
        i % 2 === 0
          ? [{ data: requestHead('POST', '/webhook', [...headers, ['Content-Length', String(body.length)]]) }, ...pieces(body)]
          : [{ data: requestHead('POST', '/webhook', [...headers, ['Transfer-Encoding', 'chunked']]) }, ...chunked(body)],
      );
    // Warm up (JIT, socket buffers), then measure from there.
    for (let i = 0; i < 4; i++) expect((await send(i)).status).toBe(413);
    const before = memoryOf(pid)!;
    let peakRss = before.rss;
    const statuses: number[] = [];
    for (let batch = 0; batch < 10; batch++) {
      // Five at a time: concurrent refusals must not add up either.
      const replies = await Promise.all(Array.from({ length: 5 }, (_, j) => send(batch * 5 + j)));
      statuses.push(...replies.map((x) => x.status));
      peakRss = Math.max(peakRss, memoryOf(pid)!.rss);
    }
    const after = memoryOf(pid)!;
    console.log(
      `[webhook fuzz] berth run RSS over 50 × 10 MiB webhook bodies (25 declared, 25 chunked, 5 at a time): before ${mib(before.rss)}, highest sampled ${mib(peakRss)}, after ${mib(after.rss)} (growth ${mib(after.rss - before.rss)}); high-water mark ${mib(before.hwm)} → ${mib(after.hwm)}`,
    );
    expect(statuses).toEqual(Array(50).fill(413));
    expect(after.rss - before.rss).toBeLessThan(50 * MiB);
    expect(peakRss - before.rss).toBeLessThan(50 * MiB);
    expect(webhookReconciles()).toBe(0);
  });

  it('200 random rejected requests trigger nothing; the process keeps answering', async (ctx) => {
    if (!engine) return ctx.skip();
    const r = createRng(SEED ^ 0x5eed);
    for (let i = 0; i < 200; i++) {
      const c = r.pick([rejectedCase, malformedHeaderCase, methodCase, oversizedCase])(r);
      const got = await rawExchange(port, partsOf(c));
      expect(c.status, describeCase(i, c, got)).toContain(got.status);
    }
    await new Promise((res) => setTimeout(res, 500));
    expect(webhookReconciles()).toBe(0);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  });

  it('slow body and slow headers get 408 within the default 10 s deadlines', async (ctx) => {
    if (!engine) return ctx.skip();
    const body = pushBody('main');
    const head = requestHead('POST', '/webhook', [...signedHeaders('github', body), ['Content-Length', String(body.length)]]);
    const [slowBody, slowHeaders] = await Promise.all([
      rawExchange(port, [{ data: head }, ...[...body].map((b) => ({ data: Buffer.from([b]), delayMs: 1_000 }))], 20_000),
      rawExchange(port, [...head].map((ch) => ({ data: ch, delayMs: 1_000 })), 20_000),
    ]);
    console.log(`[webhook fuzz] berth run slow clients: body at 1 byte/s answered ${slowBody.status} after ${slowBody.answeredMs} ms (closed at ${slowBody.ms} ms), headers at 1 byte/s answered ${slowHeaders.status} after ${slowHeaders.answeredMs} ms (closed at ${slowHeaders.ms} ms)`);
    expect([slowBody.status, slowHeaders.status]).toEqual([408, 408]);
    // 10 s deadlines; Node checks them once a second, and this machine is shared: up to 5 s late is still "cut off".
    for (const x of [slowBody, slowHeaders]) {
      expect(x.answeredMs).toBeGreaterThanOrEqual(9_900);
      expect(x.answeredMs).toBeLessThan(15_000);
      expect(x.ms).toBeLessThan(18_000);
    }
    expect(webhookReconciles()).toBe(0);
  });

  it('a valid signed push still triggers one reconcile (the control for the checks above)', async (ctx) => {
    if (!engine) return ctx.skip();
    const body = pushBody('main');
    const res = await fetch(`http://127.0.0.1:${port}/webhook`, { method: 'POST', headers: Object.fromEntries(signedHeaders('github', body)), body });
    expect(res.status).toBe(202);
    const end = Date.now() + 30_000;
    while (webhookReconciles() === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    expect(webhookReconciles()).toBe(1);
    expect(logs).not.toContain(SECRET);
  });
});
