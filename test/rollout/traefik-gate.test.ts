import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTraefikClient } from '../../src/adapters/traefik-http.js';
import { GateError } from '../../src/rollout/gates.js';
import {
  bakeInTraefik,
  normalizeTraefikName,
  traefikRouting,
  trafficWindow,
  type TraefikBakeInput,
} from '../../src/rollout/traefik-gate.js';
import { FakeTraefik } from '../fakes/traefik.js';
import { FakeClock } from '../notify/fake-clock.js';

// Stack "shop", service "web": Traefik's docker provider names its default service web-shop@docker.
const OLD = 'http://172.18.0.4:80';
const NEW_IP = '172.18.0.5';
const NEW = `http://${NEW_IP}:80`;
const SVC = 'web-shop@docker';
const RATIO = 'ResponseCodeRatio(500, 600, 0, 600) > 0.25';
const LABELS = { 'traefik.enable': 'true', 'traefik.http.routers.web.rule': 'Host(`shop.example`)' };

/** A fake clock whose sleeps return at once (time moves by their length); `onTick` runs after each. */
function tickingClock(onTick: (now: number) => void = () => undefined): FakeClock {
  const clock = new FakeClock(true);
  const sleep = clock.sleep.bind(clock);
  clock.sleep = async (ms, signal) => {
    await sleep(ms, signal);
    onTick(clock.now());
  };
  return clock;
}

let traefik: FakeTraefik;
let progress: string[];

beforeEach(async () => {
  traefik = await FakeTraefik.start();
  progress = [];
});
afterEach(async () => {
  await traefik.close();
});

function input(over: Partial<TraefikBakeInput> = {}): TraefikBakeInput {
  return {
    // Real-time HTTP timeout under a fake bake clock: generous, or one slow answer of the fake
    // Traefik on a loaded machine counts as a failed read and adds a poll (seen in CI).
    traefik: createTraefikClient(traefik.url, { timeoutMs: 30_000 }),
    clock: tickingClock(),
    stack: 'shop',
    service: 'web',
    labels: LABELS,
    serverHosts: [NEW_IP],
    bakeSeconds: 3,
    circuitBreaker: RATIO,
    pollMs: 1000,
    progress: (m) => progress.push(m),
    ...over,
  };
}

async function gateFailure(p: Promise<unknown>): Promise<GateError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(GateError);
  return e as GateError;
}

/** Old and new container both UP in web-shop@docker. */
function bothServing(): void {
  traefik.addServer(SVC, OLD);
  traefik.addServer(SVC, NEW);
}

