import { request } from 'node:http';

/**
 * GET on the Engine API over its unix socket, for the listings tests take
 * again and again: a `docker` CLI process per listing costs about a second
 * of wall time on a loaded two-core machine, one HTTP request a few ms.
 * Only DOCKER_HOST=unix://… (or none) is supported: that is what the tests use.
 */
export function engineGet<T>(path: string, env: NodeJS.ProcessEnv = process.env): Promise<T> {
  const host = env.DOCKER_HOST ?? '';
  if (host !== '' && !host.startsWith('unix://')) return Promise.reject(new Error(`engineGet: only unix sockets, not DOCKER_HOST=${host}`));
  const socketPath = host === '' ? '/var/run/docker.sock' : host.slice('unix://'.length);
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 0) >= 300) reject(new Error(`engine GET ${path}: ${res.statusCode} ${body.trim()}`));
        else resolve(JSON.parse(body) as T);
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`engine GET ${path}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

interface ApiContainer {
  Id: string;
  Names: string[];
  Image: string;
  State: string;
  Labels: Record<string, string> | null;
}
interface ApiNetwork {
  Id: string;
  Name: string;
  Driver: string;
  Labels: Record<string, string> | null;
}
interface ApiVolume {
  Name: string;
  Driver: string;
  Labels: Record<string, string> | null;
}

const labelText = (l: Record<string, string> | null) =>
  Object.entries(l ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join(',');

/** One line per object, as `docker ps -a --no-trunc` / `network ls` / `volume ls` would print them with labels sorted. */
export async function engineObjects(env: NodeJS.ProcessEnv = process.env): Promise<{ containers: string[]; networks: string[]; volumes: string[] }> {
  const [cs, ns, vs] = await Promise.all([
    engineGet<ApiContainer[]>('/containers/json?all=1', env),
    engineGet<ApiNetwork[]>('/networks', env),
    engineGet<{ Volumes: ApiVolume[] | null }>('/volumes', env),
  ]);
  return {
    containers: cs.map((c) => `${(c.Names[0] ?? '').replace(/^\//, '')} ${c.Id} ${c.Image} ${c.State}|${labelText(c.Labels)}`),
    networks: ns.map((n) => `${n.Name} ${n.Id} ${n.Driver}|${labelText(n.Labels)}`),
    volumes: (vs.Volumes ?? []).map((v) => `${v.Name} ${v.Driver}|${labelText(v.Labels)}`),
  };
}

/**
 * `docker rm -f` of all `names` at once through the API: a burst as fast as the
 * engine can make it. The CLI removes one after another, which on a loaded
 * machine spreads "at once" over tens of seconds.
 */
export async function removeContainersAtOnce(names: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const host = env.DOCKER_HOST ?? '';
  const socketPath = host.startsWith('unix://') ? host.slice('unix://'.length) : '/var/run/docker.sock';
  await Promise.all(
    names.map(
      (name) =>
        new Promise<void>((resolve, reject) => {
          const req = request({ socketPath, path: `/containers/${encodeURIComponent(name)}?force=1`, method: 'DELETE', timeout: 60_000 }, (res) => {
            res.resume();
            res.on('end', () => ((res.statusCode ?? 0) < 300 || res.statusCode === 404 ? resolve() : reject(new Error(`engine DELETE ${name}: ${res.statusCode}`))));
          });
          req.on('timeout', () => req.destroy(new Error(`engine DELETE ${name}: timed out`)));
          req.on('error', reject);
          req.end();
        }),
    ),
  );
}
