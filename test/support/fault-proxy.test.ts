import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, requireEngine, uniqueName } from './engine.js';
import { FaultProxy } from './fault-proxy.js';

/**
 * The fault proxy itself, with the docker CLI as the client it kills: a kill
 * before the call means the engine never saw it, a kill after means it did.
 */
let engine = false;
let proxy: FaultProxy | null = null;
const networks: string[] = [];

beforeAll(async () => {
  engine = await requireEngine();
  if (engine) proxy = await FaultProxy.start(process.env.DOCKER_HOST?.startsWith('unix://') ? process.env.DOCKER_HOST.slice(7) : '/var/run/docker.sock');
});

afterAll(async () => {
  await proxy?.close();
  for (const n of networks) await docker(['network', 'rm', n]);
});

/** `docker network create <name>` through the proxy, killed at its first mutating call. */
async function createKilled(when: 'before' | 'after'): Promise<{ name: string; signal: NodeJS.Signals | null; exists: boolean }> {
  const name = uniqueName('bt-fault');
  networks.push(name);
  let child: ReturnType<typeof spawn> | null = null;
  proxy!.reset({ at: 1, when, kill: () => child?.kill('SIGKILL') });
  child = spawn('docker', ['network', 'create', name], { env: { ...process.env, DOCKER_HOST: proxy!.dockerHost }, stdio: 'ignore' });
  const signal = await new Promise<NodeJS.Signals | null>((r) => child!.once('exit', (_code, sig) => r(sig)));
  // Give a request that did reach the engine the time to finish there.
  await new Promise((r) => setTimeout(r, 300));
  const exists = (await docker(['network', 'inspect', name])).code === 0;
  return { name, signal, exists };
}

describe('FaultProxy', () => {
  it('counts and names mutating calls and passes reads through', async (ctx) => {
    if (!engine) ctx.skip();
    const name = uniqueName('bt-fault');
    networks.push(name);
    proxy!.reset();
    const env = { DOCKER_HOST: proxy!.dockerHost };
    expect((await docker(['network', 'create', name], { env })).code).toBe(0);
    expect((await docker(['network', 'inspect', name], { env })).code).toBe(0);
    expect((await docker(['network', 'rm', name], { env })).code).toBe(0);
    expect(proxy!.mutating.map((c) => c.what)).toEqual([`create network ${name}`, `remove network ${name}`]);
  });

  it('kills before the call: the engine never sees it', async (ctx) => {
    if (!engine) ctx.skip();
    const r = await createKilled('before');
    expect(proxy!.tripped?.what).toBe(`create network ${r.name}`);
    expect(r.signal).toBe('SIGKILL');
    expect(r.exists).toBe(false);
  });

  it('kills after the engine answered: the call took effect', async (ctx) => {
    if (!engine) ctx.skip();
    const r = await createKilled('after');
    expect(proxy!.tripped?.what).toBe(`create network ${r.name}`);
    expect(r.signal).toBe('SIGKILL');
    expect(r.exists).toBe(true);
  });

  it('keeps upgraded connections working (docker exec attaches through a hijacked stream)', async (ctx) => {
    if (!engine) ctx.skip();
    const name = uniqueName('bt-fault-c');
    proxy!.reset();
    const env = { DOCKER_HOST: proxy!.dockerHost };
    try {
      expect((await docker(['run', '-d', '--name', name, 'berth-test/busybox:1', 'sleep', '60'], { env })).code).toBe(0);
      const r = await docker(['exec', name, 'echo', 'through-the-proxy'], { env });
      expect(r.stdout.trim()).toBe('through-the-proxy');
      expect(proxy!.mutating.map((c) => c.what)).toEqual(expect.arrayContaining([`create container ${name}`, `start ${name}`, `exec ${name}`, 'exec start']));
    } finally {
      await docker(['rm', '-f', name]);
    }
  });
});
