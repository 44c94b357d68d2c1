import { describe, expect, it } from 'vitest';
import { parseLsTree, readTar } from '../../src/adapters/git-output.js';
import { writeTar } from '../../src/adapters/tar-writer.js';
import { withFileIds } from '../../src/files/identify.js';
import { comparableId, fileReasons, redactFileIds } from '../../src/files/reasons.js';
import { snapshotKey, snapshotKeys, withSnapshotSources } from '../../src/files/snapshot.js';
import { serviceFileUses } from '../../src/files/uses.js';
import { configHash } from '../../src/compose/hash.js';
import type { DesiredState, MountSpec, RepoFileRef, ServiceSpec } from '../../src/model/desired.js';
import { DEFAULT_SETTINGS } from '../../src/model/desired.js';
import { serviceSpec } from '../support/service-spec.js';

const bind = (source: string, target: string, readOnly = true): MountSpec => ({ type: 'bind', source, target, readOnly, propagation: 'rprivate', createHostPath: true, selinux: '' });

describe('serviceFileUses', () => {
  it('lists repository binds, secrets and configs by name, env_files, the build context and an outside Dockerfile; never what is outside the repository', () => {
    const uses = serviceFileUses({
      root: '/repo',
      stackDir: '/repo/stacks/edge',
      def: {
        secrets: ['token'],
        configs: [{ source: 'conf', target: '/etc/x.conf' }],
        env_file: ['./app.env'],
        build: { context: './app', dockerfile: '../Dockerfile.app' },
      },
      top: { secrets: { token: { file: './token.txt' } }, configs: { conf: { file: './x.conf' } } },
      mounts: [bind('/repo/stacks/edge/traefik.yml', '/etc/traefik.yml'), bind('/etc/ssl', '/ssl'), bind('/repo/stacks/edge/token.txt', '/run/secrets/token'), bind('/repo/stacks/edge/data', '/data', false)],
    });
    expect(uses).toEqual([
      { kind: 'dockerfile', path: 'stacks/edge/Dockerfile.app', id: null },
      { kind: 'build-context', path: 'stacks/edge/app', id: null },
      { kind: 'env_file', path: 'stacks/edge/app.env', id: null },
      { kind: 'bind', path: 'stacks/edge/data', target: '/data', writable: true, id: null },
      { kind: 'secret', path: 'stacks/edge/token.txt', name: 'token', target: '/run/secrets/token', id: null },
      { kind: 'bind', path: 'stacks/edge/traefik.yml', target: '/etc/traefik.yml', id: null },
      { kind: 'config', path: 'stacks/edge/x.conf', name: 'conf', target: '/etc/x.conf', id: null },
    ]);
  });

  it('takes extends/include files through the hook', () => {
    const uses = serviceFileUses({ root: '/r', stackDir: '/r/stacks/a', def: {}, top: {}, mounts: [], extra: [{ kind: 'extends', abs: '/r/common/base.yaml' }] });
    expect(uses).toEqual([{ kind: 'extends', path: 'common/base.yaml', id: null }]);
  });
});

function state(files: RepoFileRef[]): DesiredState {
  const { configHash: _h, ...rest } = { ...serviceSpec({ name: 'proxy', stack: 'edge' }), files };
  return { root: '/r', settings: DEFAULT_SETTINGS, stacks: [{ name: 'edge', file: 'stacks/edge/compose.yaml', networks: [], volumes: [], inactive: [], services: [{ ...rest, configHash: configHash(rest) } as ServiceSpec] }] };
}

