import { describe, expect, it } from 'vitest';
import { containerCreateBody } from '../../src/adapters/container-body.js';
import { loadDesiredState } from '../../src/compose/load.js';
import { createValidators } from '../../src/compose/schema.js';
import { stackNameFromFolder } from '../../src/compose/stack-name.js';
import { findService } from '../support/plan-fixtures.js';
import { tmpRepo } from '../support/tmp-repo.js';

const validators = createValidators();
const load = (files: Record<string, string>) => loadDesiredState(tmpRepo(files), { env: {}, validators });

describe('more service keys, mapped as Compose maps them', () => {
  const r = load({
    'stacks/s/compose.yaml': `
services:
  t:
    image: alpine
    mac_address: 02:42:AC:11:00:02
    runtime: runc
    platform: linux/amd64
    deploy: {restart_policy: {condition: on-failure, max_attempts: 2}}
    post_start: [{command: "echo hi", user: root, environment: {A: "1"}}]
    pre_stop: [{command: ["sh", "-c", "echo bye"]}]
    develop: {watch: [{path: ., action: sync, target: /app}]}
  plain:
    image: alpine
`,
  });
  it('validates, with a warning for develop', () => {
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.diagnostics.filter((d) => d.severity === 'warning').map((d) => [d.line, d.code])).toEqual([[11, 'ignored-key']]);
  });
  it('reaches the create body', () => {
    const t = findService(r.state!, 's', 't');
    const body = containerCreateBody(t, t.containerName, {}, '1.41');
    expect([body.MacAddress, body.HostConfig.Runtime, body.HostConfig.RestartPolicy, t.platform]).toEqual(['02:42:ac:11:00:02', 'runc', { Name: 'on-failure', MaximumRetryCount: 2 }, 'linux/amd64']);
    expect(t.hooks).toEqual({
      postStart: [{ command: ['/bin/sh', '-c', 'echo hi'], user: 'root', environment: { A: '1' } }],
      preStop: [{ command: ['sh', '-c', 'echo bye'] }],
    });
  });
  it('leaves a service that uses none of them without the fields (its config hash unchanged)', () => {
    const plain = findService(r.state!, 's', 'plain');
    expect(['macAddress', 'platform', 'runtime', 'hooks', 'serviceContainers', 'volumesFrom', 'links', 'pullIntervalSeconds'].filter((k) => k in plain)).toEqual([]);
  });
});

describe('stack names from folders, as Compose derives project names', () => {
  it('normalizes', () => {
    expect(stackNameFromFolder('pihole-cloudflared-DoH')).toBe('pihole-cloudflared-doh');
    expect(stackNameFromFolder('_My App.2')).toBe('myapp2');
  });
  it('two folders with one name are a located error', () => {
    const r = load({ 'stacks/Web/compose.yaml': 'services: {a: {image: x}}\n', 'stacks/web/compose.yaml': 'services: {b: {image: y}}\n' });
    expect(r.diagnostics.filter((d) => d.severity === 'error').map((d) => [d.file, d.code])).toEqual([['stacks/web', 'stack-name']]);
  });
});
