import type { Clock } from '../ports/clock.js';
import type { TraefikMetrics, TraefikPort, TraefikService } from '../ports/traefik.js';
import { evaluateCircuitBreaker, parseCircuitBreaker, type CbExpr, type TrafficWindow } from './circuit-breaker.js';
import { GateError } from './gates.js';

/**
 * The Traefik bake gate of a start-first rollout: after the new container is
 * healthy in Docker, it must also be seen by Traefik, stay UP there, and keep
 * the service's traffic under the circuit-breaker expression for
 * `bakeSeconds`, or the rollout is rolled back.
 *
 * Fail closed: a rollout that cannot be verified is not promoted. When
 * Traefik's API cannot be read, the gate fails (`traefik-unreachable`) rather
 * than waving the container through; the old container keeps serving, which
 * is the state that was known to work. Single failed reads in the middle of a
 * bake are tolerated (the next poll decides), but the bake only passes on a
 * successful read at its end.
 */
export interface TraefikBakeInput {
  traefik: TraefikPort;
  clock: Clock;
  signal?: AbortSignal;
  /** Compose project (berth stack) and service of the new container. */
  stack: string;
  service: string;
  /**
   * The name Traefik's provider gives the default service, before normalizing:
   * `<service>_<stack>` for a Compose container (the default), the service's
   * own name (`<stack>_<service>`) for a swarm service.
   */
  defaultServiceName?: string;
  /** The new container's labels (traefik.* included); a swarm service's deploy.labels. */
  labels: Record<string, string>;
  /** IPs of the NEW container on its networks. */
  serverHosts: string[];
  bakeSeconds: number;
  circuitBreaker: string | null;
  /** Default 1000. */
  pollMs?: number;
  progress?(message: string): void;
}

export interface TraefikBakeReport {
  /** false: the container is not routed through Traefik, nothing was checked. */
  checked: boolean;
  /** The Traefik services (qualified, `web-mystack@docker`) that carry the new container. */
  services: string[];
  /** Why nothing was checked. */
  reason?: string;
  /** What the last check measured (server status, circuit-breaker values). */
  detail?: string;
}

/** Reads of the final check before giving up on an unreachable API. */
const FINAL_READ_ATTEMPTS = 3;

type Routing = { kind: 'skip'; reason: string } | { kind: 'route'; expected: string[]; labelled: boolean };

/**
 * Which Traefik services the docker provider puts this container into. Traefik
 * puts a container's server into the services its labels declare
 * (`traefik.http.services.<name>.…`); with none declared, into one default
 * service named after the Compose service and project (`<service>-<project>`,
 * normalized: runs of characters other than letters and digits become one
 * `-`; a swarm service: its own name, `defaultName`). Routers only reference services (`traefik.http.routers.<r>.service`),
 * they do not add this container to them, so they are not used here.
 */
export function traefikRouting(labels: Record<string, string>, stack: string, service: string, defaultName = `${service}_${stack}`): Routing {
  const keys = Object.keys(labels).filter((k) => /^traefik\./i.test(k));
  const enable = Object.entries(labels).find(([k]) => k.toLowerCase() === 'traefik.enable')?.[1];
  if (enable !== undefined && enable.trim().toLowerCase() === 'false') return { kind: 'skip', reason: 'traefik.enable=false' };
  const protocolKeys = keys.filter((k) => /^traefik\.(http|tcp|udp)\./i.test(k));
  if (protocolKeys.length > 0 && protocolKeys.every((k) => /^traefik\.(tcp|udp)\./i.test(k))) {
    return { kind: 'skip', reason: 'routed by Traefik over TCP/UDP only; the gate checks HTTP services' };
  }
  const declared = new Set<string>();
  for (const k of keys) {
    const m = /^traefik\.http\.services\.([^.]+)\./i.exec(k);
    if (m) declared.add(m[1]!);
  }
  const names = declared.size > 0 ? [...declared] : [normalizeTraefikName(defaultName)];
  return { kind: 'route', expected: names.map((n) => `${n}@docker`).sort(), labelled: keys.length > 0 };
}

/** Traefik's provider.Normalize: every run of non-alphanumerics becomes one '-', none at the ends. */
export function normalizeTraefikName(name: string): string {
  return name
    .split(/[^\p{L}\p{N}]+/u)
    .filter((s) => s !== '')
    .join('-');
}

/** Host part of a server URL, without IPv6 brackets; null when it is not a URL. */
function hostOf(url: string): string | null {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return null;
  }
}

/** Server URLs of a service (listed or with a status), in a stable order. */
function serverUrls(s: TraefikService): string[] {
  const urls = new Set<string>();
  for (const srv of s.loadBalancer?.servers ?? []) if (typeof srv.url === 'string') urls.add(srv.url);
  for (const u of Object.keys(s.serverStatus ?? {})) urls.add(u);
  return [...urls].sort();
}