describe('content identity in the config hash', () => {
  const ref: RepoFileRef = { kind: 'bind', path: 'stacks/edge/traefik.yml', target: '/etc/traefik.yml', id: null };
  it('a changed id changes the hash; the same id keeps it', () => {
    const a = withFileIds(state([ref]), new Map([['stacks/edge/traefik.yml', 'git:blob:' + 'a'.repeat(40)]]));
    const b = withFileIds(state([ref]), new Map([['stacks/edge/traefik.yml', 'git:blob:' + 'b'.repeat(40)]]));
    const a2 = withFileIds(state([ref]), new Map([['stacks/edge/traefik.yml', 'git:blob:' + 'a'.repeat(40)]]));
    const hash = (d: DesiredState) => d.stacks[0]!.services[0]!.configHash;
    expect(hash(a)).not.toBe(hash(b));
    expect(hash(a)).toBe(hash(a2));
  });

  // Regression (found by the soak, issue 19): restarted while the head was invalid, berth loaded the last
  // good revision from a second checkout, and the checkout's path in the mount source made that recreate
  // every container mounting a repository file, and the next valid commit (same tree) recreate it again.
  const at = (root: string, r: RepoFileRef, writable = false) => {
    const { configHash: _h, ...rest } = { ...serviceSpec({ name: 'proxy', stack: 'edge' }), files: [r], mounts: [bind(`${root}/${r.path}`, r.target!, !writable)] };
    return configHash(rest);
  };
  it('a repository file mounted from another checkout of the same revision keeps the hash', () => {
    const id = `git:blob:${'a'.repeat(40)}`;
    expect(at('/var/lib/berth/cache/abc', { ...ref, id })).toBe(at('/var/lib/berth/cache/abc-revision', { ...ref, id }));
    expect(at('/a', { ...ref, id })).not.toBe(at('/a', { ...ref, id: `git:blob:${'b'.repeat(40)}` }));
  });
  it('a live directory (mounted from the checkout as it is) is still named by where it is', () => {
    const live: RepoFileRef = { kind: 'bind', path: 'stacks/edge/data', target: '/data', writable: true, id: 'live' };
    expect(at('/a', live, true)).not.toBe(at('/b', live, true));
  });
});

describe('plan reasons for files', () => {
  const salt = 'salt';
  const f = (id: string): RepoFileRef => ({ kind: 'bind', path: 'stacks/edge/traefik.yml', target: '/etc/traefik.yml', id });
  const s = (id: string): RepoFileRef => ({ kind: 'secret', path: 'stacks/edge/token.txt', name: 'token', target: '/run/secrets/token', id });
  it('names a changed file by path and a secret by name only', () => {
    const before = redactFileIds([f('git:blob:1'), s('git:blob:2')], salt);
    expect(fileReasons(before, [f('git:blob:3'), s('git:blob:4')], salt)).toEqual(['file stacks/edge/traefik.yml changed', 'secret token changed']);
    expect(fileReasons(before, [f('git:blob:1'), s('git:blob:2')], salt)).toEqual([]);
  });
  it('keeps a secret id salted in the record, never its git id', () => {
    const [red] = redactFileIds([s('git:blob:2')], salt)!;
    expect(red!.id).not.toContain('git:blob:2');
    expect(red!.id).toBe(comparableId(s('git:blob:2'), salt));
  });
  it('says added and removed', () => {
    expect(fileReasons(undefined, [f('git:blob:1')], salt)).toEqual(['file stacks/edge/traefik.yml added']);
    expect(fileReasons([f('git:blob:1')], [], salt)).toEqual(['file stacks/edge/traefik.yml removed']);
  });
});