describe('bakeInTraefik', () => {
  it('passes when the new server stays UP and the traffic is healthy, watching the whole bake', async () => {
    bothServing();
    const clock = tickingClock(() => traefik.addRequests(SVC, 10, 200));
    const report = await bakeInTraefik(input({ clock }));
    expect(report).toEqual({
      checked: true,
      services: [SVC],
      detail: `${NEW} in ${SVC} UP; ResponseCodeRatio(500,600,0,600) = 0.00, not > 0.25 (0 of 30 responses)`,
    });
    expect(clock.now()).toBe(3000);
    const serviceReads = traefik.requests.filter((r) => r.path.startsWith('/api/http/services')).length;
    expect(serviceReads).toBe(5); // registration, bake start, 1 s, 2 s, 3 s
    expect(progress.at(-1)).toMatch(/^traefik: baked 3s: /);
  });

  it('fails with traefik-server-down when Traefik marks the new server DOWN mid-bake', async () => {
    bothServing();
    const clock = tickingClock((t) => {
      if (t === 2000) traefik.setServerStatus(SVC, NEW, 'DOWN');
    });
    const e = await gateFailure(bakeInTraefik(input({ clock })));
    expect(e.gate).toBe('traefik-server-down');
    expect(e.message).toBe(`Traefik reports the new server ${NEW} DOWN in ${SVC}`);
    expect(clock.now()).toBe(2000);
  });

  it('ignores the old server going DOWN: only the new container is judged', async () => {
    bothServing();
    const clock = tickingClock(() => traefik.setServerStatus(SVC, OLD, 'DOWN'));
    expect((await bakeInTraefik(input({ clock }))).checked).toBe(true);
  });

  it('fails with circuit-breaker when the 5xx ratio during the bake goes over the expression', async () => {
    bothServing();
    const clock = tickingClock((t) => {
      if (t === 1000) {
        traefik.addRequests(SVC, 6, 200);
        traefik.addRequests(SVC, 4, 502);
      }
    });
    const e = await gateFailure(bakeInTraefik(input({ clock })));
    expect(e.gate).toBe('circuit-breaker');
    expect(e.message).toBe(`circuit breaker tripped for ${SVC}: ResponseCodeRatio(500,600,0,600) = 0.40 > 0.25 (4 of 10 responses)`);
    expect(clock.now()).toBe(1000);
  });

  it('passes with 1 error in 10 responses', async () => {
    bothServing();
    const clock = tickingClock((t) => {
      if (t === 1000) {
        traefik.addRequests(SVC, 9, 200);
        traefik.addRequests(SVC, 1, 500);
      }
    });
    const report = await bakeInTraefik(input({ clock }));
    expect(report.detail).toContain('ResponseCodeRatio(500,600,0,600) = 0.10, not > 0.25 (1 of 10 responses)');
  });

  it('counts only requests made during the bake, not the errors that came before it', async () => {
    bothServing();
    traefik.addRequests(SVC, 50, 500); // the old version's bad hour
    const clock = tickingClock(() => traefik.addRequests(SVC, 10, 200));
    const report = await bakeInTraefik(input({ clock }));
    expect(report.detail).toContain('(0 of 30 responses)');
  });

  it('evaluates latency and network errors from the metrics as well', async () => {
    bothServing();
    const clock = tickingClock((t) => {
      if (t === 2000) traefik.addRequests(SVC, 10, 200, 2000);
    });
    const e = await gateFailure(bakeInTraefik(input({ clock, circuitBreaker: 'NetworkErrorRatio() > 0.5 || LatencyAtQuantileMS(50.0) > 1000' })));
    expect(e.gate).toBe('circuit-breaker');
    expect(e.message).toMatch(/LatencyAtQuantileMS\(50\) = \d+ms > 1000 \(10 requests\)$/);
  });

  it('waits within the bake time for Traefik to register the new server', async () => {
    traefik.addServer(SVC, OLD);
    const clock = tickingClock((t) => {
      if (t === 2000) traefik.addServer(SVC, NEW);
    });
    const report = await bakeInTraefik(input({ clock }));
    expect(report.checked).toBe(true);
    expect(clock.now()).toBe(2000 + 3000);
    expect(progress[0]).toBe(`traefik: waiting for ${SVC} to list ${NEW_IP}`);
  });

  it('fails with traefik-not-registered when the new server never shows up', async () => {
    traefik.addServer(SVC, OLD);
    const clock = tickingClock();
    const e = await gateFailure(bakeInTraefik(input({ clock })));
    expect(e.gate).toBe('traefik-not-registered');
    expect(e.message).toBe(`new container not registered in Traefik within 3s: Traefik lists no server on ${NEW_IP}: ${SVC} has ${OLD}`);
    expect(clock.now()).toBe(3000);
  });

  it('fails with traefik-not-registered when a labelled container has no service in Traefik at all', async () => {
    const e = await gateFailure(bakeInTraefik(input()));
    expect(e.gate).toBe('traefik-not-registered');
    expect(e.message).toContain(`Traefik lists no server on ${NEW_IP}: it has no service ${SVC}`);
  });

  it('says so when the server is listed but Traefik reports no status (no router uses the service)', async () => {
    traefik.addService(SVC, { servers: [NEW], router: null });
    const e = await gateFailure(bakeInTraefik(input()));
    expect(e.gate).toBe('traefik-not-registered');
    expect(e.message).toContain('reports no status for it (does a router use the service?)');
  });

  it('does not check a container Traefik does not route (no labels, no service)', async () => {
    traefik.addServer('other-shop', 'http://172.18.0.9:80');
    const report = await bakeInTraefik(input({ labels: {} }));
    expect(report).toEqual({
      checked: false,
      services: [],
      reason: `no traefik.* labels and Traefik has no service ${SVC}: not routed through Traefik`,
    });
  });

  it('checks a container without labels that Traefik exposes by default under <service>-<stack>', async () => {
    bothServing();
    const report = await bakeInTraefik(input({ labels: {} }));
    expect(report).toMatchObject({ checked: true, services: [SVC] });
  });

  it('does not check a container with traefik.enable=false', async () => {
    bothServing();
    const report = await bakeInTraefik(input({ labels: { 'traefik.enable': 'false' } }));
    expect(report).toEqual({ checked: false, services: [], reason: 'traefik.enable=false' });
    expect(traefik.requests).toEqual([]);
  });

  it('uses the service names the labels declare', async () => {
    traefik.addServer('shopfront', OLD);
    traefik.addServer('shopfront', NEW);
    const labels = { 'traefik.enable': 'true', 'traefik.http.services.shopfront.loadbalancer.server.port': '80' };
    expect(await bakeInTraefik(input({ labels }))).toMatchObject({ checked: true, services: ['shopfront@docker'] });
  });

  it('checks only the server status when Traefik serves no metrics (404)', async () => {
    bothServing();
    traefik.setMetrics(false);
    const bad = tickingClock(() => traefik.addRequests(SVC, 10, 500));
    const report = await bakeInTraefik(input({ clock: bad }));
    expect(report).toEqual({ checked: true, services: [SVC], detail: `${NEW} in ${SVC} UP` });
    expect(progress).toContain('traefik: Traefik serves no /metrics (404): circuit-breaker check skipped, checking server status only');

    const down = tickingClock((t) => {
      if (t === 1000) traefik.setServerStatus(SVC, NEW, 'DOWN');
    });
    expect((await gateFailure(bakeInTraefik(input({ clock: down })))).gate).toBe('traefik-server-down');
  });

  it('fails with traefik-unreachable when the API cannot be reached for the whole bake', async () => {
    const port = await closedPort();
    const e = await gateFailure(bakeInTraefik(input({ traefik: createTraefikClient(`http://127.0.0.1:${port}`) })));
    expect(e.gate).toBe('traefik-unreachable');
    expect(e.message).toBe(`Traefik API unreachable for the whole bake (3s): Traefik http://127.0.0.1:${port}/api/http/services?page=1&per_page=100: request failed (ECONNREFUSED)`);
  });

  it('tolerates a failed read mid-bake, but not at its end', async () => {
    bothServing();
    const blip = tickingClock((t) => traefik.setApiFailure(t === 1000 ? 503 : null));
    expect((await bakeInTraefik(input({ clock: blip }))).checked).toBe(true);

    const gone = tickingClock((t) => traefik.setApiFailure(t >= 2000 ? 503 : null));
    const e = await gateFailure(bakeInTraefik(input({ clock: gone })));
    expect(e.gate).toBe('traefik-unreachable');
    expect(e.message).toContain('unreachable at the end of the bake');
    expect(e.message).toContain('HTTP 503');
  });

  it('stops with aborted when the signal fires', async () => {
    traefik.addServer(SVC, OLD);
    const ctl = new AbortController();
    const clock = tickingClock((t) => {
      if (t === 1000) ctl.abort();
    });
    const e = await gateFailure(bakeInTraefik(input({ clock, signal: ctl.signal })));
    expect(e.gate).toBe('aborted');
  });

  it('rejects an invalid expression before talking to Traefik', async () => {
    const e = await gateFailure(bakeInTraefik(input({ circuitBreaker: 'ResponseCodeRatio(500) > 1' })));
    expect(e.gate).toBe('circuit-breaker');
    expect(e.message).toContain('takes 4 arguments');
    expect(traefik.requests).toEqual([]);
  });

  it('checks status only when no expression is configured', async () => {
    bothServing();
    const clock = tickingClock(() => traefik.addRequests(SVC, 10, 500));
    expect(await bakeInTraefik(input({ clock, circuitBreaker: null }))).toEqual({ checked: true, services: [SVC], detail: `${NEW} in ${SVC} UP` });
    expect(traefik.requests.some((r) => r.path === '/metrics')).toBe(false);
  });
});