/** Service name → the new container's server URLs in it, for every service that lists one. */
function carrying(list: TraefikService[], hosts: Set<string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const s of list) {
    const mine = serverUrls(s).filter((u) => {
      const h = hostOf(u);
      return h !== null && hosts.has(h);
    });
    if (mine.length > 0) out.set(s.name, mine);
  }
  return out;
}

/**
 * Requests of `service` between two metric snapshots. A counter lower than in
 * the baseline means Traefik restarted: its whole value is new, as in
 * Prometheus' increase().
 */
export function trafficWindow(base: TraefikMetrics | null, cur: TraefikMetrics, service: string): TrafficWindow {
  const increase = (now: number, then: number | undefined) => (then === undefined || now < then ? now : now - then);
  const responses: Record<number, number> = {};
  for (const r of cur.requests) {
    if (r.service !== service) continue;
    const then = base?.requests.find((b) => b.service === service && b.code === r.code)?.count;
    const d = increase(r.count, then);
    if (d > 0) responses[r.code] = (responses[r.code] ?? 0) + d;
  }
  const latency = cur.durationBuckets
    .filter((b) => b.service === service)
    .map((b) => ({
      leSeconds: b.le,
      count: increase(b.count, base?.durationBuckets.find((x) => x.service === service && x.le === b.le)?.count),
    }))
    .sort((a, b) => a.leSeconds - b.leSeconds);
  return { responses, latency };
}