describe('snapshots', () => {
  const oid = 'c'.repeat(40);
  it('are named by content; secrets apart; live, absent and unmounted refs have none', () => {
    expect(snapshotKey({ kind: 'bind', path: 'a', target: '/a', id: `git:blob:${oid}` })).toBe(`b-${oid}`);
    expect(snapshotKey({ kind: 'bind', path: 'a', target: '/a', id: `git:tree:${oid}` })).toBe(`t-${oid}`);
    expect(snapshotKey({ kind: 'secret', path: 'a', target: '/a', id: `git:blob:${oid}` })).toBe(`b-${oid}-secret`);
    expect(snapshotKey({ kind: 'bind', path: 'a', target: '/a', id: `sha256:${'d'.repeat(64)}` })).toBe(`s-${'d'.repeat(64)}`);
    expect(snapshotKey({ kind: 'bind', path: 'a', target: '/a', id: 'live' })).toBeNull();
    expect(snapshotKey({ kind: 'env_file', path: 'a', id: `git:blob:${oid}` })).toBeNull();
  });
  it('point the mounts at the snapshot, leaving other mounts as they are', () => {
    const spec = { ...serviceSpec({ name: 'p', stack: 'e' }), mounts: [bind('/r/a.yml', '/a.yml'), bind('/etc/ssl', '/ssl')], files: [{ kind: 'bind' as const, path: 'a.yml', target: '/a.yml', id: `git:blob:${oid}` }] };
    const out = withSnapshotSources(spec, new Map([[`b-${oid}`, `/state/files/b-${oid}/c`]]));
    expect(out.mounts).toEqual([{ ...bind(`/state/files/b-${oid}/c`, '/a.yml'), createHostPath: false }, bind('/etc/ssl', '/ssl')]);
    expect(snapshotKeys(spec)).toEqual([`b-${oid}`]);
  });
});

describe('git output and tar', () => {
  it('parses ls-tree -z', () => {
    const m = parseLsTree(`100644 blob ${'a'.repeat(40)}\tstacks/x/a b.yml\u0000040000 tree ${'b'.repeat(40)}\tstacks/x/html\u0000`);
    expect(m.get('stacks/x/a b.yml')).toEqual({ mode: '100644', type: 'blob', oid: 'a'.repeat(40) });
    expect(m.get('stacks/x/html')?.type).toBe('tree');
  });
  it('reads back what it writes, long paths and links included', () => {
    const long = `${'d/'.repeat(60)}file.txt`;
    const tar = writeTar([
      { path: 'a.txt', mode: 0o644, data: Buffer.from('hello') },
      { path: 'bin/run', mode: 0o755, data: Buffer.from('#!/bin/sh\n') },
      { path: long, mode: 0o644, data: Buffer.alloc(1000, 7) },
      { path: 'link', mode: 0o777, data: Buffer.alloc(0), linkTarget: 'a.txt' },
    ]);
    const files = readTar(tar);
    expect(files.map((f) => [f.path, f.mode])).toEqual([['a.txt', '100644'], ['bin/run', '100755'], [long, '100644'], ['link', '120000']]);
    expect(files[0]!.data.toString()).toBe('hello');
    expect(files[2]!.data.length).toBe(1000);
    expect(files[3]!.data.toString()).toBe('a.txt');
  });
});

describe('identity without git', () => {
  it('hashes a working tree, marks a writable directory live, and refuses past the bound with an error that says what to do', async () => {
    const { FsWorkingTreeHasher } = await import('../../src/adapters/working-tree-hasher.js');
    const { identifyRepoFiles } = await import('../../src/files/identify.js');
    const { tmpRepo } = await import('../support/tmp-repo.js');
    const root = tmpRepo({ 'stacks/edge/a.yml': 'one\n', 'stacks/edge/data/x': 'db\n', 'stacks/edge/big/f': 'x'.repeat(2000) });
    const refs: RepoFileRef[] = [
      { kind: 'bind', path: 'stacks/edge/a.yml', target: '/a.yml', id: null },
      { kind: 'bind', path: 'stacks/edge/data', target: '/data', writable: true, id: null },
    ];
    const desired = { ...state(refs), root };
    const source = { dir: root, revision: null, origin: root };
    const r = await identifyRepoFiles(desired, source, null, new FsWorkingTreeHasher());
    expect(r.errors).toEqual([]);
    const files = r.desired.stacks[0]!.services[0]!.files!;
    expect(files[0]!.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(files[1]!.id).toBe('live');
    const big = { ...state([{ kind: 'bind', path: 'stacks/edge/big', target: '/big', id: null }]), root };
    const over = await identifyRepoFiles(big, source, null, new FsWorkingTreeHasher(), { bytes: 1000, files: 10 });
    expect(over.errors).toHaveLength(1);
    expect(over.errors[0]!.path).toBe('stacks/edge/big');
    expect(over.errors[0]!.message).toContain('commit it to a git repository');
  });
});
