import { engineObjects } from './engine-api.js';
import { docker } from './engine.js';

/**
 * Listings and cleanup of the Docker objects whose names start with a test's
 * prefix (isolatedCopy puts the prefix on every name berth creates).
 */
/** `env`: another engine's DOCKER_HOST (a private dockerd), else the shared one. */
export async function listPrefixed(prefix: string, env: NodeJS.ProcessEnv = process.env): Promise<{ containers: string[]; networks: string[]; volumes: string[] }> {
  const all = await engineObjects(env);
  const names = (lines: string[]) =>
    lines
      .map((l) => l.slice(0, l.indexOf(' ')))
      .filter((s) => s.startsWith(prefix))
      .sort();
  return { containers: names(all.containers), networks: names(all.networks), volumes: names(all.volumes) };
}

export async function removePrefixed(prefix: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { containers, networks, volumes } = await listPrefixed(prefix, env);
  const run = (args: string[]) => docker(args, { env });
  if (containers.length) await run(['rm', '-f', ...containers]);
  if (networks.length) await run(['network', 'rm', ...networks]);
  if (volumes.length) await run(['volume', 'rm', '-f', ...volumes]);
}

/** The images berth built for a test's stacks (`berth.local/<prefix>…`): removed like its containers. */
export async function removeBuiltImages(prefix: string): Promise<void> {
  const tags = (await docker(['images', '--format', '{{.Repository}}:{{.Tag}}', `berth.local/${prefix}*`])).stdout.split('\n').filter(Boolean);
  if (tags.length > 0) await docker(['rmi', ...tags]);
}

/**
 * A name made by `uniqueName` (`<word>-<8 hex>-…`), i.e. an object of some test run,
 * or an anonymous volume (64 hex). Test files run concurrently in lanes (vitest.config.ts),
 * so such objects of OTHER runs come and go during any comparison.
 */
// …or a Compose project named by a temporary directory's hex (`bfb664bc0cf1_default`),
// …or a stack named by random hex first (`bcd6f00e-app-web-1`).
const OTHER_RUN = /^([a-z][a-z0-9-]*?-[0-9a-f]{8}(?![0-9a-f])|[0-9a-f]{64}(?![0-9a-f])|[0-9a-f]{12}_|[0-9a-f]{8}-)/;

/**
 * Everything an engine holds, as text, for "nothing changed" comparisons — minus the
 * objects of other concurrently running tests (names from `uniqueName` that do not
 * start with `ownPrefix`, and anonymous volumes). Whatever berth could wrongly touch
 * from the test's repo carries `ownPrefix`; everything not from a test run is kept.
 */
export async function fullListing(ownPrefix = ''): Promise<string> {
  const all = await engineObjects();
  const ours = (line: string) => (ownPrefix !== '' && line.startsWith(ownPrefix)) || !OTHER_RUN.test(line);
  return [all.containers, all.networks, all.volumes].map((lines) => lines.filter(ours).sort().join('\n')).join('\n---\n');
}

/** name → container id, for "only this one was recreated" checks. */
export async function containerIds(prefix: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const line of (await engineObjects()).containers) {
    const [name, id] = line.split(' ');
    if (name && id && name.startsWith(prefix)) out[name] = id;
  }
  return out;
}
