import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * A fake Traefik v3 for tests: a real HTTP server on 127.0.0.1 (port 0) that
 * answers what berth reads from Traefik, in Traefik's response shapes
 * (traefik/traefik pkg/api): `GET /api/http/services`, `/api/http/routers`
 * (both paginated with `page`/`per_page` and the `X-Next-Page` header, as
 * Traefik does), `/api/overview`, and `/metrics` in the Prometheus text
 * format (`traefik_service_requests_total`,
 * `traefik_service_request_duration_seconds_*`, `traefik_service_server_up`).
 * The test controls services, servers, their status and the traffic.
 *
 * Names without a provider get `@docker`, as the docker provider's would. As
 * in Traefik, a service reports `serverStatus` only when a router uses it
 * (`addService(name, { router: null })` makes one no router uses).
 *
 * Example (an engine e2e that lets the fake "see" the new container):
 *
 *   const traefik = await FakeTraefik.start();
 *   // berth.yaml: traefik: { api: traefik.url }
 *   traefik.addServer('web-shop', 'http://172.18.0.4:80');       // the old container, UP
 *   // …once berth created the new container:
 *   const ip = (await docker(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', id])).stdout.trim().split(' ')[0];
 *   traefik.addServer('web-shop', `http://${ip}:80`);             // UP in web-shop@docker
 *   traefik.addRequests('web-shop', 6, 200);
 *   traefik.addRequests('web-shop', 4, 503);                      // 0.4 > 0.25: the bake fails
 *   traefik.setServerStatus('web-shop', `http://${ip}:80`, 'DOWN'); // or: marked DOWN
 *   await traefik.close();
 */
export type ServerState = 'UP' | 'DOWN' | null;

interface FakeService {
  name: string;
  /** url → status; null = listed, no status reported yet. */
  servers: Map<string, ServerState>;
  router: string | null;
  status: 'enabled' | 'disabled' | 'warning';
}

/** Traefik's default Prometheus buckets (seconds). */
export const DEFAULT_BUCKETS = [0.1, 0.3, 1.2, 5];

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
}

export class FakeTraefik {
  readonly requests: RecordedRequest[] = [];
  private readonly services = new Map<string, FakeService>();
  /** `${service}\0${code}` → count and latencies (seconds). */
  private readonly traffic = new Map<string, { service: string; code: number; count: number; buckets: number[]; sum: number }>();
  private metricsOn = true;
  private apiFailure: number | null = null;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly auth: { user: string; password: string } | null,
  ) {}

  /** Start on a free port. With `basicAuth`, every request needs that Authorization header (else 401). */
  static async start(opts: { basicAuth?: { user: string; password: string } } = {}): Promise<FakeTraefik> {
    let fake: FakeTraefik | null = null;
    const server = createServer((req, res) => fake!.handle(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    fake = new FakeTraefik(server, `http://127.0.0.1:${port}`, opts.basicAuth ?? null);
    return fake;
  }

  static qualify(name: string): string {
    return name.includes('@') ? name : `${name}@docker`;
  }

  /** Add (or replace) a load-balancer service, by default used by a router of the same name. */
  addService(name: string, opts: { servers?: string[]; status?: ServerState; router?: string | null } = {}): void {
    const q = FakeTraefik.qualify(name);
    const base = q.split('@')[0]!;
    const router = opts.router === undefined ? base : opts.router;
    const servers = new Map<string, ServerState>((opts.servers ?? []).map((u) => [u, opts.status === undefined ? 'UP' : opts.status]));
    this.services.set(q, { name: q, servers, router: router === null ? null : FakeTraefik.qualify(router), status: 'enabled' });
  }

  removeService(name: string): void {
    this.services.delete(FakeTraefik.qualify(name));
  }

  /** Add a server to a service (creating the service with a router if needed). */
  addServer(service: string, url: string, status: ServerState = 'UP'): void {
    const q = FakeTraefik.qualify(service);
    if (!this.services.has(q)) this.addService(q);
    this.services.get(q)!.servers.set(url, status);
  }

  removeServer(service: string, url: string): void {
    this.services.get(FakeTraefik.qualify(service))?.servers.delete(url);
  }

  setServerStatus(service: string, url: string, status: ServerState): void {
    const s = this.services.get(FakeTraefik.qualify(service));
    if (!s || !s.servers.has(url)) throw new Error(`fake traefik: no server ${url} in ${service}`);
    s.servers.set(url, status);
  }

  setServiceStatus(service: string, status: FakeService['status']): void {
    const s = this.services.get(FakeTraefik.qualify(service));
    if (!s) throw new Error(`fake traefik: no service ${service}`);
    s.status = status;
  }

  /** Count `n` responses with status `code` that took `latencyMs` each. */
  addRequests(service: string, n: number, code: number, latencyMs = 10): void {
    const q = FakeTraefik.qualify(service);
    const k = `${q}\u0000${code}`;
    const t = this.traffic.get(k) ?? { service: q, code, count: 0, buckets: DEFAULT_BUCKETS.map(() => 0), sum: 0 };
    t.count += n;
    t.sum += (n * latencyMs) / 1000;
    DEFAULT_BUCKETS.forEach((le, i) => {
      if (latencyMs / 1000 <= le) t.buckets[i]! += n;
    });
    this.traffic.set(k, t);
  }

  /** Forget all counted traffic, as a restarted Traefik would. */
  resetCounters(): void {
    this.traffic.clear();
  }

  /** Off: /metrics answers 404, as when Traefik has no Prometheus metrics on that entrypoint. */
  setMetrics(enabled: boolean): void {
    this.metricsOn = enabled;
  }

  /** Make every request answer `status` (e.g. 503), or null to answer normally again. */
  setApiFailure(status: number | null): void {
    this.apiFailure = status;
  }

  close(): Promise<void> {
    return new Promise((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }

  // ------------------------------------------------------------ HTTP

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const u = new URL(req.url ?? '/', 'http://fake');
    this.requests.push({ method: req.method ?? 'GET', path: u.pathname + u.search, authorization: req.headers.authorization });
    if (this.auth) {
      const want = `Basic ${Buffer.from(`${this.auth.user}:${this.auth.password}`).toString('base64')}`;
      if (req.headers.authorization !== want) {
        res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Basic realm="traefik"' });
        res.end('401 Unauthorized\n');
        return;
      }
    }
    if (this.apiFailure !== null) {
      res.writeHead(this.apiFailure, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('unavailable\n');
      return;
    }
    switch (u.pathname) {
      case '/api/http/services':
        return this.page(res, u, this.serviceList());
      case '/api/http/routers':
        return this.page(res, u, this.routerList());
      case '/api/overview':
        return this.json(res, this.overview());
      case '/metrics':
        if (this.metricsOn) {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
          res.end(this.metricsText());
          return;
        }
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('404 page not found\n');
  }

  private json(res: ServerResponse, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(200, { 'content-type': 'application/json', ...headers });
    res.end(`${JSON.stringify(body)}\n`);
  }

  /** Traefik's pagination (pkg/api/criterion.go): X-Next-Page is the next page, or 1 on the last one. */
  private page(res: ServerResponse, u: URL, all: unknown[]): void {
    const perPage = Number(u.searchParams.get('per_page') ?? 100);
    const page = Number(u.searchParams.get('page') ?? 1);
    const start = (page - 1) * perPage;
    if (!(perPage > 0) || !(page > 0) || (start !== 0 && start >= all.length)) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `invalid request: page: ${page}, per_page: ${perPage}` }));
      return;
    }
    const next = page * perPage < all.length ? page + 1 : 1;
    this.json(res, all.slice(start, start + perPage), { 'X-Next-Page': String(next) });
  }

  private serviceList(): unknown[] {
    return [...this.services.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((s) => {
        const [, provider] = s.name.split('@');
        const status = Object.fromEntries([...s.servers].filter(([, st]) => st !== null));
        return {
          loadBalancer: { servers: [...s.servers.keys()].map((url) => ({ url })), passHostHeader: true },
          status: s.status,
          ...(s.router ? { usedBy: [s.router] } : {}),
          // Traefik reports server status once a router uses the service (its handler is built).
          ...(s.router && Object.keys(status).length > 0 ? { serverStatus: status } : {}),
          name: s.name,
          provider,
          type: 'loadbalancer',
        };
      });
  }

  private routerList(): unknown[] {
    return [...this.services.values()]
      .filter((s) => s.router)
      .map((s) => {
        const [base, provider] = s.router!.split('@');
        return {
          entryPoints: ['web'],
          // As configured: the docker provider's routers name their service unqualified.
          service: s.name.endsWith(`@${provider}`) ? s.name.split('@')[0] : s.name,
          rule: `Host(\`${base}.localhost\`)`,
          ruleSyntax: 'default',
          priority: 0,
          status: 'enabled',
          using: ['web'],
          name: s.router,
          provider,
        };
      })
      .sort((a, b) => a.name!.localeCompare(b.name!));
  }

  private overview(): unknown {
    const counts = (total: number) => ({ total, warnings: 0, errors: 0 });
    const zero = { routers: counts(0), services: counts(0), middlewares: counts(0) };
    return {
      http: { routers: counts(this.routerList().length), services: counts(this.services.size), middlewares: counts(0) },
      tcp: zero,
      udp: { routers: counts(0), services: counts(0) },
      features: { tracing: '', metrics: this.metricsOn ? 'Prometheus' : '', accessLog: false },
      providers: ['Docker'],
    };
  }

  private metricsText(): string {
    const lines: string[] = [];
    const labels = (service: string, code: number) => `code="${code}",method="GET",protocol="http",service="${service}"`;
    const rows = [...this.traffic.values()];
    lines.push('# HELP traefik_service_requests_total How many HTTP requests processed on a service, partitioned by status code, protocol, and method.');
    lines.push('# TYPE traefik_service_requests_total counter');
    for (const t of rows) lines.push(`traefik_service_requests_total{${labels(t.service, t.code)}} ${t.count}`);
    lines.push('# HELP traefik_service_request_duration_seconds How long it took to process the request on a service, partitioned by status code, protocol, and method.');
    lines.push('# TYPE traefik_service_request_duration_seconds histogram');
    for (const t of rows) {
      DEFAULT_BUCKETS.forEach((le, i) => lines.push(`traefik_service_request_duration_seconds_bucket{${labels(t.service, t.code)},le="${le}"} ${t.buckets[i]}`));
      lines.push(`traefik_service_request_duration_seconds_bucket{${labels(t.service, t.code)},le="+Inf"} ${t.count}`);
      lines.push(`traefik_service_request_duration_seconds_sum{${labels(t.service, t.code)}} ${t.sum}`);
      lines.push(`traefik_service_request_duration_seconds_count{${labels(t.service, t.code)}} ${t.count}`);
    }
    lines.push('# HELP traefik_service_server_up service server is up, described by gauge value of 0 or 1.');
    lines.push('# TYPE traefik_service_server_up gauge');
    for (const s of this.services.values()) {
      for (const [url, st] of s.servers) if (st !== null) lines.push(`traefik_service_server_up{service="${s.name}",url="${url}"} ${st === 'UP' ? 1 : 0}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
