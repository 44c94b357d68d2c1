import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDesiredState } from '../../src/compose/load.js';
import { createValidators } from '../../src/compose/schema.js';
import { tmpRepo } from '../support/tmp-repo.js';

/**
 * Fixes found by the bad-input corpus (test/fixtures/bad): each of these
 * inputs used to crash the loader, pass validation and fail half-way through
 * apply, or be silently ignored.
 */
const validators = createValidators();
const load = (root: string, env: Record<string, string> = {}) => loadDesiredState(root, { env, validators });
const errors = (root: string, env: Record<string, string> = {}) =>
  load(root, env)
    .diagnostics.filter((d) => d.severity === 'error')
    .map((d) => `${d.file}${d.line ? `:${d.line}:${d.col}` : ''} ${d.path} [${d.code}] ${d.message}`);
const WEB = 'services:\n  web:\n    image: berth-test/web:v1\n';

describe('symbolic links that lead nowhere', () => {
  it('a stack directory linked to itself is an error, not a crash (ELOOP)', () => {
    const root = tmpRepo({ 'stacks/blog/compose.yaml': WEB });
    symlinkSync('shop', join(root, 'stacks/shop'));
    expect(errors(root)).toEqual(['stacks/shop  [broken-link] this is a symbolic link to a path that does not exist (or a loop of links)']);
  });

  it('a dangling compose.yaml, .env or berth.yaml is an error, not a stack or setting silently left out', () => {
    const root = tmpRepo({ 'stacks/blog/compose.yaml': WEB, 'stacks/blog/x': '' });
    mkdirSync(join(root, 'stacks/shop'));
    symlinkSync('compose.production.yaml', join(root, 'stacks/shop/compose.yaml'));
    symlinkSync('/nonexistent/berth.env', join(root, 'stacks/blog/.env'));
    symlinkSync('berth.yaml', join(root, 'berth.yaml'));
    expect(errors(root).map((e) => e.split(' ')[0] + ' ' + e.split(' ')[2])).toEqual([
      'berth.yaml [broken-link]',
      'stacks/blog/.env [broken-link]',
      'stacks/shop/compose.yaml [broken-link]',
    ]);
  });
});

describe('env_file', () => {
  it('a directory is an error, not a crash (EISDIR)', () => {
    const root = tmpRepo({ 'stacks/shop/web.env/README': '', 'stacks/shop/compose.yaml': `${WEB}    env_file: web.env\n` });
    expect(errors(root)).toEqual(['stacks/shop/compose.yaml:4:15 services.web.env_file [env-file] env_file "web.env" is not a regular file (stacks/shop/web.env)']);
  });
});

