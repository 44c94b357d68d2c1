// Helpers for tests on the real Redis image (berth-test/redis-server:7,
// scripts/redis-image.sh): a Compose service with its data on a named volume
// (append-only file on), keys written with redis-cli, and the keyspace's fingerprint.
import { docker, type DockerRun } from './engine.js';

export const REDIS_IMAGE = 'berth-test/redis-server:7';

/** A database-tier Compose service `name` on the real image, data (AOF) on the named volume `volume`. */
export function redisService(name: string, volume: string): string {
  return `  ${name}:
    image: ${REDIS_IMAGE}
    command: ["--appendonly", "yes", "--appendfsync", "always"]
    volumes:
      - ${volume}:/data
    x-berth:
      tier: database
`;
}

async function cli(container: string, args: string[], run: DockerRun): Promise<string> {
  const r = await run(['exec', container, 'redis-cli', '--no-raw', ...args]);
  if (r.code !== 0 || r.stdout.startsWith('(error)')) throw new Error(`redis-cli in ${container}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout.trim();
}

/** count|sha1 of every key=value in key order (a server-side script: one round trip); equal fingerprints mean the same data. */
export async function redisFingerprint(container: string, run: DockerRun = docker): Promise<string> {
  const script = "local ks = redis.call('keys', '*') table.sort(ks) local s = '' for _, k in ipairs(ks) do s = s .. k .. '=' .. redis.call('get', k) .. ',' end return #ks .. '|' .. redis.sha1hex(s)";
  return (await cli(container, ['eval', script, '0'], run)).replace(/^"|"$/g, '');
}

/** Add `n` keys after the ones there (k<i> = a hash of i and the container's name); returns the fingerprint after. */
export async function addKeys(container: string, n: number, run: DockerRun = docker): Promise<string> {
  const script = `local first = redis.call('dbsize') for i = first + 1, first + ${n} do redis.call('set', 'k' .. i, redis.sha1hex(i .. ':' .. ARGV[1])) end return first + ${n}`;
  await cli(container, ['eval', script, '0', container], run);
  return redisFingerprint(container, run);
}
