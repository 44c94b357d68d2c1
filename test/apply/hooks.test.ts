import { describe, expect, it } from 'vitest';
import { withHooks } from '../../src/apply/hooks.js';
import { LABEL } from '../../src/labels.js';
import type { DesiredState } from '../../src/model/desired.js';
import type { DockerPort } from '../../src/ports/docker.js';
import { desiredFrom } from '../support/plan-fixtures.js';

/** A port that records calls; exec exits with what `exitCodes` says. */
function fakePort(exitCodes: number[] = []) {
  const calls: string[] = [];
  const port = {
    startContainer: async (id: string) => void calls.push(`start ${id}`),
    stopContainer: async (id: string) => void calls.push(`stop ${id}`),
    inspectContainer: async (id: string) => ({ id, running: true, labels: { [LABEL.stack]: 's', [LABEL.service]: id } }),
    exec: async (id: string, cmd: string[], _t: number, opts?: { env?: string[]; user?: string }) => {
      calls.push(`exec ${id} ${cmd.join(' ')}${opts?.user ? ` as ${opts.user}` : ''}${opts?.env ? ` env ${opts.env.join(',')}` : ''}`);
      return { exitCode: exitCodes.shift() ?? 0, output: '' };
    },
  } as unknown as DockerPort;
  return { port, calls };
}

const desired = (): DesiredState =>
  desiredFrom({
    'stacks/s/compose.yaml': 'services:\n  web:\n    image: a\n    post_start: [{command: "echo up", user: root, environment: [X=1]}]\n    pre_stop: [{command: "echo down"}]\n  plain:\n    image: a\n',
  });

describe('post_start / pre_stop hooks', () => {
  it('run by exec after start and before stop, only for the service that has them', async () => {
    const { port, calls } = fakePort();
    const docker = withHooks(port, desired());
    await docker.startContainer('web');
    await docker.stopContainer('web');
    await docker.startContainer('plain');
    expect(calls).toEqual(['start web', 'exec web /bin/sh -c echo up as root env X=1', 'exec web /bin/sh -c echo down', 'stop web', 'start plain']);
  });
  it('a failing post_start hook fails the start; a failing pre_stop hook does not stop the stop', async () => {
    const { port, calls } = fakePort([1, 1]);
    const docker = withHooks(port, desired());
    await expect(docker.startContainer('web')).rejects.toThrow(/post_start hook .* exited with 1/);
    await docker.stopContainer('web');
    expect(calls.at(-1)).toBe('stop web');
  });
  it('a state without hooks gets the port itself', () => {
    const { port } = fakePort();
    expect(withHooks(port, desiredFrom({ 'stacks/s/compose.yaml': 'services: {a: {image: x}}\n' }))).toBe(port);
  });
});
