import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listPrefixed, removePrefixed } from '../support/berth-objects.js';
import { runCli } from '../support/cli.js';
import { docker, requireEngine, uniqueName } from '../support/engine.js';
import { freePort } from '../support/free-port.js';
import { tmpRepo } from '../support/tmp-repo.js';

/**
 * The Compose keys issue 12 added, on the real engine: what each asks of
 * the container is there (docker inspect), secrets and configs from the
 * environment and inline content are files with their owner and mode, a
 * host port range gives each replica its own port, and a key the engine is
 * too old for fails the plan before anything changes.
 */
const prefixes: string[] = [];
let engine = false;
beforeAll(async () => {
  engine = await requireEngine();
});
afterAll(async () => {
  if (engine) for (const p of prefixes) await removePrefixed(p);
});

const SECRET = 'fixture-secret-spec-keys-7';
const inspect = async (name: string, format: string) => (await docker(['inspect', '-f', format, name])).stdout.trim();
const exec = async (name: string, ...cmd: string[]) => (await docker(['exec', name, ...cmd])).stdout.trim();

describe('Compose keys on the real engine', () => {
  it('reach the container as docker compose sends them', async (ctx) => {
    if (!engine) ctx.skip();
    const prefix = `${uniqueName('sk')}-`;
    prefixes.push(prefix);
    const stack = `${prefix}keys`;
    const low = await freePort();
    const base = low > 65000 ? 40000 + (low % 20000) : low;
    // Throttling needs a block device; a CI machine without loop devices skips that one key.
    const block = existsSync('/dev/loop0') ? '/dev/loop0' : null;
    const repo = tmpRepo({
      'berth.yaml': 'rollout:\n  bakeSeconds: 0\n  drainSeconds: 0\n',
      [`stacks/${stack}/compose.yaml`]: [
        'services:',
        '  keys:',
        '    image: berth-test/busybox:1',
        '    command: ["sleep", "3600"]',
        '    stop_signal: SIGKILL',
        '    cgroup: private',
        '    cgroup_parent: /docker',
        '    uts: host',
        '    userns_mode: host',
        '    isolation: default',
        '    device_cgroup_rules: ["c 1:3 mr"]',
        ...(block ? ['    blkio_config:', '      device_read_bps: [{path: ' + block + ', rate: 1mb}]', '      device_write_iops: [{path: ' + block + ', rate: 120}]'] : []),
        '    devices:',
        '      - source: /dev/null',
        '        target: /dev/mynull',
        '        permissions: rw',
        '    label_file: [./labels.env]',
        '    labels: {from.file: "overridden"}',
        '    attach: false',
        '    deploy:',
        '      labels: {swarm.only: "yes"}',
        '    secrets:',
        '      - source: token',
        '        target: token',
        '        uid: "1005"',
        '        gid: "1006"',
        '        mode: 0440',
        '    configs: [greeting]',
        '  ranged:',
        '    image: berth-test/busybox:1',
        '    command: ["sleep", "3600"]',
        '    stop_signal: SIGKILL',
        '    scale: 2',
        `    ports: ["127.0.0.1:${base}-${base + 10}:80"]`,
        'secrets:',
        '  token:',
        '    environment: TOKEN',
        'configs:',
        '  greeting:',
        '    content: "hello ${WHO}"',
        '',
      ].join('\n'),
      [`stacks/${stack}/labels.env`]: 'from.file=1\nonly.file=yes\n',
    });
    const env = { BERTH_STATE_DIR: mkdtempSync(join(tmpdir(), 'berth-state-')), TOKEN: SECRET, WHO: 'world' };

    const a = await runCli(['apply', '--repo', repo], env);
    expect(a.code, a.output).toBe(0);
    expect(a.output).not.toContain(SECRET);
    const c = `${stack}-keys-1`;
    expect(await inspect(c, '{{.HostConfig.CgroupnsMode}} {{.HostConfig.CgroupParent}} {{.HostConfig.UTSMode}} {{.HostConfig.UsernsMode}} {{.HostConfig.Isolation}} {{json .HostConfig.DeviceCgroupRules}}')).toBe(
      'private /docker host host default ["c 1:3 mr"]',
    );
    expect(JSON.parse(await inspect(c, '{{json .HostConfig.Devices}}'))).toEqual([{ PathOnHost: '/dev/null', PathInContainer: '/dev/mynull', CgroupPermissions: 'rw' }]);
    if (block) {
      expect(JSON.parse(await inspect(c, '{{json .HostConfig.BlkioDeviceReadBps}}'))).toEqual([{ Path: block, Rate: 1048576 }]);
      expect(JSON.parse(await inspect(c, '{{json .HostConfig.BlkioDeviceWriteIOps}}'))).toEqual([{ Path: block, Rate: 120 }]);
    }
    const labels = JSON.parse(await inspect(c, '{{json .Config.Labels}}')) as Record<string, string>;
    expect([labels['from.file'], labels['only.file'], labels['swarm.only']]).toEqual(['overridden', 'yes', undefined]);
    // The secret from the environment: a file with the reference's owner and mode; the config from inline content.
    expect(await exec(c, 'stat', '-c', '%u %g %a', '/run/secrets/token')).toBe('1005 1006 440');
    expect(await exec(c, 'cat', '/run/secrets/token')).toBe(SECRET);
    expect(await exec(c, 'cat', '/greeting')).toBe('hello world');

    // A host port range for one container port: each replica gets its own port of the range.
    const ports = await Promise.all([1, 2].map(async (k) => Number(await inspect(`${stack}-ranged-${k}`, '{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}'))));
    expect(new Set(ports).size).toBe(2);
    for (const p of ports) expect(p >= base && p <= base + 10, `${p} in ${base}-${base + 10}`).toBe(true);

    const again = await runCli(['plan', '--repo', repo], env);
    expect(again.code, again.output).toBe(0);
    expect(again.output).toMatch(/deploy\.labels.*set nothing/);
    expect(again.output).not.toMatch(new RegExp(`[~+-] ${stack}/`));
  });

  it('a key the engine is too old for fails the plan, located, naming the engine version; nothing is created', async (ctx) => {
    if (!engine) ctx.skip();
    const prefix = `${uniqueName('sk')}-`;
    prefixes.push(prefix);
    const stack = `${prefix}old`;
    const repo = tmpRepo({
      [`stacks/${stack}/compose.yaml`]: 'services:\n  test:\n    image: berth-test/busybox:1\n    command: ["sleep", "3600"]\n    networks:\n      default:\n        interface_name: foobar\n',
    });
    const version = (await docker(['version', '-f', '{{.Server.Version}} (API {{.Server.APIVersion}})'])).stdout.trim();
    const apiMinor = Number(version.replace(/.*API 1\.(\d+)\)$/, '$1'));
    if (apiMinor >= 49) ctx.skip(); // an engine that can do it: nothing to refuse
    const env = { BERTH_STATE_DIR: mkdtempSync(join(tmpdir(), 'berth-state-')) };
    const valid = await runCli(['validate', '--repo', repo], env);
    expect(valid.code, valid.output).toBe(0);
    const a = await runCli(['apply', '--repo', repo], env);
    expect(a.code).not.toBe(0);
    expect(a.output).toContain(`stacks/${stack}/compose.yaml:7:9: error: services.test.networks.default.interface_name: \`interface_name\` needs Docker Engine 28.1 (API 1.49) or newer; this engine is ${version}`);
    expect(await listPrefixed(prefix)).toEqual({ containers: [], networks: [], volumes: [] });
  });
});