describe('what Docker would refuse only while creating', () => {
  it('a missing secret or config file of a deployed service', () => {
    const yaml = `${WEB}    secrets: [api_key]\n  debug:\n    image: x\n    profiles: [debug]\n    configs: [unused]\nsecrets:\n  api_key:\n    file: ./secrets/api_key.txt\nconfigs:\n  unused:\n    file: ./nope.conf\n`;
    expect(errors(tmpRepo({ 'stacks/shop/compose.yaml': yaml }))).toEqual([
      'stacks/shop/compose.yaml:11:11 secrets.api_key.file [secret-file] secret file "./secrets/api_key.txt" not found (stacks/shop/secrets/api_key.txt)',
    ]);
    expect(errors(tmpRepo({ 'stacks/shop/compose.yaml': yaml, 'stacks/shop/secrets/api_key.txt': 'k' }))).toEqual([]);
  });

  it('container names, restart policies, local volume names and image references', () => {
    const root = tmpRepo({
      'stacks/shop/compose.yaml':
        'services:\n  web:\n    image: Shop/Web:v1\n    container_name: "shop web"\n    restart: sometimes\n    volumes: [data:/data]\nvolumes:\n  data:\n    name: pg/data\n  nfs:\n    driver: nfs-plugin\n    name: any/name\n',
    });
    expect(errors(root).map((e) => e.split(' [')[0])).toEqual([
      'stacks/shop/compose.yaml:3:12 services.web.image',
      'stacks/shop/compose.yaml:4:21 services.web.container_name',
      'stacks/shop/compose.yaml:5:14 services.web.restart',
      'stacks/shop/compose.yaml:9:11 volumes.data.name',
    ]);
  });

  it('numbers past 2^53 (or Infinity, or fractions) where Docker wants an int64', () => {
    const root = tmpRepo({
      'stacks/shop/compose.yaml': `${WEB}    mem_limit: 99999999999999999999999\n    stop_grace_period: 99999999999h\n    cpu_shares: 1e30\n    pids_limit: 1e20\n    healthcheck:\n      retries: 1.5\n    ulimits:\n      nofile: {soft: 1e30, hard: .inf}\n    tmpfs: ["/t:size=99999999999999999999"]\n`,
    });
    expect(errors(root).map((e) => e.split(' [')[0])).toEqual([
      'stacks/shop/compose.yaml:4:16 services.web.mem_limit',
      'stacks/shop/compose.yaml:5:24 services.web.stop_grace_period',
      'stacks/shop/compose.yaml:6:17 services.web.cpu_shares',
      'stacks/shop/compose.yaml:7:17 services.web.pids_limit',
      'stacks/shop/compose.yaml:9:16 services.web.healthcheck.retries',
      'stacks/shop/compose.yaml:11:22 services.web.ulimits.nofile.soft',
      'stacks/shop/compose.yaml:11:34 services.web.ulimits.nofile.hard',
      'stacks/shop/compose.yaml:12:13 services.web.tmpfs[0]',
    ]);
  });

  it('timers longer than a Node timer can wait (it would fire at once)', () => {
    const root = tmpRepo({
      'berth.yaml': 'rollout:\n  bakeSeconds: .inf\n',
      'stacks/shop/compose.yaml': `${WEB}    x-berth:\n      minReadySeconds: 1000000000000\n`,
    });
    expect(errors(root).map((e) => e.split(' [')[0])).toEqual(['berth.yaml:2:16 rollout.bakeSeconds', 'stacks/shop/compose.yaml:5:24 services.web.x-berth.minReadySeconds']);
  });
});

describe('one error per mistake', () => {
  it('no "invalid image" or "has no image" after the image failed to interpolate', () => {
    const root = tmpRepo({ 'stacks/shop/compose.yaml': 'services:\n  web:\n    image: berth-test/web:${TAG?}\n  api:\n    image: ${IMAGE:?set IMAGE}\n' });
    expect(errors(root).map((e) => e.split(' [')[0] + ' ' + e.split('] ')[1])).toEqual([
      'stacks/shop/compose.yaml:3:12 services.web.image required variable TAG is not set',
      'stacks/shop/compose.yaml:5:12 services.api.image required variable IMAGE is missing a value: set IMAGE',
    ]);
  });

  it('a network of an invalid `networks:` section is not also "undefined"; the same for volumes', () => {
    const root = tmpRepo({
      'stacks/shop/compose.yaml': 'services:\n  web:\n    image: x\n    networks: [front]\n    volumes: [data:/data]\nnetworks:\n  front:\n    driver_opts: {a: [1]}\nvolumes:\n  data:\n    labels: 5\n',
    });
    expect(errors(root).map((e) => e.split(' [')[0])).toEqual(['stacks/shop/compose.yaml:8:22 networks.front.driver_opts.a', 'stacks/shop/compose.yaml:11:13 volumes.data.labels']);
  });

  it('a value the cast table could not convert is reported by the cast, not also by the schema', () => {
    const root = tmpRepo({ 'berth.yaml': 'rollout:\n  bakeSeconds: 30s\n', 'stacks/shop/compose.yaml': WEB });
    expect(errors(root)).toEqual(['berth.yaml:2:16 rollout.bakeSeconds [type] must be an integer']);
  });
});

describe('valid input that was refused', () => {
  it('a service may name the implicit `default` network, as in Compose', () => {
    for (const networks of ['[default]', '{default: {aliases: [shop]}}']) {
      const r = load(tmpRepo({ 'stacks/shop/compose.yaml': `${WEB}    networks: ${networks}\n` }));
      expect(r.diagnostics).toEqual([]);
      expect(r.state!.stacks[0]!.networks.map((n) => n.name)).toEqual(['shop_default']);
      expect(r.state!.stacks[0]!.services[0]!.networks.map((n) => n.name)).toEqual(['shop_default']);
    }
  });
});