export async function bakeInTraefik(input: TraefikBakeInput): Promise<TraefikBakeReport> {
  const { traefik, clock, signal } = input;
  const pollMs = input.pollMs ?? 1000;
  const bakeMs = Math.max(0, input.bakeSeconds) * 1000;
  const say = (m: string) => input.progress?.(`traefik: ${m}`);
  const checkAbort = () => {
    if (signal?.aborted) throw new GateError('stopped during the Traefik bake', 'aborted');
  };

  const routing = traefikRouting(input.labels, input.stack, input.service, input.defaultServiceName);
  if (routing.kind === 'skip') return { checked: false, services: [], reason: routing.reason };

  let breaker: CbExpr | null = null;
  if (input.circuitBreaker !== null) {
    const p = parseCircuitBreaker(input.circuitBreaker);
    // berth.yaml is validated on load; this only guards callers that skip it.
    if (!p.ok) throw new GateError(`traefik.circuitBreaker: ${p.message} at column ${p.column}`, 'circuit-breaker');
    breaker = p.expr;
  }
  const hosts = new Set(input.serverHosts.map((h) => h.replace(/^\[|\]$/g, '')));
  const hostList = [...hosts].join(', ') || '(no address)';

  // Phase 1: wait, within the bake time, for Traefik to list the new container.
  const regDeadline = clock.now() + bakeMs;
  let lastError: string | null = null;
  let everRead = false;
  let servers = new Map<string, string[]>();
  let waitingSaid = false;
  for (;;) {
    checkAbort();
    let list: TraefikService[] | null = null;
    try {
      list = await traefik.services();
      everRead = true;
    } catch (e) {
      lastError = (e as Error).message;
    }
    checkAbort();
    if (list) {
      const present = new Set(list.map((s) => s.name));
      const found = carrying(list, hosts);
      const expectedPresent = routing.expected.filter((n) => present.has(n));
      if (expectedPresent.length === 0 && found.size === 0 && !routing.labelled) {
        return {
          checked: false,
          services: [],
          reason: `no traefik.* labels and Traefik has no service ${routing.expected.join(', ')}: not routed through Traefik`,
        };
      }
      // Every expected service Traefik already knows must list the new container
      // (an old container's service without it is not good enough), and each new
      // server needs a status: Traefik only reports one once a router uses it.
      const waitingFor = expectedPresent.filter((n) => !found.has(n));
      const noStatus = [...found].flatMap(([svc, urls]) => {
        const st = list.find((s) => s.name === svc)?.serverStatus ?? {};
        return urls.filter((u) => st[u] === undefined).map((u) => `${u} in ${svc}`);
      });
      if (found.size > 0 && waitingFor.length === 0 && noStatus.length === 0) {
        servers = found;
        break;
      }
      if (clock.now() >= regDeadline) {
        const why =
          found.size === 0
            ? `Traefik lists no server on ${hostList}: ${routing.expected.map((n) => whatTraefikHas(list, n)).join('; ')}`
            : waitingFor.length > 0
              ? `${waitingFor.join(', ')} does not list ${hostList}`
              : `Traefik lists ${noStatus.join(', ')} but reports no status for it (does a router use the service?)`;
        throw new GateError(`new container not registered in Traefik within ${input.bakeSeconds}s: ${why}`, 'traefik-not-registered');
      }
      if (!waitingSaid) {
        say(`waiting for ${routing.expected.join(', ')} to list ${hostList}`);
        waitingSaid = true;
      }
    } else if (clock.now() >= regDeadline) {
      throw new GateError(
        everRead
          ? `Traefik API unreachable while waiting for the new container to register: ${lastError}`
          : `Traefik API unreachable for the whole bake (${input.bakeSeconds}s): ${lastError}`,
        'traefik-unreachable',
      );
    }
    await clock.sleep(Math.max(0, Math.min(pollMs, regDeadline - clock.now())), signal);
  }
  const serviceNames = [...servers.keys()].sort();
  say(`${describeServers(servers)} registered; baking ${input.bakeSeconds}s`);

  // Phase 2: the bake. Metrics are compared with a baseline taken now, so only
  // requests made during the bake count. Traefik's request counters are per
  // service, not per server: while old and new containers both serve, the
  // ratio covers both, which is what Traefik's own breaker sees too.
  let metricsOff = false;
  let baseline: TraefikMetrics | null = null;
  let metricsNoted = false;
  const readMetrics = async (): Promise<TraefikMetrics | null | 'failed'> => {
    try {
      return await traefik.metrics();
    } catch (e) {
      if (!metricsNoted) say(`metrics unreadable (${(e as Error).message}); retrying at the next poll`);
      metricsNoted = true;
      return 'failed';
    }
  };
  if (breaker) {
    const m = await readMetrics();
    if (m === null) {
      metricsOff = true;
      say('Traefik serves no /metrics (404): circuit-breaker check skipped, checking server status only');
    } else if (m !== 'failed') baseline = m;
  } else {
    say('no circuit-breaker expression: checking server status only');
  }

  let detail = '';
  /** One check; false when Traefik's API could not be read. */
  const checkOnce = async (): Promise<boolean> => {
    let list: TraefikService[];
    try {
      list = await traefik.services();
    } catch (e) {
      lastError = (e as Error).message;
      return false;
    }
    checkAbort();
    for (const [svc, urls] of servers) {
      const s = list.find((x) => x.name === svc);
      if (!s) throw new GateError(`Traefik no longer lists service ${svc}`, 'traefik-server-down');
      if (s.status === 'disabled') throw new GateError(`Traefik reports service ${svc} disabled`, 'traefik-server-down');
      for (const u of urls) {
        const st = s.serverStatus?.[u];
        if (st !== 'UP') throw new GateError(`Traefik reports the new server ${u} ${st ?? 'without a status'} in ${svc}`, 'traefik-server-down');
      }
    }
    const parts = [`${describeServers(servers)} UP`];
    if (breaker && !metricsOff) {
      const m = await readMetrics();
      checkAbort();
      if (m === null) {
        metricsOff = true;
        say('Traefik stopped serving /metrics (404): circuit-breaker check skipped from now on');
      } else if (m !== 'failed') {
        if (!baseline) baseline = m;
        for (const svc of serviceNames) {
          const r = evaluateCircuitBreaker(breaker, trafficWindow(baseline, m, svc));
          if (r.tripped) throw new GateError(`circuit breaker tripped for ${svc}: ${r.detail}`, 'circuit-breaker');
          parts.push(serviceNames.length > 1 ? `${svc}: ${r.detail}` : r.detail);
        }
      }
    }
    detail = parts.join('; ');
    return true;
  };

  const bakeEnd = clock.now() + bakeMs;
  let lastOk = await checkOnce();
  while (clock.now() < bakeEnd) {
    await clock.sleep(Math.max(0, Math.min(pollMs, bakeEnd - clock.now())), signal);
    checkAbort();
    lastOk = await checkOnce();
  }
  // No promotion without a successful read at the end of the bake.
  for (let attempt = 1; !lastOk && attempt < FINAL_READ_ATTEMPTS; attempt++) {
    await clock.sleep(pollMs, signal);
    checkAbort();
    lastOk = await checkOnce();
  }
  if (!lastOk) throw new GateError(`Traefik API unreachable at the end of the bake: ${lastError}`, 'traefik-unreachable');
  say(`baked ${input.bakeSeconds}s: ${detail}`);
  return { checked: true, services: serviceNames, detail };
}

/** For an error: what Traefik lists for `name` instead (a wrong network picked by traefik.docker.network shows here). */
function whatTraefikHas(list: TraefikService[], name: string): string {
  const s = list.find((x) => x.name === name);
  if (!s) return `it has no service ${name}`;
  const urls = serverUrls(s);
  return `${name} has ${urls.length > 0 ? urls.join(', ') : 'no servers'}`;
}

function describeServers(servers: Map<string, string[]>): string {
  return [...servers].map(([svc, urls]) => `${urls.join(', ')} in ${svc}`).join('; ');
}
