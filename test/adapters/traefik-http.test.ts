import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createTraefikClient, traefikEndpoint } from '../../src/adapters/traefik-http.js';
import { TraefikError } from '../../src/ports/traefik.js';
import { FakeTraefik } from '../fakes/traefik.js';

const PASSWORD = 'pa55-w0rd:with@odd/chars';
const ENCODED = encodeURIComponent(PASSWORD);

let fakes: FakeTraefik[] = [];
let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(fakes.map((f) => f.close()));
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  fakes = [];
  servers = [];
});

async function fake(opts?: Parameters<typeof FakeTraefik.start>[0]): Promise<FakeTraefik> {
  const f = await FakeTraefik.start(opts);
  fakes.push(f);
  return f;
}

/** `http://ops:<password>@127.0.0.1:<port>` for a fake's URL. */
function withCredentials(url: string, password = ENCODED): string {
  return url.replace('http://', `http://ops:${password}@`);
}

async function failure(p: Promise<unknown>): Promise<TraefikError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(TraefikError);
  return e as TraefikError;
}

function expectNoSecret(text: string): void {
  expect(text).not.toContain(PASSWORD);
  expect(text).not.toContain(ENCODED);
  expect(text).not.toContain('ops:');
  expect(text).not.toContain(Buffer.from(`ops:${PASSWORD}`).toString('base64'));
}

describe('Traefik HTTP client', () => {
  it('sends the userinfo of traefik.api as Basic auth, decoded, and not in the URL', async () => {
    const t = await fake({ basicAuth: { user: 'ops', password: PASSWORD } });
    t.addServer('web-shop', 'http://172.18.0.5:80');
    const client = createTraefikClient(withCredentials(t.url));
    const services = await client.services();
    expect(services.map((s) => [s.name, s.serverStatus])).toEqual([['web-shop@docker', { 'http://172.18.0.5:80': 'UP' }]]);
    expect(t.requests[0]!.authorization).toBe(`Basic ${Buffer.from(`ops:${PASSWORD}`).toString('base64')}`);
    expect(t.requests[0]!.path).toBe('/api/http/services?page=1&per_page=100');
  });

  it('never puts the password in an error: wrong credentials, refused connection, timeout, bad URL', async () => {
    const t = await fake({ basicAuth: { user: 'ops', password: 'the-right-one' } });
    const denied = await failure(createTraefikClient(withCredentials(t.url)).services());
    expect(denied.status).toBe(401);
    expect(denied.message).toBe(`Traefik ${t.url}/api/http/services?page=1&per_page=100: HTTP 401 (check the credentials in traefik.api)`);
    expectNoSecret(denied.message);

    await t.close();
    fakes = [];
    const refused = await failure(createTraefikClient(withCredentials(t.url)).metrics());
    expect(refused.status).toBeNull();
    expect(refused.message).toBe(`Traefik ${t.url}/metrics: request failed (ECONNREFUSED)`);
    expectNoSecret(refused.message);

    const silent = createServer(() => undefined); // accepts, never answers
    servers.push(silent);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    const slow = await failure(createTraefikClient(withCredentials(url), { timeoutMs: 200 }).overview());
    expect(slow.message).toBe(`Traefik ${url}/api/overview: no response within 200 ms`);
    expectNoSecret(slow.message);
    silent.closeAllConnections();

    const bad = await failure(Promise.resolve().then(() => createTraefikClient(`http://ops:${ENCODED}@exa mple:8080`)));
    expect(bad.message).toBe('traefik.api is not a valid URL');
    expectNoSecret(bad.message);
  });

  it('follows Traefik pagination (X-Next-Page) to read every service', async () => {
    const t = await fake();
    for (let i = 0; i < 230; i++) t.addServer(`svc${String(i).padStart(3, '0')}-shop`, `http://10.0.${i >> 8}.${i & 255}:80`);
    const services = await createTraefikClient(t.url).services();
    expect(services).toHaveLength(230);
    expect(new Set(services.map((s) => s.name)).size).toBe(230);
    expect(t.requests.map((r) => r.path)).toEqual([1, 2, 3].map((p) => `/api/http/services?page=${p}&per_page=100`));
  });

  it('reads routers, overview and metrics, and accepts traefik.api with a trailing /api', async () => {
    const t = await fake();
    t.addServer('web-shop', 'http://172.18.0.5:80');
    t.addRequests('web-shop', 3, 200, 50);
    const client = createTraefikClient(`${t.url}/api/`);
    expect(await client.routers()).toMatchObject([{ name: 'web-shop@docker', service: 'web-shop', status: 'enabled' }]);
    expect(await client.overview()).toMatchObject({ http: { services: { total: 1 } } });
    expect(await client.metrics()).toEqual({
      requests: [{ service: 'web-shop@docker', code: 200, count: 3 }],
      durationBuckets: [
        { service: 'web-shop@docker', le: 0.1, count: 3 },
        { service: 'web-shop@docker', le: 0.3, count: 3 },
        { service: 'web-shop@docker', le: 1.2, count: 3 },
        { service: 'web-shop@docker', le: 5, count: 3 },
        { service: 'web-shop@docker', le: Infinity, count: 3 },
      ],
      serverUp: [{ service: 'web-shop@docker', url: 'http://172.18.0.5:80', up: true }],
    });
    expect(t.requests.map((r) => r.path)).toEqual(['/api/http/routers?page=1&per_page=100', '/api/overview', '/metrics']);
  });

  it('returns null for metrics when Traefik answers 404, and fails on other statuses', async () => {
    const t = await fake();
    t.setMetrics(false);
    expect(await createTraefikClient(t.url).metrics()).toBeNull();
    t.setApiFailure(500);
    expect((await failure(createTraefikClient(t.url).metrics())).status).toBe(500);
  });

  it('fails clearly when the address is not Traefik API (not JSON, not a list)', async () => {
    const other = createServer((req, res) => {
      res.writeHead(200, { 'content-type': req.url?.startsWith('/api/overview') ? 'text/html' : 'application/json' });
      res.end(req.url?.startsWith('/api/overview') ? '<html>hello</html>' : '{"services":[]}');
    });
    servers.push(other);
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(other.address() as { port: number }).port}`;
    expect((await failure(createTraefikClient(url).overview())).message).toContain('the response is not JSON');
    expect((await failure(createTraefikClient(url).services())).message).toContain('unexpected response (not a list of named objects)');
  });
});

describe('traefikEndpoint', () => {
  it('splits credentials from the root address', () => {
    expect(traefikEndpoint('http://traefik:8080')).toEqual({ root: 'http://traefik:8080', authorization: null });
    expect(traefikEndpoint('https://a:b@traefik.example/api')).toEqual({
      root: 'https://traefik.example',
      authorization: `Basic ${Buffer.from('a:b').toString('base64')}`,
    });
    expect(traefikEndpoint('http://[fd00::2]:8080/prefix/')).toEqual({ root: 'http://[fd00::2]:8080/prefix', authorization: null });
    expect(() => traefikEndpoint('ftp://traefik')).toThrow('must be an http:// or https:// URL');
  });
});