describe('traefikRouting', () => {
  it('names the default service like the docker provider', () => {
    expect(traefikRouting({}, 'my_stack', 'web.app')).toEqual({ kind: 'route', expected: ['web-app-my-stack@docker'], labelled: false });
    expect(normalizeTraefikName('web_shop')).toBe('web-shop');
    expect(normalizeTraefikName('--a__b--')).toBe('a-b');
  });

  it('prefers declared services, skips TCP/UDP-only containers', () => {
    const labels = {
      'traefik.http.services.b.loadbalancer.server.port': '80',
      'traefik.http.services.a.loadbalancer.server.port': '81',
      'traefik.http.routers.r.service': 'elsewhere',
    };
    expect(traefikRouting(labels, 's', 'w')).toEqual({ kind: 'route', expected: ['a@docker', 'b@docker'], labelled: true });
    expect(traefikRouting({ 'traefik.tcp.routers.pg.rule': 'HostSNI(`*`)' }, 's', 'w')).toMatchObject({ kind: 'skip' });
    expect(traefikRouting({ 'TRAEFIK.ENABLE': 'False' }, 's', 'w')).toEqual({ kind: 'skip', reason: 'traefik.enable=false' });
  });
});

describe('trafficWindow', () => {
  const snap = (c200: number, c500: number) => ({
    requests: [
      { service: SVC, code: 200, count: c200 },
      { service: SVC, code: 500, count: c500 },
      { service: 'other@docker', code: 500, count: 99 },
    ],
    durationBuckets: [
      { service: SVC, le: 0.1, count: c200 },
      { service: SVC, le: Infinity, count: c200 + c500 },
    ],
    serverUp: [],
  });

  it('is the increase since the baseline, for one service', () => {
    expect(trafficWindow(snap(10, 5), snap(16, 9), SVC)).toEqual({
      responses: { 200: 6, 500: 4 },
      latency: [
        { leSeconds: 0.1, count: 6 },
        { leSeconds: Infinity, count: 10 },
      ],
    });
  });

  it('treats a counter lower than its baseline as a restart: its whole value is new', () => {
    expect(trafficWindow(snap(100, 50), snap(3, 1), SVC).responses).toEqual({ 200: 3, 500: 1 });
  });
});

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
