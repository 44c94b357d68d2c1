import { docker } from './engine.js';

/**
 * Listings and cleanup of the Docker objects whose names start with a test's
 * prefix (isolatedCopy puts the prefix on every name berth creates).
 */
export async function listPrefixed(prefix: string): Promise<{ containers: string[]; networks: string[]; volumes: string[] }> {
  const names = async (args: string[]) =>
    (await docker(args)).stdout
      .split('\n')
      .map((s) => s.trim())
      .filter((s) => s.startsWith(prefix))
      .sort();
  return {
    containers: await names(['ps', '-a', '--format', '{{.Names}}']),
    networks: await names(['network', 'ls', '--format', '{{.Name}}']),
    volumes: await names(['volume', 'ls', '--format', '{{.Name}}']),
  };
}

export async function removePrefixed(prefix: string): Promise<void> {
  const { containers, networks, volumes } = await listPrefixed(prefix);
  if (containers.length) await docker(['rm', '-f', ...containers]);
  if (networks.length) await docker(['network', 'rm', ...networks]);
  if (volumes.length) await docker(['volume', 'rm', '-f', ...volumes]);
}

/** Everything an engine holds, as text, for "nothing changed" comparisons. */
export async function fullListing(): Promise<string> {
  const parts = await Promise.all([
    docker(['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Names}} {{.Image}} {{.State}}|{{.Labels}}']),
    docker(['network', 'ls', '--no-trunc', '--format', '{{.ID}} {{.Name}} {{.Driver}}|{{.Labels}}']),
    docker(['volume', 'ls', '--format', '{{.Name}} {{.Driver}}|{{.Labels}}']),
  ]);
  // Docker prints labels in map order, which changes from call to call: sort them.
  const norm = (line: string) => {
    const [head, labels = ''] = line.split('|');
    return `${head}|${labels.split(',').sort().join(',')}`;
  };
  return parts.map((p) => p.stdout.split('\n').filter(Boolean).map(norm).sort().join('\n')).join('\n---\n');
}

/** name → container id, for "only this one was recreated" checks. */
export async function containerIds(prefix: string): Promise<Record<string, string>> {
  const r = await docker(['ps', '-a', '--no-trunc', '--format', '{{.Names}} {{.ID}}']);
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const [name, id] = line.trim().split(' ');
    if (name && id && name.startsWith(prefix)) out[name] = id;
  }
  return out;
}
